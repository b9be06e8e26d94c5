#include <dusty/http/middleware/compress.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace dusty::http {
namespace {

struct policy {
  std::vector<content_coding> codings;
  int level = 6;
  std::size_t min_size = 0;
  std::vector<std::string> types;  // lower-case
  bool streams = true;
  bool events = false;

  bool type_matches(std::string_view media) const noexcept {
    for (const auto& t : types) {
      if (t.ends_with("/*")) {
        std::string_view prefix = std::string_view(t).substr(0, t.size() - 1);  // "text/"
        if (media.size() > prefix.size() && detail::iequals(media.substr(0, prefix.size()), prefix)) return true;
      } else if (detail::iequals(media, t)) {
        return true;
      }
    }
    return false;
  }
};

// "text/html; charset=utf-8" -> "text/html".
std::string_view media_type(std::string_view content_type) noexcept {
  return detail::trim_ows(content_type.substr(0, content_type.find(';')));
}

bool is_event_stream(const response& res) noexcept {
  return detail::iequals(media_type(res.header("content-type").value_or("")), "text/event-stream");
}

// Whether the response's kind allows compressing it at all (see compress.hpp).
bool eligible(const policy& p, const response& res) noexcept {
  unsigned s = res.status;
  if (s < 200 || s == 204 || s == 206 || s == 304) return false;
  if (res.header("content-encoding") || res.header("content-range")) return false;
  auto type = res.header("content-type");
  return type && p.type_matches(media_type(*type));
}

void add_vary(response& res) {
  for (const auto& f : res.headers()) {
    if (!detail::iequals(f.name, "vary")) continue;
    for (std::string_view rest = f.value; !rest.empty();) {
      auto comma = rest.find(',');
      auto token = detail::trim_ows(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (token == "*" || detail::iequals(token, "accept-encoding")) return;
    }
  }
  res.header("Vary", "Accept-Encoding");
}

// The coded bytes are another representation: a strong validator of the identity bytes
// would be wrong for them (RFC 9110 section 8.8.1), a weak one still is not.
void mark_encoded(response& res, content_coding coding) {
  res.header("Content-Encoding", to_string(coding));
  auto etag = res.header("etag");
  if (etag && !etag->starts_with("W/")) {
    std::string weak = "W/" + std::string(*etag);
    res.remove_header("etag");
    res.header("ETag", weak);
  }
}

content_coding choose(const policy& p, const request& req) noexcept {
  return negotiate_content_coding(req.header("accept-encoding"), p.codings);
}

// Interposed on the response while the handler runs: decides at the head of a streamed
// response whether to compress it, then compresses each piece and sync-flushes at each
// flush, so that every piece the handler pushed is decodable by the client at once.
class compressing_sink final : public detail::response_sink {
 public:
  compressing_sink(const policy& p, const request& req, response& res) noexcept
      : policy_(p), req_(req), res_(res), head_request_(req.method() == method::head) {
    inner_ = &res_.interpose_sink(*this);
  }
  ~compressing_sink() override { res_.interpose_sink(*inner_); }
  compressing_sink(const compressing_sink&) = delete;
  compressing_sink& operator=(const compressing_sink&) = delete;

  bool active() const noexcept { return z_.has_value(); }

  void send_head(const response& res) override {
    if (eligible(policy_, res_) && (policy_.events || !is_event_stream(res_))) {
      add_vary(res_);
      content_coding coding = choose(policy_, req_);
      if (coding != content_coding::identity) {
        z_.emplace(coding, policy_.level);
        mark_encoded(res_, coding);
      }
    }
    inner_->send_head(res);
  }

  void send_piece(std::string_view data) override {
    if (!z_) return inner_->send_piece(data);
    if (head_request_) return;  // no body goes out for HEAD: spare the compression
    z_->write(data, out_);
    // Bound what waits here between flushes (a writer() may send a lot before one).
    if (out_.size() >= 64 * 1024) forward();
  }

  void flush() override {
    if (z_ && !head_request_) {
      z_->flush(out_);
      forward();
    }
    inner_->flush();
  }

  /// The end of the compressed stream, after the handler returned.
  void finish() {
    if (!z_ || head_request_) return;
    z_->finish(out_);
    forward();
  }

 private:
  void forward() {
    if (!out_.empty()) inner_->send_piece(out_);
    out_.clear();
  }

  const policy& policy_;
  const request& req_;
  response& res_;
  detail::response_sink* inner_ = nullptr;
  bool head_request_;
  std::optional<compressor> z_;
  std::string out_;
};

void compress_buffered(const policy& p, const request& req, response& res) {
  // A file body goes out from the page cache as it is; precompressed files are
  // http::static_files' business.
  if (!eligible(p, res) || (!res.used_writer() && res.body.file())) return;
  add_vary(res);
  content_coding coding = choose(p, req);
  if (coding == content_coding::identity) return;
  std::string_view body = res.used_writer() ? res.writer_body() : res.body.view();
  if (body.size() < p.min_size || body.empty()) return;
  compressor z(coding, p.level);
  std::string out;
  out.reserve(body.size() / 4 + 64);
  z.write(body, out);
  z.finish(out);
  if (out.size() >= body.size()) return;  // incompressible: the identity bytes are smaller
  res.clear_body();
  res.body = std::move(out);
  mark_encoded(res, coding);
}

}  // namespace

middleware compress(compress_config config) {
  if (config.level < 1 || config.level > 9)
    throw std::invalid_argument("compress: level must be 1 to 9, not " + std::to_string(config.level));
  auto p = std::make_shared<policy>();
  for (auto c : config.codings)
    if (c != content_coding::identity && std::find(p->codings.begin(), p->codings.end(), c) == p->codings.end())
      p->codings.push_back(c);
  for (const auto& t : config.types) {
    auto slash = t.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == t.size() ||
        !std::all_of(t.begin(), t.end(), [](char c) { return detail::is_token_char(c) || c == '/'; }))
      throw std::invalid_argument("compress: invalid media type '" + t + "'");
    std::string lower;
    for (char c : t) lower += detail::ascii_lower(c);
    p->types.push_back(std::move(lower));
  }
  p->level = config.level;
  p->min_size = config.min_size;
  p->streams = config.streams;
  p->events = config.events;

  return [p = std::shared_ptr<const policy>(std::move(p))](request& req, response& res, const next& next) {
    if (res.head_sent() || p->codings.empty()) return next();
    if (!p->streams) {
      next();
      if (!res.head_sent()) compress_buffered(*p, req, res);
      return;
    }
    compressing_sink sink(*p, req, res);  // puts the server's sink back when it goes
    next();
    if (res.streaming()) {
      if (sink.active()) {
        // What writer() still holds would go to the server's sink, uncompressed.
        if (res.used_writer() && !res.writer_body().empty()) res.writer().flush();
        sink.finish();
      }
      return;
    }
    if (!res.head_sent()) compress_buffered(*p, req, res);
  };
}

}  // namespace dusty::http
