#pragma once
// tls::context: the certificates, keys, trust store and policy of one side of TLS
// (server or client), built once from a config struct and then shared read-only by
// every shard. A tls::stream is made from a context and a connection (stream.hpp).
//
//   tls::server_config cfg;
//   cfg.cert_file = "/etc/dusty/cert.pem";
//   cfg.key_file = "/etc/dusty/key.pem";
//   cfg.alpn = {"http/1.1"};
//   auto ctx = tls::context::server(cfg);   // throws tls::config_error on a bad file
//   // on any shard, for each accepted connection:
//   tls::stream s(ctx, std::move(conn));
//
// Policy (not configurable, as in Mozilla's "intermediate" profile): TLS 1.2 and 1.3
// only; for TLS 1.2 only ECDHE key exchange with AES-GCM or ChaCha20-Poly1305; TLS 1.3
// with OpenSSL's default suites; renegotiation refused; no 0-RTT (early data).
//
// Threads: building a context reads files and may take milliseconds: do it at start (or
// on reload), not per connection. Once built, a context is immutable and may be used by
// any number of shards at once (OpenSSL's SSL_CTX is thread-safe for creating
// connections). One context on every shard also means one TLS session-ticket key, so a
// ticket issued by shard 0 resumes on shard 1.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// OpenSSL's types, declared so that this header does not pull in <openssl/ssl.h>.
struct ssl_ctx_st;
struct ssl_session_st;

namespace dusty::net::tls {

/// A certificate and key the server presents to clients that ask for `server_name` (SNI).
struct sni_entry {
  /// A host name ("api.example.com") or a wildcard for one label ("*.example.com"),
  /// compared case-insensitively. No default: required.
  std::string server_name;
  std::string cert_file;  ///< PEM certificate chain, leaf first. No default: required.
  std::string key_file;   ///< PEM private key of the leaf certificate. No default: required.
};

/// A TLS server's configuration (h2o-style: each field documents its default).
struct server_config {
  /// PEM certificate chain (leaf first, then intermediates) presented to clients that
  /// send no SNI or a name no `sni` entry matches. No default: required.
  std::string cert_file;
  /// PEM private key of that certificate. No default: required.
  std::string key_file;
  /// More certificates, chosen by the name the client sends (SNI); first match wins.
  /// Default: none.
  std::vector<sni_entry> sni;
  /// ALPN protocols the server accepts, in its order of preference ("h2", "http/1.1").
  /// The first one the client also offers is chosen; a client that offers none of them
  /// gets no ALPN answer and the handshake goes on (RFC 7301 would allow a fatal alert;
  /// we stay lenient so that a client offering only "h2" still gets HTTP/1.1).
  /// Default: empty (ALPN not answered).
  std::vector<std::string> alpn;
  /// PEM file of CAs that client certificates must chain to. When set, the server asks
  /// for a client certificate (mutual TLS). Default: empty (no client certificates).
  std::string client_ca_file;
  /// With client_ca_file: true fails the handshake of a client that sends no
  /// certificate; false lets it through and stream::peer_verified() says false.
  /// Default: true.
  bool require_client_cert = true;
  /// TLS session tickets (resumption without a full handshake; TLS 1.2 and 1.3).
  /// Default: true.
  bool session_tickets = true;
  /// TLS 1.3: tickets sent after each handshake (full or resumed; each resumption
  /// brings a fresh one). Each costs the server encoding, encrypting and MACing the
  /// session: OpenSSL 3.0 in memory, one core here, server side of a full handshake
  /// 226 us with none, 245 with one, 272 with two (best of four runs). One is enough
  /// for a client that connects again one connection at a time; a client that opens
  /// several connections at once after one handshake and uses each ticket once (RFC 8446
  /// appendix C.4) resumes only as many of them as it holds tickets. OpenSSL's default,
  /// which nginx keeps, is 2. 0 sends none (but session_tickets = false is clearer).
  /// Default: 1.
  unsigned tickets_per_handshake = 1;
};

/// A TLS client's configuration.
struct client_config {
  /// PEM file of trusted CAs. Default: empty, meaning the system trust store (Debian's
  /// /etc/ssl/certs/ca-certificates.crt, loaded once when the context is built).
  std::string ca_file;
  /// PEM certificate chain to present when the server asks for one (mutual TLS).
  /// Default: empty (none).
  std::string cert_file;
  /// PEM private key of cert_file. Default: empty.
  std::string key_file;
  /// ALPN protocols to offer, in order of preference. Default: empty (no ALPN).
  std::vector<std::string> alpn;
  /// Skips certificate and host name verification. INSECURE: anyone on the path can
  /// then read and change the traffic; for tests and debugging only (curl's -k).
  /// Default: false.
  bool insecure = false;
};

/// A context cannot be built: a file is missing or unreadable, is not PEM, or a key
/// does not match its certificate. what() names the file and gives OpenSSL's reason:
/// "TLS certificate chain '/etc/x.pem': No such file or directory".
class config_error : public std::runtime_error {
 public:
  config_error(std::string file, const std::string& message)
      : std::runtime_error(message), file_(std::move(file)) {}
  /// The file that could not be used (may be empty for errors not about one file).
  const std::string& file() const noexcept { return file_; }

