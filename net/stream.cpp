#include <dusty/net/stream.hpp>

#include <dusty/net/error.hpp>

#include <algorithm>
#include <memory>

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

result<void> stream::do_send_file(int file_fd, std::uint64_t offset, std::uint64_t count, deadline d) {
  // One TLS record's worth: a TLS stream then seals each piece into one record.
  constexpr std::size_t piece = 16 * 1024;
  auto buf = std::make_unique_for_overwrite<std::byte[]>(piece);
  while (count > 0) {
    auto n = reactor::read_at(file_fd, {buf.get(), static_cast<std::size_t>(std::min<std::uint64_t>(piece, count))},
                              offset, d);
    if (!n) return fail(n.error());
    if (*n == 0) return fail(errc::file_truncated);
    if (auto w = do_write({buf.get(), *n}, d); !w) return w;
    offset += *n;
    count -= *n;
  }
  return {};
}

result<socket_address> stream::do_remote_address() const { return fail(std::make_error_code(std::errc::not_supported)); }
result<socket_address> stream::do_local_address() const { return fail(std::make_error_code(std::errc::not_supported)); }

}  // namespace dusty::net
