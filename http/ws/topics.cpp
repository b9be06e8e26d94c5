#include <dusty/http/ws/topics.hpp>

#include <dusty/core/submit_to.hpp>

#include <algorithm>

namespace dusty::http::ws {

topics::topics() = default;
topics::~topics() {
  try {
    stop();
  } catch (...) {  // a table's destructor cannot throw; only a cancelled wait can end up here
  }
}

void topics::start() { shards_.start(); }

void topics::stop() {
  if (!shards_.started()) return;
  // A publish travels as a cross-core call that reads the target's table. Each queue is
  // FIFO per ordered pair of shards, so one empty call from every shard to every shard,
  // answered, means every publish sent before it has run: none is left to find a table
  // that is gone.
  shards_.invoke_on_all([](detail::topic_shard&) {
    std::vector<future<void>> pending;
    for (unsigned i = 0; i < shard_count(); ++i) pending.push_back(submit_to(i, [] {}));
    for (auto& f : pending) f.get();
  });
  shards_.stop();
}

void topics::subscribe(session& s, std::string_view topic) { shards_.local().subscribe(s, topic); }

bool topics::unsubscribe(session& s, std::string_view topic) { return shards_.local().unsubscribe(s, topic); }

void topics::publish(std::string_view topic, const message& m) {
  unsigned here = this_shard_id();
  for (unsigned i = 0; i < shard_count(); ++i) {
    if (i == here) continue;
    // Fire and forget: the dropped future frees the call when its answer comes back.
    (void)submit_to(i, [this, t = std::string(topic), m] { shards_.local().deliver(t, m); });
  }
  shards_.local().deliver(topic, m);
}

std::size_t topics::local_subscribers(std::string_view topic) { return shards_.local().subscribers(topic); }

topic_stats topics::local_stats() { return shards_.local().stats(); }

namespace detail {

void topic_shard::subscribe(session& s, std::string_view topic) {
  auto [it, first] = table_->by_session.try_emplace(&s);
  if (first) {
    s.on_end([weak = std::weak_ptr<table>(table_), p = &s] {
      if (auto t = weak.lock()) t->forget(p);
    });
  }
  auto& mine = it->second;
  if (std::find(mine.begin(), mine.end(), topic) != mine.end()) return;
  mine.emplace_back(topic);
  table_->by_topic[std::string(topic)].insert(&s);
}

bool topic_shard::unsubscribe(session& s, std::string_view topic) {
  auto it = table_->by_session.find(&s);
  if (it == table_->by_session.end()) return false;
  auto& mine = it->second;
  auto pos = std::find(mine.begin(), mine.end(), topic);
  if (pos == mine.end()) return false;
  mine.erase(pos);
  // The session stays in by_session (with no topics) while it lives: its on_end callback
  // is registered once and will still come.
  auto subs = table_->by_topic.find(std::string(topic));
  subs->second.erase(&s);
  if (subs->second.empty()) table_->by_topic.erase(subs);
  return true;
}

void topic_shard::table::forget(session* s) {
  auto it = by_session.find(s);
  if (it == by_session.end()) return;
  for (const auto& topic : it->second) {
    auto subs = by_topic.find(topic);
    subs->second.erase(s);
    if (subs->second.empty()) by_topic.erase(subs);
  }
  by_session.erase(it);
}

void topic_shard::deliver(std::string_view topic, const message& m) {
  auto subs = table_->by_topic.find(std::string(topic));
  if (subs == table_->by_topic.end()) return;
  auto frame = encode_frame(m.is_text() ? opcode::text : opcode::binary, m.data);
  ++table_->stats.frames_encoded;
  // post() never suspends and never calls back into this table, so the set cannot
  // change while it is walked.
  for (session* s : subs->second) {
    if (s->post(frame))
      ++table_->stats.frames_posted;
    else
      ++table_->stats.frames_refused;
  }
}

std::size_t topic_shard::subscribers(std::string_view topic) const {
  auto subs = table_->by_topic.find(std::string(topic));
  return subs == table_->by_topic.end() ? 0 : subs->second.size();
}

}  // namespace detail
}  // namespace dusty::http::ws
