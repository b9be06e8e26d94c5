#pragma once
// Helpers for the HTTP/2 server tests: the route suite both protocols serve, curl runs
// parsed into status, fields and body, and the attack client (h2_attack.py).
#include "http/server_support.hpp"

#include <dusty/core/fiber.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace dusty::http::h2_test {

using namespace std::chrono_literals;
using namespace server_test;

inline constexpr const char* curl = "/usr/bin/curl";

inline std::string source_dir() {
  if (const char* dir = std::getenv("DUSTY_SOURCE_DIR")) return dir;
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path().string();
}

// FNV-1a, to check that a large body arrived intact.
inline std::uint64_t fnv1a(std::string_view s, std::uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

/// Handler calls, across the routes below (how much work an attack caused).
inline std::atomic<int> handler_calls{0};
/// /slow handlers that ran to their end (not cancelled).
inline std::atomic<int> slow_finished{0};

/// One file for the file-body route.
inline const std::string& file_path() {
  static temp_dir dir;
  static const std::string path = dir.write("file.bin", pattern(300 * 1024, 9));
  return path;
}

/// The routes both protocols serve: every way a response can be made.
inline void suite_routes(server<>& srv) {
  srv.get("/", [](request&, response& res) {
    ++handler_calls;
    res.body = "Hello, World!";
  });
  srv.get("/json", [](request&, response& res) { res.json({{"message", "Hello, World!"}}); });
  srv.get("/user/:id", [](request& req, response& res) {
    res.header("X-Id", req.param("id"));
    res.json({{"id", req.param("id")}, {"q", req.query("q").value_or("")}});
  });
  srv.get("/headers", [](request& req, response& res) {
    res.header("X-Echo", req.header("x-test").value_or("none"));
    res.header("Set-Cookie", "a=1");
    res.header("Set-Cookie", "b=2");
    res.body = std::string(req.header("Host").value_or("no host")) + " " + std::string(req.cookie("x").value_or("-")) +
               " " + std::string(req.cookie("y").value_or("-"));
  });
  srv.post("/echo", [](request& req, response& res) {
    res.content_type("application/octet-stream");
    res.body = std::string(req.body());
  });
  srv.post("/upload", [](request& req, response& res) {
    std::size_t size = 0;
    std::uint64_t h = 14695981039346656037ull;
    while (auto piece = req.read_body_some()) {
      size += piece->size();
      h = fnv1a(*piece, h);
    }
    res.body = std::to_string(size) + " " + std::to_string(h);
  });
  srv.get("/chunks", [](request&, response& res) {
    res.content_type("text/plain");
    for (int i = 0; i < 3; ++i) res.chunk("piece " + std::to_string(i) + "\n");
  });
  srv.get("/writer", [](request&, response& res) {
    auto& w = res.writer();
    for (int i = 0; i < 5000; ++i) w << "line " << std::to_string(i) << "\n";  // past writer_buffer
  });
  srv.get("/small-writer", [](request&, response& res) { res.writer() << "buffered " << "by the writer"; });
  srv.get("/events", [](request&, response& res) {
    auto events = res.start_event_stream();
    for (int i = 0; i < 3; ++i) events.send({.data = "tick", .id = std::to_string(i)});
  });
  srv.get("/file", [](request&, response& res) {
    int fd = ::open(file_path().c_str(), O_RDONLY | O_CLOEXEC);
    auto f = std::make_shared<const dusty::file_descriptor>(fd);
    res.content_type("application/octet-stream");
    res.body = file_range{f, 1000, 200 * 1024};
  });
  srv.get("/status/:code", [](request& req, response&) {
    throw status_error(static_cast<unsigned>(std::stoi(std::string(req.param("code")))), "as asked");
  });
  srv.get("/fail", [](request&, response&) -> void { throw std::runtime_error("handler failed"); });
  srv.get("/empty", [](request&, response& res) { res.status = 204; });
  srv.get("/slow", [](request&, response& res) {
    ++handler_calls;
    dusty::sleep_for(1500ms);
    ++slow_finished;
    res.body = "slow";
  });
  srv.post("/hold", [](request& req, response& res) {
    dusty::sleep_for(1000ms);
    res.body = std::to_string(req.body().size());
  });
  srv.get("/big", [](request&, response& res) {
    static const std::string mebibyte(1 << 20, 'x');
    res.body = std::string_view(mebibyte);
  });
}

/// A response as curl reports it.
struct curl_response {
  int exit = -1;
  std::string version;  ///< "1.1" or "2"
  unsigned status = 0;
  std::multimap<std::string, std::string> fields;  ///< lower-case names
  std::string body;
  std::string err;
};

/// Runs curl with `args` before the URL and parses its -D header dump (the last
/// response's head) and the body.
inline curl_response run_curl(const std::vector<std::string>& args, const std::string& url) {
  temp_dir dir;
  std::vector<std::string> argv = {curl, "-sS", "--max-time", "20", "-D", dir.path("head"), "-o", dir.path("body")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(url);
  auto r = run_program(argv, 30s);
  curl_response out;
  out.exit = r.status.value_or(-1);
  out.err = r.err;
  std::ifstream head(dir.path("head"), std::ios::binary), body(dir.path("body"), std::ios::binary);
  std::string line;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("HTTP/", 0) == 0) {
      // A 100 Continue head may come first: the last status line wins.
      out.fields.clear();
      auto sp = line.find(' ');
      out.version = line.substr(5, sp - 5);
      out.status = static_cast<unsigned>(std::stoul(line.substr(sp + 1, 3)));
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    out.fields.emplace(lower(line.substr(0, colon)), value);
  }
  out.body.assign(std::istreambuf_iterator<char>(body), {});
  return out;
}

/// What h2_attack.py saw (its stdout), and how long it ran.
struct attack_result {
  std::string out;
  std::string err;
  clock_type::duration took{};
  bool has(std::string_view line) const { return out.find(line) != std::string::npos; }
};

inline attack_result run_attack(std::uint16_t port, const std::string& scenario, int wait_seconds = 5) {
  auto started = clock_type::now();
  auto r = run_program({python_path(), source_dir() + "/tests/http/h2/h2_attack.py", std::to_string(port), scenario,
                        std::to_string(wait_seconds)},
                       60s);
  EXPECT_EQ(r.status, 0) << scenario << ": " << r.err;
  return {r.out, r.err, clock_type::now() - started};
}

}  // namespace dusty::http::h2_test
