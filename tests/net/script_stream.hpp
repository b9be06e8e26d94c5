#pragma once
// A stream test double: reads come from a script of chunks (one chunk, or what fits of
// it, per read), writes are recorded. No sockets and no runtime needed.
#include <dusty/core/error.hpp>
#include <dusty/net/stream.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace dusty::net::testing {

class script_stream final : public stream {
 public:
  explicit script_stream(std::deque<std::string> chunks = {}) : chunks_(std::move(chunks)) {}

  void add(std::string chunk) { chunks_.push_back(std::move(chunk)); }

  std::string written;                       ///< Everything written, in order.
  std::vector<std::size_t> write_calls;      ///< Bytes per write()/writev() call.
  std::vector<std::vector<iovec>> gathers;   ///< The segments of each writev().
  int lazy_reads = 0;                        ///< do_read_lazy calls.
  std::vector<std::size_t> read_sizes;       ///< Buffer size of each do_read_some call.
  bool write_shut = false;
  bool closed = false;

 private:
  result<std::size_t> do_read_some(std::span<std::byte> buf, deadline) override {
    read_sizes.push_back(buf.size());
    if (buf.empty()) return std::size_t{0};
    if (chunks_.empty()) return fail(dusty::errc::eof);
    std::string& front = chunks_.front();
    std::size_t n = std::min(buf.size(), front.size());
    std::memcpy(buf.data(), front.data(), n);
    front.erase(0, n);
    if (front.empty()) chunks_.pop_front();
    return n;
  }
  result<std::size_t> do_read_lazy(std::size_t max, buffer_source source, deadline d) override {
    ++lazy_reads;
    return stream::do_read_lazy(max, source, d);  // the default under test
  }
  result<void> do_write(std::span<const std::byte> buf, deadline) override {
    written.append(reinterpret_cast<const char*>(buf.data()), buf.size());
    write_calls.push_back(buf.size());
    return {};
  }
  result<void> do_writev(std::span<const iovec> bufs, deadline) override {
    std::size_t total = 0;
    for (const auto& v : bufs) {
      written.append(static_cast<const char*>(v.iov_base), v.iov_len);
      total += v.iov_len;
    }
    write_calls.push_back(total);
    gathers.emplace_back(bufs.begin(), bufs.end());
    return {};
  }
  result<void> do_shutdown_write() override {
    write_shut = true;
    return {};
  }
  void do_close() noexcept override { closed = true; }

  std::deque<std::string> chunks_;
};

}  // namespace dusty::net::testing
