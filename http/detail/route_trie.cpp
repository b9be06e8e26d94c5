#include <dusty/http/detail/route_trie.hpp>

#include <algorithm>
#include <stdexcept>

namespace dusty::http::detail {
namespace {

[[noreturn]] void bad_pattern(std::string_view pattern, std::string_view why) {
  throw std::invalid_argument("route pattern \"" + std::string{pattern} + "\": " + std::string{why});
}

// The path as a sequence of segments: without its leading '/', and without one trailing '/'
// after a non-empty last segment, so "/a/b/" routes like "/a/b".
bool normalize(std::string_view& path) noexcept {
  if (!path.starts_with('/')) {
    return false;
  }
  path.remove_prefix(1);
  if (path.size() >= 2 && path.ends_with('/') && path[path.size() - 2] != '/') {
    path.remove_suffix(1);
  }
  return true;
}

}  // namespace

std::string join_pattern(std::string_view prefix, std::string_view pattern) {
  while (prefix.ends_with('/')) {
    prefix.remove_suffix(1);
  }
  std::string out{prefix};
  if (!out.empty() && !out.starts_with('/')) {
    out.insert(out.begin(), '/');
  }
  if (!pattern.starts_with('/')) {
    out += '/';
  }
  out += pattern;
  return out;
}

std::uint32_t route_trie::node::find_static(std::string_view key) const noexcept {
  auto it = std::lower_bound(static_keys.begin(), static_keys.end(), key,
                             [](const std::string& a, std::string_view b) { return a < b; });
  if (it == static_keys.end() || *it != key) {
    return npos;
  }
  return static_children[static_cast<std::size_t>(it - static_keys.begin())];
}

std::uint32_t route_trie::new_node() {
  nodes_.emplace_back();
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

std::uint32_t route_trie::child(std::uint32_t parent, std::string_view segment) {
  if (segment.starts_with(':')) {
    if (nodes_[parent].param == npos) {
      auto id = new_node();
      nodes_[parent].param = id;
    }
    return nodes_[parent].param;
  }
  if (segment == "*") {
    if (nodes_[parent].glob == npos) {
      auto id = new_node();
      nodes_[parent].glob = id;
    }
    return nodes_[parent].glob;
  }
  if (auto found = nodes_[parent].find_static(segment); found != npos) {
    return found;
  }
  auto id = new_node();
  node& n = nodes_[parent];
  auto it = std::lower_bound(n.static_keys.begin(), n.static_keys.end(), segment,
                             [](const std::string& a, std::string_view b) { return a < b; });
  auto pos = it - n.static_keys.begin();
  n.static_keys.insert(it, std::string{segment});
  n.static_children.insert(n.static_children.begin() + pos, id);
  return id;
}

std::uint32_t route_trie::insert(std::size_t slot, std::string_view pattern) {
  std::string_view path = pattern;
  if (!normalize(path)) {
    bad_pattern(pattern, "must start with '/'");
  }
  // A final "*" is a suffix glob; "*/" at the end stays a one-segment glob (as in http.zig).
  const bool suffix_glob = pattern.ends_with("/*");
  if (suffix_glob) {
    path.remove_suffix(path.size() == 1 ? 1 : 2);
  }

  route_info info{std::string{pattern}, {}};
  std::uint32_t at = 0;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto segment = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (segment.empty() || (slash != std::string_view::npos && path.empty())) {
      bad_pattern(pattern, "empty segment");
    }
    if (segment.starts_with(':')) {
      auto name = segment.substr(1);
      if (name.empty()) {
        bad_pattern(pattern, "parameter without a name");
      }
      if (std::ranges::find(info.param_names, name) != info.param_names.end()) {
        bad_pattern(pattern, "parameter name used twice");
      }
      if (info.param_names.size() == max_params_) {
        bad_pattern(pattern, "more parameters than router_config::max_params");
      }
      info.param_names.emplace_back(name);
    } else if (segment.starts_with('*') && segment != "*") {
      bad_pattern(pattern, "'*' must be a whole segment");
    }
    at = child(at, segment);
  }

  std::uint32_t& slots_index = suffix_glob ? nodes_[at].suffix : nodes_[at].exact;
  if (slots_index == npos) {
    slots_.emplace_back();
    slots_.back().fill(npos);
    slots_index = static_cast<std::uint32_t>(slots_.size() - 1);
  }
  std::uint32_t& target = slots_[slots_index][slot];
  if (target != npos) {
    bad_pattern(pattern, "route already defined for this method, as \"" + routes_[target].pattern + "\"");
  }
  routes_.push_back(std::move(info));
  target = static_cast<std::uint32_t>(routes_.size() - 1);
  return target;
}

// Depth-first search with backtracking. At each node the candidates are tried in order of
// specificity: static child, param child, one-segment glob child, then the node's own
// suffix glob. The first complete match wins. The recursion is no deeper than the longest
// pattern, whatever the path.
struct route_trie::search {
  const route_trie& trie;
  method m;
  bool any_method;
  std::span<route_param> params;
  match found{};

