#include <dusty/core/detail/cpu_quota.hpp>

#include <algorithm>
#include <charconv>
#include <climits>
#include <fstream>
#include <sstream>
#include <vector>

namespace dusty::detail {

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::optional<long long> parse_integer(std::string_view s) noexcept {
  s = trim(s);
  long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    auto at = s.find(sep);
    parts.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return parts;
    s.remove_prefix(at + 1);
  }
}

bool has_item(std::string_view list, std::string_view item) {
  auto items = split(list, ',');
  return std::ranges::find(items, item) != items.end();
}

// mountinfo escapes space, tab, newline and backslash in paths as \ooo (proc(5)).
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

enum class cgroup_version { v1, v2 };

struct mount {
  std::string root;   // the cgroup the mount shows at its mount point
  std::string point;  // where it is mounted
};

// The cgroup2 mount, or the cgroup v1 mount that carries the cpu controller.
std::optional<mount> find_mount(std::string_view mountinfo, cgroup_version version) {
  for (auto line : split(mountinfo, '\n')) {
    auto fields = split(line, ' ');
    auto dash = std::ranges::find(fields, std::string_view("-"));
    if (fields.size() < 5 || dash == fields.end() || fields.end() - dash < 4) continue;
    std::string_view fstype = dash[1];
    std::string_view super_options = dash[3];
    bool match = version == cgroup_version::v2 ? fstype == "cgroup2"
                                               : fstype == "cgroup" && has_item(super_options, "cpu");
    if (match) return mount{unescape(fields[3]), unescape(fields[4])};
  }
  return std::nullopt;
}

// The directory of `path` (from /proc/self/cgroup) under the mount: the mount shows the
// hierarchy from its root down, so the part of `path` below the root is appended. A path
// outside the mount's root (another cgroup namespace) leaves only the mount point.
std::string cgroup_dir(const mount& m, std::string_view path) {
  std::string_view rel;
  if (m.root == "/") {
    rel = path;
  } else if (path.starts_with(m.root) && (path.size() == m.root.size() || path[m.root.size()] == '/')) {
    rel = path.substr(m.root.size());
  }
  if (rel.find("/..") != std::string_view::npos) rel = {};
  while (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  std::string point = m.point;
  while (point.size() > 1 && point.back() == '/') point.pop_back();
  return point + std::string(rel);
}

std::optional<unsigned> smaller(std::optional<unsigned> a, std::optional<unsigned> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

// The smallest limit from `dir` up to the mount point.
std::optional<unsigned> limit_in_hierarchy(const file_reader& read, cgroup_version version, const std::string& point,
                                           std::string dir) {
  std::optional<unsigned> limit;
  for (;;) {
    if (version == cgroup_version::v2) {
      if (auto text = read(dir + "/cpu.max")) limit = smaller(limit, parse_cpu_max(*text));
    } else {
      auto quota = read(dir + "/cpu.cfs_quota_us");
      auto period = read(dir + "/cpu.cfs_period_us");
      if (quota && period) limit = smaller(limit, parse_cfs_quota(*quota, *period));
    }
    if (dir.size() <= point.size()) return limit;
    dir.erase(std::max(dir.rfind('/'), point.size()));
  }
}

}  // namespace

std::optional<unsigned> cpus_for_quota(long long quota, long long period) noexcept {
  if (quota <= 0 || period <= 0) return std::nullopt;
  unsigned long long q = static_cast<unsigned long long>(quota), p = static_cast<unsigned long long>(period);
  unsigned long long cpus = q / p + (q % p != 0);
  return static_cast<unsigned>(std::min<unsigned long long>(cpus, UINT_MAX));
}

std::optional<unsigned> parse_cpu_max(std::string_view text) noexcept {
  text = trim(text);
  auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string_view quota = text.substr(0, space);
  if (quota == "max") return std::nullopt;
  auto q = parse_integer(quota);
  auto p = parse_integer(text.substr(space + 1));
  if (!q || !p) return std::nullopt;
  return cpus_for_quota(*q, *p);
}

std::optional<unsigned> parse_cfs_quota(std::string_view quota_text, std::string_view period_text) noexcept {
  auto q = parse_integer(quota_text);
  auto p = parse_integer(period_text);
  if (!q || !p) return std::nullopt;
  return cpus_for_quota(*q, *p);
}

std::optional<unsigned> cgroup_cpu_limit(const file_reader& read) {
  auto self = read("/proc/self/cgroup");
  auto mountinfo = read("/proc/self/mountinfo");
  if (!self || !mountinfo) return std::nullopt;
  std::optional<unsigned> limit;
  // "hierarchy-ID:controller-list:cgroup-path" per line (cgroups(7)); v2 is "0::path".
  for (auto line : split(*self, '\n')) {
    auto first = line.find(':');
    auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string_view path = line.substr(second + 1);
    cgroup_version version;
    if (line.substr(0, first) == "0" && controllers.empty()) {
      version = cgroup_version::v2;
    } else if (has_item(controllers, "cpu")) {
      version = cgroup_version::v1;
    } else {
      continue;
    }
    auto m = find_mount(*mountinfo, version);
    if (!m) continue;
    limit = smaller(limit, limit_in_hierarchy(read, version, m->point, cgroup_dir(*m, path)));
  }
  return limit;
}

std::optional<unsigned> cgroup_cpu_limit() {
  return cgroup_cpu_limit([](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return std::move(text).str();
  });
}

}  // namespace dusty::detail
