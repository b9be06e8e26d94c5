#pragma once
// Base64 (RFC 4648): Basic credentials, WebSocket handshake keys, data: URLs.
//
// Nothing here suspends; all of it may run on any shard.
#include <optional>
#include <string>
#include <string_view>

namespace dusty::http {

/// The standard alphabet with '=' padding.
std::string base64_encode(std::string_view in);

/// Decodes leniently, as Python's binascii.a2b_base64 does in its default mode:
/// characters outside the alphabet are skipped, and the input ends at the padding that
/// completes a quantum. `url_safe` reads '-' and '_' (RFC 4648 section 5) as well as
/// '+' and '/'. nullopt for a dangling character or missing padding.
std::optional<std::string> base64_decode(std::string_view in, bool url_safe = false);

}  // namespace dusty::http
