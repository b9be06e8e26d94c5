#include <dusty/net/detail/dns_message.hpp>

#include <dusty/net/error.hpp>

#include <algorithm>

namespace dusty::net::detail::dns {
namespace {

bool host_char(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

char lower(unsigned char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
}

std::uint8_t byte_at(std::span<const std::byte> b, std::size_t i) noexcept { return std::to_integer<std::uint8_t>(b[i]); }

// Sequential, bounds-checked reads from a message. Every accessor fails instead of
// reading past the end; callers stop at the first failure.
class reader {
 public:
  explicit reader(std::span<const std::byte> msg) noexcept : msg_(msg) {}

  std::size_t pos() const noexcept { return pos_; }
  std::size_t size() const noexcept { return msg_.size(); }
  bool seek(std::size_t p) noexcept {
    if (p > msg_.size()) return false;
    pos_ = p;
    return true;
  }
  bool u8(std::uint8_t& v) noexcept {
    if (msg_.size() - pos_ < 1) return false;
    v = byte_at(msg_, pos_++);
    return true;
  }
  bool u16(std::uint16_t& v) noexcept {
    if (msg_.size() - pos_ < 2) return false;
    v = static_cast<std::uint16_t>(byte_at(msg_, pos_) << 8 | byte_at(msg_, pos_ + 1));
    pos_ += 2;
    return true;
  }
  bool u32(std::uint32_t& v) noexcept {
    std::uint16_t hi, lo;
    if (!u16(hi) || !u16(lo)) return false;
    v = std::uint32_t{hi} << 16 | lo;
    return true;
  }
  template <std::size_t N>
  bool bytes(std::array<std::uint8_t, N>& out) noexcept {
    if (msg_.size() - pos_ < N) return false;
    for (std::size_t i = 0; i < N; ++i) out[i] = byte_at(msg_, pos_ + i);
    pos_ += N;
    return true;
  }

  // A possibly compressed name (RFC 1035 4.1.4), in canonical form. Every pointer must
  // lead strictly below the previous one's target (or the name's own start), so the walk
  // ends even on a hostile message; real encoders only point back at earlier suffixes.
  // Label bytes outside [A-Za-z0-9-_] are kept as "\DDD", so a '.' inside a label can
  // never make two different names compare equal.
  bool name(std::string& out) {
    out.clear();
    std::size_t p = pos_;
    std::size_t limit = pos_;
    bool jumped = false;
    std::size_t wire_length = 1;  // the final root label
    for (;;) {
      if (p >= msg_.size()) return false;
      std::uint8_t len = byte_at(msg_, p);
      if ((len & 0xC0) == 0xC0) {
        if (p + 1 >= msg_.size()) return false;
        std::size_t target = static_cast<std::size_t>(len & 0x3F) << 8 | byte_at(msg_, p + 1);
        if (target >= limit) return false;
        if (!jumped) pos_ = p + 2;
        jumped = true;
        limit = target;
        p = target;
        continue;
      }
      if (len & 0xC0) return false;  // 0x40 and 0x80: extended label types, obsolete
      ++p;
      if (len == 0) break;
      if (len > msg_.size() - p) return false;
      wire_length += len + 1u;
      if (wire_length > 255) return false;
      if (!out.empty()) out += '.';
      for (std::size_t i = 0; i < len; ++i) {
        auto c = byte_at(msg_, p + i);
        if (host_char(c)) {
          out += lower(c);
        } else {
          out += '\\';
          out += static_cast<char>('0' + c / 100);
          out += static_cast<char>('0' + c / 10 % 10);
          out += static_cast<char>('0' + c % 10);
        }
      }
      p += len;
    }
    if (!jumped) pos_ = p;
    return true;
  }

 private:
  std::span<const std::byte> msg_;
  std::size_t pos_ = 0;
};

// RFC 2181 section 8: a TTL with the top bit set is treated as zero.
std::uint32_t sane_ttl(std::uint32_t ttl) noexcept { return ttl & 0x80000000u ? 0 : ttl; }

// One resource record. An SOA is decoded only where `soa_minimum` asks for it (authority).
bool read_record(reader& r, record& rec, std::optional<std::uint32_t>* soa_minimum) {
  std::uint16_t rdlength;
  if (!r.name(rec.name) || !r.u16(rec.type) || !r.u16(rec.klass) || !r.u32(rec.ttl) || !r.u16(rdlength))
    return false;
  rec.ttl = sane_ttl(rec.ttl);
  if (rdlength > r.size() - r.pos()) return false;
  std::size_t end = r.pos() + rdlength;
  rec.data = std::monostate{};
  if (rec.klass == class_in && rec.type == type_a) {
    std::array<std::uint8_t, 4> a;
    if (rdlength != 4 || !r.bytes(a)) return false;
    rec.data = a;
  } else if (rec.klass == class_in && rec.type == type_aaaa) {
    std::array<std::uint8_t, 16> a;
    if (rdlength != 16 || !r.bytes(a)) return false;
    rec.data = a;
  } else if (rec.type == type_cname) {
    std::string target;
    if (!r.name(target) || r.pos() != end) return false;
    rec.data = std::move(target);
  } else if (rec.type == type_soa && soa_minimum) {
    std::string mname, rname;
    std::uint32_t serial, refresh, retry, expire, minimum;
    if (!r.name(mname) || !r.name(rname) || !r.u32(serial) || !r.u32(refresh) || !r.u32(retry) ||
        !r.u32(expire) || !r.u32(minimum) || r.pos() != end)
      return false;
    *soa_minimum = std::min(rec.ttl, sane_ttl(minimum));
  }
  return r.seek(end);
}

std::unexpected<std::error_code> malformed() { return fail(net::errc::dns_failure); }

}  // namespace

bool valid_host_name(std::string_view name) noexcept {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > max_name_length) return false;
  std::size_t label = 0;
  for (char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    if (!host_char(static_cast<unsigned char>(c)) || ++label > max_label_length) return false;
  }
  return label > 0;
}

std::string canonical_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::string out(name);
  for (auto& c : out) c = lower(static_cast<unsigned char>(c));
  return out;
}

