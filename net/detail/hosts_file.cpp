#include <dusty/net/detail/hosts_file.hpp>

#include <dusty/net/detail/config_text.hpp>
#include <dusty/net/detail/dns_message.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

namespace dusty::net::detail {
namespace {

// An IPv4 or IPv6 literal (an IPv6 one may carry a numeric "%scope"), port 0.
std::optional<socket_address> parse_ip(std::string_view text) {
  std::string s = host_port(text, 0);
  auto a = socket_address::parse(s);
  if (!a || !a->is_ip()) return std::nullopt;
  return *a;
}

}  // namespace

hosts_table parse_hosts(std::string_view text) {
  hosts_table table;
  while (!text.empty()) {
    auto fields = take_line_fields(text, "#");
    if (fields.size() < 2) continue;
    auto addr = parse_ip(fields[0]);
    if (!addr) continue;
    for (std::size_t i = 1; i < fields.size(); ++i) {
      if (!dns::valid_host_name(fields[i])) continue;
      auto& list = table[dns::canonical_name(fields[i])];
      if (std::find(list.begin(), list.end(), *addr) == list.end()) list.push_back(*addr);
    }
  }
  return table;
}

const std::vector<socket_address>* hosts_file::find(const std::string& name,
                                                    std::chrono::steady_clock::duration recheck) {
  refresh(recheck);
  auto it = table_.find(name);
  return it == table_.end() ? nullptr : &it->second;
}

void hosts_file::refresh(std::chrono::steady_clock::duration recheck) {
  auto now = std::chrono::steady_clock::now();
  if (loaded_ && checked_ && now - *checked_ < recheck) return;
  checked_ = now;
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    table_.clear();
    loaded_ = true;
    size_ = -1;
    return;
  }
  if (loaded_ && st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec &&
      st.st_size == size_ && st.st_ino == inode_)
    return;
  std::ifstream in(path_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  table_ = parse_hosts(text.str());
  loaded_ = true;
  mtime_ = st.st_mtim;
  size_ = st.st_size;
  inode_ = st.st_ino;
}

}  // namespace dusty::net::detail
