#include <dusty/net/connect.hpp>

#include <algorithm>
#include <chrono>

namespace dusty::net {

std::expected<connection, connect_error> connect_to(std::string_view host, std::uint16_t port,
                                                   const connect_options& options) {
  auto step = [&] {
    return options.attempt_timeout.count() > 0 ? std::min(options.deadline, after(options.attempt_timeout))
                                               : options.deadline;
  };
  auto addrs = resolver::local().resolve(host, port, step(), options.family);
  if (!addrs) return std::unexpected(connect_error{addrs.error(), std::nullopt});
  connect_error last{std::make_error_code(std::errc::host_unreachable), std::nullopt};
  for (const auto& a : *addrs) {
    auto c = connect(a, step());
    if (c) {
      if (a.is_ip()) (void)c->set_nodelay(true);
      return std::move(*c);
    }
    last = {c.error(), a};
    if (options.deadline != no_deadline && std::chrono::steady_clock::now() >= options.deadline) break;
  }
  return std::unexpected(std::move(last));
}

}  // namespace dusty::net
