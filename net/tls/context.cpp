#include <dusty/net/tls/context.hpp>

#include "net/tls/detail/callbacks.hpp"
#include "net/tls/detail/openssl_error.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <new>
#include <system_error>
#include <utility>

namespace dusty::net::tls {

namespace detail {

std::string take_openssl_error(const char* fallback) {
  unsigned long first = ERR_get_error();
  ERR_clear_error();
  if (first == 0) return fallback;
  // OpenSSL 3 does not name system errors in ERR_reason_error_string (it would need a
  // buffer for strerror_r); the errno is the reason.
  if (ERR_SYSTEM_ERROR(first)) return std::generic_category().message(ERR_GET_REASON(first));
  if (const char* r = ERR_reason_error_string(first)) return r;
  char buf[256];
  ERR_error_string_n(first, buf, sizeof buf);
  return buf;
}

}  // namespace detail

namespace {

// Mozilla's "intermediate" TLS 1.2 list: forward secrecy and AEAD only. TLS 1.3 keeps
// OpenSSL's default suites (AES-128/256-GCM, ChaCha20-Poly1305).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Debian's bundle of the system trust store (update-ca-certificates). Loading the file
// puts every CA in the store once; the hashed directory would be searched per handshake.
constexpr const char* system_ca_bundle = "/etc/ssl/certs/ca-certificates.crt";

// TLS session-ticket keys as SSL_CTX_get/set_tlsext_ticket_keys see them: a 16-byte
// name, a 32-byte HMAC key and a 32-byte AES key.
constexpr std::size_t ticket_keys_size = 80;

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

SSL_CTX* new_ctx(bool server) {
  SSL_CTX* c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!c) throw std::bad_alloc();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
  if (SSL_CTX_set_cipher_list(c, tls12_ciphers) != 1) {
    SSL_CTX_free(c);
    throw config_error({}, "TLS cipher list: " + detail::take_openssl_error());
  }
  SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  // OpenSSL frees its record buffers whenever they run empty: an idle connection keeps
  // only its SSL state (nginx does the same).
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  if (server) SSL_CTX_set_max_early_data(c, 0);
  return c;
}

struct ctx_guard {
  SSL_CTX* c;
  ~ctx_guard() { SSL_CTX_free(c); }
  SSL_CTX* release() { return std::exchange(c, nullptr); }
};

void use_cert_and_key(SSL_CTX* c, const std::string& cert, const std::string& key) {
  if (cert.empty()) throw config_error({}, "TLS: no certificate file given");
  if (key.empty()) throw config_error({}, "TLS: no private key file given for certificate '" + cert + "'");
  ERR_clear_error();
  if (SSL_CTX_use_certificate_chain_file(c, cert.c_str()) != 1)
    throw config_error(cert, "TLS certificate chain '" + cert + "': " + detail::take_openssl_error());
  if (SSL_CTX_use_PrivateKey_file(c, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    std::string why = detail::take_openssl_error();
    if (why.find("mismatch") != std::string::npos)
      throw config_error(key, "TLS private key '" + key + "' does not match certificate '" + cert + "'");
    throw config_error(key, "TLS private key '" + key + "': " + why);
  }
  if (SSL_CTX_check_private_key(c) != 1)
    throw config_error(key, "TLS private key '" + key + "' does not match certificate '" + cert + "': " +
                                detail::take_openssl_error());
}

void load_verify_file(SSL_CTX* c, const std::string& file, const char* what) {
  ERR_clear_error();
  if (SSL_CTX_load_verify_file(c, file.c_str()) != 1)
    throw config_error(file, std::string(what) + " '" + file + "': " + detail::take_openssl_error());
}

std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255)
      throw config_error({}, "TLS ALPN protocol name must be 1 to 255 bytes: '" + p + "'");
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

int on_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in, unsigned int in_len,
            void* arg) {
  const auto* wire = static_cast<const std::string*>(arg);
  unsigned char* chosen = nullptr;
  unsigned char chosen_len = 0;
  // Server preference: the first of our protocols the client offers.
  if (SSL_select_next_proto(&chosen, &chosen_len, reinterpret_cast<const unsigned char*>(wire->data()),
                            static_cast<unsigned>(wire->size()), in, in_len) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = chosen;
  *out_len = chosen_len;
  return SSL_TLSEXT_ERR_OK;
}

int on_servername(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  SSL_CTX* want = static_cast<const context*>(arg)->context_for(name);
  if (want != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, want);
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

// Builds contexts; a friend of context.
struct context_access {
  // The settings every server SSL_CTX of one context shares (the default and each SNI
  // one): after SSL_set_SSL_CTX, OpenSSL reads ALPN and verification from the new one.
  static void configure_server(const context& self, SSL_CTX* c, const server_config& config) {
    static constexpr unsigned char sid_ctx[] = "dusty";
    SSL_CTX_set_session_id_context(c, sid_ctx, sizeof sid_ctx - 1);
    // No server-side session cache: resumption is by tickets, which need no state shared
    // between shards (the cache would be one locked table for all of them).
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    if (!config.session_tickets) SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(c, config.tickets_per_handshake);
    if (!self.alpn_wire_.empty())
      SSL_CTX_set_alpn_select_cb(c, on_alpn, const_cast<std::string*>(&self.alpn_wire_));
    if (!config.client_ca_file.empty()) {
      load_verify_file(c, config.client_ca_file, "TLS client CA file");
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
      if (names) SSL_CTX_set_client_CA_list(c, names);
      int mode = SSL_VERIFY_PEER | (config.require_client_cert ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
      SSL_CTX_set_verify(c, mode, detail::on_verify);
    }
  }

  static std::shared_ptr<const context> server(const server_config& config, const context* previous) {
    std::shared_ptr<context> self(new context());
    self->server_ = true;
    self->alpn_wire_ = alpn_wire(config.alpn);
    ctx_guard main{new_ctx(true)};
    use_cert_and_key(main.c, config.cert_file, config.key_file);
    configure_server(*self, main.c, config);
    if (previous && previous->server_) {
      unsigned char keys[ticket_keys_size];
      if (SSL_CTX_get_tlsext_ticket_keys(previous->ctx_, keys, sizeof keys) == 1)
        SSL_CTX_set_tlsext_ticket_keys(main.c, keys, sizeof keys);
      OPENSSL_cleanse(keys, sizeof keys);
    }
    for (const auto& e : config.sni) {
      if (e.server_name.empty()) throw config_error({}, "TLS SNI entry without a server_name");
      ctx_guard sub{new_ctx(true)};
      use_cert_and_key(sub.c, e.cert_file, e.key_file);
      configure_server(*self, sub.c, config);
      self->sni_.push_back({lower(e.server_name), sub.release()});
    }
    if (!self->sni_.empty()) {
      SSL_CTX_set_tlsext_servername_callback(main.c, on_servername);
      SSL_CTX_set_tlsext_servername_arg(main.c, self.get());
    }
    self->ctx_ = main.release();
    detail::note_tls_path_once();
    return self;
  }

  static std::shared_ptr<const context> client(const client_config& config) {
    std::shared_ptr<context> self(new context());
    self->insecure_ = config.insecure;
    ctx_guard c{new_ctx(false)};
    if (config.insecure) {
      SSL_CTX_set_verify(c.c, SSL_VERIFY_NONE, nullptr);
    } else {
      if (!config.ca_file.empty()) {
        load_verify_file(c.c, config.ca_file, "TLS CA file");
      } else if (::access(system_ca_bundle, R_OK) == 0) {
        load_verify_file(c.c, system_ca_bundle, "TLS system trust store");
      } else if (SSL_CTX_set_default_verify_paths(c.c) != 1) {
        throw config_error({}, "TLS: cannot load the system trust store: " + detail::take_openssl_error());
      }
      SSL_CTX_set_verify(c.c, SSL_VERIFY_PEER, detail::on_verify);
    }
    if (!config.cert_file.empty() || !config.key_file.empty())
      use_cert_and_key(c.c, config.cert_file, config.key_file);
    if (!config.alpn.empty()) {
      std::string wire = alpn_wire(config.alpn);
      // SSL_CTX_set_alpn_protos returns 0 on success.
      if (SSL_CTX_set_alpn_protos(c.c, reinterpret_cast<const unsigned char*>(wire.data()),
                                  static_cast<unsigned>(wire.size())) != 0)
        throw std::bad_alloc();
    }
    // Sessions go to the stream's session_cache (per shard, owned by the caller) through
    // the new-session callback; OpenSSL's own cache would be shared by all shards.
    SSL_CTX_set_session_cache_mode(c.c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(c.c, detail::on_new_session);
    self->ctx_ = c.release();
    detail::note_tls_path_once();
    return self;
  }
};

std::shared_ptr<const context> context::server(const server_config& config, const context* previous) {
  return context_access::server(config, previous);
}

std::shared_ptr<const context> context::client(const client_config& config) {
  return context_access::client(config);
}

context::~context() {
  for (auto& n : sni_) SSL_CTX_free(n.ctx);
  SSL_CTX_free(ctx_);
}

ssl_ctx_st* context::context_for(std::string_view server_name) const noexcept {
  for (const auto& n : sni_) {
    std::string_view want = n.name;
    if (want.starts_with("*.")) {
      // One label: "*.example.com" matches "a.example.com", not "example.com" nor "a.b.example.com".
      auto dot = server_name.find('.');
      if (dot == std::string_view::npos || dot == 0) continue;
      std::string_view rest = server_name.substr(dot);
      if (rest.size() == want.size() - 1 &&
          std::ranges::equal(rest, want.substr(1), [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
        return n.ctx;
    } else if (server_name.size() == want.size() &&
               std::ranges::equal(server_name, want,
                                  [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; })) {
      return n.ctx;
    }
  }
  return ctx_;
}

void context_holder::reload(const server_config& config) {
  auto now = current();
  set(context::server(config, now.get()));
}

session_cache::~session_cache() {
  for (auto& [key, e] : map_) SSL_SESSION_free(e.session);
}

ssl_session_st* session_cache::find(const std::string& key) const noexcept {
  auto it = map_.find(key);
  return it == map_.end() ? nullptr : it->second.session;
}

void session_cache::put(const std::string& key, ssl_session_st* session) {
  auto it = map_.find(key);
  if (it != map_.end()) {
    SSL_SESSION_free(it->second.session);
    it->second = {session, ++clock_};
    return;
  }
  if (capacity_ == 0) {
    SSL_SESSION_free(session);
    return;
  }
  if (map_.size() >= capacity_) {
    auto oldest = std::ranges::min_element(map_, {}, [](const auto& kv) { return kv.second.stamp; });
    SSL_SESSION_free(oldest->second.session);
    map_.erase(oldest);
  }
  try {
    map_.emplace(key, entry{session, ++clock_});
  } catch (...) {
    SSL_SESSION_free(session);
    throw;
  }
}

void session_cache::erase(const std::string& key) noexcept {
  auto it = map_.find(key);
  if (it == map_.end()) return;
  SSL_SESSION_free(it->second.session);
  map_.erase(it);
}

}  // namespace dusty::net::tls