  std::uint32_t pick(std::uint32_t slots_index) const noexcept {
    if (slots_index == npos) {
      return npos;
    }
    const slots& s = trie.slots_[slots_index];
    if (any_method) {
      auto it = std::ranges::find_if(s, [](std::uint32_t r) { return r != npos; });
      return it == s.end() ? npos : *it;
    }
    if (m != method::other && s[static_cast<std::size_t>(m)] != npos) {
      return s[static_cast<std::size_t>(m)];
    }
    if (s[all_methods_slot] != npos) {
      return s[all_methods_slot];
    }
    if (m == method::head && trie.head_uses_get_) {
      return s[static_cast<std::size_t>(method::get)];
    }
    return npos;
  }

  bool accept(std::uint32_t route, std::size_t count, std::string_view rest) noexcept {
    found = {route, count, rest};
    const auto& names = trie.routes_[route].param_names;
    for (std::size_t i = 0; i < count && i < params.size(); ++i) {
      params[i].name = names[i];
    }
    return true;
  }

  // `rest` is the unmatched part of the path; `at_end` is true once no segment is left
  // (which differs from an empty `rest`: "a/" leaves one empty segment).
  bool visit(std::uint32_t at, std::string_view rest, bool at_end, std::size_t count) noexcept {
    const node& n = trie.nodes_[at];
    if (at_end) {
      if (auto r = pick(n.exact); r != npos) {
        return accept(r, count, {});
      }
      if (auto r = pick(n.suffix); r != npos) {
        return accept(r, count, {});
      }
      return false;
    }
    auto slash = rest.find('/');
    auto segment = rest.substr(0, slash);
    bool last = slash == std::string_view::npos;
    auto next = last ? std::string_view{} : rest.substr(slash + 1);

    if (auto c = n.find_static(segment); c != npos && visit(c, next, last, count)) {
      return true;
    }
    if (!segment.empty()) {
      if (n.param != npos) {
        if (count < params.size()) {
          params[count].value = segment;
        }
        if (visit(n.param, next, last, count + 1)) {
          return true;
        }
      }
      if (n.glob != npos && visit(n.glob, next, last, count)) {
        return true;
      }
    }
    if (auto r = pick(n.suffix); r != npos) {
      return accept(r, count, rest);
    }
    return false;
  }

  bool run(std::string_view path) noexcept {
    if (!normalize(path)) {
      return false;
    }
    return visit(0, path, path.empty(), 0);
  }
};

result<route_trie::match> route_trie::find(method m, std::string_view path,
                                           std::span<route_param> params) const noexcept {
  search s{*this, m, false, params};
  if (s.run(path)) {
    if (s.found.param_count > params.size()) {
      return std::unexpected(make_error_code(errc::too_many_params));
    }
    return s.found;
  }
  search any{*this, m, true, {}};
  return std::unexpected(make_error_code(any.run(path) ? errc::method_not_allowed : errc::not_found));
}

method_set route_trie::allowed_methods(std::string_view path) const noexcept {
  method_set out;
  for (std::size_t i = 0; i < known_method_count; ++i) {
    search s{*this, static_cast<method>(i), false, {}};
    if (s.run(path)) {
      out.insert(static_cast<method>(i));
    }
  }
  return out;
}

}  // namespace dusty::http::detail
