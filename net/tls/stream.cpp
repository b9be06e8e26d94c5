#include <dusty/net/tls/stream.hpp>

#include "net/tls/detail/callbacks.hpp"
#include "net/tls/detail/openssl_error.hpp"

#include <dusty/core/error.hpp>
#include <dusty/net/error.hpp>
#include <dusty/net/tls/counters.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>

namespace dusty::net::tls {

namespace {

// Room for one whole TLS record (16 KiB of plaintext plus header, padding and tag), so
// a record never needs two receives once its first bytes are in.
constexpr std::size_t in_capacity = 16 * 1024 + 512;
// Plaintext handed to one SSL_write_ex: four full records, then a send.
constexpr std::size_t encrypt_batch = 64 * 1024;
// Ciphertext gathered before sending while encrypting a large write.
constexpr std::size_t flush_threshold = 64 * 1024;
// writev segments shorter than this are copied into one record with their neighbours
// rather than each becoming a record (22+ bytes of overhead and one AEAD call each).
constexpr std::size_t gather_limit = 16 * 1024;

std::string names_of(X509* cert) {
  std::string out;
  auto add = [&](std::string_view n) {
    if (!out.empty()) out += ", ";
    out += n;
  };
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(names, i);
      if (g->type == GEN_DNS) {
        add({reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
             static_cast<std::size_t>(ASN1_STRING_length(g->d.dNSName))});
      } else if (g->type == GEN_IPADD) {
        char text[INET6_ADDRSTRLEN] = {};
        int len = ASN1_STRING_length(g->d.iPAddress);
        const unsigned char* p = ASN1_STRING_get0_data(g->d.iPAddress);
        if (len == 4 || len == 16) {
          ::inet_ntop(len == 4 ? AF_INET : AF_INET6, p, text, sizeof text);
          add(text);
        }
      }
    }
    GENERAL_NAMES_free(names);
  }
  if (out.empty()) {
    char cn[256] = {};
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0) add(cn);
  }
  return out.empty() ? std::string("no name") : out;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

// The BIO and the OpenSSL callbacks reach the stream's private parts through here.
struct stream_access {
  static stream* of(const SSL* ssl) { return static_cast<stream*>(SSL_get_app_data(ssl)); }

  static int read(BIO* b, char* out, std::size_t len, std::size_t* done) {
    auto* s = static_cast<stream*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    bool retry = false;
    *done = s->bio_read(reinterpret_cast<std::byte*>(out), len, retry);
    if (*done > 0) return 1;
    if (retry) BIO_set_retry_read(b);
    return 0;
  }

  static int write(BIO* b, const char* data, std::size_t len, std::size_t* done) {
    auto* s = static_cast<stream*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    try {
      s->bio_write(reinterpret_cast<const std::byte*>(data), len);
    } catch (...) {
      *done = 0;
      return 0;  // out of memory: OpenSSL reports a fatal write error
    }
    *done = len;
    return 1;
  }

  static long ctrl(BIO* b, int cmd, long, void*) {
    auto* s = static_cast<stream*>(BIO_get_data(b));
    switch (cmd) {
      case BIO_CTRL_FLUSH: return 1;  // the stream sends after every OpenSSL call
      case BIO_CTRL_EOF: return s->transport_eof_ && s->in_begin_ == s->in_end_;
      case BIO_CTRL_PENDING: return static_cast<long>(s->in_end_ - s->in_begin_);
      case BIO_CTRL_WPENDING: return static_cast<long>(s->pending_.size());
      default: return 0;  // includes BIO_CTRL_GET_KTLS_SEND/RECV: no kTLS on this BIO
    }
  }

  static int new_session(SSL* ssl, SSL_SESSION* session) {
    stream* s = of(ssl);
    if (!s || !s->sessions_) return 0;
    try {
      s->sessions_->put(s->session_key_, session);  // takes over OpenSSL's reference
    } catch (...) {
      return 1;  // put() released the session
    }
    return 1;
  }

  static int verify(int ok, X509_STORE_CTX* store) {
    if (ok) return 1;
    int err = X509_STORE_CTX_get_error(store);
    if (err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
      X509* cert = X509_STORE_CTX_get_current_cert(store);
      if (stream* s = ssl ? of(ssl) : nullptr; s && cert) {
        try {
          s->mismatch_names_ = names_of(cert);
        } catch (...) {
        }
      }
    }
    return 0;
  }

