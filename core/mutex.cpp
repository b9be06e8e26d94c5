#include <dusty/core/mutex.hpp>

#include <dusty/core/fiber.hpp>

#include <cassert>

namespace dusty {

void mutex::lock() {
  check_cancelled();
  if (!locked_) {
    locked_ = true;
    return;
  }
  // Returning normally means unlock() handed us the lock; locked_ never went false.
  waiters_.wait();
}

bool mutex::try_lock() noexcept {
  if (locked_) return false;
  locked_ = true;
  return true;
}

void mutex::unlock() noexcept {
  assert(locked_ && "dusty::mutex::unlock of an unlocked mutex");
  if (!waiters_.notify_one()) locked_ = false;
}

}  // namespace dusty
