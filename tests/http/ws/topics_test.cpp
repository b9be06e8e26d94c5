#include <dusty/http/ws/topics.hpp>

#include "http/server_support.hpp"
#include "http/ws/ws_client.hpp"

#include <dusty/core/submit_to.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace dusty::http::server_test {
namespace {

// A server on two shards whose /ws sessions subscribe to "room" and say on which shard
// they live ("shard N"); then "unsub" unsubscribes (answered "unsubscribed"), "pub X"
// publishes X to the room, and "bye" ends the session.
struct room_server {
  ws::topics topics;
  live_server<> srv;

  explicit room_server(server_config cfg = local_config())
      : srv([this](server<>& s) { install(s); }, cfg, two_shards()) {}
  ~room_server() {
    auto stopped = srv.stop_async();
    finish(stopped);
    srv.runtime().call([this] { topics.stop(); });
  }

  void install(server<>& s) {
    topics.start();
    s.websocket("/ws", [this](request&, ws::session& ws) {
      topics.subscribe(ws, "room");
      ws.send_text("shard " + std::to_string(this_shard_id()));
      while (auto m = ws.receive()) {
        if (m->data == "unsub") {
          ws.send_text(topics.unsubscribe(ws, "room") ? "unsubscribed" : "not subscribed");
        } else if (m->data.starts_with("pub ")) {
          topics.publish_text("room", m->data.substr(4));
        } else if (m->data == "bye") {
          return;
        }
      }
    });
  }

  // Publishes from shard `from` (shard 0 when there is only one).
  void publish(unsigned from, std::string text) {
    srv.runtime().call([&] {
      submit_to(std::min(from, shard_count() - 1), [&] { topics.publish_text("room", text); }).get();
    });
  }
  // The sum over every shard of `f(topics)`.
  template <class F>
  std::uint64_t sum(F f) {
    std::uint64_t total = 0;
    srv.runtime().call([&] {
      for (unsigned i = 0; i < shard_count(); ++i) total += submit_to(i, [&] { return f(topics); }).get();
    });
    return total;
  }
  std::uint64_t subscribers() { return sum([](ws::topics& t) { return t.local_subscribers("room"); }); }
  std::uint64_t encoded() { return sum([](ws::topics& t) { return t.local_stats().frames_encoded; }); }
  std::uint64_t refused() { return sum([](ws::topics& t) { return t.local_stats().frames_refused; }); }
};

struct subscriber {
  std::unique_ptr<raw_client> c;
  std::unique_ptr<frame_reader> rd;
  unsigned shard = 0;

  std::optional<std::string> next_text(clock_type::duration limit = io_limit) {
    auto e = rd->next(limit);
    if (!e || e->kind != ws::event_kind::message) return std::nullopt;
    return e->payload;
  }
  void send(std::string_view text) { c->send(client_frame(ws::opcode::text, text)); }
};

subscriber join(room_server& r, int rcvbuf = 0) {
  subscriber s{std::make_unique<raw_client>(r.srv.connect(rcvbuf)), nullptr, 0};
  open(*s.c, "/ws");
  s.rd = std::make_unique<frame_reader>(*s.c);
  auto hello = s.next_text();
  EXPECT_TRUE(hello && hello->starts_with("shard ")) << hello.value_or("(nothing)");
  if (hello && hello->size() > 6) s.shard = static_cast<unsigned>(std::stoul(hello->substr(6)));
  return s;
}

// Connects until every shard has at least `per_shard` subscribers (SO_REUSEPORT spreads
// connections by hash: 64 tries leave that to chance with odds below 2^-50).
std::vector<subscriber> join_on_every_shard(room_server& r, unsigned per_shard) {
  std::vector<subscriber> subs;
  std::vector<unsigned> count(two_shards(), 0);
  for (int i = 0; i < 64 && std::ranges::any_of(count, [&](unsigned n) { return n < per_shard; }); ++i) {
    subs.push_back(join(r));
    ++count.at(subs.back().shard);
  }
  for (unsigned id = 0; id < count.size(); ++id) EXPECT_GE(count[id], per_shard) << "shard " << id;
  return subs;
}

// How many shards these subscribers live on.
std::uint64_t shard_count_of(const std::vector<subscriber>& subs) {
  std::set<unsigned> shards;
  for (auto& s : subs) shards.insert(s.shard);
  return shards.size();
}

// Every subscriber gets `expected` (in any order) and then nothing more.
void expect_exactly(std::vector<subscriber>& subs, std::multiset<std::string> expected) {
  for (auto& s : subs) {
    std::multiset<std::string> got;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      auto m = s.next_text();
      if (!m) break;
      got.insert(*m);
    }
    EXPECT_EQ(got, expected) << "subscriber on shard " << s.shard;
    EXPECT_FALSE(s.rd->next(200ms)) << "a message came twice";
  }
}