  static BIO_METHOD* method() {
    static BIO_METHOD* const m = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "dusty reactor");
      if (!m) throw std::bad_alloc();
      BIO_meth_set_read_ex(m, read);
      BIO_meth_set_write_ex(m, write);
      BIO_meth_set_ctrl(m, ctrl);
      BIO_meth_set_create(m, [](BIO* b) {
        BIO_set_init(b, 1);
        return 1;
      });
      return m;
    }();
    return m;
  }
};


namespace detail {

int on_new_session(SSL* ssl, SSL_SESSION* session) { return stream_access::new_session(ssl, session); }
int on_verify(int preverify_ok, X509_STORE_CTX* store) { return stream_access::verify(preverify_ok, store); }

}  // namespace detail

std::string_view to_string(version v) noexcept {
  switch (v) {
    case version::tls1_2: return "TLSv1.2";
    case version::tls1_3: return "TLSv1.3";
    case version::unknown: break;
  }
  return "unknown";
}

stream::stream(std::shared_ptr<const context> ctx, connection conn)
    : ctx_(std::move(ctx)), conn_(std::move(conn)), server_(true) {
  if (!ctx_ || !ctx_->is_server()) throw std::invalid_argument("tls::stream: a server stream needs a server context");
  init(true);
}

stream::stream(std::shared_ptr<const context> ctx, connection conn, client_options options)
    : ctx_(std::move(ctx)), conn_(std::move(conn)), server_(false), probed_(true) {
  if (!ctx_ || ctx_->is_server()) throw std::invalid_argument("tls::stream: a client stream needs a client context");
  init(false);
  host_ = std::move(options.host);
  if (host_.size() > 2 && host_.front() == '[' && host_.back() == ']') host_ = host_.substr(1, host_.size() - 2);
  sessions_ = options.sessions;
  session_key_ = options.session_key.empty() ? host_ : std::move(options.session_key);
  if (!host_.empty()) {
    bool ip = is_ip_literal(host_);
    // RFC 6066 section 3: SNI carries DNS names only, never address literals.
    if (!ip && SSL_set_tlsext_host_name(ssl_, host_.c_str()) != 1) throw std::bad_alloc();
    if (!ctx_->insecure()) {
      int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), host_.c_str())
                  : SSL_set1_host(ssl_, host_.c_str());
      if (ok != 1) throw std::bad_alloc();
      SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    }
  }
  if (sessions_) {
    if (SSL_SESSION* s = sessions_->find(session_key_); s && SSL_SESSION_is_resumable(s)) SSL_set_session(ssl_, s);
  }
}

void stream::init(bool server) {
  ssl_ = SSL_new(ctx_->native());
  if (!ssl_) throw std::bad_alloc();
  BIO* b = BIO_new(stream_access::method());
  if (!b) {
    SSL_free(std::exchange(ssl_, nullptr));
    throw std::bad_alloc();
  }
  BIO_set_data(b, this);
  SSL_set_bio(ssl_, b, b);  // one reference serves as both read and write BIO
  SSL_set_app_data(ssl_, this);
  if (server)
    SSL_set_accept_state(ssl_);
  else
    SSL_set_connect_state(ssl_);
}

stream::~stream() { do_close(); }

// --- OpenSSL's side of the BIO -------------------------------------------------------

std::size_t stream::bio_read(std::byte* out, std::size_t len, bool& retry) noexcept {
  std::size_t have = in_end_ - in_begin_;
  if (have == 0) {
    retry = !transport_eof_;  // no retry flag and 0 bytes: OpenSSL sees end of input
    return 0;
  }
  std::size_t n = std::min(have, len);
  std::memcpy(out, in_.get() + in_begin_, n);
  in_begin_ += n;
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  return n;
}

void stream::bio_write(const std::byte* data, std::size_t len) { pending_.insert(pending_.end(), data, data + len); }

// --- the reactor's side --------------------------------------------------------------

