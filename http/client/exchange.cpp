#include <dusty/http/client/exchange.hpp>

#include <algorithm>
#include <cstring>
#include <utility>

namespace dusty::http::detail {
namespace {
constexpr std::string_view reading_body = "reading the body from";
}

client_exchange::client_exchange(client_lease lease, fetch_context ctx, std::optional<content_coding> coding)
    : lease_(std::move(lease)), ctx_(std::move(ctx)) {
  if (coding && *coding != content_coding::identity) decoder_.emplace(*coding, ctx_.max_response_size);
  conn().set_read_timeout(ctx_.read_timeout);
}

client_exchange::~client_exchange() {
  if (!done_) lease_.discard();
}

void client_exchange::fail(const client_error& e) {
  done_ = true;
  lease_.discard();
  lease_.release();
  throw e;
}

void client_exchange::end() {
  done_ = true;
  lease_.release();
}

void client_exchange::check_size(std::uint64_t more) {
  if (more > ctx_.max_response_size - delivered_) fail(too_large_error(ctx_));
  delivered_ += more;
}

std::size_t client_exchange::read_some(std::span<char> buf) {
  if (buf.empty()) return 0;
  if (!decoder_) {
    if (done_) return 0;
    const auto& h = conn().head();
    if (delivered_ == 0 && h.framing == body_framing::content_length && h.content_length > ctx_.max_response_size) {
      fail(too_large_error(ctx_));
    }
    auto n = conn().read_body(buf, ctx_.request_deadline);
    if (!n) fail(transfer_error(n.error(), reading_body, ctx_, tls_detail(conn())));
    if (*n == 0) {
      end();
      return 0;
    }
    check_size(*n);
    return *n;
  }
  while (pending_offset_ == pending_.size()) {
    if (done_) return 0;
    pending_.clear();
    pending_offset_ = 0;
    auto piece = conn().read_body_some(ctx_.request_deadline);
    if (!piece) fail(transfer_error(piece.error(), reading_body, ctx_, tls_detail(conn())));
    if (piece->empty()) {
      if (auto f = decoder_->finish(); !f) {
        fail(client_error(f.error(), "truncated compressed body from " + ctx_.peer));
      }
      end();
      return 0;
    }
    if (auto w = decoder_->write(*piece, pending_); !w) {
      if (w.error() == errc::response_too_large) fail(too_large_error(ctx_));
      fail(client_error(w.error(), "invalid compressed body from " + ctx_.peer));
    }
  }
  auto n = std::min(buf.size(), pending_.size() - pending_offset_);
  std::memcpy(buf.data(), pending_.data() + pending_offset_, n);
  pending_offset_ += n;
  delivered_ += n;
  return n;
}

void client_exchange::read_all(std::string& out) {
  if (pending_offset_ < pending_.size()) {
    out.append(pending_, pending_offset_);
    pending_offset_ = pending_.size();
  }
  if (done_) return;
  if (!decoder_) {
    const auto& h = conn().head();
    if (h.framing == body_framing::content_length) {
      if (h.content_length > ctx_.max_response_size) fail(too_large_error(ctx_));
      out.reserve(out.size() + h.content_length);
    }
  }
  for (;;) {
    auto piece = conn().read_body_some(ctx_.request_deadline);
    if (!piece) fail(transfer_error(piece.error(), reading_body, ctx_, tls_detail(conn())));
    if (piece->empty()) break;
    if (decoder_) {
      if (auto w = decoder_->write(*piece, out); !w) {
        if (w.error() == errc::response_too_large) fail(too_large_error(ctx_));
        fail(client_error(w.error(), "invalid compressed body from " + ctx_.peer));
      }
    } else {
      check_size(piece->size());
      out.append(*piece);
    }
  }
  if (decoder_) {
    if (auto f = decoder_->finish(); !f) fail(client_error(f.error(), "truncated compressed body from " + ctx_.peer));
  }
  end();
}

void client_exchange::abandon(std::uint64_t drain_max) {
  if (done_) return;
  done_ = true;
  // A short body already on its way is cheaper to read than a new connection is to open.
  auto limit = std::min<std::chrono::milliseconds>(ctx_.read_timeout.count() > 0 ? ctx_.read_timeout : std::chrono::milliseconds(1000),
                                                   std::chrono::milliseconds(1000));
  auto d = std::min(ctx_.request_deadline, after(limit));
  if (conn().skip_body(d, drain_max)) {
    lease_.release();
  } else {
    lease_.discard();
    lease_.release();
  }
}

}  // namespace dusty::http::detail
