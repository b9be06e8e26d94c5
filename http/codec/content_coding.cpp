#include <dusty/http/codec/content_coding.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

namespace dusty::http {

std::optional<content_coding> parse_content_coding(std::string_view token) noexcept {
  if (detail::iequals(token, "gzip") || detail::iequals(token, "x-gzip")) {
    return content_coding::gzip;
  }
  if (detail::iequals(token, "deflate")) {
    return content_coding::deflate;
  }
  if (detail::iequals(token, "identity")) {
    return content_coding::identity;
  }
  return std::nullopt;
}

std::string_view to_string(content_coding c) noexcept {
  switch (c) {
    case content_coding::gzip: return "gzip";
    case content_coding::deflate: return "deflate";
    case content_coding::identity: break;
  }
  return "identity";
}

namespace {

// qvalue of RFC 9110 section 12.4.2 in thousandths: "0", "0.5", "1", "1.000". -1 when
// malformed, so that the element is ignored.
int parse_qvalue(std::string_view s) noexcept {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) {
    return -1;
  }
  int q = (s[0] - '0') * 1000;
  if (s.size() == 1) {
    return q;
  }
  if (s[1] != '.' || s.size() > 5) {
    return -1;
  }
  int scale = 100;
  for (std::size_t i = 2; i < s.size(); ++i, scale /= 10) {
    if (s[i] < '0' || s[i] > '9') {
      return -1;
    }
    q += (s[i] - '0') * scale;
  }
  return q > 1000 ? -1 : q;
}

// Calls fn(token, q) for each well-formed element of an Accept-Encoding value, q in
// thousandths. Malformed elements are skipped.
template <class Fn>
void for_each_accepted(std::string_view value, Fn fn) noexcept {
  while (!value.empty()) {
    auto comma = value.find(',');
    std::string_view element = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);

    auto semi = element.find(';');
    std::string_view token = detail::trim_ows(element.substr(0, semi));
    if (token.empty() || !std::all_of(token.begin(), token.end(), detail::is_token_char)) {
      continue;
    }
    int q = 1000;
    bool bad = false;
    while (semi != std::string_view::npos) {
      element.remove_prefix(semi + 1);
      semi = element.find(';');
      std::string_view param = detail::trim_ows(element.substr(0, semi));
      auto eq = param.find('=');
      if (eq == std::string_view::npos) {
        bad = !param.empty();
        break;
      }
      std::string_view name = detail::trim_ows(param.substr(0, eq));
      if (detail::iequals(name, "q")) {
        q = parse_qvalue(detail::trim_ows(param.substr(eq + 1)));
        if (q < 0) {
          bad = true;
          break;
        }
      }
    }
    if (!bad) {
      fn(token, q);
    }
  }
}

struct accept_weights {
  // Explicit q (thousandths) per coding, -1 when not listed; `star` for "*".
  int gzip = -1, deflate = -1, identity = -1, star = -1;
};

accept_weights parse_accept_encoding(std::string_view value) noexcept {
  accept_weights w;
  for_each_accepted(value, [&](std::string_view token, int q) {
    int* slot = nullptr;
    if (token == "*") {
      slot = &w.star;
    } else if (auto c = parse_content_coding(token)) {
      slot = *c == content_coding::gzip ? &w.gzip : *c == content_coding::deflate ? &w.deflate : &w.identity;
    }
    // A coding listed twice keeps its highest weight: a lenient reading of a sender error.
    if (slot != nullptr) {
      *slot = std::max(*slot, q);
    }
  });
  return w;
}

}  // namespace

content_coding negotiate_content_coding(std::optional<std::string_view> accept_encoding,
                                        std::span<const content_coding> offered) noexcept {
  if (!accept_encoding || detail::trim_ows(*accept_encoding).empty()) {
    return content_coding::identity;
  }
  accept_weights w = parse_accept_encoding(*accept_encoding);
  content_coding best = content_coding::identity;
  int best_q = 0;
  for (content_coding c : offered) {
    int q = c == content_coding::gzip ? w.gzip : c == content_coding::deflate ? w.deflate : w.identity;
    if (q < 0) {
      // Not listed: "*" covers it; identity is acceptable unless "*;q=0" excludes it.
      q = w.star >= 0 ? w.star : (c == content_coding::identity ? 1 : 0);
    }
    if (q > best_q) {
      best = c;
      best_q = q;
    }
  }
  // An explicitly preferred identity ("gzip;q=0.5, identity") beats a less wanted coding.
  if (w.identity > best_q) {
    return content_coding::identity;
  }
  return best;
}