result<void> stream::fill(deadline d, bool lazy) {
  if (transport_eof_) return dusty::fail(dusty::errc::eof);
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  if (in_end_ == in_capacity && in_begin_ > 0) {
    std::memmove(in_.get(), in_.get() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
  }
  result<std::size_t> n;
  if (lazy && !in_) {
    // Take the buffer only when bytes are there, so that a connection parked here
    // holds no receive buffer of ours (io_uring: a provided buffer; epoll: readiness).
    buffer_source source{[](void* self) {
                           auto* s = static_cast<stream*>(self);
                           if (!s->in_) s->in_ = std::make_unique_for_overwrite<std::byte[]>(in_capacity);
                           return std::span<std::byte>(s->in_.get(), in_capacity);
                         },
                         this};
    n = conn_.read_lazy(in_capacity, source, d);
  } else {
    if (!in_) in_ = std::make_unique_for_overwrite<std::byte[]>(in_capacity);
    n = conn_.read_some({in_.get() + in_end_, in_capacity - in_end_}, d);
  }
  if (!n) {
    if (n.error() == dusty::errc::eof) transport_eof_ = true;
    return dusty::fail(n.error());
  }
  in_end_ += *n;
  received_ += *n;
  return {};
}

result<void> stream::wait_for_input(deadline d, bool lazy) {
  // Ciphertext waiting to go out (tickets after the handshake, OpenSSL's answer to a
  // KeyUpdate read just now) is sent before waiting: the peer may be waiting for it. A
  // fiber holding the send lock sends it along with its own data.
  if (!pending_.empty() && !send_lock_.locked())
    if (auto f = flush(d); !f) return f;
  if (lazy) release_idle_buffers();
  return fill(d, lazy);
}

result<void> stream::flush(deadline d) {
  if (!conn_.is_open()) return dusty::fail(dusty::errc::closed);
  // One sender at a time, so that records from two fibers never interleave on the wire.
  // A fiber that finds the lock taken waits; the holder sends what it added too.
  std::lock_guard lock(send_lock_);
  for (;;) {
    if (flight_sent_ == flight_.size()) {
      if (pending_.empty()) return {};
      flight_.clear();
      flight_sent_ = 0;
      flight_.swap(pending_);
    }
    auto n = reactor::send(conn_.fd(), std::span<const std::byte>(flight_).subspan(flight_sent_), d);
    if (!n) {
      if (n.error() != dusty::errc::timed_out) fail(n.error());
      return dusty::fail(n.error());
    }
    flight_sent_ += *n;
  }
}

void stream::flush_now() noexcept {
  if (!conn_.is_open() || send_lock_.locked()) return;
  // A plain non-blocking send: used for an alert or close_notify on the way out, where
  // waiting would be wrong (close() never suspends) and no other send can be in flight.
  auto send_some = [&](std::vector<std::byte>& buf, std::size_t& sent) {
    while (sent < buf.size()) {
      ssize_t n = ::send(conn_.fd(), buf.data() + sent, buf.size() - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  };
  if (!send_some(flight_, flight_sent_)) return;
  std::size_t sent = 0;
  bool all = send_some(pending_, sent);
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(sent));
  if (all) {
    flight_.clear();
    flight_sent_ = 0;
  }
}

void stream::release_idle_buffers() noexcept {
  if (in_begin_ == in_end_) {
    in_.reset();
    in_begin_ = in_end_ = 0;
  }
  if (!send_lock_.locked() && pending_.empty() && flight_sent_ == flight_.size()) {
    std::vector<std::byte>().swap(pending_);
    std::vector<std::byte>().swap(flight_);
    flight_sent_ = 0;
  }
}

int stream::do_idle_socket() noexcept {
  // Ciphertext already received, or plaintext OpenSSL decrypted and holds, is input no
  // socket event will announce again.
  if (state_ != state::ready || in_begin_ != in_end_ || SSL_pending(ssl_) > 0) return -1;
  if (send_lock_.locked() || !pending_.empty() || flight_sent_ != flight_.size()) return -1;
  release_idle_buffers();
  return conn_.fd();
}

// --- errors --------------------------------------------------------------------------

std::error_code stream::fail(std::error_code ec, std::string detail) {
  if (!detail.empty()) detail_ = std::move(detail);
  if (state_ != state::failed) {
    state_ = state::failed;
    error_ = ec;
  }
  return error_;
}

result<void> stream::fail_handshake(std::error_code ec) {
  if (state_ != state::failed) {
    state_ = state::failed;
    error_ = ec;
  }
  ++shard_counters().handshakes_failed;
  return dusty::fail(error_);
}

std::error_code stream::classify_ssl_error(bool in_handshake) {
  unsigned long e = ERR_peek_error();
  long v = SSL_get_verify_result(ssl_);
  verify_result_ = v;
  if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED && v != X509_V_OK) {
    ERR_clear_error();
    if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      detail_ = "host name mismatch: certificate is for " + (mismatch_names_.empty() ? "another name" : mismatch_names_) +
                ", not " + host_;
      return net::errc::tls_host_name_mismatch;
    }
    detail_ = std::string("certificate verify failed: ") + X509_verify_cert_error_string(v);
    return net::errc::tls_certificate_invalid;
  }
  detail_ = detail::take_openssl_error(transport_eof_ ? "peer closed the connection" : "unknown TLS error");
  return in_handshake ? net::errc::tls_handshake_failed : net::errc::tls_protocol_error;
}

