#pragma once
// access_log(): a middleware that writes one line per request, after the handler.
//
// A server logs no requests unless asked to: install it with
//
//   srv.use(dusty::http::access_log());                      // to stderr
//   srv.use(dusty::http::access_log({.log_query = false}));  // URLs carry tokens
//
// Register it first, so that its duration covers the other middleware too. Each line
// looks like
//
//   127.0.0.1:51234 "GET /users/7?full=1 HTTP/1.1" 200 27 153us "curl/8.5.0"
//
// with these fields, separated by one space:
//  1. the client's address as net::socket_address::to_string() gives it, "-" if unknown
//     (test requests);
//  2. the request line in quotes: method, target (path only when log_query is off) and
//     version;
//  3. the status;
//  4. the response body size in bytes: 0 for HEAD and for statuses without a body (1xx,
//     204, 304); "-" when the middleware cannot know it: a streamed body (chunk(), a
//     writer past its buffer, Server-Sent Events), or an answer the error handler makes;
//  5. the time the rest of the chain (middleware, routing, handler) took, in
//     microseconds, with the suffix "us"; sending a non-streamed response happens after
//     the chain returns and is not included;
//  6. the User-Agent in quotes, "-" without one.
// Quoted fields have '"' and '\' escaped with a backslash, and control bytes, DEL and
// bytes >= 0x80 written as \xHH, so a client cannot forge or break lines. The format is
// stable: tools may parse it.
//
// When a handler throws, the line is written before the exception continues to the
// server's error handler, with the status the client will get from the default error
// handler: a status_error's status; 503 when the handler's deadline expired (the fiber
// sees cancelled_error or timeout_error; a request cancelled by a stopping server is
// logged the same way, though its client gets no answer); 499 (nginx's "client closed
// request") when the client went away (client_gone); otherwise 500. A custom error
// handler may answer with another status, which the line then does not show. Once the
// head of a streamed response was sent, the status logged is the one sent.
//
// Each line is handed over in one piece: to the sink, or to stderr with a single write(2)
// (lines below PIPE_BUF, 4 KiB on Linux, are then never interleaved with other shards'
// lines, even on a pipe). Writing to stderr blocks the shard for the duration of the
// system call, as dusty::log does; for very high request rates give a sink that buffers.
#include <dusty/http/handler.hpp>

#include <functional>
#include <string_view>

namespace dusty::http {

struct access_log_config {
  /// Receives each line, without a trailing newline. It is called on the shard that
  /// served the request, from several shards at once when the server has more than one:
  /// make it thread-safe. Exceptions it throws are swallowed (a failing log does not
  /// fail the request). Empty: one write(2) of the line and '\n' to stderr.
  /// Default: empty.
  std::function<void(std::string_view line)> sink;
  /// Log the query string as part of the target. Turn it off when URLs carry secrets
  /// (tokens, signatures) that must not reach the logs. Default: true.
  bool log_query = true;
};

/// The access-log middleware for `config`.
middleware access_log(access_log_config config = {});

}  // namespace dusty::http
