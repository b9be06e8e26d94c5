// Query strings, urlencoded forms and percent-decoding.
//
// Properties: the allocation-free parse_query and query_params agree; percent_decode into a
// buffer and into a string agree; decoding what percent_encode wrote gives the input back.
#include <dusty/http/codec/form.hpp>
#include <dusty/http/codec/percent.hpp>
#include <dusty/http/codec/query.hpp>

#include "fuzz.hpp"

#include <array>
#include <string>
#include <vector>

using namespace dusty::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto in = dusty::fuzz::text(data, size);

  std::array<query_param, default_max_query_params> params;
  std::vector<char> scratch(in.size());
  auto n = parse_query(in, params, scratch);
  query_params q;
  auto r = q.parse(in);
  DUSTY_FUZZ_CHECK(n.has_value() == r.has_value());
  if (n) {
    DUSTY_FUZZ_CHECK(*n == q.size());
    for (std::size_t i = 0; i < *n; ++i) {
      DUSTY_FUZZ_CHECK(params[i].key == q.params()[i].key && params[i].value == q.params()[i].value);
    }
  }

  form_fields form;
  if (form.parse(in, {.max_fields = 8, .max_size = 256})) DUSTY_FUZZ_CHECK(form.size() <= 8);
  (void)is_form_urlencoded(in);

  for (auto plus : {plus_is_space::no, plus_is_space::yes}) {
    std::string decoded = percent_decode(in, plus);
    std::vector<char> buffer(in.size());
    auto len = percent_decode(in, buffer, plus);
    DUSTY_FUZZ_CHECK(std::string_view(buffer.data(), len) == decoded);
    if (!needs_decoding(in, plus)) DUSTY_FUZZ_CHECK(decoded == in);
  }
  std::string encoded;
  percent_encode(encoded, in);
  DUSTY_FUZZ_CHECK(percent_decode(encoded) == in);
  return 0;
}
