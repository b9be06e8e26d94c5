#pragma once
// tls::stream: TLS over a net::connection, as a net::stream, so that buffered_stream and
// every protocol above it run over TLS unchanged.
//
//   // server, on the shard that accepted `conn`:
//   tls::stream s(ctx, std::move(conn));
//   if (auto h = s.handshake(after(10s)); !h) {
//     if (h.error() == net::errc::tls_plaintext_http) answer_400_in_plaintext(s.transport());
//     return;                                    // s.error_detail() says why
//   }
//   if (s.alpn() == "h2") ...
//
//   // client:
//   tls::stream s(client_ctx, std::move(conn), {.host = "example.com"});
//   s.handshake(after(10s));                     // SNI, certificate and host name checked
//
// How OpenSSL is driven. OpenSSL never touches the socket: the stream gives it a BIO of
// its own (a small custom BIO, not BIO_s_mem) whose read hands over ciphertext the
// stream has already received into its input buffer, and whose write appends ciphertext
// to the stream's output buffer. When OpenSSL needs more input it returns WANT_READ at
// once, and the stream receives through the shard's reactor (io_uring or epoll) and
// calls OpenSSL again; output is sent through the reactor after each OpenSSL call, with
// one exception: a TLS 1.3 server's session tickets, which end its handshake and which
// no client waits for, go out with the first response (one send per connection fewer),
// or before the stream next waits for the peer, whichever comes first. So:
//   - no call ever blocks the thread: a handshake costs CPU only while OpenSSL computes
//     (a full TLS 1.3 handshake with a P-256 certificate and X25519 is 250-300 us of
//     server CPU here, nearly all inside OpenSSL 3.0, about 100 us of it public-key
//     crypto), and other fibers run whenever it waits for the peer;
//   - cancellation or a deadline can only strike while the stream waits on the
//     reactor, between OpenSSL calls, when OpenSSL is in a state it resumes from
//     (WANT_READ); ciphertext received or not yet sent stays in the stream's buffers,
//     so a cancelled call loses nothing and leaves nothing half-done inside OpenSSL.
// Cost per record: one extra copy of the ciphertext in each direction (receive buffer
// to OpenSSL's record buffer; OpenSSL's record buffer to the output buffer), i.e. one
// memcpy of up to 16 KiB per record, next to an AEAD pass over the same bytes. Small
// writev segments are gathered into one record rather than one record each.
//
// Idle memory: SSL_MODE_RELEASE_BUFFERS lets OpenSSL free its record buffers when they
// are empty, and read_lazy() waits for ciphertext with the connection's read_lazy and
// frees the stream's own buffers first, so a connection parked in read_lazy holds only
// OpenSSL's per-connection state (the SSL object and its session, a few KiB).
//
// kTLS is not used: it needs OpenSSL's socket BIO (see counters.hpp).
//
// Threads and fibers: a stream belongs to the shard whose connection it wraps; call it
// from fibers of that shard. One fiber may read while another writes (a write lock keeps
// records whole on the wire; ciphertext OpenSSL produces while reading, such as a TLS 1.3
// key update, is sent by whichever side sends next). The handshake is run by one fiber:
// handshake(), or the first read or write, which run it implicitly with their deadline.
//
// Errors (in addition to stream.hpp's): net::errc::tls_handshake_failed,
// tls_certificate_invalid, tls_host_name_mismatch, tls_plaintext_http during the
// handshake; tls_truncated when the peer closes without close_notify (a clean
// close_notify reads as errc::eof); tls_protocol_error after the handshake. Every TLS
// failure, and a handshake timeout, is final: later calls return the same code.
// error_detail() has the reason in words.
#include <dusty/net/connection.hpp>
#include <dusty/net/stream.hpp>
#include <dusty/net/tls/context.hpp>

#include <dusty/core/mutex.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

struct ssl_st;

