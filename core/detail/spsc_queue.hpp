#pragma once
// A bounded single-producer single-consumer ring of pointers: one per ordered pair of
// shards. The producer and consumer indices live on separate cache lines, and each side
// caches the other's index so the common case touches no shared line but its own.
#include <atomic>
#include <cstddef>
#include <memory>

namespace dusty::detail {

template <class T>
class spsc_queue {
 public:
  explicit spsc_queue(std::size_t capacity)  // a power of two
      : mask_(capacity - 1), slots_(std::make_unique<T[]>(capacity)) {}

  /// Producer side. False when full (the caller keeps the item and retries later).
  bool push(T item) noexcept {
    std::size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - cached_head_ > mask_) {
      cached_head_ = head_.load(std::memory_order_acquire);
      if (tail - cached_head_ > mask_) return false;
    }
    slots_[tail & mask_] = item;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  /// Consumer side. False when empty.
  bool pop(T& item) noexcept {
    std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == cached_tail_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (head == cached_tail_) return false;
    }
    item = slots_[head & mask_];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  /// Either side; exact for the consumer.
  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }

 private:
  const std::size_t mask_;
  std::unique_ptr<T[]> slots_;
  alignas(64) std::atomic<std::size_t> head_{0};  // consumer
  std::size_t cached_tail_ = 0;
  alignas(64) std::atomic<std::size_t> tail_{0};  // producer
  std::size_t cached_head_ = 0;
};

}  // namespace dusty::detail
