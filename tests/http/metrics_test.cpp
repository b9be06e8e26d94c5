// /metrics (http/metrics.hpp) on a real server over loopback: the text parses as
// Prometheus' exposition format, counters move by exactly the requests made, and each
// shard has its own sample set.
#include <dusty/http/metrics.hpp>

#include <dusty/http/client.hpp>

#include "http/server_support.hpp"

#include <gtest/gtest.h>

#include <map>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>

namespace {

using namespace dusty::http::server_test;
namespace http = dusty::http;

struct sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

bool is_name_char(char c, bool first) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':' ||
         (!first && std::isdigit(static_cast<unsigned char>(c)));
}

// The length of the metric (or label) name at the start of `s`; 0 when there is none.
std::size_t name_length(std::string_view s) {
  std::size_t n = 0;
  while (n < s.size() && is_name_char(s[n], n == 0)) ++n;
  return n;
}

// Parses one sample line, `name{label="value",...} number`; nothing when it is not one.
// (By hand: g++ 12's <regex> trips -Wmaybe-uninitialized under the sanitizers.)
std::optional<sample> parse_sample(std::string_view line) {
  sample s;
  auto n = name_length(line);
  if (n == 0) return std::nullopt;
  s.name = line.substr(0, n);
  line.remove_prefix(n);
  if (line.starts_with("{")) {
    auto close = line.find('}');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view labels = line.substr(1, close - 1);
    line.remove_prefix(close + 1);
    while (!labels.empty()) {
      auto k = name_length(labels);
      if (k == 0 || labels.substr(k, 2) != "=\"") return std::nullopt;
      auto end = labels.find('"', k + 2);
      if (end == std::string_view::npos) return std::nullopt;
      s.labels[std::string(labels.substr(0, k))] = labels.substr(k + 2, end - k - 2);
      labels.remove_prefix(end + 1);
      if (labels.starts_with(",")) labels.remove_prefix(1);
      else if (!labels.empty()) return std::nullopt;
    }
  }
  if (!line.starts_with(" ") || line.size() < 2) return std::nullopt;
  std::string value(line.substr(1));
  if (value == "+Inf") {
    s.value = INFINITY;
    return s;
  }
  std::size_t used = 0;
  try {
    s.value = std::stod(value, &used);
  } catch (...) {
    return std::nullopt;
  }
  if (used != value.size()) return std::nullopt;
  return s;
}

bool is_comment(std::string_view line) {
  if (!line.starts_with("# HELP ") && !line.starts_with("# TYPE ")) return false;
  line.remove_prefix(7);
  auto n = name_length(line);
  return n > 0 && line.size() > n + 1 && line[n] == ' ';
}

// Parses an exposition: every line must be a comment (# HELP / # TYPE) or a sample.
// Fails the test on any other line.
std::vector<sample> parse(const std::string& text) {
  std::vector<sample> out;
  EXPECT_TRUE(text.ends_with("\n"));
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    std::string_view line = std::string_view(text).substr(start, end - start);
    start = end + 1;
    if (is_comment(line)) continue;
    auto s = parse_sample(line);
    if (!s) {
      ADD_FAILURE() << "not a comment or a sample: " << line;
      continue;
    }
    out.push_back(std::move(*s));
  }
  return out;
}

// The sum of `name`'s samples whose labels include `with` (over every shard).
double total(const std::vector<sample>& samples, std::string_view name, std::map<std::string, std::string> with = {}) {
  double sum = 0;
  for (auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (auto& [k, v] : with) match = match && s.labels.count(k) && s.labels.at(k) == v;
    if (match) sum += s.value;
  }
  return sum;
}

std::vector<sample> scrape(std::uint16_t port) {
  auto r = get_once(port, "/metrics");
  if (!r) return {};
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parse(r->body);
}

void routes(http::server<>& s) {
  http::mount_metrics(s);
  s.get("/", [](http::request&, http::response& res) { res.body = "hello"; });
}

TEST(metrics, output_parses_and_has_every_family) {
  live_server<> srv(routes);
  auto samples = scrape(srv.port());
  ASSERT_FALSE(samples.empty());
  std::set<std::string> names;
  for (auto& s : samples) names.insert(s.name);
  for (auto name : {"dusty_http_connections_open", "dusty_http_connections_idle", "dusty_http_draining",
                    "dusty_http_connections_accepted_total", "dusty_http_requests_total",
                    "dusty_http_received_bytes_total", "dusty_http_sent_bytes_total",
                    "dusty_http_request_duration_seconds_bucket", "dusty_http_request_duration_seconds_sum",
                    "dusty_http_request_duration_seconds_count", "dusty_fibers", "dusty_tls_handshakes_total",
                    "dusty_tls_connections_total"})
    EXPECT_TRUE(names.count(name)) << name;
  EXPECT_FALSE(names.count("dusty_client_connections_open"));  // no client given
  // The scrape's own connection is open while it renders.
  EXPECT_GE(total(samples, "dusty_http_connections_open"), 1);
  EXPECT_GE(total(samples, "dusty_fibers"), 1);
}

