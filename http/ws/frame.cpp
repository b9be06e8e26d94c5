#include <dusty/http/ws/frame.hpp>

#include <algorithm>
#include <cstring>

namespace dusty::http::ws {

std::size_t parse_header(std::span<const std::byte> in, frame_header& out) noexcept {
  if (in.size() < 2) return 0;
  auto b0 = std::to_integer<std::uint8_t>(in[0]);
  auto b1 = std::to_integer<std::uint8_t>(in[1]);
  std::size_t size = 2;
  std::uint64_t length = b1 & 0x7F;
  std::size_t extra = length == 126 ? 2 : length == 127 ? 8 : 0;
  bool masked = (b1 & 0x80) != 0;
  if (in.size() < size + extra + (masked ? 4 : 0)) return 0;
  if (extra) {
    length = 0;
    for (std::size_t i = 0; i < extra; ++i) length = (length << 8) | std::to_integer<std::uint8_t>(in[size + i]);
    size += extra;
  }
  out.fin = (b0 & 0x80) != 0;
  out.rsv = (b0 >> 4) & 0x7;
  out.opcode = b0 & 0x0F;
  out.masked = masked;
  out.length = length;
  out.mask = {};
  if (masked) {
    std::memcpy(out.mask.data(), in.data() + size, 4);
    size += 4;
  }
  return size;
}

std::size_t write_header(std::span<std::byte, max_header_size> out, opcode op, bool fin, std::uint64_t length,
                         const mask_key* mask, std::uint8_t rsv) noexcept {
  out[0] = std::byte((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | static_cast<std::uint8_t>(op));
  std::uint8_t mask_bit = mask ? 0x80 : 0;
  std::size_t size = 2;
  if (length < 126) {
    out[1] = std::byte(mask_bit | length);
  } else if (length <= 0xFFFF) {
    out[1] = std::byte(mask_bit | 126);
    out[2] = std::byte(length >> 8);
    out[3] = std::byte(length & 0xFF);
    size = 4;
  } else {
    out[1] = std::byte(mask_bit | 127);
    for (int i = 0; i < 8; ++i) out[2 + i] = std::byte((length >> (56 - 8 * i)) & 0xFF);
    size = 10;
  }
  if (mask) {
    std::memcpy(out.data() + size, mask->data(), 4);
    size += 4;
  }
  return size;
}

void apply_mask(std::span<std::byte> data, const mask_key& key, std::size_t offset) noexcept {
  std::array<std::byte, 8> rotated;
  for (std::size_t i = 0; i < 8; ++i) rotated[i] = key[(offset + i) & 3];
  std::uint64_t word_key;
  std::memcpy(&word_key, rotated.data(), 8);
  std::size_t i = 0;
  for (; i + 8 <= data.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data.data() + i, 8);
    w ^= word_key;
    std::memcpy(data.data() + i, &w, 8);
  }
  for (; i < data.size(); ++i) data[i] ^= rotated[i & 7];
}

void append_frame(std::string& out, opcode op, std::string_view payload, bool fin) {
  std::array<std::byte, max_header_size> head;
  std::size_t n = write_header(head, op, fin, payload.size());
  out.append(reinterpret_cast<const char*>(head.data()), n);
  out.append(payload);
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  if (code == close_code::no_status) return {};
  if (reason.size() > 123) {
    reason = reason.substr(0, 123);
    // Do not cut a multi-byte sequence in two: back up to the start of the last one.
    while (!reason.empty() && !valid_utf8(reason)) reason.remove_suffix(1);
  }
  std::string out;
  out += static_cast<char>(code >> 8);
  out += static_cast<char>(code & 0xFF);
  out += reason;
  return out;
}

event reader::fail(std::uint16_t code, std::string_view why) noexcept {
  error_code_ = code;
  error_ = why;
  return {.kind = event_kind::error, .payload = why, .code = code};
}

event reader::next(std::span<const std::byte> in, std::size_t& used, delivery how) {
  used = 0;
  if (error_code_) return {.kind = event_kind::error, .payload = error_, .code = error_code_};
  // Out of input: with pieces, what the message has gathered goes out now.
  auto out_of_input = [&]() -> event {
    if (how == delivery::pieces && in_message_ && !message_.empty())
      return {.kind = event_kind::piece, .type = message_type_, .payload = message_};
    return {};
  };
  for (;;) {
    if (!in_frame_) {
      auto n = parse_header(in.subspan(used), frame_);
      if (n == 0) return out_of_input();
      used += n;
      const auto& h = frame_;
      auto op = static_cast<ws::opcode>(h.opcode);
      bool known = h.opcode <= 2 || (h.opcode >= 8 && h.opcode <= 10);
      if (!known) return fail(close_code::protocol_error, "reserved opcode");
      bool starts_message = !is_control(op) && op != ws::opcode::continuation;
      if (h.rsv && !(config_.deflate && h.rsv == 4 && starts_message))
        return fail(close_code::protocol_error, config_.deflate && h.rsv == 4 ? "RSV1 on a frame that does not begin a message"
                                                                               : "reserved bits set without an extension");
      if (h.masked != config_.expect_masked)
        return fail(close_code::protocol_error, config_.expect_masked ? "unmasked frame from a client" : "masked frame from a server");
      if (h.length >> 63) return fail(close_code::protocol_error, "frame length with its top bit set");
      if (is_control(op)) {
        if (!h.fin) return fail(close_code::protocol_error, "fragmented control frame");
        if (h.length > 125) return fail(close_code::protocol_error, "control frame longer than 125 bytes");
        control_len_ = 0;
      } else {
        if (op == ws::opcode::continuation && !in_message_)
          return fail(close_code::protocol_error, "continuation frame without a message");
        if (op != ws::opcode::continuation && in_message_)
          return fail(close_code::protocol_error, "new message before the last one ended");
        if (h.length > config_.max_frame_size) return fail(close_code::message_too_big, "frame too big");
        if (op != ws::opcode::continuation) {
          message_.clear();
          delivered_ = 0;
          utf8_.reset();
          message_type_ = op;
          in_message_ = true;
          compressed_ = h.rsv == 4;
          compressed_size_ = 0;
          if (compressed_) inflater_ = std::make_unique<inflater>();
        }
        if (compressed_) {
          if (h.length > config_.max_message_size - compressed_size_)
            return fail(close_code::message_too_big, "message too big");
          compressed_size_ += h.length;
        } else if (h.length > config_.max_message_size - delivered_ - message_.size()) {
          return fail(close_code::message_too_big, "message too big");
        }
      }
      in_frame_ = true;
      left_ = h.length;
      mask_pos_ = 0;
    }

    auto op = static_cast<ws::opcode>(frame_.opcode);
    std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(left_, in.size() - used));
    if (take) {
      const char* src = reinterpret_cast<const char*>(in.data() + used);
      if (!is_control(op) && compressed_) {
        // Unmasked into scratch, then inflated into the message within its limit.
        scratch_.assign(src, take);
        if (frame_.masked) apply_mask(std::as_writable_bytes(std::span(scratch_.data(), take)), frame_.mask, mask_pos_);
        auto old = message_.size();
        auto r = inflater_->inflate(scratch_, message_, config_.max_message_size - delivered_);
        // What came out before a failure is checked first: fed in smaller pieces, it would
        // have been, and the error may not depend on the split.
        if (message_type_ == ws::opcode::text && !utf8_.feed(std::string_view(message_).substr(old)))
          return fail(close_code::invalid_payload, "text message is not valid UTF-8");
        if (r == inflater::result::too_big) return fail(close_code::message_too_big, "message too big once inflated");
        if (r == inflater::result::corrupt) return fail(close_code::invalid_payload, "invalid compressed data");
      } else {
        char* dst;
        if (is_control(op)) {
          dst = control_.data() + control_len_;
          control_len_ += take;
        } else {
          auto old = message_.size();
          message_.resize(old + take);
          dst = message_.data() + old;
        }
        std::memcpy(dst, src, take);
        if (frame_.masked) apply_mask(std::as_writable_bytes(std::span(dst, take)), frame_.mask, mask_pos_);
        if (!is_control(op) && message_type_ == ws::opcode::text && !utf8_.feed({dst, take}))
          return fail(close_code::invalid_payload, "text message is not valid UTF-8");
      }
      mask_pos_ += take;
      left_ -= take;
      used += take;
    }
    if (left_ > 0) return out_of_input();
    in_frame_ = false;

    if (is_control(op)) {
      std::string_view payload(control_.data(), control_len_);
      if (op == ws::opcode::ping) return {.kind = event_kind::ping, .payload = payload};
      if (op == ws::opcode::pong) return {.kind = event_kind::pong, .payload = payload};
      if (payload.empty()) return {.kind = event_kind::close, .code = close_code::no_status};
      if (payload.size() == 1) return fail(close_code::protocol_error, "close frame with a one-byte payload");
      auto code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]));
      if (!close_code_valid(code)) return fail(close_code::protocol_error, "invalid close code");
      auto reason = payload.substr(2);
      if (!valid_utf8(reason)) return fail(close_code::invalid_payload, "close reason is not valid UTF-8");
      return {.kind = event_kind::close, .payload = reason, .code = code};
    }
    if (frame_.fin) {
      if (compressed_) {
        auto old = message_.size();
        auto r = inflater_->finish(message_, config_.max_message_size - delivered_);
        inflater_.reset();
        if (message_type_ == ws::opcode::text && !utf8_.feed(std::string_view(message_).substr(old)))
          return fail(close_code::invalid_payload, "text message is not valid UTF-8");
        if (r == inflater::result::too_big) return fail(close_code::message_too_big, "message too big once inflated");
        if (r == inflater::result::corrupt) return fail(close_code::invalid_payload, "invalid compressed data");
      }
      if (message_type_ == ws::opcode::text && !utf8_.complete())
        return fail(close_code::invalid_payload, "text message ends inside a UTF-8 sequence");
      in_message_ = false;
      return {.kind = event_kind::message, .type = message_type_, .payload = message_};
    }
  }
}

}  // namespace dusty::http::ws
