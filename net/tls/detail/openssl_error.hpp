#pragma once
// OpenSSL's error queue in words, for config_error and stream::error_detail().
#include <string>

namespace dusty::net::tls::detail {

/// Empties the calling thread's OpenSSL error queue and returns the reason of its
/// earliest entry (the root cause: "No such file or directory", "key values mismatch",
/// "wrong version number"), or `fallback` when the queue is empty.
std::string take_openssl_error(const char* fallback = "unknown OpenSSL error");

}  // namespace dusty::net::tls::detail
