#include <dusty/http/testing.hpp>

#include <dusty/core/error.hpp>
#include <dusty/http/detail/ascii.hpp>
#include <dusty/http/codec/percent.hpp>
#include <dusty/http/detail/exchange.hpp>
#include <dusty/http/detail/request_access.hpp>
#include <dusty/http/h1/body_decoder.hpp>
#include <dusty/http/h1/serializer.hpp>

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <stdexcept>

namespace dusty::http::testing {
namespace {

using http::detail::iequals;

// Serves the body as a connection does: its wire bytes (Content-Length or chunked
// framing) arrive in segments, one per piece, and the server's own decoder takes them
// apart under max_body_size, so limits and errors are the server's.
class test_body final : public body_source {
 public:
  test_body(const http::h1::request_head& head, std::uint64_t max_body_size, std::vector<std::string> wire)
      : head_(head), max_body_size_(max_body_size), wire_(std::move(wire)) {}

  std::optional<std::uint64_t> length() const noexcept override {
    if (head_.framing == http::h1::body_framing::content_length) return head_.content_length;
    return std::nullopt;
  }

  std::string_view read_some() override {
    if (!started_) {
      started_ = true;
      auto d = http::h1::body_decoder::create(head_, {.max_body_size = max_body_size_});
      if (!d) throw status_error(status_for(d.error()), d.error().message());
      decoder_ = std::move(*d);
    }
    while (!decoder_.done()) {
      if (segment_ == wire_.size()) throw status_error(400, "request body ended early");
      std::string_view in = std::string_view(wire_[segment_]).substr(offset_);
      auto piece = decoder_.decode(in);
      if (!piece) throw status_error(status_for(piece.error()), piece.error().message());
      offset_ += piece->consumed;
      if (offset_ == wire_[segment_].size()) {
        ++segment_;
        offset_ = 0;
      }
      if (!piece->data.empty()) return piece->data;
    }
    return {};
  }

 private:
  const http::h1::request_head& head_;
  std::uint64_t max_body_size_;
  std::vector<std::string> wire_;
  http::h1::body_decoder decoder_;
  bool started_ = false;
  std::size_t segment_ = 0;
  std::size_t offset_ = 0;
};

// Records what a connection would send. The head is copied when it is sent, since a
// handler may go on changing the response afterwards without effect on the wire.
class capture_sink final : public http::detail::response_sink {
 public:
  explicit capture_sink(std::optional<std::size_t> disconnect_after) : disconnect_after_(disconnect_after) {}

  void send_head(const response& res) override {
    head_sent_ = true;
    status_ = res.status;
    for (const auto& f : res.headers()) headers_.push_back({std::string(f.name), std::string(f.value)});
  }
  void send_piece(std::string_view data) override {
    if (disconnect_after_ && pieces_.size() >= *disconnect_after_) {
      gone_ = true;
      throw http::client_gone("the test client disconnected");
    }
    if (!data.empty()) pieces_.emplace_back(data);
  }
  void flush() override {
    if (gone_) throw http::client_gone("the test client disconnected");
  }

  bool gone() const noexcept { return gone_; }
  bool head_sent() const noexcept { return head_sent_; }
  bool streaming() const noexcept { return head_sent_; }  // only a streamed head is sent early
  unsigned status() const noexcept { return status_; }
  std::vector<field>& headers() noexcept { return headers_; }
  std::vector<std::string>& pieces() noexcept { return pieces_; }

