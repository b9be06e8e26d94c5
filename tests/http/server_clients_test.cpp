// The server driven by real clients: curl (keep-alive reuse, uploads plain and chunked,
// Expect: 100-continue, SSE with -N) and Python's http.client and requests.
#include <dusty/http/server.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;

void client_routes(http::server<>& srv) {
  srv.get("/json", [](http::request&, http::response& res) { res.json({{"message", "Hello, World!"}}); });
  srv.get("/n/:i", [](http::request& req, http::response& res) {
    res.content_type("text/plain");
    res.body = "n=" + std::string(req.param("i"));
  });
  srv.post("/echo", [](http::request& req, http::response& res) {
    res.header("X-Framing", req.header("transfer-encoding") ? "chunked" : "length");
    res.content_type("application/octet-stream");
    res.body = std::string(req.body());
  });
  srv.post("/json-echo", [](http::request& req, http::response& res) {
    auto in = req.json<nlohmann::json>();
    in["seen"] = true;
    res.json(in, 201);
  });
  srv.get("/query", [](http::request& req, http::response& res) {
    nlohmann::json out = nlohmann::json::object();
    for (auto& [k, v] : req.query()) out[std::string(k)] = std::string(v);
    res.json(out);
  });
  srv.get("/events", [](http::request&, http::response& res) {
    auto events = res.start_event_stream();
    for (int i = 1; i <= 3; ++i) {
      events.send({.data = "tick " + std::to_string(i), .event = "tick", .id = std::to_string(i)});
      dusty::sleep_for(20ms);
    }
  });
}

class real_clients : public ::testing::Test {
 protected:
  static http::server_config config() {
    auto c = local_config();
    c.limits.max_body_size = 8 * 1024 * 1024;
    return c;
  }
  program_result curl(std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/curl", "-sS", "--max-time", "20"});
    auto r = run_program(args);
    EXPECT_EQ(r.status, 0) << "curl failed: " << r.err;
    return r;
  }
  program_result python(const std::string& script) {
    auto r = run_program({python_path(), "-c", script, std::to_string(srv_.port())});
    EXPECT_EQ(r.status, 0) << "python failed:\n" << r.err << r.out;
    return r;
  }
  live_server<> srv_{client_routes, config(), two_shards()};
  temp_dir dir_;
};

TEST_F(real_clients, curl_reuses_one_connection_for_several_urls) {
  auto r = curl({"-w", "|%{http_code} %{num_connects}\\n", srv_.url("/n/1"), srv_.url("/n/2"), srv_.url("/json"),
                 srv_.url("/n/4")});
  EXPECT_EQ(r.out,
            "n=1|200 1\n"
            "n=2|200 0\n"
            "{\"message\":\"Hello, World!\"}|200 0\n"
            "n=4|200 0\n");
}

TEST_F(real_clients, curl_posts_binary_data) {
  std::string body = pattern(200'000);
  body[10] = '\0';
  body[20] = '\r';
  body[21] = '\n';
  auto file = dir_.write("body.bin", body);
  auto out = dir_.path("out.bin");
  auto r = curl({"--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream", "-o", out, "-w",
                 "%{http_code}", srv_.url("/echo")});
  EXPECT_EQ(r.out, "200");
  std::string got;
  if (FILE* f = std::fopen(out.c_str(), "rb")) {
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) got.append(buf, n);
    std::fclose(f);
  }
  EXPECT_EQ(got.size(), body.size());
  EXPECT_TRUE(got == body);
}

