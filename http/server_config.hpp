#pragma once
// Configuration of an HTTP server: one tree of nested aggregates, every default here.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <dusty/net/tls/context.hpp>

namespace dusty::http {

struct server_config {
  /// Address to listen on (IPv4 or IPv6 literal). Default: "0.0.0.0".
  std::string address = "0.0.0.0";
  /// Port; 0 picks a free one (server::address() tells which). Default: 8080.
  std::uint16_t port = 8080;
  /// If set, listen on this Unix socket path instead of address/port (shard 0 accepts
  /// and serves its connections; Unix sockets have no SO_REUSEPORT balancing). Default: "".
  std::string unix_path;
  /// Value of the Server header; empty sends none. Default: "dusty".
  std::string server_name = "dusty";
  /// res.writer() buffers up to this much before it switches to chunked. Default: 16 KiB.
  std::size_t writer_buffer = 16 * 1024;

  struct limits_config {
    /// Longest request line; longer: 414. Default: 8 KiB.
    std::size_t max_request_line = 8 * 1024;
    /// Largest request head (line and headers); larger: 431. Default: 16 KiB.
    std::size_t max_head_size = 16 * 1024;
    /// Most header fields; more: 431. Default: 64.
    std::size_t max_headers = 64;
    /// Largest request body a handler may read; larger: 413. Default: 1 MiB.
    std::size_t max_body_size = 1024 * 1024;
    /// Most route parameters in one pattern (at most 32). Default: 10.
    std::size_t max_params = 10;
    /// Most query parameters; more: 400. Default: 32.
    std::size_t max_query_params = 32;
    /// Open connections per shard, idle ones included. A connection beyond it is answered
    /// 503 with Retry-After: 1 and closed at once. Default: 10,000.
    std::size_t max_connections = 10'000;
    /// Connections per shard served at once, each by a fiber (a stack mapping: a process
    /// maps at most about vm.max_map_count / 2 of them). Idle keep-alive connections hold
    /// no fiber and do not count; a connection whose request arrives while this many are
    /// busy waits, in order, for one of them to finish or go idle, and idle ones then give
    /// their fiber up at once. WebSocket sessions and streamed responses hold theirs for
    /// as long as they last. 0: no limit. Default: 0.
    std::size_t max_active_connections = 0;
    /// Unread body bytes the server discards after a handler so the connection can be
    /// reused; a larger unread body closes the connection instead (the response then
    /// says Connection: close), as does a body the handler never asked for while the
    /// client waits for 100 Continue. Default: 256 KiB.
    std::size_t max_drain = 256 * 1024;
  } limits;

