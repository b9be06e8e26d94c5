#include <dusty/net/resolver.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/error.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/wait_queue.hpp>
#include <dusty/net/connection.hpp>
#include <dusty/net/error.hpp>
#include <dusty/net/detail/dns_message.hpp>
#include <dusty/net/detail/hosts_file.hpp>
#include <dusty/net/detail/resolv_conf.hpp>

#include <netinet/in.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <list>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>

namespace dusty::net {
namespace {

namespace dns = detail::dns;
using clock_type = std::chrono::steady_clock;

// What one record type (A or AAAA) of one name resolved to.
struct rrset {
  enum class kind { addresses, no_such_name, no_data, failure };
  kind what = kind::failure;
  std::vector<socket_address> addrs;  // port 0
  clock_type::time_point expires{};
};

// Slot 0 is A, slot 1 AAAA.
constexpr std::array<std::uint16_t, 2> slot_types{dns::type_a, dns::type_aaaa};

socket_address make_v4(const std::array<std::uint8_t, 4>& a) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  std::memcpy(&sin.sin_addr, a.data(), 4);
  return {reinterpret_cast<const sockaddr*>(&sin), sizeof sin};
}

socket_address make_v6(const std::array<std::uint8_t, 16>& a) {
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  std::memcpy(&sin6.sin6_addr, a.data(), 16);
  return {reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6};
}

// Query ids are the main defence against forged replies besides the kernel-chosen
// source port (RFC 5452), so they come from the kernel's random pool, not from a
// predictable generator.
std::uint16_t random_id() {
  thread_local std::array<std::uint16_t, 64> pool;
  thread_local std::size_t left = 0;
  if (left == 0) {
    if (::getrandom(pool.data(), sizeof pool, GRND_NONBLOCK) != static_cast<ssize_t>(sizeof pool)) {
      thread_local std::mt19937 fallback{std::random_device{}()};
      for (auto& v : pool) v = static_cast<std::uint16_t>(fallback());
    }
    left = pool.size();
  }
  return pool[--left];
}

// A lookup of some record types of one name: run by one fiber, awaited by every
// caller that asked for those types while it ran.
struct pending {
  std::string name;
  std::array<bool, 2> wanted{};
  std::array<rrset, 2> results;
  bool done = false;
  dusty::wait_queue waiters;
  fiber task;
};

bool is_localhost(std::string_view name) noexcept {
  return name == "localhost" || name.ends_with(".localhost");
}

// Orders addresses as address_family asks: IPv6 first for `any`, only one family
// otherwise. The order within a family is kept.
std::vector<socket_address> select(const std::vector<socket_address>& in, address_family family,
                                   std::uint16_t port) {
  std::vector<socket_address> out;
  if (family != address_family::ipv4)
    for (auto& a : in)
      if (a.family() == AF_INET6) out.push_back(a.with_port(port));
  if (family != address_family::ipv6)
    for (auto& a : in)
      if (a.family() == AF_INET) out.push_back(a.with_port(port));
  return out;
}

// The resolver's state lives apart from the resolver object so that query fibers can
// keep it alive: a resolver destroyed while a query runs cancels the query, which then
// unwinds against state that still exists.
struct resolver_state {
  resolver_config config;
  detail::hosts_file hosts;
  detail::resolv_conf_file resolv;

  struct cache_entry {
    std::array<std::optional<rrset>, 2> slots;
    std::list<std::string>::iterator lru;
  };
  std::unordered_map<std::string, cache_entry> cache;
  std::list<std::string> lru;  // most recently used first

  std::map<std::pair<std::string, int>, std::shared_ptr<pending>> in_flight;

  explicit resolver_state(resolver_config c)
      : config(std::move(c)), hosts(config.hosts_file), resolv(config.resolv_conf) {}

  // A fresh cached answer for (name, slot), marking the name recently used.
  const rrset* cached(const std::string& name, int slot, clock_type::time_point now) {
    auto it = cache.find(name);
    if (it == cache.end()) return nullptr;
    auto& s = it->second.slots[slot];
    if (!s || s->expires <= now) return nullptr;
    lru.splice(lru.begin(), lru, it->second.lru);
    return &*s;
  }