int accept_encoding_weight(std::optional<std::string_view> accept_encoding, std::string_view coding) noexcept {
  bool identity = detail::iequals(coding, "identity");
  if (!accept_encoding || detail::trim_ows(*accept_encoding).empty()) {
    return identity ? 1000 : 0;
  }
  int own = -1, star = -1;
  for_each_accepted(*accept_encoding, [&](std::string_view token, int q) {
    if (token == "*") {
      star = std::max(star, q);
    } else if (detail::iequals(token, coding) || (detail::iequals(coding, "gzip") && detail::iequals(token, "x-gzip"))) {
      own = std::max(own, q);
    }
  });
  if (own >= 0) return own;
  if (star >= 0) return star;
  return identity ? 1 : 0;
}

// ---------------------------------------------------------------------------------------

namespace {

constexpr std::size_t out_step = 16 * 1024;

int window_bits(content_coding c) {
  // 15 is zlib's largest window; +16 asks zlib for the gzip wrapper instead of zlib's.
  switch (c) {
    case content_coding::gzip: return 15 + 16;
    case content_coding::deflate: return 15;
    case content_coding::identity: break;
  }
  throw std::invalid_argument("dusty::http: no compressor for the identity coding");
}

}  // namespace

struct compressor::state {
  z_stream z{};
  bool finished = false;

  // Runs deflate with `flush` until zlib needs more input (or, for Z_FINISH, ends).
  void run(int flush, std::string& out) {
    for (;;) {
      std::size_t old = out.size();
      out.resize(old + out_step);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      z.avail_out = static_cast<uInt>(out_step);
      int rc = deflate(&z, flush);
      out.resize(old + (out_step - z.avail_out));
      if (rc == Z_STREAM_END) {
        return;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw std::runtime_error("dusty::http: deflate failed");
      }
      // Space left over means zlib has emitted all it had for this flush mode.
      if (z.avail_out != 0 && z.avail_in == 0) {
        return;
      }
    }
  }
};

compressor::compressor(content_coding coding, int level) : s_(std::make_unique<state>()) {
  level = std::clamp(level, 1, 9);
  if (deflateInit2(&s_->z, level, Z_DEFLATED, window_bits(coding), 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::bad_alloc();
  }
}

compressor::~compressor() {
  if (s_) {
    deflateEnd(&s_->z);
  }
}

compressor::compressor(compressor&&) noexcept = default;

compressor& compressor::operator=(compressor&& other) noexcept {
  if (this != &other) {
    if (s_) {
      deflateEnd(&s_->z);
    }
    s_ = std::move(other.s_);
  }
  return *this;
}

void compressor::write(std::string_view input, std::string& out) {
  if (s_->finished) {
    throw std::logic_error("dusty::http: compressor::write after finish");
  }
  // uInt is 32 bits: feed very large inputs in slices.
  while (!input.empty()) {
    std::size_t n = std::min<std::size_t>(input.size(), 1u << 30);
    s_->z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    s_->z.avail_in = static_cast<uInt>(n);
    s_->run(Z_NO_FLUSH, out);
    input.remove_prefix(n);
  }
}

void compressor::flush(std::string& out) {
  if (s_->finished) {
    return;
  }
  s_->z.next_in = nullptr;
  s_->z.avail_in = 0;
  s_->run(Z_SYNC_FLUSH, out);
}

void compressor::finish(std::string& out) {
  if (s_->finished) {
    return;
  }
  s_->z.next_in = nullptr;
  s_->z.avail_in = 0;
  s_->run(Z_FINISH, out);
  s_->finished = true;
}

// ---------------------------------------------------------------------------------------

struct decompressor::state {
  z_stream z{};
  content_coding coding;
  std::uint64_t max_output;
  std::uint64_t total_out = 0;
  bool format_known = false;  // deflate: zlib wrapper or raw decided
  bool done = false;
  std::error_code error;
  unsigned char first = 0;  // deflate: a lone first byte held until the second arrives
  bool have_first = false;

  result<void> fail(errc e) {
    error = e;
    return std::unexpected(error);
  }

  // RFC 1950 section 2.2: CM = 8, CINFO <= 7, and the 16-bit header is a multiple of 31.
  static bool is_zlib_header(unsigned char cmf, unsigned char flg) noexcept {
    return (cmf & 0x0f) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
  }

  result<void> inflate_some(std::string_view input, std::string& out) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z.avail_in = static_cast<uInt>(input.size());
    for (;;) {
      if (done) {
        if (z.avail_in == 0) {
          return {};
        }
        // gzip allows concatenated members (RFC 1952 section 2.2); anything else after
        // the end is garbage.
        if (coding != content_coding::gzip) {
          return fail(errc::invalid_content_encoding);
        }
        if (inflateReset(&z) != Z_OK) {
          return fail(errc::invalid_content_encoding);
        }
        done = false;
      }
      // Room for one byte beyond the bound, so that exceeding it is seen without
      // producing much more than the bound.
      std::uint64_t room = max_output - total_out;
      std::size_t step = room < out_step ? static_cast<std::size_t>(room) + 1 : out_step;
      std::size_t old = out.size();
      out.resize(old + step);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      z.avail_out = static_cast<uInt>(step);
      int rc = inflate(&z, Z_NO_FLUSH);
      std::size_t produced = step - z.avail_out;
      out.resize(old + produced);
      total_out += produced;
      if (total_out > max_output) {
        return fail(errc::response_too_large);
      }
      if (rc == Z_STREAM_END) {
        done = true;
        continue;
      }
      if (rc == Z_BUF_ERROR || (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0)) {
        return {};  // all input consumed, waiting for more
      }
      if (rc != Z_OK) {
        return fail(errc::invalid_content_encoding);
      }
    }
  }
};

