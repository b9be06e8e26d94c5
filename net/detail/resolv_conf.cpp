#include <dusty/net/detail/resolv_conf.hpp>

#include <dusty/net/detail/config_text.hpp>

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

namespace dusty::net::detail {
namespace {

std::optional<unsigned> number(std::string_view s) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

resolv_conf parse_resolv_conf(std::string_view text) {
  resolv_conf conf;
  while (!text.empty()) {
    auto fields = take_line_fields(text, "#;");
    if (fields.size() < 2) continue;
    if (fields[0] == "nameserver") {
      if (auto a = socket_address::parse(host_port(fields[1], 53)); a && a->is_ip()) conf.nameservers.push_back(*a);
    } else if (fields[0] == "options") {
      for (std::size_t i = 1; i < fields.size(); ++i) {
        auto opt = fields[i];
        // glibc caps these at 30 s and 5 attempts (RES_MAXRETRANS, RES_MAXRETRY).
        if (opt.starts_with("timeout:")) {
          if (auto n = number(opt.substr(8))) conf.timeout = std::chrono::seconds(std::min(*n, 30u));
        } else if (opt.starts_with("attempts:")) {
          if (auto n = number(opt.substr(9))) conf.attempts = std::min(*n, 5u);
        }
      }
    }
  }
  return conf;
}

const resolv_conf& resolv_conf_file::get(std::chrono::steady_clock::duration recheck) {
  auto now = std::chrono::steady_clock::now();
  if (loaded_ && checked_ && now - *checked_ < recheck) return conf_;
  checked_ = now;
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    conf_ = {};
    loaded_ = true;
    size_ = -1;
    return conf_;
  }
  if (loaded_ && st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec && st.st_size == size_)
    return conf_;
  std::ifstream in(path_, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  conf_ = parse_resolv_conf(text.str());
  loaded_ = true;
  mtime_ = st.st_mtim;
  size_ = st.st_size;
  return conf_;
}

}  // namespace dusty::net::detail
