#include <dusty/http/status.hpp>

#include <gtest/gtest.h>

namespace dusty::http {
namespace {

TEST(status, reason_phrases) {
  EXPECT_EQ(reason_phrase(status::ok), "OK");
  EXPECT_EQ(reason_phrase(status::not_found), "Not Found");
  EXPECT_EQ(reason_phrase(status::content_too_large), "Content Too Large");
  EXPECT_EQ(reason_phrase(status::request_header_fields_too_large), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(status::http_version_not_supported), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(418u), "");  // not registered with IANA
  EXPECT_EQ(reason_phrase(599u), "");
  EXPECT_EQ(reason_phrase(0u), "");
}

TEST(status, every_enumerator_has_a_phrase) {
  for (unsigned code = 100; code < 600; ++code) {
    auto s = static_cast<status>(code);
    switch (s) {
#define DUSTY_CHECK(name) \
  case status::name: EXPECT_FALSE(reason_phrase(s).empty()) << code; break;
      DUSTY_CHECK(continue_)
      DUSTY_CHECK(switching_protocols)
      DUSTY_CHECK(processing) DUSTY_CHECK(early_hints) DUSTY_CHECK(ok) DUSTY_CHECK(created) DUSTY_CHECK(
          accepted) DUSTY_CHECK(non_authoritative_information) DUSTY_CHECK(no_content)
          DUSTY_CHECK(reset_content) DUSTY_CHECK(partial_content) DUSTY_CHECK(multiple_choices) DUSTY_CHECK(
              moved_permanently) DUSTY_CHECK(found) DUSTY_CHECK(see_other) DUSTY_CHECK(not_modified)
              DUSTY_CHECK(temporary_redirect) DUSTY_CHECK(permanent_redirect) DUSTY_CHECK(bad_request)
                  DUSTY_CHECK(unauthorized) DUSTY_CHECK(payment_required) DUSTY_CHECK(forbidden) DUSTY_CHECK(
                      not_found) DUSTY_CHECK(method_not_allowed) DUSTY_CHECK(not_acceptable)
                      DUSTY_CHECK(proxy_authentication_required) DUSTY_CHECK(request_timeout)
                          DUSTY_CHECK(conflict) DUSTY_CHECK(gone) DUSTY_CHECK(length_required) DUSTY_CHECK(
                              precondition_failed) DUSTY_CHECK(content_too_large) DUSTY_CHECK(uri_too_long)
                              DUSTY_CHECK(unsupported_media_type) DUSTY_CHECK(range_not_satisfiable)
                                  DUSTY_CHECK(expectation_failed) DUSTY_CHECK(misdirected_request)
                                      DUSTY_CHECK(unprocessable_content) DUSTY_CHECK(upgrade_required)
                                          DUSTY_CHECK(precondition_required) DUSTY_CHECK(too_many_requests)
                                              DUSTY_CHECK(request_header_fields_too_large)
                                                  DUSTY_CHECK(unavailable_for_legal_reasons) DUSTY_CHECK(
                                                      internal_server_error) DUSTY_CHECK(not_implemented)
                                                      DUSTY_CHECK(bad_gateway)
                                                          DUSTY_CHECK(service_unavailable)
                                                              DUSTY_CHECK(gateway_timeout)
                                                                  DUSTY_CHECK(http_version_not_supported)
#undef DUSTY_CHECK
    }
  }
}

TEST(status, classes) {
  EXPECT_EQ(to_status_class(status::continue_), status_class::informational);
  EXPECT_EQ(to_status_class(204u), status_class::successful);
  EXPECT_EQ(to_status_class(399u), status_class::redirection);
  EXPECT_EQ(to_status_class(status::not_found), status_class::client_error);
  EXPECT_EQ(to_status_class(599u), status_class::server_error);
  EXPECT_EQ(to_status_class(600u), status_class::unknown);
  EXPECT_EQ(to_status_class(99u), status_class::unknown);
  EXPECT_EQ(to_code(status::ok), 200u);
}

TEST(status, body_rules) {
  EXPECT_FALSE(status_allows_body(100));
  EXPECT_FALSE(status_allows_body(101));
  EXPECT_FALSE(status_allows_body(204));
  EXPECT_FALSE(status_allows_body(304));
  EXPECT_TRUE(status_allows_body(200));
  EXPECT_TRUE(status_allows_body(404));
  EXPECT_TRUE(status_allows_body(205));
}

}  // namespace
}  // namespace dusty::http
