#pragma once
// OpenSSL callbacks that context.cpp installs and stream.cpp implements (they need the
// stream's internals). Private to net/tls.
#include <openssl/ssl.h>

namespace dusty::net::tls::detail {

/// SSL_CTX_sess_set_new_cb: a client received a session (TLS 1.3 ticket or TLS 1.2
/// session); stored in the stream's session_cache if it has one.
int on_new_session(SSL* ssl, SSL_SESSION* session);

/// SSL_CTX_set_verify's callback: keeps the names of a certificate that failed host name
/// verification, for the error message. Does not change OpenSSL's verdict.
int on_verify(int preverify_ok, X509_STORE_CTX* store);

/// Logs once per process which TLS path connections take (userspace; kTLS is not used).
void note_tls_path_once() noexcept;

}  // namespace dusty::net::tls::detail