decompressor::decompressor(content_coding coding, std::uint64_t max_output) : s_(std::make_unique<state>()) {
  s_->coding = coding;
  s_->max_output = max_output;
  if (coding == content_coding::identity) {
    throw std::invalid_argument("dusty::http: no decompressor for the identity coding");
  }
  // gzip: 15 + 16 accepts only the gzip wrapper. deflate: the wrapper is decided on the
  // first two bytes (inflateReset2 switches to raw deflate then).
  s_->format_known = coding == content_coding::gzip;
  if (inflateInit2(&s_->z, coding == content_coding::gzip ? 15 + 16 : 15) != Z_OK) {
    throw std::bad_alloc();
  }
}

decompressor::~decompressor() {
  if (s_) {
    inflateEnd(&s_->z);
  }
}

decompressor::decompressor(decompressor&&) noexcept = default;

decompressor& decompressor::operator=(decompressor&& other) noexcept {
  if (this != &other) {
    if (s_) {
      inflateEnd(&s_->z);
    }
    s_ = std::move(other.s_);
  }
  return *this;
}

result<void> decompressor::write(std::string_view input, std::string& out) {
  state& s = *s_;
  if (s.error) {
    return std::unexpected(s.error);
  }
  if (input.empty()) {
    return {};
  }
  if (!s.format_known) {
    if (!s.have_first) {
      s.first = static_cast<unsigned char>(input[0]);
      s.have_first = true;
      input.remove_prefix(1);
      if (input.empty()) {
        return {};
      }
    }
    s.format_known = true;
    if (!state::is_zlib_header(s.first, static_cast<unsigned char>(input[0]))) {
      // Raw deflate (RFC 1951), as some servers send under the name "deflate".
      if (inflateReset2(&s.z, -15) != Z_OK) {
        return s.fail(errc::invalid_content_encoding);
      }
    }
    char first = static_cast<char>(s.first);
    if (auto r = s.inflate_some(std::string_view(&first, 1), out); !r) {
      return r;
    }
  }
  while (!input.empty()) {
    std::size_t n = std::min<std::size_t>(input.size(), 1u << 30);
    if (auto r = s.inflate_some(input.substr(0, n), out); !r) {
      return r;
    }
    input.remove_prefix(n);
  }
  return {};
}

result<void> decompressor::finish() {
  if (s_->error) {
    return std::unexpected(s_->error);
  }
  if (!s_->done) {
    return s_->fail(errc::invalid_content_encoding);
  }
  return {};
}

bool decompressor::done() const noexcept { return s_->done; }

std::uint64_t decompressor::total_out() const noexcept { return s_->total_out; }

}  // namespace dusty::http