// Whether the first bytes of a connection to a TLS server are an HTTP request line:
// 1 yes, 0 no, -1 cannot tell yet. A TLS connection starts with a handshake record
// (0x16); a request line with an upper-case method token and a space.
int stream::plaintext_probe() const noexcept {
  std::size_t have = in_end_ - in_begin_;
  if (have == 0) return -1;
  const auto* p = reinterpret_cast<const unsigned char*>(in_.get() + in_begin_);
  if (p[0] == 0x16) return 0;
  constexpr std::size_t longest_method = 16;
  for (std::size_t i = 0; i < have && i <= longest_method; ++i) {
    if (p[i] == ' ') return i > 0 ? 1 : 0;
    if (p[i] < 'A' || p[i] > 'Z') return 0;
  }
  return have > longest_method ? 0 : -1;
}

// --- handshake -----------------------------------------------------------------------

result<void> stream::handshake(deadline d) {
  if (state_ == state::ready) return {};
  if (state_ == state::failed) return dusty::fail(error_);
  if (!ssl_) return dusty::fail(dusty::errc::closed);
  // A second fiber (a writer while a reader handshakes) waits for the first one's
  // handshake rather than receiving on the same socket beside it.
  std::lock_guard lock(handshake_lock_);
  if (state_ == state::ready) return {};
  if (state_ == state::failed) return dusty::fail(error_);
  state_ = state::handshaking;
  for (;;) {
    if (!probed_) {
      // Look at the first bytes before OpenSSL does, so that a plaintext HTTP request
      // is told apart from garbage and the server can answer it in plaintext.
      int p = plaintext_probe();
      if (p == 1) {
        ++shard_counters().plaintext_http;
        detail_ = "plain HTTP request sent to a TLS port";
        return fail_handshake(net::errc::tls_plaintext_http);
      }
      if (p == 0) {
        probed_ = true;
      } else {
        if (auto f = fill(d, false); !f)
          return fail_handshake(f.error() == dusty::errc::eof && received_ > 0 ? net::errc::tls_handshake_failed
                                                                              : f.error());
        continue;
      }
    }
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      // A TLS 1.3 server's last output is its session tickets, which the client does
      // not wait for: they stay in pending_ and go out with the first response (one send
      // instead of two per connection), or before the stream next waits for input
      // (wait_for_input), so that nothing is ever held back while we wait on the peer.
      // Anything else (a TLS 1.2 server's Finished, a client's Finished) is sent now.
      if (!(server_ && SSL_version(ssl_) == TLS1_3_VERSION))
        if (auto f = flush(d); !f) return fail_handshake(f.error());
      state_ = state::ready;
      auto& c = shard_counters();
      ++c.handshakes_ok;
      ++c.userspace_connections;
      if (SSL_session_reused(ssl_)) ++c.resumed;
      return {};
    }
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) {
      if (!pending_.empty())
        if (auto f = flush(d); !f) return fail_handshake(f.error());
      if (in_begin_ != in_end_) continue;  // OpenSSL stopped between records
      if (auto f = fill(d, false); !f) {
        if (f.error() != dusty::errc::eof) return fail_handshake(f.error());
        if (received_ == 0) return fail_handshake(dusty::errc::eof);
        detail_ = "peer closed the connection during the handshake";
        return fail_handshake(net::errc::tls_handshake_failed);
      }
      continue;
    }
    auto ec = classify_ssl_error(true);
    flush_now();  // the alert OpenSSL queued, if the socket takes it now
    return fail_handshake(ec);
  }
}

result<void> stream::ensure_ready(deadline d) {
  if (state_ == state::ready) return {};
  return handshake(d);
}

// --- reading -------------------------------------------------------------------------