TEST_F(real_clients, curl_uploads_chunked) {
  std::string body = pattern(300'000, 9);
  auto file = dir_.write("body.bin", body);
  auto r = curl({"-i", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + file, srv_.url("/echo")});
  auto split = r.out.find("\r\n\r\n");
  ASSERT_NE(split, std::string::npos) << r.out.substr(0, 500);
  std::string head = lower(r.out.substr(0, split));
  EXPECT_EQ(head.rfind("http/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("x-framing: chunked"), std::string::npos) << head;
  EXPECT_TRUE(r.out.substr(split + 4) == body);
}

TEST_F(real_clients, curl_large_upload_goes_through_100_continue) {
  // curl asks with Expect: 100-continue above 1 MiB and waits up to a second for the 100.
  std::string body = pattern(2 * 1024 * 1024, 4);
  auto file = dir_.write("big.bin", body);
  auto out = dir_.path("out.bin");
  auto r = curl({"-v", "--data-binary", "@" + file, "-o", out, "-w", "%{http_code}", srv_.url("/echo")});
  EXPECT_EQ(r.out, "200");
  EXPECT_NE(r.err.find("> Expect: 100-continue"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("< HTTP/1.1 100 Continue"), std::string::npos) << r.err;
  EXPECT_EQ(std::filesystem::file_size(out), body.size());
}

TEST_F(real_clients, curl_upload_over_the_limit_gets_413) {
  // Without Expect (below curl's 1 MiB threshold) curl sends the whole body at once; the
  // server answers 413 before reading it, and curl must still see that answer.
  live_server<> small([](http::server<>& s) { client_routes(s); }, [] {
    auto c = local_config();
    c.limits.max_body_size = 1000;
    return c;
  }());
  auto file = dir_.write("over.bin", pattern(900'000));
  auto r = run_program({"/usr/bin/curl", "-sS", "--max-time", "20", "--data-binary", "@" + file, "-o", "/dev/null", "-w",
                        "%{http_code}", small.url("/echo")});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "413") << r.err;
}

TEST_F(real_clients, curl_reads_server_sent_events) {
  auto r = curl({"-N", "-H", "Accept: text/event-stream", srv_.url("/events")});
  EXPECT_EQ(r.out,
            "event: tick\nid: 1\ndata: tick 1\n\n"
            "event: tick\nid: 2\ndata: tick 2\n\n"
            "event: tick\nid: 3\ndata: tick 3\n\n");
}

TEST_F(real_clients, curl_http10_and_head) {
  auto r = curl({"--http1.0", "-i", srv_.url("/events")});
  EXPECT_NE(r.out.find("data: tick 3\n\n"), std::string::npos) << r.out;
  EXPECT_EQ(lower(r.out).find("transfer-encoding"), std::string::npos) << r.out;
  auto h = curl({"-I", srv_.url("/json")});
  EXPECT_NE(lower(h.out).find("content-length: 27"), std::string::npos) << h.out;
}

TEST_F(real_clients, python_http_client_keeps_the_connection) {
  auto r = python(R"PY(
import http.client, json, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
conn.request("GET", "/json")
res = conn.getresponse()
assert res.status == 200, res.status
assert res.getheader("Content-Type") == "application/json"
assert json.loads(res.read()) == {"message": "Hello, World!"}
sock = conn.sock
for i in range(20):
    conn.request("GET", "/n/%d" % i)
    res = conn.getresponse()
    assert res.read() == b"n=%d" % i
    assert conn.sock is sock, "a new connection was opened"
conn.request("POST", "/json-echo", body=json.dumps({"a": [1, 2, 3]}), headers={"Content-Type": "application/json"})
res = conn.getresponse()
assert res.status == 201, res.status
assert json.loads(res.read()) == {"a": [1, 2, 3], "seen": True}
conn.request("HEAD", "/json")
res = conn.getresponse()
assert res.getheader("Content-Length") == "27" and res.read() == b""
conn.request("GET", "/query?name=J%C3%BCrgen&x=a+b")
res = conn.getresponse()
assert json.loads(res.read()) == {"name": "J\u00fcrgen", "x": "a b"}
assert conn.sock is sock
print("ok")
)PY");
  EXPECT_EQ(r.out, "ok\n");
}

TEST_F(real_clients, python_requests) {
  auto r = python(R"PY(
import requests, sys
base = "http://127.0.0.1:%s" % sys.argv[1]
with requests.Session() as s:
    r = s.get(base + "/json", timeout=10)
    assert r.status_code == 200 and r.json() == {"message": "Hello, World!"}, r.text
    r = s.post(base + "/json-echo", json={"name": "dusty", "n": 3}, timeout=10)
    assert r.status_code == 201 and r.json() == {"name": "dusty", "n": 3, "seen": True}, r.text
    def gen():
        for i in range(50):
            yield b"x" * 1000
    r = s.post(base + "/echo", data=gen(), timeout=10)
    assert r.headers["X-Framing"] == "chunked" and r.content == b"x" * 50000, r.headers
    r = s.get(base + "/missing", timeout=10)
    assert r.status_code == 404
    r = s.delete(base + "/json", timeout=10)
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    with s.get(base + "/events", stream=True, timeout=10) as r:
        lines = [l for l in r.iter_lines() if l]
    assert lines[:3] == [b"event: tick", b"id: 1", b"data: tick 1"], lines
    assert len(lines) == 9, lines
print("ok")
)PY");
  EXPECT_EQ(r.out, "ok\n");
}

}  // namespace