  struct timeouts_config {
    /// From the first byte of a request (or the accept of a new connection) to the end
    /// of its head; slower clients (slowloris) get 408 and are closed. Default: 10 s.
    std::chrono::milliseconds request_head{10'000};
    /// How long a keep-alive connection may sit idle between requests before it is
    /// closed (silently). Default: 30 s.
    std::chrono::milliseconds keep_alive{30'000};
    /// Time for reading a request body (each read). Too slow: 408. Default: 30 s.
    std::chrono::milliseconds body_read{30'000};
    /// Deadline for each handler; on expiry its waits are cancelled and, if nothing was
    /// sent yet, the client gets 503 (the server itself is the one that gave up, so not
    /// 504, which names an upstream). Zero: no deadline. Default: 0.
    std::chrono::milliseconds handler{0};
    /// Time for each write to the client; a client that stops reading is dropped.
    /// Default: 30 s.
    std::chrono::milliseconds write{30'000};
    /// On stop(): how long the server goes on accepting and serving as before while
    /// server::draining() is true (and http/health.hpp's /readyz answers 503), before it
    /// stops accepting: time for load balancers that learn of a stop only by probing
    /// readiness to stop sending. On Kubernetes a preStop sleep does this job instead
    /// (docker/k8s/). Default: 0 (stop accepting at once).
    std::chrono::milliseconds drain_notice{0};
    /// On stop(): how long in-flight requests may take to finish before they are
    /// cancelled (after drain_notice). Default: 10 s.
    std::chrono::milliseconds drain{10'000};
    /// When the server closes a connection while the client may still be sending (a
    /// body the handler left unread, a rejected request), it first reads and discards
    /// for up to this long, so that the client receives the answer instead of a TCP
    /// reset (nginx's lingering_close). Default: 2 s.
    std::chrono::milliseconds linger{2'000};
    /// From the accept of a connection to a TLS port to the end of its TLS handshake; a
    /// slower client (or one that sends nothing) is dropped and counted as a failed
    /// handshake. Only with tls. Default: 10 s.
    std::chrono::milliseconds tls_handshake{10'000};
  } timeouts;

  /// HTTPS: the server speaks TLS (1.2 and 1.3, net/tls/context.hpp's policy) on its port
  /// when cert_file is set. The context is built once by server::start() (which throws
  /// net::tls::config_error for a missing, unreadable or mismatched file) and shared
  /// read-only by every shard; server::reload_tls() and SIGHUP build a new one from the
  /// same files for new connections. A plain HTTP request on a TLS port is answered 400
  /// in plaintext, as nginx does.
  struct tls_config {
    // A function rather than a braced initializer: g++ 12 crashes (check_noexcept_r) on
    // an initializer-list member initializer here when server_config{} is a default argument.
    static std::vector<std::string> default_alpn() { return {"http/1.1"}; }
    /// PEM certificate chain, leaf first; setting it turns TLS on. Default: "" (plain HTTP).
    std::string cert_file;
    /// PEM private key of the leaf certificate. Default: "" (required with cert_file).
    std::string key_file;
    /// More certificates, chosen by the name the client sends (SNI); first match wins, and
    /// clients sending another name or none get cert_file. Default: none.
    std::vector<net::tls::sni_entry> sni;
    /// ALPN protocols the server accepts, in its order of preference. Default: {"http/1.1"}.
    std::vector<std::string> alpn = default_alpn();
    /// PEM file of CAs that client certificates must chain to; set, the server asks for a
    /// client certificate (mutual TLS). Default: "" (no client certificates).
    std::string client_ca_file;
    /// With client_ca_file: refuse the handshake of a client without a valid certificate;
    /// false lets such a client through unauthenticated. Default: true.
    bool require_client_cert = true;
    /// TLS session tickets (resumption without a full handshake), with one ticket key for
    /// every shard and across reloads. Default: true.
    bool session_tickets = true;
    /// TLS 1.3 tickets sent after each handshake (net::tls::server_config has the
    /// trade-off: about 20 us of server CPU each; OpenSSL's and nginx's default is 2).
    /// Default: 1.
    unsigned tickets_per_handshake = 1;
    /// Reload the certificates (build a new context from these files) when the process
    /// receives SIGHUP; needs runtime_config::handle_signals. Default: true.
    bool reload_on_sighup = true;

    bool enabled() const noexcept { return !cert_file.empty(); }
    /// The net/tls configuration these fields make.
    net::tls::server_config context_config() const {
      return {.cert_file = cert_file,
              .key_file = key_file,
              .sni = sni,
              .alpn = alpn,
              .client_ca_file = client_ca_file,
              .require_client_cert = require_client_cert,
              .session_tickets = session_tickets,
              .tickets_per_handshake = tickets_per_handshake};
    }
  } tls;

  /// HTTP/2 (http/h2/, on libnghttp2), h2o-style. The same routes, middleware and handlers
  /// serve it: a handler does not know which protocol its request came on. Requests are
  /// bounded by `limits` as in HTTP/1 (max_body_size, max_headers, max_query_params) and
  /// by `timeouts` (handler, body_read, write, drain).
  struct http2_config {
    /// HTTP/2 on TLS ports, chosen by ALPN ("h2" is put first in tls.alpn). Default: true.
    bool enabled = true;
    /// HTTP/2 with prior knowledge on plain ports: a connection that opens with the
    /// HTTP/2 preface ("PRI * HTTP/2.0...") is served as h2c. Needs `enabled`. Default: true.
    bool h2c = true;
    /// SETTINGS_MAX_CONCURRENT_STREAMS: requests in flight on one connection (each has
    /// its own fiber); a client opening more gets them refused (RST_STREAM). Default: 100.
    std::uint32_t max_concurrent_streams = 100;
    /// SETTINGS_INITIAL_WINDOW_SIZE: request body bytes a client may send on one stream
    /// before the handler reads them. With max_concurrent_streams it bounds the body
    /// bytes one connection can make the server hold. Default: 64 KiB - 1 (RFC 9113's).
    std::uint32_t initial_window_size = 65'535;
    /// The connection's receive window. Bytes are taken from it as they arrive (each
    /// stream's window is what holds a client back), so it only needs to cover
    /// max_concurrent_streams * initial_window_size. Default: 16 MiB.
    std::uint32_t connection_window_size = 16 * 1024 * 1024;
    /// SETTINGS_MAX_FRAME_SIZE: the largest frame payload the server accepts
    /// (16 KiB to 16 MiB - 1). Default: 16 KiB.
    std::uint32_t max_frame_size = 16'384;
    /// SETTINGS_MAX_HEADER_LIST_SIZE: the decoded size of a request's header fields
    /// (names, values and 32 bytes each, RFC 9113 section 6.5.2); larger, however small
    /// its compressed form (an HPACK bomb), gets 431. Default: 16 KiB.
    std::uint32_t max_header_list_size = 16 * 1024;
    /// SETTINGS_HEADER_TABLE_SIZE: the HPACK dynamic table the client may use for the
    /// server's decoder. Default: 4 KiB.
    std::uint32_t header_table_size = 4096;
    /// Control frames (PING, SETTINGS, PRIORITY, RST_STREAM, empty DATA) a client may
    /// send in a burst, refilled at a tenth of it per second; beyond that the connection
    /// is closed with GOAWAY ENHANCE_YOUR_CALM (the 2019 flood attacks, and Rapid Reset,
    /// CVE-2023-44487). WINDOW_UPDATEs are allowed in proportion to the DATA frames sent
    /// instead. Default: 1000.
    std::uint32_t max_control_frames = 1000;
    /// A connection without streams is closed (GOAWAY NO_ERROR) after this long.
    /// Default: 30 s.
    std::chrono::milliseconds idle_timeout{30'000};
    /// A client that does not acknowledge the server's SETTINGS within this long gets
    /// GOAWAY SETTINGS_TIMEOUT (RFC 9113 section 6.5.3). Default: 10 s.
    std::chrono::milliseconds settings_timeout{10'000};
  } http2;

  /// The TLS context configuration: tls.context_config() with "h2" first in the ALPN
  /// list when http2 is enabled.
  net::tls::server_config tls_context_config() const {
    auto c = tls.context_config();
    if (http2.enabled && std::find(c.alpn.begin(), c.alpn.end(), "h2") == c.alpn.end()) c.alpn.insert(c.alpn.begin(), "h2");
    return c;
  }

  /// WebSocket sessions (srv.websocket(), http/ws/session.hpp).
  struct websocket_config {
    /// Largest frame payload accepted; larger: the session is closed with 1009 before any
    /// of it is read or allocated. Default: 1 MiB.
    std::size_t max_frame_size = 1024 * 1024;
    /// Largest message (all its fragments together); larger: closed with 1009.
    /// Default: 1 MiB.
    std::size_t max_message_size = 1024 * 1024;
    /// Outgoing bytes waiting behind the frame being written (sends from several fibers to
    /// one slow peer); a send that would pass it closes the session with 1008 instead of
    /// growing the queue. Default: 4 MiB.
    std::size_t max_queued_bytes = 4 * 1024 * 1024;
    /// A session that hears nothing from its peer (no frame at all) for this long is closed
    /// with 1001. Zero: never. Default: 5 min.
    std::chrono::milliseconds idle_timeout{300'000};
    /// After sending a close frame, how long to wait for the peer's before dropping the
    /// connection. Default: 5 s.
    std::chrono::milliseconds close_timeout{5'000};
    /// Keep-alive: after this long without a frame from the peer, receive() sends a ping;
    /// if the peer stays silent as long again it is taken for dead and the session ends
    /// (close code 1006, nothing sent). Zero: no pings. Default: 30 s.
    std::chrono::milliseconds ping_interval{30'000};
  } websocket;
};

}  // namespace dusty::http
