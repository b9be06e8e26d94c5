#include <dusty/net/stream.hpp>

#include <algorithm>

namespace dusty::net {

result<std::size_t> stream::do_read_lazy(std::size_t max, buffer_source source, deadline d) {
  std::span<std::byte> buf = source();
  return do_read_some(buf.first(std::min(max, buf.size())), d);
}

result<void> stream::read(std::span<std::byte> buf, deadline d) {
  while (!buf.empty()) {
    auto n = do_read_some(buf, d);
    if (!n) return fail(n.error());
    buf = buf.subspan(*n);
  }
  return {};
}

result<socket_address> stream::do_remote_address() const { return fail(std::make_error_code(std::errc::not_supported)); }
result<socket_address> stream::do_local_address() const { return fail(std::make_error_code(std::errc::not_supported)); }

}  // namespace dusty::net
