#include <dusty/http/h1/body_decoder.hpp>

#include <dusty/http/detail/ascii.hpp>

#include <algorithm>

namespace dusty::http::h1 {

using detail::is_ows;
using detail::is_token_char;
using detail::hex_value;
namespace {

// Bytes allowed in a chunk extension or trailer value: anything but controls, except HTAB
// (RFC 9110 section 5.5; obs-text is allowed).
bool is_field_byte(char c) noexcept {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

}  // namespace

result<body_decoder> body_decoder::create(body_framing framing, std::uint64_t content_length,
                                          const body_limits& limits) {
  body_decoder d;
  d.limits_ = limits;
  d.framing_ = framing;
  switch (framing) {
    case body_framing::none: break;
    case body_framing::content_length:
      if (content_length > limits.max_body_size) {
        return std::unexpected(make_error_code(errc::body_too_large));
      }
      d.remaining_ = content_length;
      d.state_ = content_length == 0 ? state::done : state::identity;
      break;
    case body_framing::chunked: d.state_ = state::size; break;
    case body_framing::until_close:  // the caller reads to the close itself; nothing to decode
      return std::unexpected(make_error_code(errc::bad_request));
  }
  return d;
}

std::error_code body_decoder::fail(errc e) noexcept {
  state_ = state::failed;
  error_ = e;
  return e;
}

result<body_decoder::piece> body_decoder::decode(std::string_view input) {
  if (state_ == state::failed) {
    return std::unexpected(make_error_code(error_));
  }
  std::size_t i = 0;
  const std::size_t n = input.size();
  auto error = [&](errc e) { return std::unexpected(fail(e)); };
  auto take_data = [&]() -> piece {
    auto size = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, n - i));
    piece out{i + size, input.substr(i, size)};
    remaining_ -= size;
    body_size_ += size;
    if (remaining_ == 0) {
      state_ = state_ == state::identity ? state::done : state::data_cr;
    }
    return out;
  };

  while (i < n) {
    const char c = input[i];
    const state before = state_;
    switch (state_) {
      case state::done: return piece{i, {}};
      case state::failed: return std::unexpected(make_error_code(error_));
      case state::identity:
      case state::data: return take_data();

      case state::size:
        if (int v = hex_value(c); v >= 0) {
          if (remaining_ > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
            return error(errc::invalid_chunk_size);
          }
          remaining_ = remaining_ << 4 | static_cast<unsigned>(v);
          size_digits_ = true;
        } else if (!size_digits_) {
          return error(errc::invalid_chunk_size);
        } else if (c == '\r') {
          state_ = state::size_lf;
        } else if (c == ';') {
          state_ = state::extension;
        } else if (is_ows(c)) {
          state_ = state::size_ws;
        } else {
          return error(errc::invalid_chunk_size);
        }
        break;
      case state::size_ws:
        if (c == ';') {
          state_ = state::extension;
        } else if (!is_ows(c)) {
          return error(errc::invalid_chunk);
        }
        break;
      case state::extension:
        if (c == '\r') {
          state_ = state::size_lf;
        } else if (!is_field_byte(c)) {
          return error(errc::invalid_chunk);
        }
        break;
      case state::size_lf:
        if (c != '\n') {
          return error(errc::invalid_chunk);
        }
        if (remaining_ > limits_.max_body_size - body_size_) {
          return error(errc::body_too_large);
        }
        state_ = remaining_ == 0 ? state::trailer_start : state::data;
        size_digits_ = false;
        line_size_ = 0;
        ++i;
        continue;
      case state::data_cr:
        if (c != '\r') {
          return error(errc::invalid_chunk);
        }
        state_ = state::data_lf;
        break;
      case state::data_lf:
        if (c != '\n') {
          return error(errc::invalid_chunk);
        }
        state_ = state::size;
        break;

      case state::trailer_start:
        if (c == '\r') {
          state_ = state::final_lf;
        } else if (is_token_char(c)) {
          state_ = state::trailer_name;
        } else {
          return error(errc::invalid_chunk);  // includes obs-fold and empty names
        }
        break;
      case state::trailer_name:
        if (c == ':') {
          state_ = state::trailer_value;
        } else if (!is_token_char(c)) {
          return error(errc::invalid_chunk);
        }
        break;
      case state::trailer_value:
        if (c == '\r') {
          state_ = state::trailer_lf;
        } else if (!is_field_byte(c)) {
          return error(errc::invalid_chunk);
        }
        break;
      case state::trailer_lf:
        if (c != '\n') {
          return error(errc::invalid_chunk);
        }
        state_ = state::trailer_start;
        break;
      case state::final_lf:
        if (c != '\n') {
          return error(errc::invalid_chunk);
        }
        state_ = state::done;
        return piece{i + 1, {}};
    }

    // Only framing bytes reach this point; bound the work spent on them.
    ++i;
    if (before == state::size || before == state::size_ws || before == state::extension) {
      if (c != '\r' && ++line_size_ > limits_.max_chunk_line) {
        return error(errc::invalid_chunk);
      }
    } else if (before >= state::trailer_start && ++line_size_ > limits_.max_trailer_size) {
      return error(errc::header_too_large);
    }
  }
  return piece{i, {}};
}

}  // namespace dusty::http::h1