result<std::vector<std::byte>> build_query(std::uint16_t id, std::string_view name, std::uint16_t type) {
  if (!valid_host_name(name)) return fail(net::errc::invalid_host_name);
  if (name.back() == '.') name.remove_suffix(1);
  std::vector<std::byte> q;
  q.reserve(12 + name.size() + 2 + 4);
  auto put16 = [&](std::uint16_t v) {
    q.push_back(std::byte(v >> 8));
    q.push_back(std::byte(v & 0xFF));
  };
  put16(id);
  put16(0x0100);  // QR=0 (query), OPCODE=0, RD=1
  put16(1);       // QDCOUNT
  put16(0);
  put16(0);
  put16(0);
  while (!name.empty()) {
    auto dot = name.find('.');
    auto label = name.substr(0, dot);
    q.push_back(std::byte(label.size()));
    for (char c : label) q.push_back(std::byte(c));
    name.remove_prefix(dot == std::string_view::npos ? name.size() : dot + 1);
  }
  q.push_back(std::byte{0});
  put16(type);
  put16(class_in);
  return q;
}

result<message> parse(std::span<const std::byte> bytes) {
  reader r(bytes);
  message m;
  std::uint16_t flags, qd, an, ns, ar;
  if (!r.u16(m.id) || !r.u16(flags) || !r.u16(qd) || !r.u16(an) || !r.u16(ns) || !r.u16(ar)) return malformed();
  m.is_response = flags & 0x8000;
  m.opcode = static_cast<std::uint8_t>(flags >> 11 & 0xF);
  m.truncated = flags & 0x0200;
  m.code = static_cast<rcode>(flags & 0xF);
  m.question_count = qd;
  for (std::size_t i = 0; i < qd; ++i) {
    std::string name;
    std::uint16_t type, klass;
    if (!r.name(name) || !r.u16(type) || !r.u16(klass)) return malformed();
    if (i == 0) {
      m.question_name = std::move(name);
      m.question_type = type;
      m.question_class = klass;
    }
  }
  // A truncated reply may stop anywhere after the question (RFC 2181 9): its header and
  // question are all the resolver uses before asking again over TCP.
  std::vector<record> answers;
  std::optional<std::uint32_t> soa_minimum;
  bool complete = true;
  for (std::size_t i = 0; complete && i < an; ++i) {
    record rec;
    if (!read_record(r, rec, nullptr))
      complete = false;
    else
      answers.push_back(std::move(rec));
  }
  for (std::size_t i = 0; complete && i < std::size_t{ns} + ar; ++i) {
    record rec;
    if (!read_record(r, rec, i < ns ? &soa_minimum : nullptr)) complete = false;
  }
  if (!complete) {
    if (!m.truncated) return malformed();
    return m;
  }
  m.answers = std::move(answers);
  m.negative_ttl = soa_minimum;
  return m;
}

addresses extract(const message& m, std::string_view name, std::uint16_t type) {
  addresses out;
  std::string current = canonical_name(name);
  std::uint32_t ttl = UINT32_MAX;
  // A chain longer than this is broken or hostile; so is one that comes back to a name.
  constexpr int max_chain = 16;
  for (int step = 0; step <= max_chain; ++step) {
    const std::string* next = nullptr;
    std::uint32_t next_ttl = 0;
    std::uint32_t found_ttl = UINT32_MAX;
    for (const auto& rec : m.answers) {
      if (rec.name != current) continue;
      if (rec.klass == class_in && rec.type == type && type == type_a) {
        if (auto* a = std::get_if<std::array<std::uint8_t, 4>>(&rec.data)) {
          out.v4.push_back(*a);
          found_ttl = std::min(found_ttl, rec.ttl);
        }
      } else if (rec.klass == class_in && rec.type == type && type == type_aaaa) {
        if (auto* a = std::get_if<std::array<std::uint8_t, 16>>(&rec.data)) {
          out.v6.push_back(*a);
          found_ttl = std::min(found_ttl, rec.ttl);
        }
      } else if (rec.type == type_cname && !next) {
        if (auto* t = std::get_if<std::string>(&rec.data)) {
          next = t;
          next_ttl = rec.ttl;
        }
      }
    }
    if (!out.empty()) {
      out.ttl = std::min(ttl, found_ttl);
      return out;
    }
    if (!next || *next == current) break;
    ttl = std::min(ttl, next_ttl);
    current = *next;
  }
  return addresses{};
}

}  // namespace dusty::net::detail::dns
