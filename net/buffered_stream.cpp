#include <dusty/net/buffered_stream.hpp>

#include <dusty/net/detail/block_pool.hpp>
#include <dusty/net/error.hpp>

#include <algorithm>
#include <cstring>
#include <utility>

namespace dusty::net {
namespace {

using detail::block_pool;
constexpr std::size_t block = block_pool::block_size;

}  // namespace

buffered_stream::buffered_stream(stream& next, buffered_stream_config config) noexcept
    : next_(&next), max_input_(std::max<std::size_t>(config.max_input, 1)) {}

buffered_stream::buffered_stream(buffered_stream&& o) noexcept
    : next_(o.next_),
      max_input_(o.max_input_),
      in_(std::exchange(o.in_, nullptr)),
      in_cap_(std::exchange(o.in_cap_, 0)),
      in_begin_(std::exchange(o.in_begin_, 0)),
      in_end_(std::exchange(o.in_end_, 0)),
      out_(std::exchange(o.out_, nullptr)),
      out_len_(std::exchange(o.out_len_, 0)),
      received_(std::exchange(o.received_, 0)),
      written_(std::exchange(o.written_, 0)) {}

buffered_stream& buffered_stream::operator=(buffered_stream&& o) noexcept {
  if (this != &o) {
    release_input();
    release_output();
    next_ = o.next_;
    max_input_ = o.max_input_;
    in_ = std::exchange(o.in_, nullptr);
    in_cap_ = std::exchange(o.in_cap_, 0);
    in_begin_ = std::exchange(o.in_begin_, 0);
    in_end_ = std::exchange(o.in_end_, 0);
    out_ = std::exchange(o.out_, nullptr);
    out_len_ = std::exchange(o.out_len_, 0);
    received_ = std::exchange(o.received_, 0);
    written_ = std::exchange(o.written_, 0);
  }
  return *this;
}

buffered_stream::~buffered_stream() {
  release_input();
  release_output();
}

void buffered_stream::release_input() noexcept {
  if (!in_) return;
  if (in_cap_ == block)
    block_pool::local().put(in_);
  else
    delete[] in_;
  in_ = nullptr;
  in_cap_ = in_begin_ = in_end_ = 0;
}

void buffered_stream::release_output() noexcept {
  if (out_) block_pool::local().put(std::exchange(out_, nullptr));
  out_len_ = 0;
}

void buffered_stream::consume(std::size_t n) noexcept {
  in_begin_ += std::min(n, in_end_ - in_begin_);
  if (in_begin_ == in_end_) release_input();
}

// The buffer_source of a lazy receive: runs only once data has arrived.
std::span<std::byte> buffered_stream::lazy_buffer(void* ctx) {
  auto* self = static_cast<buffered_stream*>(ctx);
  if (!self->in_) {
    self->in_ = block_pool::local().get();
    self->in_cap_ = block;
  }
  return {self->in_ + self->in_end_, self->in_cap_ - self->in_end_};
}

// Makes space after in_end_: moves the data to the front when little room is left
// behind it (so receives are not dribbled into a sliver), and grows a full buffer.
void buffered_stream::make_room() {
  if (in_begin_ > 0 && in_cap_ - in_end_ < in_cap_ / 4) {
    std::memmove(in_, in_ + in_begin_, in_end_ - in_begin_);
    in_end_ -= std::exchange(in_begin_, 0);
  }
  if (in_end_ < in_cap_) return;
  // Full and not yet at the limit (fill checked): double, but not past the limit.
  std::size_t cap = std::min(std::max(in_cap_ * 2, block), std::max(max_input_, block));
  auto* bigger = new std::byte[cap];
  std::memcpy(bigger, in_, in_end_);
  std::size_t end = in_end_;
  release_input();
  in_ = bigger;
  in_cap_ = cap;
  in_end_ = end;
}

result<std::size_t> buffered_stream::fill(deadline d) {
  std::size_t live = in_end_ - in_begin_;
  if (live >= max_input_) return fail(errc::input_limit);
  if (!in_) {
    // Give the block back if the receive fails, or throws, before any byte arrived.
    struct keep_only_data {
      buffered_stream* s;
      ~keep_only_data() {
        if (s->in_begin_ == s->in_end_) s->release_input();
      }
    } guard{this};
    auto n = next_->read_lazy(std::min(block, max_input_), {&lazy_buffer, this}, d);
    if (n) {
      in_end_ += *n;
      received_ += *n;
    }
    return n;
  }
  make_room();
  std::size_t room = std::min(in_cap_ - in_end_, max_input_ - live);
  auto n = next_->read_some({in_ + in_end_, room}, d);
  if (n) {
    in_end_ += *n;
    received_ += *n;
  }
  return n;
}

result<std::size_t> buffered_stream::read_until(std::string_view delimiter, std::size_t max, deadline d) {
  std::size_t limit = std::min(max, max_input_);
  std::size_t from = 0;
  for (;;) {
    std::string_view v = view();
    if (auto pos = v.find(delimiter, from); pos != std::string_view::npos) {
      if (pos + delimiter.size() > limit) return fail(errc::input_limit);
      return pos + delimiter.size();
    }
    if (v.size() >= limit) return fail(errc::input_limit);
    // Search again only where a delimiter could end in the new bytes.
    from = v.size() >= delimiter.size() ? v.size() - delimiter.size() + 1 : 0;
    if (auto n = fill(d); !n) return fail(n.error());
  }
}

result<std::size_t> buffered_stream::read_some(std::span<std::byte> buf, deadline d) {
  if (buf.empty()) return std::size_t{0};
  if (in_begin_ == in_end_) {
    if (buf.size() >= block) {
      auto n = next_->read_some(buf, d);
      if (n) received_ += *n;
      return n;
    }
    if (auto n = fill(d); !n) return fail(n.error());
  }
  std::size_t n = std::min(buf.size(), in_end_ - in_begin_);
  std::memcpy(buf.data(), in_ + in_begin_, n);
  consume(n);
  return n;
}

result<void> buffered_stream::read_exact(std::span<std::byte> buf, deadline d) {
  while (!buf.empty()) {
    auto n = read_some(buf, d);
    if (!n) return fail(n.error());
    buf = buf.subspan(*n);
  }
  return {};
}

result<void> buffered_stream::write(std::span<const std::byte> buf, deadline d) {
  written_ += buf.size();
  if (out_len_ + buf.size() <= block) {
    if (buf.empty()) return {};
    if (!out_) out_ = block_pool::local().get();
    std::memcpy(out_ + out_len_, buf.data(), buf.size());
    out_len_ += buf.size();
    return {};
  }
  if (out_len_ == 0) return next_->write(buf, d);
  iovec both[2] = {{out_, out_len_}, {const_cast<std::byte*>(buf.data()), buf.size()}};
  auto r = next_->writev(both, d);
  release_output();
  return r;
}

result<void> buffered_stream::writev(std::span<const iovec> bufs, deadline d) {
  for (const auto& b : bufs) written_ += b.iov_len;
  if (out_len_ == 0) return next_->writev(bufs, d);
  // Put the buffered bytes in front of a short gather list; flush separately before a
  // long one rather than allocate a combined list.
  constexpr std::size_t small = 16;
  if (bufs.size() < small) {
    iovec all[small];
    all[0] = {out_, out_len_};
    std::copy(bufs.begin(), bufs.end(), all + 1);
    auto r = next_->writev({all, bufs.size() + 1}, d);
    release_output();
    return r;
  }
  if (auto r = flush(d); !r) return r;
  return next_->writev(bufs, d);
}

result<void> buffered_stream::send_file(int file_fd, std::uint64_t offset, std::uint64_t count, deadline d) {
  if (auto r = flush(d); !r) return r;
  written_ += count;
  return next_->send_file(file_fd, offset, count, d);
}

result<void> buffered_stream::flush(deadline d) {
  if (out_len_ == 0) return {};
  auto r = next_->write({out_, out_len_}, d);
  release_output();
  return r;
}

}  // namespace dusty::net
