#include <dusty/http/h2/preface.hpp>

#include <algorithm>

namespace dusty::http::h2 {

sniffed sniff_preface(net::buffered_stream& io, deadline until) {
  for (;;) {
    std::string_view have = io.view();
    std::size_t n = std::min(have.size(), client_preface.size());
    if (have.substr(0, n) != client_preface.substr(0, n)) return sniffed::other;
    if (n == client_preface.size()) return sniffed::http2;
    if (!io.fill(until)) return sniffed::failed;
  }
}

}  // namespace dusty::http::h2
