#include <dusty/http/client/pool.hpp>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace dusty::http::detail {

client_lease::client_lease(client_shard& shard, host_pool& pool, semaphore_units units,
                           std::unique_ptr<client_connection> conn) noexcept
    : shard_(&shard), pool_(&pool), units_(std::move(units)), conn_(std::move(conn)), reused_(conn_ != nullptr) {}

client_lease& client_lease::operator=(client_lease&& other) noexcept {
  if (this != &other) {
    release();
    shard_ = other.shard_;
    pool_ = other.pool_;
    units_ = std::move(other.units_);
    conn_ = std::move(other.conn_);
    reused_ = other.reused_;
  }
  return *this;
}

client_lease::~client_lease() { release(); }

void client_lease::adopt(client_connection conn) {
  conn_ = std::make_unique<client_connection>(std::move(conn));
  reused_ = false;
  shard_->opened();
}

void client_lease::discard() noexcept {
  if (conn_) {
    conn_.reset();
    shard_->closed();
  }
}

void client_lease::release() noexcept {
  if (conn_) shard_->give_back(*pool_, std::move(conn_));
  // After the connection is idle, so that the waiter woken here finds it.
  units_.release();
}

client_shard::client_shard(const client_config& config) : config_(config) {}

client_shard::~client_shard() { close_idle(); }

client_lease client_shard::checkout(const url& u, std::string_view tls_tag) {
  key_.clear();
  key_.append(u.scheme).append("://").append(u.host).append(":").append(std::to_string(u.port));
  if (!tls_tag.empty()) key_.append("#").append(tls_tag);
  auto it = pools_.find(std::string_view(key_));
  if (it == pools_.end()) {
    it = pools_.emplace(key_, std::make_unique<host_pool>(key_, std::max<std::size_t>(config_.max_connections_per_host, 1)))
             .first;
  }
  host_pool& pool = *it->second;
  auto units = get_units(pool.slots);  // FIFO among the fibers over the cap
  auto now = std::chrono::steady_clock::now();
  expire(pool, now);
  // The most recently used first: the least likely to have been closed by the server.
  while (!pool.idle.empty()) {
    auto conn = std::move(pool.idle.back().conn);
    pool.idle.pop_back();
    if (!conn->peer_closed()) return client_lease(*this, pool, std::move(units), std::move(conn));
    conn.reset();
    closed();
  }
  return client_lease(*this, pool, std::move(units), nullptr);
}

void client_shard::give_back(host_pool& pool, std::unique_ptr<client_connection> conn) noexcept {
  auto now = std::chrono::steady_clock::now();
  expire(pool, now);
  if (conn->reusable() && conn->in_flight() == 0 && pool.idle.size() < config_.max_idle_per_host &&
      config_.idle_timeout.count() > 0) {
    pool.idle.push_back({std::move(conn), now});
  } else {
    conn.reset();
    closed();
  }
}

void client_shard::expire(host_pool& pool, std::chrono::steady_clock::time_point now) noexcept {
  while (!pool.idle.empty() && now - pool.idle.front().since >= config_.idle_timeout) {
    pool.idle.pop_front();
    closed();
  }
}

client::pool_stats client_shard::stats() {
  client::pool_stats s;
  auto now = std::chrono::steady_clock::now();
  for (auto& [key, pool] : pools_) {
    expire(*pool, now);
    s.idle += pool->idle.size();
    s.waiting += pool->slots.waiters();
  }
  s.open = open_;
  s.created = created_;
  s.reused = reused_;
  s.tls_handshakes = tls_handshakes_;
  s.tls_resumed = tls_resumed_;
  return s;
}

const std::shared_ptr<const net::tls::context>& client_shard::tls_context(client& owner, const client_tls_config& tls,
                                                                          std::string_view& id) {
  for (auto& e : tls_) {
    if (e.config == tls) {
      id = e.id;
      return e.context;
    }
  }
  auto ctx = owner.tls_context(tls);  // locks; builds the context on its first use
  // The context's address names the setting: the client keeps it alive, and every shard
  // gets the same one for equal settings.
  char tag[32];
  int n = std::snprintf(tag, sizeof tag, "tls%p", static_cast<const void*>(ctx.get()));
  tls_.push_back({tls, std::move(ctx), std::string(tag, static_cast<std::size_t>(std::max(n, 0)))});
  id = tls_.back().id;
  return tls_.back().context;
}

void client_shard::close_idle() noexcept {
  for (auto& [key, pool] : pools_) {
    open_ -= pool->idle.size();
    pool->idle.clear();
  }
}

}  // namespace dusty::http::detail
