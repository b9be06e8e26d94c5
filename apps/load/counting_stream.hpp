#pragma once
// counting_stream: a stream (a TCP connection, or a tls::stream over one) that adds every
// byte it receives and sends to two counters, so dusty-load reports what crossed it
// (heads, bodies, framing; over TLS the plaintext, not the records) without the HTTP
// layer having to count anything. It can also wait for input with a
// deadline without giving it to anyone yet (wait_readable), which the open loop uses to
// sleep until either a response arrives or the next request is due.
#include <dusty/net/connection.hpp>
#include <dusty/net/stream.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

namespace dusty::load {

class counting_stream final : public net::stream {
 public:
  counting_stream(std::unique_ptr<net::stream> inner, std::uint64_t& received, std::uint64_t& sent) noexcept
      : inner_(std::move(inner)), received_(received), sent_(sent) {}
  counting_stream(net::connection c, std::uint64_t& received, std::uint64_t& sent)
      : counting_stream(std::make_unique<net::connection>(std::move(c)), received, sent) {}

  /// Waits until input is there, at most until `d`, and keeps what arrived for the next
  /// read. errc::timed_out leaves the stream usable (nothing was lost); other errors are
  /// the connection's. Suspends.
  result<void> wait_readable(deadline d) {
    if (held_ > 0) return {};
    if (!hold_) hold_ = std::make_unique<std::byte[]>(hold_size);
    auto r = inner_->read_some({hold_.get(), hold_size}, d);
    if (!r) return std::unexpected(r.error());
    received_ += *r;
    held_ = *r;
    held_at_ = 0;
    return {};
  }

 private:
  static constexpr std::size_t hold_size = 4096;

  std::size_t give_held(std::span<std::byte> buf) noexcept {
    std::size_t n = std::min(buf.size(), held_);
    std::memcpy(buf.data(), hold_.get() + held_at_, n);
    held_at_ += n;
    held_ -= n;
    return n;
  }

  result<std::size_t> do_read_some(std::span<std::byte> buf, deadline d) override {
    if (held_ > 0 && !buf.empty()) return give_held(buf);
    auto r = inner_->read_some(buf, d);
    if (r) received_ += *r;
    return r;
  }
  result<std::size_t> do_read_lazy(std::size_t max, buffer_source source, deadline d) override {
    if (held_ > 0 && max > 0) return give_held(source().first(max));
    auto r = inner_->read_lazy(max, source, d);
    if (r) received_ += *r;
    return r;
  }
  result<void> do_write(std::span<const std::byte> buf, deadline d) override {
    auto r = inner_->write(buf, d);
    if (r) sent_ += buf.size();
    return r;
  }
  result<void> do_writev(std::span<const iovec> bufs, deadline d) override {
    auto r = inner_->writev(bufs, d);
    if (r)
      for (auto& b : bufs) sent_ += b.iov_len;
    return r;
  }
  result<void> do_shutdown_write() override { return inner_->shutdown_write(); }
  void do_close() noexcept override { inner_->close(); }

  std::unique_ptr<net::stream> inner_;
  std::unique_ptr<std::byte[]> hold_;  // only for wait_readable (the open loop)
  std::size_t held_ = 0;
  std::size_t held_at_ = 0;
  std::uint64_t& received_;
  std::uint64_t& sent_;
};

}  // namespace dusty::load