namespace dusty::net::tls {

/// How long a handshake may take when the caller gives no deadline. Default: 10 s.
inline constexpr std::chrono::seconds default_handshake_timeout{10};

/// The negotiated protocol version.
enum class version { unknown, tls1_2, tls1_3 };
std::string_view to_string(version v) noexcept;

/// What a client stream needs to know about the server it talks to.
struct client_options {
  /// The server's host name or IP address literal, as the user wrote it (no port,
  /// no brackets). A DNS name is sent as SNI and checked against the certificate's DNS
  /// names; an IP address is checked against its IP address entries and sends no SNI
  /// (RFC 6066 section 3). Default: empty, which skips host name verification — only
  /// sensible together with an insecure context.
  std::string host;
  /// Where to look up a session to resume and to store the ones the server issues.
  /// Must outlive the stream. Default: none (every handshake is a full one).
  session_cache* sessions = nullptr;
  /// The key in `sessions`. Default: empty, meaning `host`.
  std::string session_key;
};

class stream final : public net::stream {
 public:
  /// A server-side stream over an accepted connection; `ctx` must be a server context.
  /// No I/O happens until handshake() or the first read or write. Throws std::bad_alloc
  /// if OpenSSL cannot allocate its connection state.
  stream(std::shared_ptr<const context> ctx, connection conn);
  /// A client-side stream over a connected connection; `ctx` must be a client context.
  stream(std::shared_ptr<const context> ctx, connection conn, client_options options);
  /// Closes (see close()).
  ~stream() override;
  /// Not movable: OpenSSL's BIO points at the stream. Hold it by unique_ptr if it must move.
  stream(const stream&) = delete;
  stream& operator=(const stream&) = delete;

  /// Runs the TLS handshake, if it has not completed yet, waiting at most until `d`.
  /// Returns at once when it has. Errors: errc::timed_out, errc::eof (the peer closed
  /// before sending anything), net::errc::tls_* (see above), socket errors. Throws
  /// cancelled_error when the fiber is cancelled; the stream may then be closed or
  /// destroyed safely (or the handshake called again). Suspends; call from a fiber.
  result<void> handshake(deadline d);
  /// handshake(after(default_handshake_timeout)).
  result<void> handshake() { return handshake(after(default_handshake_timeout)); }

  /// Sends close_notify, flushes what is buffered, and ends the connection's sending
  /// side, waiting at most until `d`. The peer then reads a clean end of stream.
  /// Suspends. (shutdown_write() does the same without suspending, as far as the
  /// socket buffer allows.)
  result<void> shutdown(deadline d);

  /// After a successful handshake: whether it completed. Never suspends.
  bool handshake_done() const noexcept { return state_ == state::ready; }
  /// The ALPN protocol agreed on, or empty.
  std::string_view alpn() const noexcept;
  /// Server: the name the client sent (SNI), or empty. Client: the name it sent.
  std::string_view server_name() const noexcept;
  version protocol_version() const noexcept;
  /// The cipher suite's OpenSSL name ("TLS_AES_128_GCM_SHA256"), or empty.
  std::string_view cipher() const noexcept;
  /// Whether the handshake resumed a session (no certificate exchange).
  bool resumed() const noexcept;
  /// Whether the peer presented a certificate that verified (client: always true after
  /// a successful handshake unless the context is insecure; server: whether a client
  /// certificate was presented and verified).
  bool peer_verified() const noexcept;
  /// OpenSSL's X509 verification result (X509_V_OK = 0), for the cases that need it;
  /// still answers after close().
  long verify_result() const noexcept;
  /// The reason for the last TLS failure, in words: "certificate verify failed:
  /// self-signed certificate", "host name mismatch: certificate is for a.test, not
  /// b.test", "wrong version number". Empty when none.
  const std::string& error_detail() const noexcept { return detail_; }
  /// Whether the kernel encrypts this connection (kTLS). Always false here, see counters.hpp.
  bool ktls() const noexcept { return false; }