TEST(ws_topics, publish_from_either_shard_reaches_every_subscriber_once) {
  room_server r;
  auto subs = join_on_every_shard(r, 2);
  EXPECT_EQ(r.subscribers(), subs.size());
  r.publish(0, "from shard 0");
  r.publish(1, "from shard 1");
  subs.front().send("pub from a client");
  expect_exactly(subs, {"from shard 0", "from shard 1", "from a client"});
}

// One publish builds one frame per shard that has subscribers, whatever their number.
TEST(ws_topics, one_frame_per_shard_not_per_subscriber) {
  room_server r;
  auto subs = join_on_every_shard(r, 3);
  r.publish(0, "counted");
  expect_exactly(subs, {"counted"});
  EXPECT_EQ(r.encoded(), shard_count_of(subs));
  r.publish(1, "again");
  expect_exactly(subs, {"again"});
  EXPECT_EQ(r.encoded(), 2 * shard_count_of(subs));
}

TEST(ws_topics, unsubscribe_stops_delivery) {
  room_server r;
  auto subs = join_on_every_shard(r, 1);
  auto& quitter = subs.back();
  quitter.send("unsub");
  EXPECT_EQ(quitter.next_text().value_or(""), "unsubscribed");
  quitter.send("unsub");
  EXPECT_EQ(quitter.next_text().value_or(""), "not subscribed");
  EXPECT_EQ(r.subscribers(), subs.size() - 1);
  r.publish(0, "after");
  EXPECT_FALSE(quitter.rd->next(300ms)) << "an unsubscribed session still got the message";
  subs.pop_back();
  expect_exactly(subs, {"after"});
}

// A session that ends leaves the table (publishing to it afterwards would be a use after
// free, which the sanitizer build would report).
TEST(ws_topics, ended_session_is_removed) {
  room_server r;
  auto subs = join_on_every_shard(r, 1);
  auto before = r.subscribers();
  subs.back().send("bye");
  auto e = subs.back().rd->next();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::close);
  subs.back().c->send(client_frame(ws::opcode::close, ws::close_payload(1000, "")));
  EXPECT_TRUE(subs.back().c->wait_closed());
  subs.pop_back();
  // A peer that vanishes without a close handshake is removed as well.
  subs.back().c.reset();
  subs.back().rd.reset();
  subs.pop_back();
  std::uint64_t now = before;
  for (int i = 0; i < 250 && now != before - 2; ++i) {
    std::this_thread::sleep_for(20ms);
    now = r.subscribers();
  }
  EXPECT_EQ(now, before - 2);
  r.publish(0, "to the rest");
  r.publish(1, "still to the rest");
  expect_exactly(subs, {"to the rest", "still to the rest"});
}

// A subscriber that stops reading is closed with 1008 once its queue passes the limit;
// the others keep receiving every message, in order, and the publisher never waits.
TEST(ws_topics, slow_subscriber_does_not_stop_others) {
  server_config cfg = local_config();
  cfg.websocket.max_queued_bytes = 64 * 1024;
  room_server r(cfg);
  auto slow = join(r, 4096);
  std::vector<subscriber> fast;
  fast.push_back(join(r));
  fast.push_back(join(r));
  std::string filler(8 * 1024, 'x');
  int sent = 0;
  // Two messages a round, read by the fast ones before the next: their queues stay short.
  // The slow one's socket buffers fill (a few MiB at most on loopback), then its queue.
  for (int round = 0; round < 2000 && r.refused() == 0; ++round) {
    for (int k = 0; k < 2; ++k, ++sent) r.publish(static_cast<unsigned>(k), std::to_string(sent) + " " + filler);
    for (auto& f : fast) {
      for (int k = sent - 2; k < sent; ++k) {
        auto m = f.next_text();
        ASSERT_TRUE(m) << "fast subscriber lost message " << k;
        // Messages from two shards may swap within a round; across rounds they are ordered.
        auto n = std::stoi(m->substr(0, m->find(' ')));
        ASSERT_TRUE(n == sent - 2 || n == sent - 1) << n;
      }
    }
  }
  EXPECT_GT(r.refused(), 0u) << "the slow subscriber was never refused after " << sent << " messages";
  // The slow one, reading at last, finds its data and then the 1008 close.
  std::optional<server_event> e;
  for (int i = 0; i <= sent && (e = slow.rd->next()) && e->kind == ws::event_kind::message; ++i) {
  }
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ws::event_kind::close);
  EXPECT_EQ(e->code, 1008);
  // The fast ones are still subscribed and served.
  r.publish(0, "later");
  expect_exactly(fast, {"later"});
}

}  // namespace
}  // namespace dusty::http::server_test
