#include <dusty/core/wait_queue.hpp>

namespace dusty {

namespace {
struct plain_waiter final : detail::list_waiter {};
}  // namespace

void wait_queue::wait() {
  plain_waiter w;
  waiters_.wait(w);
}

bool wait_queue::notify_one() noexcept {
  detail::list_waiter* w = waiters_.front();
  if (!w) return false;
  waiters_.grant(w);
  return true;
}

std::size_t wait_queue::notify_all() noexcept {
  std::size_t n = 0;
  while (notify_one()) ++n;
  return n;
}

}  // namespace dusty
