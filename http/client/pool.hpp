#pragma once
// The per-shard state of an http::client: connection pools keyed by (scheme, host, port),
// the shard's cookie jar, and the counters behind client::stats().
//
// Pool accounting. Every pool has a semaphore with max_connections_per_host units; a
// fetch holds one unit from checkout until its connection is released (given back idle,
// or closed). An idle connection holds no unit. A fetch that gets a unit takes the most
// recently used idle connection that is still fresh, and opens a new one only when there
// is none; so open connections (in use + idle) never exceed the cap, and fibers over the
// cap wait in FIFO order on the semaphore. Idle connections expire lazily: whenever the
// pool is touched, those idle longer than idle_timeout are closed.
//
// Threading: a client_shard belongs to one shard and is used only there.
#include <dusty/http/client.hpp>
#include <dusty/http/h1/client_connection.hpp>
#include <dusty/http/codec/cookie_jar.hpp>

#include <dusty/net/tls/context.hpp>

#include <dusty/core/semaphore.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace dusty::http::detail {

class client_shard;

/// The connections of one (scheme, host, port[, TLS setting]) on one shard.
struct host_pool {
  host_pool(std::string key, std::size_t max_connections) : key(std::move(key)), slots(max_connections) {}

  struct idle_connection {
    std::unique_ptr<client_connection> conn;
    std::chrono::steady_clock::time_point since;
  };

  std::string key;                   // "https://host:port#<tls setting>", also the TLS session key
  semaphore slots;                   // one unit per connection in use
  std::deque<idle_connection> idle;  // oldest at the front
};

/// One pool slot, and the connection in it once there is one. Destroying a lease gives
/// its connection back (see release()) and its slot to the next waiter.
class client_lease {
 public:
  client_lease() noexcept = default;
  client_lease(client_shard& shard, host_pool& pool, semaphore_units units,
               std::unique_ptr<client_connection> conn) noexcept;
  client_lease(client_lease&& other) noexcept = default;
  client_lease& operator=(client_lease&& other) noexcept;
  ~client_lease();

  client_connection* connection() const noexcept { return conn_.get(); }
  /// The connection came from the idle list.
  bool reused() const noexcept { return reused_; }
  /// The key of the lease's pool (its TLS sessions are stored under it).
  const std::string& pool_key() const noexcept { return pool_->key; }
  /// Puts a freshly connected connection in the lease.
  void adopt(client_connection conn);
  /// Closes the connection (keeping the slot), e.g. to try again on a fresh one.
  void discard() noexcept;
  /// Gives the connection back to the pool when it is reusable (else closes it) and
  /// frees the slot. The lease is empty afterwards.
  void release() noexcept;

 private:
  client_shard* shard_ = nullptr;
  host_pool* pool_ = nullptr;
  semaphore_units units_;
  std::unique_ptr<client_connection> conn_;
  bool reused_ = false;
};

class client_shard {
 public:
  explicit client_shard(const client_config& config);
  ~client_shard();
  client_shard(const client_shard&) = delete;
  client_shard& operator=(const client_shard&) = delete;

  /// Waits for a slot in the pool of `u` (FIFO; suspends; cancellable), then hands out
  /// the freshest idle connection, or an empty lease when a connection must be opened.
  /// `tls_tag` tells apart pools of the same origin with different TLS settings.
  client_lease checkout(const url& u, std::string_view tls_tag = {});

  /// A connection was opened (by a lease's owner) / closed.
  void opened() noexcept {
    ++open_;
    ++created_;
  }
  void closed() noexcept { --open_; }
  void count_reuse() noexcept { ++reused_; }
  void count_handshake(bool resumed) noexcept {
    ++tls_handshakes_;
    if (resumed) ++tls_resumed_;
  }

  /// TLS sessions for resumption, keyed by pool key (so per shard and per pool).
  net::tls::session_cache& sessions() noexcept { return sessions_; }
  /// This shard's copy of the client's context for `tls` (no lock once cached); `id` is
  /// set to a short tag naming the setting, for pool keys. Both stay valid as long as the
  /// shard does.
  const std::shared_ptr<const net::tls::context>& tls_context(client& owner, const client_tls_config& tls,
                                                              std::string_view& id);

  /// Takes `conn` back into `pool` (idle) if it can be reused and the idle list has room,
  /// else closes it.
  void give_back(host_pool& pool, std::unique_ptr<client_connection> conn) noexcept;

  client::pool_stats stats();
  void close_idle() noexcept;
  cookie_jar& jar() noexcept { return jar_; }

 private:
  void expire(host_pool& pool, std::chrono::steady_clock::time_point now) noexcept;

  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };

  const client_config& config_;
  std::unordered_map<std::string, std::unique_ptr<host_pool>, key_hash, std::equal_to<>> pools_;
  std::string key_;  // scratch for lookups, so a checkout allocates nothing once warm
  cookie_jar jar_;
  std::size_t open_ = 0;
  std::uint64_t created_ = 0;
  std::uint64_t reused_ = 0;
  std::uint64_t tls_handshakes_ = 0;
  std::uint64_t tls_resumed_ = 0;
  net::tls::session_cache sessions_;
  struct tls_entry {
    client_tls_config config;
    std::shared_ptr<const net::tls::context> context;
    std::string id;
  };
  std::deque<tls_entry> tls_;  // few entries: a linear search; a deque keeps references stable
};

}  // namespace dusty::http::detail