  /// The underlying connection, for socket options and addresses. After a
  /// tls_plaintext_http failure a server may write a plaintext answer on it. Reading or
  /// writing it directly otherwise corrupts the TLS session.
  connection& transport() noexcept { return conn_; }

  /// The OpenSSL connection, for what dusty does not wrap. Never suspends.
  ssl_st* native() const noexcept { return ssl_; }

 private:
  enum class state { fresh, handshaking, ready, failed };
  friend struct stream_access;

  result<std::size_t> do_read_some(std::span<std::byte> buf, deadline d) override;
  result<std::size_t> do_read_lazy(std::size_t max, buffer_source source, deadline d) override;
  result<void> do_write(std::span<const std::byte> buf, deadline d) override;
  result<void> do_writev(std::span<const iovec> bufs, deadline d) override;
  result<void> do_shutdown_write() override;
  void do_close() noexcept override;
  // The addresses are the socket's underneath.
  result<socket_address> do_remote_address() const override { return conn_.remote_address(); }
  result<socket_address> do_local_address() const override { return conn_.local_address(); }
  bool do_peer_closed() const noexcept override;
  int do_idle_socket() noexcept override;

  void init(bool server);
  result<void> ensure_ready(deadline d);
  // Receives ciphertext into in_ through the reactor (lazily when `lazy`).
  result<void> fill(deadline d, bool lazy);
  // Sends what is pending, then fill(): every wait for the peer goes through here.
  result<void> wait_for_input(deadline d, bool lazy);
  // Sends all ciphertext in flight_ and pending_; one fiber at a time.
  result<void> flush(deadline d);
  // Sends what the socket takes now without waiting (close_notify on close/shutdown).
  void flush_now() noexcept;
  // Encrypts plaintext into pending_ and flushes when enough has gathered.
  result<void> encrypt(std::span<const std::byte> buf, deadline d, bool flush_at_end);
  // One SSL_read_ex; 0 bytes with no error means "needs more input".
  result<std::size_t> decrypt(std::span<std::byte> buf);
  result<void> fail_handshake(std::error_code ec);
  std::error_code fail(std::error_code ec, std::string detail = {});
  std::error_code classify_ssl_error(bool in_handshake);
  int plaintext_probe() const noexcept;
  void release_idle_buffers() noexcept;

  // OpenSSL's BIO callbacks.
  std::size_t bio_read(std::byte* out, std::size_t len, bool& retry) noexcept;
  void bio_write(const std::byte* data, std::size_t len);

  std::shared_ptr<const context> ctx_;
  connection conn_;
  ssl_st* ssl_ = nullptr;
  state state_ = state::fresh;
  std::error_code error_;     // the final error once state_ == failed or broken
  std::string detail_;
  long verify_result_ = 0;  // kept past close() for verify_result()
  bool server_ = false;
  bool transport_eof_ = false;
  bool close_notify_sent_ = false;
  bool write_shut_ = false;
  bool probed_ = false;  // server: the first bytes were checked for plaintext HTTP
  std::uint64_t received_ = 0;  // ciphertext bytes received so far

  // Ciphertext received and not yet taken by OpenSSL: in_[in_begin_, in_end_).
  std::unique_ptr<std::byte[]> in_;
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  // Ciphertext OpenSSL produced: pending_ fills while flight_ (from flight_sent_ on) is
  // being sent, so a send in progress never sees its buffer move.
  std::vector<std::byte> pending_;
  std::vector<std::byte> flight_;
  std::size_t flight_sent_ = 0;
  dusty::mutex send_lock_;
  dusty::mutex handshake_lock_;

  // Client side.
  session_cache* sessions_ = nullptr;
  std::string session_key_;
  std::string host_;
  std::string mismatch_names_;  // the certificate's names, for a host name mismatch
};

}  // namespace dusty::net::tls
