#pragma once
// head_collector::execute(), inline: a request parser calls it once per read, and on a head
// arriving a few bytes at a time an out-of-line call costs ~10% (perf/http/parser_bench.cpp,
// parse_byte_by_byte). It needs llhttp.h, so only the parsers' .cpp files include it.

#include <dusty/http/h1/head_collector.hpp>

#include <llhttp.h>

namespace dusty::http::h1 {

inline head_collector::step head_collector::execute(std::string_view buffer, std::size_t stop) noexcept {
  auto* p = static_cast<llhttp_t*>(llhttp());
  p->data = this;
  base = buffer.data();
  switch (llhttp_execute(p, buffer.data() + fed, stop - fed)) {
    case HPE_PAUSED:  // by on_headers_complete: the head ends here
      fed = static_cast<std::uint32_t>(llhttp_get_error_pos(p) - buffer.data());
      return step::head_end;
    case HPE_OK:
      fed = static_cast<std::uint32_t>(stop);
      return step::need_more;
    case HPE_USER: return step::too_many_fields;
    default: break;
  }
  // llhttp reports a field name when it ends, or when the input does; so fed byte by byte,
  // the field one past max_headers is too many at its first byte, while fed whole, a bad
  // byte later in its name would win. Errors must not depend on the split (the parsers'
  // contract): a failure on the line after the last field allowed, past its first byte,
  // is that field's.
  const auto error_at = static_cast<std::size_t>(llhttp_get_error_pos(p) - buffer.data());
  const auto line = buffer.rfind('\n', error_at - 1) + 1;  // npos + 1 == 0
  if (!raw_fields.empty() && raw_fields.size() == max_headers && line > raw_fields.back().name.offset &&
      line < error_at) {
    return step::too_many_fields;
  }
  return step::llhttp_error;
}

}  // namespace dusty::http::h1
