#pragma once
// buffered_stream: buffered reading and writing over any stream (a connection today,
// TLS later), the layer parsers sit on.
//
// Reading: bytes arrive in an input buffer that grows up to a limit; a parser looks at
// data(), takes what it understands with consume(n), and asks for more with fill() or
// read_until(). Whenever the buffer runs empty it is given back, and the next wait
// receives lazily (stream::read_lazy): a connection parked between requests holds no
// input memory at all, only the kernel's socket buffer.
//
// Writing: small writes gather in one small output buffer until flush(); large ones
// and writev() go out together with what is buffered in one gathered send, without
// copying the payload. The output buffer is also given back once flushed.
//
//   net::buffered_stream in(conn);
//   auto head = in.read_until("\r\n\r\n", 8192, after(10s));  // errc::eof, input_limit, ...
//   if (!head) return;
//   parse(in.view().substr(0, *head));
//   in.consume(*head);
//
// Buffers are fixed-size blocks from a free list per shard (see detail/block_pool.hpp)
// while they are small, and heap memory when they grow beyond one block. A
// buffered_stream belongs to the shard of its stream; all calls are made from a fiber
// of that shard. The calls that wait (fill, read_*, write*, flush) suspend and follow
// the stream's contract on deadlines, errors and cancellation (see stream.hpp).
#include <dusty/net/stream.hpp>

#include <dusty/core/reactor.hpp>
#include <dusty/core/result.hpp>

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace dusty::net {

struct buffered_stream_config {
  /// Most bytes the input buffer holds; fill() fails with net::errc::input_limit when a
  /// caller wants more without consuming. Bounds the memory one peer can make us hold.
  /// Default: 64 KiB.
  std::size_t max_input = 64 * 1024;
};

class buffered_stream {
 public:
  /// Reads and writes through `next`, which must outlive this object.
  explicit buffered_stream(stream& next, buffered_stream_config config = {}) noexcept;
  buffered_stream(buffered_stream&& other) noexcept;
  buffered_stream& operator=(buffered_stream&& other) noexcept;
  /// Gives the buffers back; output not yet flushed is dropped.
  ~buffered_stream();

  stream& next_layer() const noexcept { return *next_; }

  // ---- reading ----

  /// The bytes received and not yet consumed. Valid until the next call that changes
  /// the buffer (consume, fill, read_*).
  std::span<const std::byte> data() const noexcept {
    return in_ ? std::span<const std::byte>(in_ + in_begin_, in_end_ - in_begin_) : std::span<const std::byte>();
  }
  /// data() as characters, for text protocols.
  std::string_view view() const noexcept {
    auto d = data();
    return {reinterpret_cast<const char*>(d.data()), d.size()};
  }
  /// Drops the first n bytes of data() (n <= data().size()). When nothing is left, the
  /// input buffer is given back. Never suspends.
  void consume(std::size_t n) noexcept;

  /// Receives more bytes (at least one) at the end of data(); returns how many. When
  /// data() is empty it waits without holding a buffer. Errors: errc::eof,
  /// errc::timed_out, net::errc::input_limit (data() already holds max_input bytes),
  /// stream errors.
  result<std::size_t> fill(deadline d = no_deadline);

  /// Fills until data() contains `delimiter`; returns the length of the prefix of data()
  /// that ends with it (nothing is consumed). Fails with net::errc::input_limit when that
  /// prefix would be longer than min(max, max_input) bytes, and with errc::eof when the
  /// peer closes first (what arrived stays in data()).
  result<std::size_t> read_until(std::string_view delimiter, std::size_t max, deadline d = no_deadline);

  /// Copies between 1 and buf.size() bytes out of the buffer, filling it first when it
  /// is empty. A read of a block or more into an empty buffer goes straight to the
  /// stream, with no copy. Errors as fill().
  result<std::size_t> read_some(std::span<std::byte> buf, deadline d = no_deadline);
  /// Reads exactly buf.size() bytes: what is buffered first, then from the stream.
  result<void> read_exact(std::span<std::byte> buf, deadline d = no_deadline);

  /// Bytes the input buffer can hold now; 0 while it is given back (between messages).
  std::size_t input_capacity() const noexcept { return in_cap_; }

  // ---- writing ----

  /// Buffers `buf`, or, when it does not fit in the output buffer, sends what is
  /// buffered and `buf` together in one gathered write (the payload is not copied).
  /// After an error the unsent output is dropped: the stream is broken.
  result<void> write(std::span<const std::byte> buf, deadline d = no_deadline);
  result<void> write(std::string_view text, deadline d = no_deadline) {
    return write(std::as_bytes(std::span(text.data(), text.size())), d);
  }
  /// Sends what is buffered followed by `bufs`, without copying the payloads.
  result<void> writev(std::span<const iovec> bufs, deadline d = no_deadline);
  /// Sends what is buffered, then `count` bytes of a file from `offset` through
  /// stream::send_file (without copying, on a connection).
  result<void> send_file(int file_fd, std::uint64_t offset, std::uint64_t count, deadline d = no_deadline);
  /// Sends what is buffered, then gives the output buffer back.
  result<void> flush(deadline d = no_deadline);
  /// Bytes written but not yet sent.
  std::size_t pending_output() const noexcept { return out_len_; }

  // ---- traffic ----

  /// Bytes received from the next layer so far (buffered or handed out).
  std::uint64_t bytes_received() const noexcept { return received_; }
  /// Bytes given to write()/writev()/send_file() so far, sent or still buffered.
  std::uint64_t bytes_written() const noexcept { return written_; }

 private:
  static std::span<std::byte> lazy_buffer(void* self);
  void make_room();
  void release_input() noexcept;
  void release_output() noexcept;

  stream* next_;
  std::size_t max_input_;
  std::byte* in_ = nullptr;  // a pool block when in_cap_ is one block, else from new[]
  std::size_t in_cap_ = 0;
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  std::byte* out_ = nullptr;  // a pool block, or null
  std::size_t out_len_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t written_ = 0;
};

}  // namespace dusty::net
