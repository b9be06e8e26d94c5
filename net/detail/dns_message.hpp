#pragma once
// The DNS wire format (RFC 1035 section 4), as much of it as a stub resolver needs:
// building A/AAAA queries and reading the answers to them. Socket-free, so the parser
// can be fed hostile bytes in tests. Every read is bounds-checked; a reply that does not
// fit its own length, or whose compressed names loop, is rejected as a whole.
#include <dusty/core/result.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dusty::net::detail::dns {

/// Record types the resolver asks for or follows.
inline constexpr std::uint16_t type_a = 1;
inline constexpr std::uint16_t type_cname = 5;
inline constexpr std::uint16_t type_soa = 6;
inline constexpr std::uint16_t type_aaaa = 28;
inline constexpr std::uint16_t class_in = 1;

/// Response codes (RFC 1035 4.1.1).
enum class rcode : std::uint8_t {
  no_error = 0,
  format_error = 1,
  server_failure = 2,
  name_error = 3,  ///< NXDOMAIN: the name does not exist.
  not_implemented = 4,
  refused = 5,
};

/// Longest name in presentation form without the final dot (RFC 1035 2.3.4 allows 255
/// octets on the wire, which is 253 characters).
inline constexpr std::size_t max_name_length = 253;
inline constexpr std::size_t max_label_length = 63;
/// A UDP reply without EDNS0 fits in 512 bytes (RFC 1035 4.2.1).
inline constexpr std::size_t max_udp_size = 512;

/// True for a host name the resolver may put on the wire: labels of 1 to 63 letters,
/// digits, '-' or '_' separated by dots, 253 characters at most, with at most one
/// final dot.
bool valid_host_name(std::string_view name) noexcept;

/// `name` in lower case without a final dot: the form names are compared and cached in.
std::string canonical_name(std::string_view name);

/// A query for `name` (already valid_host_name) of `type`, class IN, recursion desired.
/// Errors: net::errc::invalid_host_name.
result<std::vector<std::byte>> build_query(std::uint16_t id, std::string_view name, std::uint16_t type);

/// One resource record of the answer section, its name in canonical form.
struct record {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  /// A: 4 bytes, AAAA: 16 bytes, CNAME: the target (canonical), others: empty.
  std::variant<std::monostate, std::array<std::uint8_t, 4>, std::array<std::uint8_t, 16>, std::string> data;
};

/// A parsed reply (or query).
struct message {
  std::uint16_t id = 0;
  bool is_response = false;
  bool truncated = false;  ///< TC: the answer did not fit; ask again over TCP.
  std::uint8_t opcode = 0;
  rcode code = rcode::no_error;
  /// The first question (canonical name); replies to our queries carry exactly one.
  std::string question_name;
  std::uint16_t question_type = 0;
  std::uint16_t question_class = 0;
  std::size_t question_count = 0;
  std::vector<record> answers;
  /// The MINIMUM field of an SOA in the authority section, capped by its TTL (RFC 2308
  /// section 5), when there is one: how long a negative answer may be kept.
  std::optional<std::uint32_t> negative_ttl;
};

/// Parses a whole DNS message. Errors: net::errc::dns_failure for anything malformed
/// (short header, a section that runs past the end, a bad label, a compression pointer
/// that does not point strictly backwards, a name longer than 255 octets).
result<message> parse(std::span<const std::byte> bytes);

/// The addresses a reply gives for (`name`, `type`): starts at `name` and follows
/// CNAME records in the answer section (at most 16, loops end the walk), collecting
/// records of `type` owned by the name reached. `ttl` is the smallest TTL on the chain.
struct addresses {
  std::vector<std::array<std::uint8_t, 16>> v6;
  std::vector<std::array<std::uint8_t, 4>> v4;
  std::uint32_t ttl = 0;
  bool empty() const noexcept { return v6.empty() && v4.empty(); }
};
addresses extract(const message& m, std::string_view name, std::uint16_t type);

}  // namespace dusty::net::detail::dns
