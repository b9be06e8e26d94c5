#include <dusty/http/ws/deflate.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>

namespace dusty::http::ws {
namespace {

using detail::iequals;
using detail::trim_ows;

std::optional<int> window_bits(std::string_view v) noexcept {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty() || n < 8 || n > 15) return std::nullopt;
  return n;
}

enum param : std::size_t {
  server_no_context_takeover,
  client_no_context_takeover,
  server_max_window_bits,
  client_max_window_bits,
};
constexpr std::string_view param_names[] = {"server_no_context_takeover", "client_no_context_takeover",
                                             "server_max_window_bits", "client_max_window_bits"};

// One "permessage-deflate; param[=value]; ..." as written, parsed the same way for a
// client's offer and a server's answer; each side then judges the values.
struct extension {
  bool present[4] = {};
  std::optional<std::string_view> value[4];
  std::string error;  ///< Why it is unusable; empty when it parsed.
};

extension parse_extension(std::string_view text) {
  extension e;
  auto semi = text.find(';');
  auto name = trim_ows(text.substr(0, semi));
  if (!iequals(name, "permessage-deflate")) {
    e.error = "extension '" + std::string(name) + "' was not offered";
    return e;
  }
  while (semi != std::string_view::npos) {
    text.remove_prefix(semi + 1);
    semi = text.find(';');
    auto param = trim_ows(text.substr(0, semi));
    auto eq = param.find('=');
    auto pname = trim_ows(param.substr(0, eq));
    auto known = std::find_if(std::begin(param_names), std::end(param_names),
                              [&](std::string_view n) { return iequals(n, pname); });
    if (known == std::end(param_names)) {
      e.error = "unknown permessage-deflate parameter '" + std::string(pname) + "'";
      return e;
    }
    auto i = static_cast<std::size_t>(known - std::begin(param_names));
    if (e.present[i]) {
      e.error = "repeated permessage-deflate parameter '" + std::string(pname) + "'";
      return e;
    }
    e.present[i] = true;
    if (eq != std::string_view::npos) e.value[i] = trim_ows(param.substr(eq + 1));
    if (i <= client_no_context_takeover && e.value[i]) {
      e.error = std::string(pname) + " with a value";
      return e;
    }
  }
  return e;
}

// A client's offer, as the server takes it.
std::optional<deflate_params> accept_offer(std::string_view offer) {
  auto e = parse_extension(offer);
  if (!e.error.empty()) return std::nullopt;
  deflate_params p;
  if (e.present[server_max_window_bits]) {
    auto v = e.value[server_max_window_bits];
    auto bits = v ? window_bits(*v) : std::nullopt;
    if (!bits || *bits == 8) return std::nullopt;
    p.server_max_window_bits = *bits;
  }
  // A bare client_max_window_bits only says the client could take a smaller window.
  if (auto v = e.value[client_max_window_bits]; v && !window_bits(*v)) return std::nullopt;
  return p;
}

z_stream* z(void* p) noexcept { return static_cast<z_stream*>(p); }

}  // namespace

