// The stub resolver's DNS message parser (net/detail/dns_message), which reads whatever
// comes back on its UDP or TCP socket.
//
// Properties: parse() and extract() never crash or overrun; the query the resolver would
// build for a valid name parses back to that name, as its question.
#include <dusty/net/detail/dns_message.hpp>

#include "fuzz.hpp"

namespace dns = dusty::net::detail::dns;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto bytes = std::as_bytes(std::span(data, size));
  if (auto m = dns::parse(bytes)) {
    for (auto type : {dns::type_a, dns::type_aaaa}) {
      auto found = dns::extract(*m, m->question_name, type);
      DUSTY_FUZZ_CHECK(found.v4.size() + found.v6.size() <= m->answers.size());
    }
  }

  auto name = dusty::fuzz::text(data, size);
  if (dns::valid_host_name(name)) {
    auto query = dns::build_query(0x1234, name, dns::type_aaaa);
    DUSTY_FUZZ_CHECK(query.has_value());
    auto back = dns::parse(*query);
    DUSTY_FUZZ_CHECK(back.has_value());
    DUSTY_FUZZ_CHECK(back->id == 0x1234 && !back->is_response && back->question_type == dns::type_aaaa);
    DUSTY_FUZZ_CHECK(back->question_name == dns::canonical_name(name));
  }
  return 0;
}
