#include <dusty/core/input_watch.hpp>

#include <dusty/core/error.hpp>
#include <dusty/core/detail/shard.hpp>

#include <stdexcept>

namespace dusty {

void input_watch::arm(int socket, deadline d) {
  auto* s = detail::shard::current();
  if (!s) throw std::system_error(make_error_code(errc::not_in_fiber), "input_watch::arm outside the runtime");
  if (armed_) throw std::logic_error("input_watch::arm: already armed");
  fd = socket;
  cancel_sent = false;
  armed_ = true;
  try {
    s->io().watch_input(*this, d);
  } catch (...) {
    armed_ = false;
    throw;
  }
}

}  // namespace dusty