result<std::size_t> stream::decrypt(std::span<std::byte> buf) {
  std::size_t got = 0;
  ERR_clear_error();
  if (SSL_read_ex(ssl_, buf.data(), buf.size(), &got) == 1) return got;
  switch (SSL_get_error(ssl_, 0)) {
    case SSL_ERROR_WANT_READ: return std::size_t{0};
    case SSL_ERROR_ZERO_RETURN: return dusty::fail(dusty::errc::eof);  // close_notify
    default: {
      auto ec = classify_ssl_error(false);
      flush_now();
      return dusty::fail(fail(ec));
    }
  }
}

result<std::size_t> stream::do_read_some(std::span<std::byte> buf, deadline d) {
  if (buf.empty()) return std::size_t{0};
  if (auto h = ensure_ready(d); !h) return dusty::fail(h.error());
  for (;;) {
    auto n = decrypt(buf);
    if (!n) return n;
    if (*n > 0) return n;
    if (in_begin_ != in_end_) continue;
    if (auto f = wait_for_input(d, false); !f) {
      if (f.error() != dusty::errc::eof) return dusty::fail(f.error());
      return dusty::fail(fail(net::errc::tls_truncated, "peer closed the connection without close_notify"));
    }
  }
}

result<std::size_t> stream::do_read_lazy(std::size_t max, buffer_source source, deadline d) {
  if (max == 0) return std::size_t{0};
  if (auto h = ensure_ready(d); !h) return dusty::fail(h.error());
  for (;;) {
    if (SSL_pending(ssl_) > 0 || in_begin_ != in_end_) {
      std::span<std::byte> buf = source();
      return do_read_some(buf.first(std::min(max, buf.size())), d);
    }
    if (auto f = wait_for_input(d, true); !f) {
      if (f.error() != dusty::errc::eof) return dusty::fail(f.error());
      return dusty::fail(fail(net::errc::tls_truncated, "peer closed the connection without close_notify"));
    }
    // Decrypt without taking plaintext: what arrived may hold no application data (a
    // session ticket, or part of a record), and then the wait goes on with no buffer.
    std::byte probe;
    std::size_t got = 0;
    ERR_clear_error();
    if (SSL_peek_ex(ssl_, &probe, 1, &got) == 1) {
      std::span<std::byte> buf = source();
      return do_read_some(buf.first(std::min(max, buf.size())), d);
    }
    switch (SSL_get_error(ssl_, 0)) {
      case SSL_ERROR_WANT_READ: break;
      case SSL_ERROR_ZERO_RETURN: return dusty::fail(dusty::errc::eof);
      default: {
        auto ec = classify_ssl_error(false);
        flush_now();
        return dusty::fail(fail(ec));
      }
    }
  }
}

// --- writing -------------------------------------------------------------------------

result<void> stream::encrypt(std::span<const std::byte> buf, deadline d, bool flush_at_end) {
  while (!buf.empty()) {
    std::size_t chunk = std::min(buf.size(), encrypt_batch);
    std::size_t written = 0;
    ERR_clear_error();
    // The BIO takes all OpenSSL writes, so SSL_write_ex never wants to wait: it encrypts
    // the whole chunk or fails for good.
    if (SSL_write_ex(ssl_, buf.data(), chunk, &written) != 1) {
      auto ec = classify_ssl_error(false);
      return dusty::fail(fail(ec));
    }
    buf = buf.subspan(written);
    if (pending_.size() >= flush_threshold)
      if (auto f = flush(d); !f) return f;
  }
  if (flush_at_end) return flush(d);
  return {};
}

result<void> stream::do_write(std::span<const std::byte> buf, deadline d) {
  if (write_shut_) return dusty::fail(std::make_error_code(std::errc::broken_pipe));
  if (auto h = ensure_ready(d); !h) return h;
  if (buf.empty()) return {};
  return encrypt(buf, d, true);
}

result<void> stream::do_writev(std::span<const iovec> bufs, deadline d) {
  if (write_shut_) return dusty::fail(std::make_error_code(std::errc::broken_pipe));
  if (auto h = ensure_ready(d); !h) return h;
  // Small segments are gathered so that, say, a response head and a short body make one
  // record. The staging buffer is per thread: it is filled and handed to SSL_write_ex
  // (which copies it) with no suspension in between, since it never exceeds one batch.
  thread_local std::unique_ptr<std::byte[]> stage = std::make_unique_for_overwrite<std::byte[]>(gather_limit);
  std::size_t staged = 0;
  auto write_staged = [&]() -> result<void> {
    if (staged == 0) return {};
    std::size_t n = std::exchange(staged, 0);
    return encrypt({stage.get(), n}, d, false);
  };
  for (const iovec& v : bufs) {
    std::span<const std::byte> seg(static_cast<const std::byte*>(v.iov_base), v.iov_len);
    if (seg.empty()) continue;
    if (seg.size() >= gather_limit / 4) {
      if (auto r = write_staged(); !r) return r;
      if (auto r = encrypt(seg, d, false); !r) return r;
      continue;
    }
    if (staged + seg.size() > gather_limit)
      if (auto r = write_staged(); !r) return r;
    std::memcpy(stage.get() + staged, seg.data(), seg.size());
    staged += seg.size();
  }
  if (auto r = write_staged(); !r) return r;
  return flush(d);
}

