#include <dusty/http/h1/client_connection.hpp>

#include <dusty/http/detail/ascii.hpp>
#include <dusty/http/fields.hpp>
#include <dusty/http/h1/serializer.hpp>

#include <dusty/core/error.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>

namespace dusty::http {
namespace {

std::unexpected<std::error_code> fail(std::error_code ec) { return std::unexpected(ec); }

// A request-target: visible ASCII only (the URL layer has percent-encoded the rest).
bool valid_target(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

// Marks the connection broken when a call unwinds (cancellation): its framing is lost.
class break_on_unwind {
 public:
  explicit break_on_unwind(bool& broken) noexcept : broken_(broken), count_(std::uncaught_exceptions()) {}
  ~break_on_unwind() {
    if (std::uncaught_exceptions() > count_) broken_ = true;
  }
  break_on_unwind(const break_on_unwind&) = delete;
  break_on_unwind& operator=(const break_on_unwind&) = delete;

 private:
  bool& broken_;
  int count_;
};

net::buffered_stream_config stream_config(const client_connection_config& c) {
  // Room for a whole head at the limit plus what may follow it in the same read.
  return {.max_input = std::max<std::size_t>(64 * 1024, c.max_head_size + 16 * 1024)};
}

}  // namespace

result<client_connection> client_connection::connect(const net::socket_address& to, deadline d,
                                                     const client_connection_config& config) {
  auto c = net::connect(to, d);
  if (!c) return fail(c.error());
  if (to.is_ip()) (void)c->set_nodelay(true);
  return client_connection(std::move(*c), config);
}

client_connection::client_connection(net::connection conn, const client_connection_config& config)
    : client_connection(std::make_unique<net::connection>(std::move(conn)), config) {}

client_connection::client_connection(std::unique_ptr<net::stream> stream, const client_connection_config& config)
    : config_(config),
      stream_(std::move(stream)),
      io_(*stream_, stream_config(config_)),
      parser_({.max_head_size = config_.max_head_size, .max_headers = config_.max_headers}),
      kinds_(8) {}

client_connection::client_connection(client_connection&&) noexcept = default;
client_connection& client_connection::operator=(client_connection&&) noexcept = default;
client_connection::~client_connection() = default;

void client_connection::close() noexcept {
  if (stream_ && !closed_) stream_->close();
  closed_ = broken_ = true;
}

bool client_connection::peer_closed() const noexcept {
  return closed_ || io_.data().size() > pending_consume_ || stream_->peer_closed();
}

// ---- writing ----

void client_connection::push_kind(request_kind k) {
  if (kinds_count_ == kinds_.size()) {
    std::vector<request_kind> bigger(kinds_.size() * 2);
    for (std::size_t i = 0; i < kinds_count_; ++i) bigger[i] = kinds_[(kinds_head_ + i) & (kinds_.size() - 1)];
    kinds_ = std::move(bigger);
    kinds_head_ = 0;
  }
  kinds_[(kinds_head_ + kinds_count_) & (kinds_.size() - 1)] = k;
  ++kinds_count_;
}

request_kind client_connection::pop_kind() noexcept {
  if (kinds_count_ == 0) return request_kind::normal;
  auto k = kinds_[kinds_head_];
  kinds_head_ = (kinds_head_ + 1) & (kinds_.size() - 1);
  --kinds_count_;
  return k;
}

result<void> client_connection::put(std::string_view s, deadline d) {
  if (broken_) return fail(make_error_code(dusty::errc::closed));
  break_on_unwind guard(broken_);
  auto r = io_.write(s, d);
  if (!r) broken_ = true;
  return r;
}

result<void> client_connection::write_raw(std::string_view request, request_kind kind, deadline d) {
  push_kind(kind);
  return put(request, d);
}

result<void> client_connection::write_head(std::string_view method, std::string_view target, deadline d) {
  if (!detail::is_token(method) || !valid_target(target)) return fail(make_error_code(errc::invalid_header));
  push_kind(method == "HEAD" ? request_kind::head : request_kind::normal);
  if (auto r = put(method, d); !r) return r;
  if (auto r = put(" ", d); !r) return r;
  if (auto r = put(target, d); !r) return r;
  return put(" HTTP/1.1\r\n", d);
}

result<void> client_connection::write_field(std::string_view name, std::string_view value, deadline d) {
  if (!is_valid_field_name(name) || !is_valid_field_value(value)) return fail(make_error_code(errc::invalid_header));
  if (auto r = put(name, d); !r) return r;
  if (auto r = put(": ", d); !r) return r;
  if (auto r = put(value, d); !r) return r;
  return put("\r\n", d);
}

result<void> client_connection::end_head(deadline d) { return put("\r\n", d); }

result<void> client_connection::write_body(std::string_view data, deadline d) {
  if (data.empty()) return {};
  return put(data, d);
}

result<void> client_connection::write_chunk(std::string_view data, deadline d) {
  if (data.empty()) return {};
  if (auto r = put(h1::chunk_header(data.size()).view(), d); !r) return r;
  if (auto r = put(data, d); !r) return r;
  return put(h1::chunk_end, d);
}

result<void> client_connection::end_chunks(deadline d) { return put(h1::last_chunk, d); }

result<void> client_connection::flush(deadline d) {
  if (broken_) return fail(make_error_code(dusty::errc::closed));
  if (io_.pending_output() == 0) return {};
  break_on_unwind guard(broken_);
  auto r = io_.flush(d);
  if (!r) broken_ = true;
  return r;
}

result<void> client_connection::write_request(std::string_view method, std::string_view target, std::string_view host,
                                              std::span<const header_field> fields, std::string_view body, deadline d) {
  if (!detail::is_token(method) || !valid_target(target) || !is_valid_field_value(host)) {
    return fail(make_error_code(errc::invalid_header));
  }
  for (const auto& f : fields) {
    if (!is_valid_field_name(f.name) || !is_valid_field_value(f.value)) return fail(make_error_code(errc::invalid_header));
  }
  if (auto r = write_head(method, target, d); !r) return r;
  if (auto r = write_field("Host", host, d); !r) return r;
  for (const auto& f : fields) {
    if (auto r = write_field(f.name, f.value, d); !r) return r;
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    char len[24];
    auto end = std::to_chars(len, len + sizeof len, body.size()).ptr;
    if (auto r = write_field("Content-Length", {len, static_cast<std::size_t>(end - len)}, d); !r) return r;
  }
  if (auto r = end_head(d); !r) return r;
  return write_body(body, d);
}

// ---- reading ----

void client_connection::settle() noexcept {
  if (pending_consume_ != 0) {
    io_.consume(pending_consume_);
    pending_consume_ = 0;
  }
}

result<void> client_connection::fill(deadline d) {
  if (closed_) return fail(make_error_code(dusty::errc::closed));
  break_on_unwind guard(broken_);
  if (config_.read_timeout.count() > 0) d = std::min(d, after(config_.read_timeout));
  auto r = io_.fill(d);
  if (!r) {
    broken_ = true;
    return fail(r.error());
  }
  return {};
}

result<void> client_connection::finish_body() noexcept {
  state_ = state::idle;
  pop_kind();
  return {};
}

result<void> client_connection::read_head(deadline d) {
  if (state_ != state::idle) {
    if (auto r = skip_body(d); !r) return r;
  }
  settle();
  if (broken_) return fail(make_error_code(dusty::errc::closed));  // an earlier error lost the framing
  if (auto r = flush(d); !r) return r;
  const request_kind kind = kinds_count_ != 0 ? kinds_[kinds_head_] : request_kind::normal;
  parser_.reset(kind);
  started_ = !io_.view().empty();
  std::size_t size = 0;
  for (;;) {
    auto r = parser_.parse(io_.view());
    if (!r) {
      broken_ = true;
      return fail(r.error());
    }
    if (*r == 0) {
      if (auto f = fill(d); !f) {
        if (f.error() == dusty::errc::eof && started_) return fail(make_error_code(errc::invalid_response));
        return f;
      }
      started_ = true;
      continue;
    }
    if (parser_.head().informational()) {
      if (parser_.head().status == 101) {  // we never ask to switch protocols
        broken_ = true;
        return fail(make_error_code(errc::invalid_response));
      }
      io_.consume(*r);
      parser_.reset(kind);
      continue;
    }
    size = *r;
    break;
  }
  const response_head& h = parser_.head();
  pending_consume_ = size;  // the head stays readable until the next call
  keep_alive_ = h.keep_alive;
  body_read_ = 0;
  switch (h.framing) {
    case body_framing::none: finish_body(); break;
    case body_framing::until_close: state_ = state::until_close; break;
    case body_framing::content_length:
    case body_framing::chunked: {
      auto dec = h1::body_decoder::create(h.framing, h.content_length, {.max_body_size = UINT64_MAX});
      if (!dec) {
        broken_ = true;
        return fail(make_error_code(errc::invalid_response));
      }
      decoder_ = *dec;
      if (decoder_.done()) {
        finish_body();
      } else {
        state_ = state::body;
      }
      break;
    }
  }
  return {};
}

result<std::string_view> client_connection::read_body_some(deadline d) {
  settle();
  if (broken_ && state_ != state::idle) return fail(make_error_code(dusty::errc::closed));
  for (;;) {
    switch (state_) {
      case state::idle: return std::string_view{};
      case state::until_close: {
        if (io_.view().empty()) {
          auto f = fill(d);
          if (!f && f.error() == dusty::errc::eof) {
            keep_alive_ = false;
            finish_body();
            return std::string_view{};
          }
          if (!f) return fail(f.error());
        }
        auto v = io_.view();
        pending_consume_ = v.size();
        body_read_ += v.size();
        return v;
      }
      case state::body: {
        if (io_.view().empty()) {
          if (auto f = fill(d); !f) return fail(f.error());
        }
        auto piece = decoder_.decode(io_.view());
        if (!piece) {
          broken_ = true;
          return fail(make_error_code(errc::invalid_response));
        }
        if (decoder_.done()) finish_body();
        if (piece->data.empty()) {
          io_.consume(piece->consumed);
          continue;
        }
        pending_consume_ = piece->consumed;
        body_read_ += piece->data.size();
        return piece->data;
      }
    }
  }
}

result<std::size_t> client_connection::read_body(std::span<char> buf, deadline d) {
  if (buf.empty()) return std::size_t{0};
  settle();
  if (broken_ && state_ != state::idle) return fail(make_error_code(dusty::errc::closed));
  for (;;) {
    if (state_ == state::idle) return std::size_t{0};
    if (io_.view().empty()) {
      if (auto f = fill(d); !f) {
        if (state_ == state::until_close && f.error() == dusty::errc::eof) {
          keep_alive_ = false;
          finish_body();
          return std::size_t{0};
        }
        return fail(f.error());
      }
    }
    std::string_view in = io_.view();
    if (state_ == state::until_close) {
      auto n = std::min(buf.size(), in.size());
      std::memcpy(buf.data(), in.data(), n);
      io_.consume(n);
      body_read_ += n;
      return n;
    }
    // The decoder works byte by byte, so a cut input only delays the rest to the next call.
    auto piece = decoder_.decode(in.substr(0, std::min(in.size(), buf.size())));
    if (!piece) {
      broken_ = true;
      return fail(make_error_code(errc::invalid_response));
    }
    if (!piece->data.empty()) std::memcpy(buf.data(), piece->data.data(), piece->data.size());
    io_.consume(piece->consumed);
    body_read_ += piece->data.size();
    if (decoder_.done()) finish_body();
    if (!piece->data.empty()) return piece->data.size();
  }
}

result<void> client_connection::skip_body(deadline d, std::uint64_t max) {
  settle();
  if (state_ == state::body && parser_.kind() == request_kind::normal &&
      parser_.head().framing == body_framing::content_length &&
      parser_.head().content_length - body_read_ > max) {
    broken_ = true;
    return fail(make_error_code(errc::response_too_large));
  }
  std::uint64_t skipped = 0;
  while (state_ != state::idle) {
    auto piece = read_body_some(d);
    if (!piece) return fail(piece.error());
    skipped += piece->size();
    if (skipped > max) {
      broken_ = true;
      return fail(make_error_code(errc::response_too_large));
    }
  }
  settle();
  return {};
}

}  // namespace dusty::http
