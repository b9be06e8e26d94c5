#include <dusty/http/files/directory_listing.hpp>

#include <dusty/http/codec/html.hpp>
#include <dusty/http/codec/percent.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <system_error>
#include <vector>

namespace dusty::http::files {
namespace {

struct closedir_deleter {
  void operator()(DIR* d) const noexcept { ::closedir(d); }
};

}  // namespace

result<std::string> directory_listing(int dir_fd, std::string_view url_path, bool show_hidden) {
  int own = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (own < 0) return fail(std::error_code(errno, std::generic_category()));
  std::unique_ptr<DIR, closedir_deleter> dir(::fdopendir(own));
  if (!dir) {
    int e = errno;
    ::close(own);
    return fail(std::error_code(e, std::generic_category()));
  }
  std::vector<std::string> names;
  while (dirent* d = ::readdir(dir.get())) {
    std::string_view name = d->d_name;
    if (name == "." || name == "..") continue;
    if (name.front() == '.' && !show_hidden) continue;
    std::string entry(name);
    if (d->d_type == DT_DIR) entry += '/';
    names.push_back(std::move(entry));
  }
  std::sort(names.begin(), names.end());

  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ";
  append_html_escaped(out, url_path);
  out += "</title></head>\n<body><h1>Index of ";
  append_html_escaped(out, url_path);
  out += "</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n";
  for (const auto& n : names) {
    bool is_dir = n.back() == '/';
    std::string_view bare = is_dir ? std::string_view(n).substr(0, n.size() - 1) : std::string_view(n);
    out += "<li><a href=\"";
    percent_encode(out, bare);
    if (is_dir) out += '/';
    out += "\">";
    append_html_escaped(out, n);
    out += "</a></li>\n";
  }
  out += "</ul></body></html>\n";
  return out;
}

}  // namespace dusty::http::files
