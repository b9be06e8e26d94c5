#pragma once
// The hosts file (hosts(5)): "address name [aliases...]" lines, '#' comments. Parsing is
// socket-free; hosts_file keeps the parsed table and re-reads the file when its
// modification time (or size) changes.
#include <dusty/net/address.hpp>

#include <chrono>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dusty::net::detail {

/// Name (canonical: lower case, no final dot) to its addresses in file order, port 0.
/// Lines whose address is not an IPv4 or IPv6 literal, and invalid names, are skipped.
using hosts_table = std::unordered_map<std::string, std::vector<socket_address>>;

hosts_table parse_hosts(std::string_view text);

class hosts_file {
 public:
  explicit hosts_file(std::string path) : path_(std::move(path)) {}

  /// The addresses listed for `name` (canonical form), or null. Checks the file's
  /// modification time at most once per `recheck` and re-reads it when it changed; a
  /// missing or unreadable file is an empty table. Blocking file I/O, but on a small
  /// local file and rarely (like glibc's, which reads it on every lookup).
  const std::vector<socket_address>* find(const std::string& name,
                                          std::chrono::steady_clock::duration recheck = std::chrono::seconds(1));

  /// Makes the next find() look at the file again.
  void invalidate() noexcept { checked_.reset(); }

 private:
  void refresh(std::chrono::steady_clock::duration recheck);

  std::string path_;
  hosts_table table_;
  // When the file was last looked at; empty: never, or invalidated. Not a default
  // time_point: on steady_clock that is the boot time, and "checked at boot" would skip
  // the first recheck on a machine up for less than `recheck`.
  std::optional<std::chrono::steady_clock::time_point> checked_;
  bool loaded_ = false;
  timespec mtime_{};
  long long size_ = -1;
  unsigned long long inode_ = 0;
};

}  // namespace dusty::net::detail
