#include <dusty/http/h2/dispatch.hpp>

#include <dusty/http/h2/preface.hpp>
#include <dusty/http/h2/server_connection.hpp>

namespace dusty::http::h2 {

handover take_prior_knowledge(const detail::server_state& state, net::buffered_stream& io,
                              detail::connection_control& control, server_stats& stats, void* app) {
  const auto& cfg = state.config;
  if (!cfg.http2.enabled || !cfg.http2.h2c) return handover::not_http2;
  switch (sniff_preface(io, after(cfg.timeouts.request_head))) {
    case sniffed::other:
      return handover::not_http2;
    case sniffed::failed:
      return handover::failed;
    case sniffed::http2:
      break;
  }
  // The HTTP/1 loop counts the connection's bytes when it ends.
  serve_connection(state, io, control, stats, app, count_bytes::no);
  return handover::served;
}

}  // namespace dusty::http::h2