std::optional<deflate_params> negotiate_deflate(std::span<const header_field> headers) {
  for (const auto& f : headers) {
    if (!iequals(f.name, "Sec-WebSocket-Extensions")) continue;
    std::string_view v = f.value;
    while (!v.empty()) {
      auto comma = v.find(',');
      if (auto p = accept_offer(v.substr(0, comma))) return p;
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return std::nullopt;
}

std::string deflate_response(const deflate_params& p) {
  std::string out = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
  if (p.server_max_window_bits != 15) out += "; server_max_window_bits=" + std::to_string(p.server_max_window_bits);
  return out;
}

deflate_answer accept_deflate_answer(std::string_view value) {
  if (value.find(',') != std::string_view::npos) return {std::nullopt, "more than one extension answered"};
  auto e = parse_extension(value);
  if (!e.error.empty()) return {std::nullopt, std::move(e.error)};
  deflate_params p;
  for (std::size_t i : {server_max_window_bits, client_max_window_bits}) {
    if (!e.present[i]) continue;
    auto bits = e.value[i] ? window_bits(*e.value[i]) : std::nullopt;
    if (!bits) return {std::nullopt, std::string(param_names[i]) + " without a window size of 8 to 15"};
    // Our inflater always has a 15-bit window: any server window fits in it.
    if (i == server_max_window_bits) {
      p.server_max_window_bits = *bits;
    } else {
      if (*bits == 8) return {std::nullopt, "client_max_window_bits=8 (zlib cannot deflate with a 256-byte window)"};
      p.client_max_window_bits = *bits;
    }
  }
  // Asked for in the offer (RFC 7692 section 7.1.1.1: a server accepting the offer includes
  // it); without it the server would keep a context our inflater does not.
  if (!e.present[server_no_context_takeover]) return {std::nullopt, "server_no_context_takeover missing from the answer"};
  return {p, {}};
}

inflater::inflater() : stream_(new z_stream{}) {
  // The client keeps no context either (client_no_context_takeover), but may use any
  // window up to 15 bits: inflate with the largest.
  if (inflateInit2(z(stream_), -15) != Z_OK) {
    delete z(stream_);
    throw std::bad_alloc();
  }
}

inflater::~inflater() {
  inflateEnd(z(stream_));
  delete z(stream_);
}

inflater::result inflater::inflate(std::string_view in, std::string& out, std::size_t limit) {
  // Whether the bytes after a final block come in the same piece or a later one, they are
  // corrupt: the answer may not depend on how the frame was split.
  if (ended_) return in.empty() ? result::ok : result::corrupt;
  auto* s = z(stream_);
  s->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s->avail_in = static_cast<uInt>(in.size());
  for (;;) {
    std::size_t old = out.size();
    std::size_t room = std::min<std::size_t>(limit + 1 - std::min(limit + 1, old), 64 * 1024);
    if (room == 0) return result::too_big;
    out.resize(old + room);
    s->next_out = reinterpret_cast<Bytef*>(out.data() + old);
    s->avail_out = static_cast<uInt>(room);
    uInt in_before = s->avail_in;
    int r = ::inflate(s, Z_SYNC_FLUSH);
    std::size_t produced = room - s->avail_out;
    out.resize(old + produced);
    if (out.size() > limit) return result::too_big;
    if (r == Z_NEED_DICT || r == Z_DATA_ERROR || r == Z_STREAM_ERROR || r == Z_MEM_ERROR) return result::corrupt;
    if (r == Z_STREAM_END) {
      // A final block: what follows it cannot be inflated with this stream.
      if (s->avail_in != 0) return result::corrupt;
      ended_ = true;
      return result::ok;
    }
    if (s->avail_in == 0 && s->avail_out != 0) return result::ok;
    if (produced == 0 && s->avail_in == in_before) return s->avail_in == 0 ? result::ok : result::corrupt;
  }
}

inflater::result inflater::finish(std::string& out, std::size_t limit) {
  if (ended_) return result::ok;  // a message ending in a final block has no tail to inflate
  static constexpr char tail[] = {'\x00', '\x00', '\xff', '\xff'};
  return inflate({tail, 4}, out, limit);
}

void deflate_message(std::string_view in, int window_bits, std::string& out) {
  z_stream s{};
  if (deflateInit2(&s, 1, Z_DEFLATED, -std::clamp(window_bits, 9, 15), 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::bad_alloc();
  out.resize(deflateBound(&s, static_cast<uLong>(in.size())) + 16);
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uInt>(in.size());
  std::size_t used = 0;
  for (;;) {
    s.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    s.avail_out = static_cast<uInt>(out.size() - used);
    int r = ::deflate(&s, Z_SYNC_FLUSH);
    used = out.size() - s.avail_out;
    if (r == Z_STREAM_ERROR) {
      deflateEnd(&s);
      throw std::runtime_error("deflate failed");
    }
    if (s.avail_in == 0 && s.avail_out != 0) break;
    out.resize(out.size() * 2);
  }
  deflateEnd(&s);
  out.resize(used);
  if (out.size() >= 4 && out.compare(out.size() - 4, 4, std::string_view("\x00\x00\xff\xff", 4)) == 0) out.resize(out.size() - 4);
}

}  // namespace dusty::http::ws
