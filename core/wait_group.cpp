#include <dusty/core/wait_group.hpp>

#include <dusty/core/fiber.hpp>

#include <stdexcept>

namespace dusty {

void wait_group::done() {
  if (count_ == 0) throw std::logic_error("dusty::wait_group::done called more often than add");
  if (--count_ == 0) waiters_.notify_all();
}

void wait_group::wait() {
  check_cancelled();
  if (count_ != 0) waiters_.wait();
}

}  // namespace dusty
