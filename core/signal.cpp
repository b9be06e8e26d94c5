#include <dusty/core/signal.hpp>

#include <dusty/core/detail/runtime_state.hpp>
#include <dusty/core/detail/shard.hpp>
#include <dusty/core/error.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace dusty {

signal_handler::signal_handler(signal_handler&& o) noexcept
    : rt_(std::exchange(o.rt_, nullptr)), id_(std::exchange(o.id_, 0)) {}

signal_handler& signal_handler::operator=(signal_handler&& o) noexcept {
  if (this != &o) {
    reset();
    rt_ = std::exchange(o.rt_, nullptr);
    id_ = std::exchange(o.id_, 0);
  }
  return *this;
}

void signal_handler::reset() noexcept {
  if (!rt_) return;
  {
    std::lock_guard lock(rt_->signal_mutex);
    std::erase_if(rt_->signal_handlers, [this](const auto& e) { return e.id == id_; });
  }
  rt_ = nullptr;
}

signal_handler on_signal(int signo, std::move_only_function<void()> fn) {
  if (signo != SIGHUP && signo != SIGUSR1 && signo != SIGUSR2)
    throw std::invalid_argument("on_signal: only SIGHUP, SIGUSR1 and SIGUSR2, not signal " + std::to_string(signo));
  auto* sh = detail::shard::current();
  if (!sh) throw std::system_error(make_error_code(errc::not_in_fiber), "on_signal outside the runtime");
  auto& rt = sh->runtime();
  std::lock_guard lock(rt.signal_mutex);
  auto id = rt.next_signal_id++;
  rt.signal_handlers.push_back({signo, id, std::make_shared<std::move_only_function<void()>>(std::move(fn))});
  return signal_handler(&rt, id);
}

}  // namespace dusty
