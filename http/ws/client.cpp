#include <dusty/http/ws/client.hpp>

#include <dusty/core/error.hpp>
#include <dusty/http/client.hpp>
#include <dusty/http/codec/base64.hpp>
#include <dusty/http/codec/url.hpp>
#include <dusty/http/detail/ascii.hpp>
#include <dusty/http/error.hpp>
#include <dusty/http/fields.hpp>
#include <dusty/http/h1/response_parser.hpp>
#include <dusty/http/h1/serializer.hpp>
#include <dusty/net/buffered_stream.hpp>
#include <dusty/net/connect.hpp>
#include <dusty/net/connection.hpp>
#include <dusty/net/tls/context.hpp>
#include <dusty/net/tls/stream.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <stdexcept>

namespace dusty::http::ws {
namespace {

[[noreturn]] void failed(std::error_code ec, const std::string& what) { throw client_error(ec, what); }

// ws:// and wss:// become http:// and https:// for http::url, which knows their ports.
url parse_ws_url(std::string_view text) {
  std::string rewritten(text);
  if (http::detail::istarts_with(text, "ws://")) rewritten = "http://" + std::string(text.substr(5));
  else if (http::detail::istarts_with(text, "wss://")) rewritten = "https://" + std::string(text.substr(6));
  auto u = url::parse(rewritten);
  if (!u) failed(u.error(), "not a ws:// or wss:// URL: " + std::string(text));
  return std::move(*u);
}

std::unique_ptr<net::stream> open_stream(const url& u, const connect_options& o, deadline d, const std::string& peer) {
  auto c = net::connect_to(u.host, u.port, {.deadline = d});
  if (!c) {
    auto ec = c.error().code;
    if (!c.error().address) failed(ec, "cannot resolve " + u.host + ": " + ec.message());
    failed(ec, "connect to " + c.error().address->to_string() + " failed: " + ec.message());
  }
  (void)c->set_nodelay(true);
  if (u.scheme != "https") return std::make_unique<net::connection>(std::move(*c));
  std::shared_ptr<const net::tls::context> ctx = o.tls.context;
  if (!ctx) {
    try {
      ctx = net::tls::context::client({.ca_file = o.tls.ca_file,
                                       .cert_file = o.tls.cert_file,
                                       .key_file = o.tls.key_file,
                                       .alpn = {"http/1.1"},
                                       .insecure = o.tls.insecure});
    } catch (const net::tls::config_error& e) {
      failed(std::make_error_code(std::errc::invalid_argument), e.what());
    }
  }
  auto s = std::make_unique<net::tls::stream>(ctx, std::move(*c), net::tls::client_options{.host = u.host});
  if (auto h = s->handshake(d); !h)
    failed(h.error(), "TLS handshake with " + peer + " failed: " +
                          (s->error_detail().empty() ? h.error().message() : std::string(s->error_detail())));
  return s;
}

// Whether a comma-separated header value lists `token` (ASCII case-insensitive).
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    auto comma = value.find(',');
    if (http::detail::iequals(http::detail::trim_ows(value.substr(0, comma)), token)) return true;
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
  }
  return false;
}

}  // namespace

// The session refers to the buffer, the buffer to the stream: they go in that order.
void client_session::reset() noexcept {
  session_.reset();
  io_.reset();
  if (stream_) stream_->close();
  stream_.reset();
}

client_session::client_session(client_session&&) noexcept = default;

client_session& client_session::operator=(client_session&& other) noexcept {
  if (this != &other) {
    reset();
    stream_ = std::move(other.stream_);
    io_ = std::move(other.io_);
    session_ = std::move(other.session_);
  }
  return *this;
}

client_session::~client_session() { reset(); }

