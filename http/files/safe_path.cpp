#include <dusty/http/files/safe_path.hpp>

#include <dusty/http/codec/percent.hpp>
#include <dusty/http/ws/utf8.hpp>

namespace dusty::http::files {

path_check relative_path(std::string_view raw, bool allow_hidden) {
  path_check out;
  std::string decoded = percent_decode(raw);
  auto refuse = [&](unsigned status, std::string_view why) {
    out.path.clear();
    out.status = status;
    out.why = why;
    return out;
  };
  if (decoded.find('\0') != std::string::npos) return refuse(400, "NUL in path");
  if (decoded.find('\\') != std::string::npos) return refuse(400, "backslash in path");
  if (!ws::valid_utf8(decoded)) return refuse(400, "path is not valid UTF-8");
  // The last segment decides: "a/", "a/." and "" name directories.
  out.directory = decoded.empty() || decoded.back() == '/' || decoded == "." || decoded.ends_with("/.");

  std::string_view rest = decoded;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") return refuse(400, "'..' in path");
    if (segment.front() == '.' && !allow_hidden) return refuse(404, "hidden file");
    if (!out.path.empty()) out.path += '/';
    out.path += segment;
  }
  return out;
}

}  // namespace dusty::http::files
