#pragma once
// compress(): a middleware that compresses response bodies with gzip or deflate when the
// client accepts it (Accept-Encoding, RFC 9110 section 12.5.3), for a server or a group
// of routes.
//
//   srv.use(dusty::http::compress());                          // gzip, deflate; >= 1 KiB
//   srv.use(dusty::http::compress({.level = 4, .min_size = 256,
//                                  .types = {"text/*", "application/json"}}));
//
// A response is *eligible* when its status may carry a body and is not 206 (a range of
// the identity bytes cannot be re-encoded), it has no Content-Encoding of its own and no
// Content-Range, and its Content-Type (the media type, parameters ignored, ASCII
// case-insensitive) is one of `types`. Every eligible response gets
// `Vary: Accept-Encoding` (unless a Vary field already names it or is "*"), whether or
// not it ends up compressed, so that shared caches keep the variants apart. It is then
// compressed with the coding negotiated from the request's Accept-Encoding (q-values,
// "*", "identity;q=0"; see negotiate_content_coding), which gets Content-Encoding set;
// a strong ETag becomes weak (W/"..."), since the bytes are no longer those the tag
// named, and Content-Length is the compressed size (the server computes it). HEAD
// requests get the same head as GET, the compressed length included.
//
// Buffered bodies (res.body, or writer() output that never outgrew its buffer) are
// compressed after the handler returns when they are at least `min_size` bytes, and sent
// as they are when compressing does not make them smaller. Streamed bodies (chunk(),
// writer() past its buffer) are compressed as they go when `streams` is on: each piece
// the handler sends is compressed and sync-flushed (Z_SYNC_FLUSH), so the client can
// decode everything sent so far at once; the stream's end is written when the handler
// returns. Server-Sent Events (text/event-stream) are compressed only with `events` on:
// many proxies buffer compressed streams and some browsers stall on them.
//
// Answers that do not pass through the middleware (404 and 405 of the router for a
// middleware on a group, the error handler's answer to an exception) are not compressed.
// Each compressed response costs zlib state for its duration (about 256 KiB at the
// default window for gzip and deflate) and CPU in the handler's fiber.
//
// The middleware keeps no mutable state; one instance may serve every shard.
#include <dusty/http/codec/content_coding.hpp>
#include <dusty/http/handler.hpp>

#include <cstddef>
#include <string>
#include <vector>

namespace dusty::http {

struct compress_config {
  /// Codings offered, in the server's order of preference (it decides between codings
  /// the client weighs equally). identity entries are ignored. Default: gzip, deflate.
  std::vector<content_coding> codings{content_coding::gzip, content_coding::deflate};
  /// zlib level, 1 (fastest) to 9 (smallest). Default: 6.
  int level = 6;
  /// Buffered bodies smaller than this are sent uncompressed (the coding's framing and
  /// the CPU cost outweigh the gain). Streamed bodies are compressed regardless of size.
  /// Default: 1024.
  std::size_t min_size = 1024;
  /// Media types to compress, "type/subtype" or "type/*", compared ASCII
  /// case-insensitively with the Content-Type without its parameters. Default: text/*,
  /// application/json, application/javascript, application/xml, image/svg+xml.
  std::vector<std::string> types{"text/*", "application/json", "application/javascript", "application/xml",
                                 "image/svg+xml"};
  /// Compress streamed bodies (chunk(), writer() past its buffer). Default: true.
  bool streams = true;
  /// Compress Server-Sent Events (text/event-stream, when that type is in `types` or
  /// matched by "text/*"); needs `streams`. Default: false.
  bool events = false;
};

/// The compression middleware for `config`; see the file comment. Throws
/// std::invalid_argument for a level outside 1..9 or an empty or malformed entry in
/// `types`.
middleware compress(compress_config config = {});

}  // namespace dusty::http
