// dusty-ws-crowd: many WebSocket sessions from one process, for perf/macro/websocket.sh's
// broadcast and idle-memory figures.
//
//   dusty-ws-crowd URL N [--shards S] [--deflate] [--hold SECONDS] [--broadcast ROUNDS]
//
// Opens N sessions (ws::connect) spread over S shards, at most 64 connecting at once per
// shard, and prints "open N <seconds>". Then:
//   --hold S        keeps them idle for S seconds (the script reads the server's memory);
//   --broadcast R   R rounds: the first session sends "round k"; the server (dusty-hello's
//                   /broadcast) publishes it to every session; prints "round k <ms>", the
//                   time from the send until the last of the N sessions has it.
// --deflate offers permessage-deflate (default: not offered). Exit status 1 when a session
// fails to open or a round is not delivered to all within 30 s.
#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>
#include <dusty/core/semaphore.hpp>
#include <dusty/core/sharded.hpp>
#include <dusty/http/ws/client.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ws = dusty::http::ws;
using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct settings {
  std::string url;
  unsigned sessions = 0;
  unsigned shards = 1;
  bool deflate = false;
  unsigned hold_s = 0;
  unsigned rounds = 0;
};

// One shard's sessions, and what they have received of the current round.
class crowd {
 public:
  explicit crowd(const settings& s) : s_(s) {}

  // Opens this shard's share; false if any failed.
  bool open() {
    unsigned me = dusty::this_shard_id();
    unsigned mine = 0;
    for (unsigned i = me; i < s_.sessions; i += s_.shards) ++mine;
    sessions_.resize(mine);
    dusty::semaphore slots(64);
    std::vector<dusty::fiber> openers;
    bool ok = true;
    for (unsigned i = 0; i < mine; ++i) {
      slots.acquire();
      openers.push_back(dusty::spawn([&, i] {
        try {
          ws::connect_options o{.permessage_deflate = s_.deflate};
          o.limits.ping_interval = 0ms;  // idle means idle: no keep-alive traffic
          o.limits.idle_timeout = 0ms;
          sessions_[i] = std::make_unique<ws::client_session>(ws::connect(s_.url, o));
        } catch (const std::exception& e) {
          std::fprintf(stderr, "dusty-ws-crowd: %s\n", e.what());
          ok = false;
        }
        slots.release();
      }));
    }
    for (auto& f : openers) f.join();
    return ok;
  }

  // A receiving fiber per session: counts the messages equal to `expect_`.
  void listen() {
    for (auto& s : sessions_)
      readers_.push_back(dusty::spawn([this, &s] {
        while (auto m = (*s)->receive()) {
          if (m->data != expect_) continue;
          ++got_;
          last_ = clock_type::now();
        }
      }));
  }
  void expect(std::string text) {
    expect_ = std::move(text);
    got_ = 0;
  }
  std::pair<unsigned, clock_type::time_point> progress() const { return {got_, last_}; }
  bool send_first(const std::string& text) { return (*sessions_.front())->send_text(text); }

  void close_all() {
    for (auto& s : sessions_)
      if (s) (*s)->close_async(ws::close_code::normal);
    try {
      dusty::with_timeout(10s, [&] {
        for (auto& r : readers_) r.join();
      });
    } catch (const dusty::timeout_error&) {
      for (auto& r : readers_) r.cancel();
      for (auto& r : readers_) r.join();
    }
    sessions_.clear();
  }

 private:
  settings s_;  // its own copy: sharded::start passes a copy that does not outlive the call
  std::vector<std::unique_ptr<ws::client_session>> sessions_;
  std::vector<dusty::fiber> readers_;
  std::string expect_;
  unsigned got_ = 0;
  clock_type::time_point last_{};
};

int usage() {
  std::fprintf(stderr, "usage: dusty-ws-crowd URL N [--shards S] [--deflate] [--hold SECONDS] [--broadcast ROUNDS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  settings s{.url = argv[1], .sessions = static_cast<unsigned>(std::atoi(argv[2]))};
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--deflate") s.deflate = true;
    else if (a == "--shards" && i + 1 < argc) s.shards = std::max(1, std::atoi(argv[++i]));
    else if (a == "--hold" && i + 1 < argc) s.hold_s = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--broadcast" && i + 1 < argc) s.rounds = static_cast<unsigned>(std::atoi(argv[++i]));
    else return usage();
  }
  if (s.sessions < s.shards) return usage();
  dusty::runtime_config config;
  config.shards = s.shards;
  dusty::runtime rt(config);
  return rt.run([&]() -> int {
    dusty::sharded<crowd> crowds;
    crowds.start(s);
    auto start = clock_type::now();
    bool ok = crowds.map_reduce([](crowd& c) { return c.open(); }, true, [](bool a, bool b) { return a && b; });
    int status = 0;
    if (!ok) {
      status = 1;
    } else {
      std::printf("open %u %.2f\n", s.sessions, std::chrono::duration<double>(clock_type::now() - start).count());
      std::fflush(stdout);
      crowds.invoke_on_all([](crowd& c) { c.listen(); });
      if (s.hold_s) dusty::sleep_for(std::chrono::seconds(s.hold_s));
      for (unsigned k = 1; k <= s.rounds && status == 0; ++k) {
        std::string text = "round " + std::to_string(k);
        crowds.invoke_on_all([text](crowd& c) { c.expect(text); });
        auto sent = clock_type::now();
        crowds.local().send_first(text);
        auto limit = sent + 30s;
        for (;;) {
          using reached = std::pair<unsigned, clock_type::time_point>;
          auto r = crowds.map_reduce([](crowd& c) { return c.progress(); }, reached{0, {}},
                                     [](reached a, reached b) { return reached{a.first + b.first, std::max(a.second, b.second)}; });
          if (r.first == s.sessions) {
            std::printf("round %u %.2f\n", k, std::chrono::duration<double, std::milli>(r.second - sent).count());
            std::fflush(stdout);
            break;
          }
          if (clock_type::now() > limit) {
            std::fprintf(stderr, "dusty-ws-crowd: round %u reached %u of %u sessions in 30 s\n", k, r.first, s.sessions);
            status = 1;
            break;
          }
          dusty::sleep_for(1ms);
        }
        dusty::sleep_for(200ms);  // let the round's frames drain before the next
      }
    }
    crowds.invoke_on_all([](crowd& c) { c.close_all(); });
    crowds.stop();
    return status;
  });
}
