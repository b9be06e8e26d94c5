#include <dusty/http/h2/request_head.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <cstring>

namespace dusty::http::h2 {

bool make_request_head(stream& st, request_head& head) {
  head.method_token = st.method;
  head.method = method_from_string(st.method);
  head.protocol = "HTTP/2";
  std::string_view target = st.path;
  if (target.empty() || (target[0] != '/' && !(target == "*" && head.method == method::options))) return false;
  head.target = target;
  auto q = target.find('?');
  head.path = target.substr(0, q);
  head.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  std::size_t cookies = 0, cookie_bytes = 0;
  bool host = false;
  for (const auto& f : st.fields) {
    if (f.name == "cookie") {
      ++cookies;
      cookie_bytes += f.value.size() + 2;
    }
    host = host || f.name == "host";
  }
  if (cookies > 1) {
    char* joined = static_cast<char*>(st.arena.allocate(cookie_bytes, 1));
    std::size_t n = 0;
    for (const auto& f : st.fields) {
      if (f.name != "cookie") continue;
      if (n) {
        std::memcpy(joined + n, "; ", 2);
        n += 2;
      }
      std::memcpy(joined + n, f.value.data(), f.value.size());
      n += f.value.size();
    }
    std::erase_if(st.fields, [](const header_field& f) { return f.name == "cookie"; });
    st.fields.push_back({"cookie", std::string_view(joined, n)});
  }
  if (!host && !st.authority.empty()) st.fields.push_back({"host", st.authority});
  head.headers = st.fields;
  return true;
}

}  // namespace dusty::http::h2
