#pragma once
// The request dusty-load sends: serialised once per run, then written as the same bytes
// on every connection, so the hot path never formats anything.
#include "options.hpp"

#include <dusty/http/codec/url.hpp>

#include <string>
#include <string_view>

namespace dusty::load {

/// "METHOD target HTTP/1.1", Host (the URL's authority unless -H gives one), the -H fields
/// in order, Content-Length when there is a body, the empty line, then the body. No
/// User-Agent or Connection field: the same bytes wrk sends for the same flags.
std::string build_request(const load_options& o, const http::url& u, std::string_view body);

}  // namespace dusty::load