 private:
  std::optional<std::size_t> disconnect_after_;
  bool gone_ = false;
  bool head_sent_ = false;
  unsigned status_ = 0;
  std::vector<field> headers_;
  std::vector<std::string> pieces_;
};

// WHATWG HTML "Parsing an event stream": lines end in CRLF, LF or CR; a blank line ends
// an event; ':' starts a comment; one space after the field's colon is dropped.
void parse_event_stream(std::string_view s, std::vector<received_event>* events, std::vector<std::string>* comments) {
  received_event current;
  bool has_fields = false;
  std::size_t i = 0;
  while (i < s.size()) {
    auto end = s.find_first_of("\r\n", i);
    if (end == std::string_view::npos) break;  // an unterminated last line is not processed
    std::string_view line = s.substr(i, end - i);
    i = end + 1;
    if (s[end] == '\r' && i < s.size() && s[i] == '\n') ++i;

    if (line.empty()) {
      if (has_fields && events) {
        if (!current.data.empty() && current.data.back() == '\n') current.data.pop_back();
        events->push_back(std::move(current));
      }
      current = {};
      has_fields = false;
      continue;
    }
    auto colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (name.empty()) {
      if (comments) comments->emplace_back(value);
    } else if (name == "event") {
      current.type = value;
      has_fields = true;
    } else if (name == "data") {
      current.data.append(value).push_back('\n');
      has_fields = true;
    } else if (name == "id") {
      if (value.find('\0') == std::string_view::npos) current.id = value;
      has_fields = true;
    } else if (name == "retry") {
      std::uint64_t ms = 0;
      auto r = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (!value.empty() && r.ec == std::errc() && r.ptr == value.data() + value.size())
        current.retry = std::chrono::milliseconds(ms);
      has_fields = true;
    }
  }
}

// What a file body sends, read into memory (the capture holds bytes, not descriptors).
// A file that ends early gives what it has: the test sees the short body.
std::string read_file_range(const file_range& file) {
  std::string out(file.length, '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::pread(file.file->get(), out.data() + got, out.size() - got, static_cast<off_t>(file.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

}  // namespace

// ---- captured_response ----

std::optional<std::string_view> captured_response::header(std::string_view name) const noexcept {
  for (const auto& f : headers_)
    if (iequals(f.name, name)) return f.value;
  return std::nullopt;
}

std::vector<std::string_view> captured_response::header_values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& f : headers_)
    if (iequals(f.name, name)) out.push_back(f.value);
  return out;
}

std::vector<received_event> captured_response::events() const {
  std::vector<received_event> out;
  parse_event_stream(body_, &out, nullptr);
  return out;
}

std::vector<std::string> captured_response::comments() const {
  std::vector<std::string> out;
  parse_event_stream(body_, nullptr, &out);
  return out;
}

std::ostream& operator<<(std::ostream& os, const captured_response& r) {
  constexpr std::size_t shown = 2048;
  os << "HTTP " << r.status_ << (r.streamed_ ? " (streamed)" : "") << (r.aborted_ ? " (aborted)" : "")
     << (r.client_gone_ ? " (client gone)" : "") << '\n';
  for (const auto& f : r.headers_) os << f.name << ": " << f.value << '\n';
  os << '\n' << std::string_view(r.body_).substr(0, shown);
  if (r.body_.size() > shown) os << "... (" << r.body_.size() << " bytes)";
  return os;
}

// ---- request_builder ----

request_builder& request_builder::method(http::method m) {
  if (m == http::method::other) throw std::invalid_argument("request_builder: use method(token) for other methods");
  method_ = m;
  method_token_ = to_string(m);
  return *this;
}

request_builder& request_builder::method(std::string_view token) {
  if (!http::detail::is_token(token)) throw std::invalid_argument("request_builder: invalid method token '" + std::string(token) + "'");
  method_ = method_from_string(token);
  method_token_ = token;
  return *this;
}

request_builder& request_builder::path(std::string_view target) {
  bool valid = target == "*" || (!target.empty() && target.front() == '/');
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) valid = false;
  if (!valid) throw std::invalid_argument("request_builder: invalid target '" + std::string(target) + "'");
  auto q = target.find('?');
  path_ = target.substr(0, q);
  query_ = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  return *this;
}

request_builder& request_builder::query(std::string_view key, std::string_view value) {
  if (!query_.empty()) query_ += '&';
  percent_encode(query_, key);
  query_ += '=';
  percent_encode(query_, value);
  return *this;
}

request_builder& request_builder::param(std::string_view name, std::string_view value) {
  params_.push_back({std::string(name), std::string(value)});
  return *this;
}

request_builder& request_builder::glob(std::string_view rest) {
  glob_ = rest;
  return *this;
}

request_builder& request_builder::header(std::string_view name, std::string_view value) {
  try {
    validate_field(name, value);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("request_builder: ") + e.what());
  }
  if (iequals(name, "content-length") || iequals(name, "transfer-encoding"))
    throw std::invalid_argument("request_builder: " + std::string(name) + " follows from body() and chunked()");
  headers_.push_back({std::string(name), std::string(value)});
  return *this;
}

request_builder& request_builder::body(std::string_view data) {
  body_.assign(1, std::string(data));
  has_body_ = true;
  return *this;
}

request_builder& request_builder::body_pieces(std::vector<std::string> pieces) {
  body_ = std::move(pieces);
  has_body_ = true;
  return *this;
}

request_builder& request_builder::json(const nlohmann::json& value) {
  std::erase_if(headers_, [](const field& f) { return iequals(f.name, "content-type"); });
  headers_.push_back({"Content-Type", "application/json"});
  return body(value.dump());
}