client_session connect(std::string_view text, const connect_options& o) {
  url u = parse_ws_url(text);
  const std::string peer = u.authority();
  deadline d = after(o.connect_timeout);

  std::array<unsigned char, 16> nonce;
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1)
    failed(std::make_error_code(std::errc::io_error), "no random bytes for the WebSocket key (OpenSSL RAND_bytes failed)");
  std::string key = base64_encode({reinterpret_cast<const char*>(nonce.data()), nonce.size()});

  std::string head = "GET " + u.target + " HTTP/1.1\r\n";
  h1::append_field(head, "Host", peer);
  head += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
  h1::append_field(head, "Sec-WebSocket-Key", key);
  if (!o.protocols.empty()) {
    std::string offered;
    for (const auto& p : o.protocols) {
      if (p.empty() || !std::all_of(p.begin(), p.end(), http::detail::is_token_char))
        throw std::invalid_argument("ws::connect: subprotocol '" + p + "' is not a token");
      offered += (offered.empty() ? "" : ", ") + p;
    }
    h1::append_field(head, "Sec-WebSocket-Protocol", offered);
  }
  if (o.permessage_deflate) h1::append_field(head, "Sec-WebSocket-Extensions", deflate_offer);
  for (const auto& [name, value] : o.headers) {
    validate_field(name, value);
    h1::append_field(head, name, value);
  }
  head += "\r\n";

  auto stream = open_stream(u, o, d, peer);
  auto io = std::make_unique<net::buffered_stream>(*stream, net::buffered_stream_config{.max_input = o.max_head_size + 4096});
  if (!io->write(head, d) || !io->flush(d)) failed(std::make_error_code(std::errc::broken_pipe), "sending the WebSocket handshake to " + peer + " failed");

  h1::response_parser parser({.max_head_size = o.max_head_size});
  parser.reset(h1::request_kind::normal);
  std::size_t head_size = 0;
  for (;;) {
    auto r = parser.parse(io->view());
    if (!r) failed(r.error(), "invalid handshake answer from " + peer + ": " + r.error().message());
    if (*r != 0) {
      head_size = *r;
      break;
    }
    if (auto f = io->fill(d); !f) {
      auto ec = f.error();
      failed(ec, ec == dusty::errc::timed_out ? "timeout waiting for the WebSocket handshake answer from " + peer
                                              : "connection to " + peer + " ended during the WebSocket handshake");
    }
  }
  const auto& res = parser.head();
  auto bad = [&](const std::string& why) {
    failed(make_error_code(errc::invalid_response), "WebSocket handshake with " + peer + " refused: " + why);
  };
  if (res.status != 101) {
    std::string why = "status " + std::to_string(res.status);
    if (res.status >= 300 && res.status < 400)
      why += " (a redirect to " + std::string(res.header("Location").value_or("?")) + ", not followed)";
    bad(why);
  }
  if (!http::detail::iequals(res.header("Upgrade").value_or(""), "websocket")) bad("no Upgrade: websocket");
  if (!lists_token(res.header("Connection").value_or(""), "upgrade")) bad("no Connection: upgrade");
  if (res.header("Sec-WebSocket-Accept").value_or("") != accept_key(key)) bad("wrong Sec-WebSocket-Accept");
  std::optional<deflate_params> deflate;
  if (auto ext = res.header("Sec-WebSocket-Extensions")) {
    if (!o.permessage_deflate) bad("an extension the client did not offer");
    auto answer = accept_deflate_answer(*ext);
    if (!answer.params) bad(answer.error);
    deflate = answer.params;
  }
  std::string protocol(res.header("Sec-WebSocket-Protocol").value_or(""));
  if (!protocol.empty() && std::find(o.protocols.begin(), o.protocols.end(), protocol) == o.protocols.end())
    bad("subprotocol '" + protocol + "' was not offered");
  io->consume(head_size);  // what follows the head is the server's first frames

  client_session out;
  out.session_ = std::make_unique<session>(*io, o.limits, o.write_timeout, std::move(protocol), deflate, role::client);
  out.io_ = std::move(io);
  out.stream_ = std::move(stream);
  return out;
}

}  // namespace dusty::http::ws
