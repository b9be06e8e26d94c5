#pragma once
// resolv.conf(5): the name servers to ask and a few options. Socket-free parsing plus a
// loader that re-reads the file when it changes.
#include <dusty/net/address.hpp>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dusty::net::detail {

struct resolv_conf {
  /// "nameserver" lines in order, IPv4 or IPv6 (with an optional numeric %scope), port 53.
  std::vector<socket_address> nameservers;
  /// "options timeout:n" (seconds) and "options attempts:n", when present.
  std::optional<std::chrono::seconds> timeout;
  std::optional<unsigned> attempts;
};

/// Unknown keywords and options, and unparsable servers, are skipped; '#' and ';' start
/// comments.
resolv_conf parse_resolv_conf(std::string_view text);

/// Keeps the parsed contents of a resolv.conf file, re-read when its modification time
/// (or size) changes, checked at most once per `recheck`. A missing file is empty.
class resolv_conf_file {
 public:
  explicit resolv_conf_file(std::string path) : path_(std::move(path)) {}

  const resolv_conf& get(std::chrono::steady_clock::duration recheck = std::chrono::seconds(5));

 private:
  std::string path_;
  resolv_conf conf_;
  // When the file was last looked at; empty: never, or invalidated. Not a default
  // time_point: on steady_clock that is the boot time, and "checked at boot" would skip
  // the first recheck on a machine up for less than `recheck`.
  std::optional<std::chrono::steady_clock::time_point> checked_;
  bool loaded_ = false;
  timespec mtime_{};
  long long size_ = -1;
};

}  // namespace dusty::net::detail