request_builder& request_builder::chunked(bool on) {
  chunked_ = on;
  return *this;
}

request_builder& request_builder::version(unsigned v) {
  if (v != 10 && v != 11) throw std::invalid_argument("request_builder: version must be 10 or 11");
  version_ = v;
  return *this;
}

request_builder& request_builder::remote_address(const net::socket_address& address) {
  remote_ = address;
  return *this;
}

request_builder& request_builder::disconnect_after(std::size_t pieces) {
  disconnect_after_ = pieces;
  return *this;
}

// Everything one call's request and response point into. Built in place and never moved.
struct request_builder::exchange {
  exchange(const request_builder& b, const server_config& config) : sink(b.disconnect_after_) {
    if (b.chunked_ && b.version_ == 10)
      throw std::invalid_argument("request_builder: chunked bodies need HTTP/1.1");

    target = b.path_;
    if (!b.query_.empty()) target.append("?").append(b.query_);
    head.method = b.method_;
    head.method_token = b.method_token_;
    head.target = target;
    head.path = std::string_view(target).substr(0, b.path_.size());
    if (!b.query_.empty()) head.query = std::string_view(target).substr(b.path_.size() + 1);
    head.set_version(b.version_);

    for (const auto& f : b.headers_) fields.push_back({f.name, f.value});
    std::vector<std::string> wire;
    std::uint64_t size = 0;
    for (const auto& p : b.body_) size += p.size();
    if (b.chunked_) {
      fields.push_back({"Transfer-Encoding", "chunked"});
      head.framing = http::h1::body_framing::chunked;
      for (const auto& p : b.body_) {
        if (p.empty()) continue;
        std::string chunk(http::h1::chunk_header(p.size()).view());
        chunk.append(p).append(http::h1::chunk_end);
        wire.push_back(std::move(chunk));
      }
      wire.emplace_back(http::h1::last_chunk);
    } else if (b.has_body_) {
      length_value = std::to_string(size);
      fields.push_back({"Content-Length", length_value});
      if (size > 0) {
        head.framing = http::h1::body_framing::content_length;
        head.content_length = size;
        for (const auto& p : b.body_)
          if (!p.empty()) wire.push_back(p);
      }
    }
    head.headers = fields;

    for (const auto& p : b.params_) params.push_back({p.name, p.value});
    body.emplace(head, config.limits.max_body_size, std::move(wire));
  }

  std::string target;
  std::string length_value;
  std::vector<header_field> fields;
  http::h1::request_head head;
  std::vector<route_param> params;
  dusty::arena arena;
  std::optional<test_body> body;
  capture_sink sink;
};

captured_response request_builder::run(const server_config& config, void* app, const handler* direct,
                                       const http::detail::dispatcher* routes) const {
  exchange x(*this, config);
  request req(x.head, x.arena, &*x.body, config.limits.max_query_params);
  http::detail::request_access::set_app(req, app);
  if (remote_) http::detail::request_access::set_remote_address(req, *remote_);
  response res(x.arena, x.sink, config.writer_buffer);
  captured_response out;

  if (direct) {
    http::detail::request_access::set_route(req, x.params, glob_);
    try {
      (*direct)(req, res);
    } catch (const http::client_gone&) {
      if (!x.sink.gone()) throw;
      out.client_gone_ = true;
    }
  } else {
    auto r = http::detail::run_exchange(*routes, config, req, res);
    out.exception_ = r.error;
    out.client_gone_ = r.end == http::detail::exchange_end::client_gone;
    out.aborted_ = r.end == http::detail::exchange_end::aborted;
  }

  if (x.sink.head_sent()) {
    out.streamed_ = x.sink.streaming();
    out.status_ = x.sink.status();
    out.headers_ = std::move(x.sink.headers());
    out.pieces_ = std::move(x.sink.pieces());
    // A writer's last partial buffer goes out after the handler returns.
    bool completed = !out.aborted_ && !out.client_gone_;
    if (completed && res.used_writer() && !res.writer_body().empty()) out.pieces_.emplace_back(res.writer_body());
    for (const auto& p : out.pieces_) out.body_ += p;
  } else {
    out.status_ = res.status;
    for (const auto& f : res.headers()) out.headers_.push_back({std::string(f.name), std::string(f.value)});
    if (const file_range* file = res.used_writer() ? nullptr : res.body.file())
      out.body_ = read_file_range(*file);
    else
      out.body_ = res.used_writer() ? res.writer_body() : res.body.view();
  }
  return out;
}

}  // namespace dusty::http::testing
