#include <dusty/http/response.hpp>

#include <dusty/http/codec/cookie.hpp>
#include <dusty/http/detail/ascii.hpp>

#include <algorithm>

namespace dusty::http {

void response::header(std::string_view name, std::string_view value) {
  validate_field(name, value);
  headers_.push_back({arena_->copy(name), arena_->copy(value)});
}

std::optional<std::string_view> response::header(std::string_view name) const noexcept {
  for (const auto& f : headers_)
    if (detail::iequals(f.name, name)) return f.value;
  return std::nullopt;
}

void response::content_type(std::string_view type) {
  for (auto& f : headers_) {
    if (detail::iequals(f.name, "content-type")) {
      validate_field(f.name, type);
      f.value = arena_->copy(type);
      return;
    }
  }
  header("Content-Type", type);
}

std::size_t response::remove_header(std::string_view name) noexcept {
  return std::erase_if(headers_, [name](const header_field& f) { return detail::iequals(f.name, name); });
}

void response::set_cookie(const http::set_cookie& cookie) { header("Set-Cookie", cookie.to_string()); }

void response::json(const nlohmann::json& value, unsigned status_code) {
  if (status_code) status = status_code;
  body = value.dump();
  content_type("application/json");
}

void response::start_streaming() {
  if (streaming_) return;
  if (head_sent_) throw std::logic_error("response head already sent without streaming");
  streaming_ = true;
  head_sent_ = true;
  sink_->send_head(*this);
}

void response::chunk(std::string_view data) {
  start_streaming();
  if (!data.empty()) sink_->send_piece(data);
  sink_->flush();
}

body_writer& response::writer() {
  if (!writer_) writer_.emplace(*this, writer_limit_);
  return *writer_;
}

event_stream response::start_event_stream() {
  content_type("text/event-stream");
  header("Cache-Control", "no-cache");
  header("X-Accel-Buffering", "no");  // ask nginx-style proxies not to buffer the stream
  start_streaming();
  sink_->flush();
  return event_stream(*sink_);
}

void body_writer::write(std::string_view data) {
  buffer_ += data;
  if (buffer_.size() >= limit_) flush();
}

void body_writer::flush() {
  res_->start_streaming();
  if (!buffer_.empty()) res_->sink_->send_piece(buffer_);
  buffer_.clear();
  res_->sink_->flush();
}

void event_stream::send(const sse_event& e) {
  scratch_.clear();
  if (!e.event.empty()) scratch_.append("event: ").append(e.event).append("\n");
  if (!e.id.empty()) scratch_.append("id: ").append(e.id).append("\n");
  if (e.retry) scratch_.append("retry: ").append(std::to_string(e.retry->count())).append("\n");
  // Every line of the data becomes its own "data:" line (the browser joins them with \n).
  std::string_view data = e.data;
  do {
    auto nl = data.find('\n');
    scratch_.append("data: ").append(data.substr(0, nl)).append("\n");
    data = nl == std::string_view::npos ? std::string_view() : data.substr(nl + 1);
  } while (!data.empty());
  scratch_ += '\n';
  sink_->send_piece(scratch_);
  sink_->flush();
}

void event_stream::comment(std::string_view text) {
  scratch_.assign(": ").append(text).append("\n\n");
  sink_->send_piece(scratch_);
  sink_->flush();
}

}  // namespace dusty::http