// --- ending --------------------------------------------------------------------------

result<void> stream::shutdown(deadline d) {
  if (write_shut_) return {};
  if (state_ == state::ready && !close_notify_sent_) {
    close_notify_sent_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);  // queues close_notify; does not wait for the peer's
    if (auto f = flush(d); !f) return f;
  }
  if (!conn_.is_open()) return dusty::fail(dusty::errc::closed);
  write_shut_ = true;
  return conn_.shutdown(shutdown_how::write);
}

result<void> stream::do_shutdown_write() {
  if (write_shut_) return {};
  if (state_ == state::ready && !close_notify_sent_) {
    close_notify_sent_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);
    flush_now();
  }
  // Ending TCP's side with ciphertext still unsent would cut the stream short.
  if (send_lock_.locked() || !pending_.empty() || flight_sent_ != flight_.size())
    return dusty::fail(std::make_error_code(std::errc::resource_unavailable_try_again));
  if (!conn_.is_open()) return dusty::fail(dusty::errc::closed);
  write_shut_ = true;
  return conn_.shutdown(shutdown_how::write);
}

void stream::do_close() noexcept {
  if (!ssl_) return;
  if (state_ == state::handshaking) ++shard_counters().handshakes_failed;  // abandoned (cancelled)
  if (state_ == state::ready && !close_notify_sent_ && !write_shut_ && conn_.is_open()) {
    close_notify_sent_ = true;
    ERR_clear_error();
    SSL_shutdown(ssl_);
    flush_now();
  }
  state_ = state::failed;
  if (!error_) error_ = dusty::errc::closed;
  ERR_clear_error();
  SSL_free(std::exchange(ssl_, nullptr));
  conn_.close();
  in_.reset();
  in_begin_ = in_end_ = 0;
  pending_ = {};
  flight_ = {};
  flight_sent_ = 0;
}

// --- what was negotiated ---------------------------------------------------------------

std::string_view stream::alpn() const noexcept {
  if (!ssl_) return {};
  const unsigned char* p = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_, &p, &len);
  return p ? std::string_view(reinterpret_cast<const char*>(p), len) : std::string_view{};
}

std::string_view stream::server_name() const noexcept {
  if (!ssl_) return {};
  const char* n = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
  return n ? std::string_view(n) : std::string_view{};
}

version stream::protocol_version() const noexcept {
  if (!ssl_ || state_ != state::ready) return version::unknown;
  switch (SSL_version(ssl_)) {
    case TLS1_2_VERSION: return version::tls1_2;
    case TLS1_3_VERSION: return version::tls1_3;
    default: return version::unknown;
  }
}

std::string_view stream::cipher() const noexcept {
  if (!ssl_ || state_ != state::ready) return {};
  const char* n = SSL_get_cipher_name(ssl_);
  return n ? std::string_view(n) : std::string_view{};
}

bool stream::resumed() const noexcept { return ssl_ && state_ == state::ready && SSL_session_reused(ssl_); }

bool stream::peer_verified() const noexcept {
  return ssl_ && state_ == state::ready && SSL_get0_peer_certificate(ssl_) && SSL_get_verify_result(ssl_) == X509_V_OK &&
         (server_ || !ctx_->insecure());
}

long stream::verify_result() const noexcept { return ssl_ ? SSL_get_verify_result(ssl_) : verify_result_; }

// Unlike a plain socket, unread bytes do not make a TLS connection stale: a TLS 1.3
// server sends session tickets after the handshake, which nobody reads until the next
// record is asked for. Only a closed or failed socket counts; a close_notify still in
// flight shows as an error on the next read, which the client's retry of a stale
// connection covers.
bool stream::do_peer_closed() const noexcept {
  int fd = conn_.fd();
  if (fd < 0) return true;
  char c;
  ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return false;
  return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

}  // namespace dusty::net::tls