  void store(const std::string& name, int slot, const rrset& r, clock_type::time_point now) {
    if (r.what == rrset::kind::failure || r.expires <= now || config.max_cache_entries == 0) return;
    auto it = cache.find(name);
    if (it == cache.end()) {
      lru.push_front(name);
      it = cache.emplace(name, cache_entry{{}, lru.begin()}).first;
    } else {
      lru.splice(lru.begin(), lru, it->second.lru);
    }
    it->second.slots[slot] = r;
    while (cache.size() > config.max_cache_entries) {
      cache.erase(lru.back());
      lru.pop_back();
    }
  }

  std::vector<socket_address> servers() {
    if (!config.nameservers.empty()) return config.nameservers;
    auto list = resolv.get().nameservers;
    // resolv.conf(5): with no nameserver line, the name server on the local machine.
    if (list.empty()) list.push_back(socket_address::ipv4_loopback(53));
    return list;
  }

  clock_type::time_point expiry(std::uint32_t ttl, clock_type::time_point now) const {
    auto t = std::chrono::seconds(ttl);
    t = std::min(std::max(t, config.min_ttl), config.max_ttl);
    return now + t;
  }
};

// One query of one attempt at one server.
struct attempt_slot {
  int slot = 0;
  std::uint16_t id = 0;
  std::vector<std::byte> query;
  enum class state { waiting, answered, server_failed, needs_tcp } st = state::waiting;
};

// Files the reply `m` (known to answer `q`) into `out`; decides what the slot does next.
void take_reply(resolver_state& s, const std::string& name, const dns::message& m, attempt_slot& q,
                rrset& out, bool over_tcp) {
  if (m.truncated) {
    // Over TCP a truncated answer has nowhere better to go: treat it as this server's failure.
    q.st = over_tcp ? attempt_slot::state::server_failed : attempt_slot::state::needs_tcp;
    return;
  }
  auto now = clock_type::now();
  switch (m.code) {
    case dns::rcode::no_error: {
      auto found = dns::extract(m, name, slot_types[q.slot]);
      if (found.empty()) {
        out = {rrset::kind::no_data, {}, now + s.config.negative_ttl};
      } else {
        out = {rrset::kind::addresses, {}, s.expiry(found.ttl, now)};
        for (auto& a : found.v6) out.addrs.push_back(make_v6(a));
        for (auto& a : found.v4) out.addrs.push_back(make_v4(a));
      }
      q.st = attempt_slot::state::answered;
      return;
    }
    case dns::rcode::name_error:
      out = {rrset::kind::no_such_name, {}, now + s.config.negative_ttl};
      q.st = attempt_slot::state::answered;
      return;
    default:  // SERVFAIL, REFUSED, FORMERR, NOTIMP, ...: another server may do better
      q.st = attempt_slot::state::server_failed;
      return;
  }
}

// Whether `m` is the reply to `q`: same id, a response to a standard query, and the
// very question asked (RFC 5452 section 9.1). Anything else is stray or forged.
bool answers(const dns::message& m, const attempt_slot& q, const std::string& name) {
  return m.id == q.id && m.is_response && m.opcode == 0 && m.question_count == 1 &&
         m.question_type == slot_types[q.slot] && m.question_class == dns::class_in && m.question_name == name;
}

// TCP (RFC 7766): the same query with a two-byte length in front, on a fresh connection.
void ask_tcp(resolver_state& s, const socket_address& server, const std::string& name, attempt_slot& q,
             rrset& out) {
  q.st = attempt_slot::state::server_failed;
  deadline d = after(s.config.attempt_timeout);
  auto c = connect(server, d);
  if (!c) return;
  q.id = random_id();
  auto query = dns::build_query(q.id, name, slot_types[q.slot]);
  if (!query) return;
  std::byte len[2] = {std::byte(query->size() >> 8), std::byte(query->size() & 0xFF)};
  iovec iov[2] = {{len, 2}, {query->data(), query->size()}};
  if (!c->writev(iov, d)) return;
  if (!c->read(len, d)) return;
  std::size_t n = std::to_integer<std::size_t>(len[0]) << 8 | std::to_integer<std::size_t>(len[1]);
  std::vector<std::byte> reply(n);
  if (!c->read(reply, d)) return;
  auto m = dns::parse(reply);
  if (!m || !answers(*m, q, name)) return;
  take_reply(s, name, *m, q, out, true);
}

// One attempt at one server: every still-open slot's query over UDP, then TCP for the
// truncated ones. Slots that get a final answer are filled in `results`.
void ask(resolver_state& s, const socket_address& server, const std::string& name, std::array<bool, 2>& open,
         std::array<rrset, 2>& results) {
  std::vector<attempt_slot> slots;
  // AAAA first, the order results are given in.
  for (int slot : {1, 0}) {
    if (!open[slot]) continue;
    attempt_slot q;
    q.slot = slot;
    do q.id = random_id();
    while (!slots.empty() && slots.front().id == q.id);
    auto query = dns::build_query(q.id, name, slot_types[slot]);
    if (!query) return;
    q.query = std::move(*query);
    slots.push_back(std::move(q));
  }
  if (slots.empty()) return;

  deadline d = after(s.config.attempt_timeout);
  int fd = ::socket(server.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  struct closer {
    int fd;
    ~closer() { reactor::close(fd); }
  } close_fd{fd};
  // A connected UDP socket takes datagrams from the server's address and port only, and
  // reports an ICMP port unreachable as ECONNREFUSED instead of a silent timeout.
  if (::connect(fd, server.data(), server.size()) != 0) return;

  // A failed send (typically ECONNREFUSED: the ICMP port unreachable for the previous
  // datagram came back already) gives up on this server; recv would only wait out the
  // attempt's time, the socket's error having been reported here.
  bool sent_all = true;
  for (auto& q : slots) {
    auto n = reactor::send(fd, q.query, d);
    if (!n || *n != q.query.size()) {
      sent_all = false;
      break;
    }
  }
  if (sent_all) {
    std::vector<std::byte> buf(4096);
    auto waiting = [&] {
      return std::any_of(slots.begin(), slots.end(), [](auto& q) { return q.st == attempt_slot::state::waiting; });
    };
    while (waiting()) {
      auto n = reactor::recv(fd, buf, d);
      if (!n) break;  // timed out, or refused
      auto m = dns::parse(std::span(buf).first(*n));
      if (!m) continue;
      for (auto& q : slots)
        if (q.st == attempt_slot::state::waiting && answers(*m, q, name))
          take_reply(s, name, *m, q, results[q.slot], false);
    }
  }
  for (auto& q : slots) {
    if (q.st == attempt_slot::state::needs_tcp) ask_tcp(s, server, name, q, results[q.slot]);
    if (q.st == attempt_slot::state::answered) open[q.slot] = false;
  }
}

// The body of a query fiber: every round over every server until each wanted type has
// an answer, then the outcome goes to the cache and to the waiting callers.
void run_query(const std::shared_ptr<resolver_state>& s, const std::shared_ptr<pending>& p) {
  std::array<bool, 2> open = p->wanted;
  try {
    auto servers = s->servers();
    for (unsigned round = 0; round < std::max(s->config.attempts, 1u); ++round) {
      for (auto& server : servers) {
        ask(*s, server, p->name, open, p->results);
        if (!open[0] && !open[1]) break;
      }
      if (!open[0] && !open[1]) break;
    }
  } catch (const cancelled_error&) {
    // The runtime is stopping or the resolver is being destroyed: report a failure.
  }
  auto now = clock_type::now();
  for (int slot : {0, 1}) {
    if (!p->wanted[slot]) continue;
    if (open[slot]) p->results[slot] = rrset{};
    s->store(p->name, slot, p->results[slot], now);
    auto it = s->in_flight.find({p->name, slot});
    if (it != s->in_flight.end() && it->second == p) s->in_flight.erase(it);
  }
  p->done = true;
  p->waiters.notify_all();
  p->task.detach();
}

// Parks the caller until `p` is done; false if `d` passes first.
bool wait_for(pending& p, deadline d) {
  if (p.done) return true;
  if (d == no_deadline) {
    while (!p.done) p.waiters.wait();
    return true;
  }
  if (clock_type::now() >= d) return false;
  try {
    with_deadline(d, [&] {
      while (!p.done) p.waiters.wait();
    });
  } catch (const timeout_error&) {
    return p.done;
  }
  return true;
}

// IP literals: "1.2.3.4", "::1", "[::1]", "fe80::1%2". Empty when `host` is none.
std::optional<result<socket_address>> parse_literal(std::string_view host) {
  if (host.starts_with('[')) {
    if (!host.ends_with(']')) return result<socket_address>(fail(errc::invalid_host_name));
    auto a = socket_address::parse(std::string(host) + ":0");
    if (!a) return result<socket_address>(fail(errc::invalid_host_name));
    return a;
  }
  if (host.find(':') != std::string_view::npos) {
    auto a = socket_address::parse(host_port(host, 0));
    if (!a) return result<socket_address>(fail(errc::invalid_host_name));
    return a;
  }
  // Only the dotted-quad form (inet_pton's): inet_aton's "127.1" or "0x7f.0.0.1" are
  // not addresses here; they fall through to the name checks.
  if (!host.empty() && host.find_first_not_of("0123456789.") == std::string_view::npos) {
    if (auto a = socket_address::parse(std::string(host) + ":0")) return a;
  }
  return std::nullopt;
}

}  // namespace

struct resolver::impl {
  std::shared_ptr<resolver_state> state;
};

resolver::resolver(resolver_config config)
    : impl_(std::make_unique<impl>(impl{std::make_shared<resolver_state>(std::move(config))})) {}

resolver::~resolver() {
  // Queries still running belong to this shard; cancel them so their sockets close.
  // They keep the state alive until they have unwound.
  auto in_flight = std::move(impl_->state->in_flight);
  for (auto& [key, p] : in_flight)
    if (p->task.joinable()) p->task.cancel();
}

void resolver::clear_cache() noexcept {
  auto& s = *impl_->state;
  s.cache.clear();
  s.lru.clear();
  s.hosts.invalidate();
}

resolver& resolver::local() {
  thread_local resolver r;
  return r;
}

result<std::vector<socket_address>> resolver::resolve(std::string_view host, std::uint16_t port, deadline d,
                                                      address_family family) {
  auto& s = impl_->state;
  if (host.empty()) return fail(errc::invalid_host_name);

  if (auto literal = parse_literal(host)) {
    if (!*literal) return fail(literal->error());
    auto out = select({**literal}, family, port);
    if (out.empty()) return fail(errc::host_not_found);
    return out;
  }

  if (!dns::valid_host_name(host)) return fail(errc::invalid_host_name);
  std::string name = dns::canonical_name(host);

  // RFC 6761 section 6.3: localhost is always the loopback, whatever any file or server says.
  if (is_localhost(name))
    return select({socket_address::ipv6_loopback(), socket_address::ipv4_loopback()}, family, port);

  if (auto* listed = s->hosts.find(name)) {
    auto out = select(*listed, family, port);
    if (!out.empty()) return out;
  }

  // DNS: the cached answer or the running query of every type asked for, else a new
  // query (one fiber for the missing types).
  std::array<bool, 2> wanted{family != address_family::ipv6, family != address_family::ipv4};
  std::array<std::optional<rrset>, 2> have;
  std::array<std::shared_ptr<pending>, 2> waits;
  std::shared_ptr<pending> fresh;
  auto now = clock_type::now();
  for (int slot : {0, 1}) {
    if (!wanted[slot]) continue;
    if (auto* r = s->cached(name, slot, now)) {
      have[slot] = *r;
    } else if (auto it = s->in_flight.find({name, slot}); it != s->in_flight.end()) {
      waits[slot] = it->second;
    } else {
      if (!fresh) {
        fresh = std::make_shared<pending>();
        fresh->name = name;
      }
      fresh->wanted[slot] = true;
      s->in_flight[{name, slot}] = fresh;
      waits[slot] = fresh;
    }
  }
  if (fresh) {
    // The query runs in a fiber of its own, so a caller whose deadline passes leaves
    // it running for the others (and for the cache).
    try {
      fresh->task = spawn([s, fresh] { run_query(s, fresh); });
    } catch (...) {  // not on a shard: leave no query behind that nobody runs
      for (int slot : {0, 1})
        if (fresh->wanted[slot]) s->in_flight.erase({name, slot});
      throw;
    }
  }
  for (int slot : {0, 1}) {
    if (!waits[slot]) continue;
    if (!wait_for(*waits[slot], d)) return fail(dusty::errc::timed_out);
    have[slot] = waits[slot]->results[slot];
  }

  // Combine: IPv6 first. A name that does not exist, or has no address of any family
  // asked for, is host_not_found; a failure of any part without any address is
  // dns_failure.
  std::vector<socket_address> out;
  bool failed = false, no_name = false;
  for (int slot : {1, 0}) {
    if (!have[slot]) continue;
    auto& r = *have[slot];
    if (r.what == rrset::kind::failure) failed = true;
    if (r.what == rrset::kind::no_such_name) no_name = true;
    for (auto& a : r.addrs) out.push_back(a.with_port(port));
  }
  if (!out.empty()) return out;
  if (no_name || !failed) return fail(errc::host_not_found);
  return fail(errc::dns_failure);
}

}  // namespace dusty::net
