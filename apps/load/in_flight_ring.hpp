#pragma once
// What a connection of dusty-load has in flight: the send times (closed loop) or
// scheduled send times (open loop) of its requests or messages, oldest first.
#include <chrono>
#include <cstddef>
#include <vector>

namespace dusty::load {

using clock_type = std::chrono::steady_clock;

/// Fixed capacity, allocated once per connection fiber.
class in_flight_ring {
 public:
  explicit in_flight_ring(unsigned capacity) : times_(capacity) {}
  unsigned size() const noexcept { return size_; }
  bool full() const noexcept { return size_ == times_.size(); }
  clock_type::time_point oldest() const noexcept { return times_[head_]; }
  void push(clock_type::time_point t) noexcept {
    std::size_t i = head_ + size_;
    if (i >= times_.size()) i -= times_.size();
    times_[i] = t;
    ++size_;
  }
  void pop() noexcept {
    if (++head_ == times_.size()) head_ = 0;
    --size_;
  }
  void clear() noexcept { head_ = size_ = 0; }

 private:
  std::vector<clock_type::time_point> times_;
  std::size_t head_ = 0;
  unsigned size_ = 0;
};

}  // namespace dusty::load