TEST(metrics, counters_move_by_the_requests_made) {
  live_server<> srv(routes, local_config(), two_shards());
  auto before = scrape(srv.port());
  constexpr int n = 7;
  std::string request = get_request("/", "Connection: close\r\n");
  for (int i = 0; i < n; ++i) {
    auto c = srv.connect();
    c.send(request);
    ASSERT_EQ(c.read_response()->status, 200u);
  }
  auto missing = get_once(srv.port(), "/missing");
  ASSERT_EQ(missing->status, 404u);
  auto after = scrape(srv.port());

  // Each scrape counts once its answer is written: the first one is in `after`, the
  // second is not.
  auto delta = [&](std::string_view name, std::map<std::string, std::string> with = {}) {
    return total(after, name, with) - total(before, name, with);
  };
  EXPECT_EQ(delta("dusty_http_requests_total", {{"status_class", "2xx"}}), n + 1);
  EXPECT_EQ(delta("dusty_http_requests_total", {{"status_class", "4xx"}}), 1);
  EXPECT_EQ(delta("dusty_http_requests_total", {{"status_class", "5xx"}}), 0);
  EXPECT_EQ(delta("dusty_http_request_duration_seconds_count"), n + 2);
  EXPECT_EQ(delta("dusty_http_request_duration_seconds_bucket", {{"le", "+Inf"}}), n + 2);
  EXPECT_EQ(delta("dusty_http_connections_accepted_total"), n + 2);
  std::size_t received = n * request.size() + get_request("/missing", "Connection: close\r\n").size() +
                         get_request("/metrics", "Connection: close\r\n").size();
  EXPECT_EQ(delta("dusty_http_received_bytes_total"), static_cast<double>(received));
  EXPECT_GT(delta("dusty_http_sent_bytes_total"), n * std::string_view("HTTP/1.1 200 OK\r\n\r\nhello").size());
  EXPECT_GT(delta("dusty_http_request_duration_seconds_sum"), 0);

  // Buckets are cumulative: they never fall as `le` rises, and the last is the count.
  for (const auto& shard : {"0", "1"}) {
    double last = 0;
    for (auto& s : after) {
      if (s.name != "dusty_http_request_duration_seconds_bucket" || s.labels["shard"] != shard) continue;
      EXPECT_GE(s.value, last) << "le=" << s.labels["le"];
      last = s.value;
    }
    EXPECT_EQ(last, total(after, "dusty_http_request_duration_seconds_count", {{"shard", shard}}));
  }
}

TEST(metrics, one_sample_set_per_shard) {
  if (two_shards() < 2) GTEST_SKIP() << "needs two CPUs";
  live_server<> srv(routes, local_config(), 2);
  auto samples = scrape(srv.port());
  std::map<std::string, std::set<std::string>> shards_of;
  std::map<std::string, int> lines_of;
  for (auto& s : samples) {
    ASSERT_TRUE(s.labels.count("shard")) << s.name;
    shards_of[s.name].insert(s.labels["shard"]);
    ++lines_of[s.name];
  }
  for (auto& [name, shards] : shards_of) EXPECT_EQ(shards, (std::set<std::string>{"0", "1"})) << name;
  EXPECT_EQ(lines_of["dusty_http_connections_open"], 2);
  EXPECT_EQ(lines_of["dusty_http_requests_total"], 2 * 5);
  EXPECT_EQ(lines_of["dusty_http_request_duration_seconds_bucket"], 2 * 17);
}

TEST(metrics, an_idle_keep_alive_connection_is_counted_idle) {
  live_server<> srv(routes, local_config(), two_shards());
  auto idle = srv.connect();
  idle.send(get_request("/"));
  ASSERT_TRUE(idle.read_response());
  // The server marks the connection idle right after sending: poll briefly for it.
  double idle_count = 0;
  for (int i = 0; i < 1000 && idle_count < 1; ++i) {
    auto samples = scrape(srv.port());
    idle_count = total(samples, "dusty_http_connections_idle");
    EXPECT_GE(total(samples, "dusty_http_connections_open"), 2);
    if (idle_count < 1) std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(idle_count, 1);
}

TEST(metrics, a_client_s_pools_are_reported_when_given) {
  std::unique_ptr<http::client> c;  // built and destroyed in the runtime, as a client must be
  live_server<> srv([&c](http::server<>& s) {
    c = std::make_unique<http::client>();
    http::mount_metrics(s, {.pools = c.get()});
  });
  auto samples = scrape(srv.port());
  auto stopped = srv.stop_async();
  finish(stopped);
  srv.runtime().call([&] { c.reset(); });
  for (auto name : {"dusty_client_connections_open", "dusty_client_connections_idle", "dusty_client_waiting_fibers",
                    "dusty_client_connections_created_total", "dusty_client_requests_reused_total"})
    EXPECT_EQ(total(samples, name), 0) << name;
  std::set<std::string> names;
  for (auto& s : samples) names.insert(s.name);
  EXPECT_TRUE(names.count("dusty_client_connections_open"));
}

}  // namespace