 private:
  std::string file_;
};

/// An immutable OpenSSL context (SSL_CTX) with dusty's policy. Hold it by
/// std::shared_ptr<const context>; every stream made from it keeps it alive.
class context {
 public:
  /// Builds a server context: loads every certificate and key and checks that each key
  /// matches its certificate. `previous`, when given, hands over its session-ticket
  /// key, so tickets issued before a certificate reload still resume after it.
  /// Throws config_error. Any thread; does not suspend (reads files synchronously: call
  /// it at start or on reload, not on a hot path).
  static std::shared_ptr<const context> server(const server_config& config,
                                               const context* previous = nullptr);
  /// Builds a client context; loads the trust store (ca_file or the system's) and the
  /// client certificate, if any. Throws config_error. Any thread; does not suspend.
  static std::shared_ptr<const context> client(const client_config& config);

  ~context();
  context(const context&) = delete;
  context& operator=(const context&) = delete;

  bool is_server() const noexcept { return server_; }
  /// True for a client context built with `insecure`.
  bool insecure() const noexcept { return insecure_; }
  /// The default OpenSSL context, for settings dusty does not wrap. Changing it after
  /// streams exist is not thread-safe.
  ssl_ctx_st* native() const noexcept { return ctx_; }

  /// Internal (used by tls::stream's SNI callback): the context for a name the client
  /// sent, or the default one.
  ssl_ctx_st* context_for(std::string_view server_name) const noexcept;

 private:
  struct named {
    std::string name;  // lower case; "*.x" for a wildcard
    ssl_ctx_st* ctx;
  };
  context() = default;

  ssl_ctx_st* ctx_ = nullptr;
  std::vector<named> sni_;
  std::string alpn_wire_;  // the server's ALPN list in wire format (length-prefixed)
  bool server_ = false;
  bool insecure_ = false;

  friend struct context_access;
};

/// The context new connections should use, replaceable at run time (certificate reload
/// on SIGHUP): readers get the newest context; connections made from an older one keep
/// it alive until they close.
///
/// Thread-safe: any shard may call current() while another thread calls set().
class context_holder {
 public:
  explicit context_holder(std::shared_ptr<const context> initial) : current_(std::move(initial)) {}

  /// The newest context. Never suspends.
  std::shared_ptr<const context> current() const noexcept { return current_.load(std::memory_order_acquire); }
  /// Makes `next` the context of connections made from now on. Never suspends.
  void set(std::shared_ptr<const context> next) noexcept { current_.store(std::move(next), std::memory_order_release); }
  /// Builds a server context from `config` (with the current context's ticket key) and
  /// makes it current. Throws config_error and then keeps the current context.
  void reload(const server_config& config);

 private:
  std::atomic<std::shared_ptr<const context>> current_;
};

/// TLS sessions a client keeps for resumption, keyed by whatever the caller uses to
/// mean "the same server" (usually "host:port"). Belongs to one shard (an http::client
/// pool): not thread-safe. Keeps at most `capacity` keys; the oldest goes first.
class session_cache {
 public:
  /// Default capacity: 256 servers.
  explicit session_cache(std::size_t capacity = 256) : capacity_(capacity) {}
  ~session_cache();
  session_cache(const session_cache&) = delete;
  session_cache& operator=(const session_cache&) = delete;

  /// The session stored for `key`, or null. The cache keeps ownership.
  ssl_session_st* find(const std::string& key) const noexcept;
  /// Stores `session` for `key`, taking over the caller's reference; replaces (and
  /// releases) what was there.
  void put(const std::string& key, ssl_session_st* session);
  /// Forgets the session for `key` (a resumption the server refused).
  void erase(const std::string& key) noexcept;
  std::size_t size() const noexcept { return map_.size(); }

 private:
  struct entry {
    ssl_session_st* session;
    std::uint64_t stamp;
  };
  std::size_t capacity_;
  std::uint64_t clock_ = 0;
  std::unordered_map<std::string, entry> map_;
};

}  // namespace dusty::net::tls
