#pragma once
// An HTTP/2 server connection on libnghttp2: the session, its streams, and the fibers
// that drive them. Private to http/h2 (h2/server_connection.hpp is the entry point).
//
// Fibers, all on the connection's shard:
//   - the connection's own fiber (run()) writes: whatever nghttp2 has to send goes out
//     in one gathered write, and it waits for more work (a wake()) with the connection's
//     timers as deadline (idle, SETTINGS ack, the drain check);
//   - a reader fiber receives and feeds nghttp2 (nghttp2_session_mem_recv); nghttp2's
//     callbacks collect each stream's head and body;
//   - each stream runs its handler through detail::run_exchange in a fiber of its own
//     and produces the response, which nghttp2's data provider frames as the window
//     allows. The fibers are workers of a per-connection pool (workers.cpp): one serves
//     streams one after another while its handlers do not wait, and another is started
//     as soon as one does, so a slow handler never holds up the other streams.
// nghttp2 is never entered from two places at once: every call into it is made between
// suspensions, and its callbacks never suspend.
//
// Lifetime: the streams' fibers and the reader use this object; run() cancels them and
// waits for each (fiber::join_uncancellable) before it returns, also when it is itself
// cancelled.
#include <dusty/core/reactor.hpp>
#include <dusty/core/wait_queue.hpp>
#include <dusty/http/detail/server_state.hpp>
#include <dusty/http/h2/flood_guard.hpp>
#include <dusty/http/h2/stream.hpp>
#include <dusty/http/server_stats.hpp>
#include <dusty/net/address.hpp>
#include <dusty/net/buffered_stream.hpp>

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

struct nghttp2_session;

namespace dusty::http::h2 {

class connection {
 public:
  connection(const detail::server_state& state, net::buffered_stream& io, detail::connection_control& control,
             server_stats& stats, void* app, bool count_bytes);
  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  /// Serves the connection until it ends. Throws only cancelled_error, after every fiber
  /// it started has ended.
  void run();

  // ---- for the streams' fibers (stream_exchange.cpp) ----
  nghttp2_session* session() const noexcept { return session_; }
  const detail::server_state& state() const noexcept { return state_; }
  /// Tells the connection's fiber there is something to send. Never suspends.
  void wake() noexcept;
  /// Tells nghttp2 the stream has response bytes again (after DEFERRED), and wakes.
  void resume(stream& st) noexcept;
  /// Counts `n` request body bytes thrown away after the response (stream::discarding);
  /// past limits.max_drain the stream is reset with NO_ERROR. Never suspends.
  void discard(stream& st, std::size_t n) noexcept;
  /// Sends RST_STREAM with `code`; the stream ends once it is out. Never suspends.
  void reset_stream(stream& st, std::uint32_t code) noexcept;

  // nghttp2's callbacks (connection.cpp), public for the C trampolines.
  int on_begin_frame(std::uint8_t type, std::int32_t id);
  int on_begin_headers(std::int32_t id);
  int on_header(std::int32_t id, bool trailer, std::string_view name, std::string_view value);
  int on_frame_recv(std::uint8_t type, std::uint8_t flags, std::int32_t id, std::size_t length, bool request_headers);
  int on_data_chunk(std::int32_t id, std::string_view data);
  int on_frame_send(std::uint8_t type, std::uint8_t flags, std::int32_t id);
  int on_stream_close(std::int32_t id, std::uint32_t error_code);

 private:
  void serve();
  void read_loop();
  bool wait_for_input();
  bool flush_output();
  void terminate(std::uint32_t error_code) noexcept;
  void start_stream(stream& st);
  void spawn_worker();
  void work(std::list<fiber>::iterator self);
  void run_stream(stream& st);
  void end_stream_fiber(stream& st) noexcept;
  void start_discard(stream& st) noexcept;
  void sweep(deadline now) noexcept;
  void shut_down() noexcept;
  void linger();
  void count_traffic() noexcept;

  const detail::server_state& state_;
  net::buffered_stream& io_;
  detail::connection_control& control_;
  server_stats& stats_;
  void* app_;
  std::optional<net::socket_address> remote_;
  nghttp2_session* session_ = nullptr;
  flood_guard flood_;

  std::unordered_map<std::int32_t, std::unique_ptr<stream>> streams_;
  // Streams run in worker fibers taken from a small pool, not in a fresh fiber each: a
  // batch of quick requests is then served by one or two fibers instead of costing a
  // stack each (workers.cpp).
  std::list<fiber> workers_;
  std::deque<stream*> ready_;  // phase::queued, in arrival order
  std::size_t idle_workers_ = 0;
  std::size_t starting_workers_ = 0;
  dusty::wait_queue work_;
  deadline next_sweep_;
  deadline idle_since_;
  bool released_ = false;
  fiber reader_;
  dusty::wait_queue wake_;
  bool wake_pending_ = false;
  bool reader_done_ = false;
  bool closing_ = false;
  bool goaway_sent_ = false;
  bool flooded_ = false;  // a flood_guard budget ran out
  std::int32_t last_request_id_ = 0;
  bool settings_acked_ = false;
  deadline settings_deadline_;
  deadline last_activity_;
  std::string out_;  // frames gathered for one write
  bool count_bytes_;
  std::uint64_t counted_received_ = 0;
  std::uint64_t counted_sent_ = 0;
};

}  // namespace dusty::http::h2
