#pragma once
// channel<T>: a bounded FIFO queue that passes values between the fibers of one shard.
//
//   dusty::channel<request> work(128);
//   auto producer = dusty::spawn([&] {
//     for (auto& r : incoming) if (!work.send(std::move(r))) break;  // closed: stop
//     work.close();
//   });
//   while (std::optional<request> r = work.receive()) handle(*r);    // until closed and drained
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/result.hpp>

#include <dusty/core/detail/waiter_list.hpp>

#include <cstddef>
#include <deque>
#include <optional>
#include <stdexcept>
#include <utility>

namespace dusty {

/// A bounded channel of T (move-constructible) between fibers of one shard. It buffers up
/// to capacity() values; send() suspends while the buffer is full, receive() while it is
/// empty. Values come out in the order they went in, and waiting senders and receivers
/// are served in arrival order: a value is handed straight to the longest-waiting
/// receiver, and a waiting sender's value moves into the buffer as soon as there is room.
///
/// Closing: close() says no more values will come. Receivers still get every value
/// already buffered, then std::nullopt. A send() on a closed channel, or one still waiting
/// when the channel is closed, returns errc::closed and its value is dropped (destroyed).
///
/// Single-shard: a channel belongs to one shard, and every call must be made on that
/// shard's thread. To pass values across shards, use submit_to.
template <class T>
class channel {
 public:
  /// A channel that buffers `capacity` values. Throws std::invalid_argument for 0.
  explicit channel(std::size_t capacity) : capacity_(capacity) {
    if (capacity == 0) throw std::invalid_argument("dusty::channel capacity must be at least 1");
  }
  /// No fiber may be waiting when it is destroyed; buffered values are destroyed.
  ~channel() = default;
  channel(const channel&) = delete;
  channel& operator=(const channel&) = delete;

  /// Puts `value` in the channel, suspending the calling fiber while it is full.
  /// Returns errc::closed if the channel is or becomes closed first (the value is then
  /// dropped). Throws cancelled_error if the fiber is cancelled (or a deadline scope around
  /// it expires) before or while it waits; the value is then not sent. A sender whose
  /// value was taken and that was cancelled before it ran returns normally: the value is
  /// delivered. Call from a fiber.
  [[nodiscard]] result<void> send(T value) {
    check_cancelled();
    if (closed_) return fail(errc::closed);
    if (!push_now(value)) {
      sender s;
      s.value = &value;
      senders_.wait(s);
      if (s.refused) return fail(errc::closed);
    }
    return {};
  }

  /// Sends `value` if that needs no wait, and returns true; otherwise (full or closed)
  /// returns false and leaves `value` untouched. Never suspends.
  bool try_send(T&& value) { return !closed_ && push_now(value); }

  /// Takes the oldest value, suspending the calling fiber while the channel is empty.
  /// Returns std::nullopt once the channel is closed and drained. Throws cancelled_error
  /// if the fiber is cancelled (or a deadline scope around it expires) before or while it
  /// waits; no value is then taken. A receiver that was handed a value and cancelled
  /// before it ran returns that value: none is lost. Call from a fiber.
  std::optional<T> receive() {
    check_cancelled();
    if (!buffer_.empty() || closed_) return try_receive();
    receiver r;
    receivers_.wait(r);
    return std::move(r.slot);  // nullopt: closed while waiting
  }

  /// Takes the oldest value if there is one; never suspends.
  std::optional<T> try_receive() {
    if (buffer_.empty()) return std::nullopt;
    std::optional<T> v(std::move(buffer_.front()));
    buffer_.pop_front();
    if (auto* s = static_cast<sender*>(senders_.front())) {
      buffer_.push_back(std::move(*s->value));
      senders_.grant(s);
    }
    return v;
  }

  /// Closes the channel: waiting receivers get std::nullopt (there is nothing buffered
  /// while they wait), waiting senders get errc::closed, later sends fail, and later
  /// receives drain the buffer. Idempotent; never suspends.
  void close() noexcept {
    closed_ = true;
    while (auto* r = receivers_.front()) receivers_.grant(r);
    while (auto* s = static_cast<sender*>(senders_.front())) {
      s->refused = true;
      senders_.grant(s);
    }
  }

  bool closed() const noexcept { return closed_; }
  /// Values buffered now.
  std::size_t size() const noexcept { return buffer_.size(); }
  bool empty() const noexcept { return buffer_.empty(); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  struct sender final : detail::list_waiter {
    T* value = nullptr;  // on the sender's stack while it waits
    bool refused = false;
  };
  struct receiver final : detail::list_waiter {
    std::optional<T> slot;
  };

  // Hands `value` to a waiting receiver or buffers it; false when full.
  bool push_now(T& value) {
    if (auto* r = static_cast<receiver*>(receivers_.front())) {
      r->slot.emplace(std::move(value));
      receivers_.grant(r);
      return true;
    }
    if (buffer_.size() >= capacity_) return false;
    buffer_.push_back(std::move(value));
    return true;
  }

  std::deque<T> buffer_;
  std::size_t capacity_;
  bool closed_ = false;
  detail::waiter_list senders_;    // wait only while the buffer is full
  detail::waiter_list receivers_;  // wait only while the buffer is empty
};

}  // namespace dusty
