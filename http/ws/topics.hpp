#pragma once
// ws::topics: publish/subscribe for WebSocket sessions across every shard. A session
// subscribes to named topics on its own shard; a message published to a topic from any
// shard reaches every subscriber on every shard, over the cross-core queues.
//
//   dusty::http::ws::topics rooms;
//   rooms.start();                                       // from a fiber, before serving
//   srv.websocket("/ws", [&rooms](http::request&, ws::session& s) {
//     rooms.subscribe(s, "lobby");                       // this shard only, no locks
//     while (auto m = s.receive()) rooms.publish("lobby", *m);   // every shard
//   });                                                  // the session ends: unsubscribed
//   srv.listen();
//   rooms.stop();                                        // after the server has stopped
//
// Per shard, subscriptions live in that shard's table and are only ever touched there;
// a session is removed from it when it ends (session::on_end), so nothing keeps a pointer
// to a session that is gone. publish() sends the message once to each other shard; each
// shard that has subscribers to the topic builds ONE frame (ws::encode_frame) and posts the
// same bytes to each of them (session::post). Posting never waits: a slow subscriber's
// frames queue behind its own write, up to server_config::websocket.max_queued_bytes, past
// which that session alone is closed with 1008; the publisher and the other subscribers
// go on. Frames are sent uncompressed, also to sessions that agreed permessage-deflate.
//
// Order: messages published from one shard reach each subscriber in publish order.
// Messages published from different shards have no order between them.
#include <dusty/core/sharded.hpp>
#include <dusty/http/ws/session.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dusty::http::ws {

namespace detail {
class topic_shard;
}

/// What one shard's table has done since start().
struct topic_stats {
  std::uint64_t frames_encoded = 0;  ///< Frames built: one per publish that had subscribers here.
  std::uint64_t frames_posted = 0;   ///< Frames handed to subscribers (session::post accepted).
  std::uint64_t frames_refused = 0;  ///< Subscribers that were closing or whose queue was full.
};

class topics {
 public:
  topics();
  /// Stops it if it was started and not stopped (it must then run in a fiber).
  ~topics();
  topics(const topics&) = delete;
  topics& operator=(const topics&) = delete;

  /// Builds the table of every shard. Call once, from a fiber, before any other call.
  /// Suspends.
  void start();
  /// Destroys the tables, on their shards. Call from a fiber once nothing publishes any
  /// more (after the server using them has stopped); publishes already on their way to
  /// another shard are delivered first. Sessions still subscribed simply stop receiving.
  /// Suspends.
  void stop();

  /// Subscribes `s` to `topic` on the session's shard (the caller's); subscribing twice is
  /// subscribing once. The subscription ends with unsubscribe() or when the session ends.
  /// Never suspends.
  void subscribe(session& s, std::string_view topic);
  /// Ends a subscription made on this shard; false when there was none. Never suspends.
  bool unsubscribe(session& s, std::string_view topic);

  /// Sends `m` to every subscriber of `topic`, on every shard, and returns without waiting
  /// for any of them: the caller's shard posts at once, the others when the message
  /// arrives. From any shard's thread (a fiber or a cross-core task). Never suspends.
  void publish(std::string_view topic, const message& m);
  void publish_text(std::string_view topic, std::string_view text) {
    publish(topic, message{message_type::text, std::string(text)});
  }

  /// Subscribers of `topic` on the caller's shard. Never suspends.
  std::size_t local_subscribers(std::string_view topic);
  /// The caller's shard's counters. Never suspends.
  topic_stats local_stats();

 private:
  sharded<detail::topic_shard> shards_;
};

namespace detail {

/// One shard's subscriptions. Sessions are held by pointer; each registers a callback
/// with session::on_end the first time it subscribes. The callback holds a weak_ptr to
/// the table, so a session outliving stop() finds nothing to remove.
class topic_shard {
 public:
  void subscribe(session& s, std::string_view topic);
  bool unsubscribe(session& s, std::string_view topic);
  void deliver(std::string_view topic, const message& m);
  std::size_t subscribers(std::string_view topic) const;
  const topic_stats& stats() const noexcept { return table_->stats; }

 private:
  struct table {
    std::unordered_map<std::string, std::unordered_set<session*>> by_topic;
    std::unordered_map<session*, std::vector<std::string>> by_session;
    topic_stats stats;
    void forget(session* s);
  };
  std::shared_ptr<table> table_ = std::make_shared<table>();
};

}  // namespace detail
}  // namespace dusty::http::ws
