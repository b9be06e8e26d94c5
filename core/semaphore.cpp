#include <dusty/core/semaphore.hpp>

#include <dusty/core/fiber.hpp>

namespace dusty {

struct semaphore::waiter final : detail::list_waiter {
  semaphore* sem = nullptr;
  std::size_t units = 0;
  // Leaving the head of the queue may let the next waiters through.
  void on_cancel(detail::fiber_context& f) noexcept override {
    list_waiter::on_cancel(f);
    sem->serve();
  }
};

void semaphore::acquire(std::size_t n) {
  check_cancelled();
  if (waiters_.empty() && units_ >= n) {
    units_ -= n;
    return;
  }
  waiter w;
  w.sem = this;
  w.units = n;
  waiters_.wait(w);  // serve() took our units before granting
}

bool semaphore::try_acquire(std::size_t n) noexcept {
  if (!waiters_.empty() || units_ < n) return false;
  units_ -= n;
  return true;
}

void semaphore::release(std::size_t n) noexcept {
  units_ += n;
  serve();
}

void semaphore::serve() noexcept {
  while (auto* w = static_cast<waiter*>(waiters_.front())) {
    if (units_ < w->units) break;
    units_ -= w->units;
    waiters_.grant(w);
  }
}

}  // namespace dusty
