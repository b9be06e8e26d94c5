#include <dusty/http/h2/server_connection.hpp>

#include <dusty/http/h2/connection.hpp>

namespace dusty::http::h2 {

void serve_connection(const detail::server_state& state, net::buffered_stream& io, detail::connection_control& control,
                      server_stats& stats, void* app, count_bytes counting) {
  control.idle = false;
  connection c(state, io, control, stats, app, counting == count_bytes::yes);
  c.run();
}

void serve_connection(const detail::server_state& state, net::stream& stream, detail::connection_control& control,
                      server_stats& stats, void* app) {
  net::buffered_stream io(stream);
  serve_connection(state, io, control, stats, app, count_bytes::yes);
}

}  // namespace dusty::http::h2
