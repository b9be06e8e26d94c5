#include <dusty/http/error.hpp>

#include <gtest/gtest.h>

namespace dusty::http {
namespace {

TEST(error, codes_belong_to_the_http_category) {
  std::error_code ec = errc::uri_too_long;
  EXPECT_EQ(ec.category(), error_category());
  EXPECT_STREQ(error_category().name(), "dusty.http");
  EXPECT_EQ(ec, errc::uri_too_long);
  EXPECT_NE(ec, errc::header_too_large);
  EXPECT_TRUE(static_cast<bool>(ec));
}

TEST(error, every_code_has_a_message_and_a_status) {
  for (int v = static_cast<int>(errc::bad_request); v <= static_cast<int>(errc::too_many_query_params); ++v) {
    auto e = static_cast<errc>(v);
    std::error_code ec = e;
    EXPECT_FALSE(ec.message().empty()) << v;
    EXPECT_EQ(ec.message().find("unknown"), std::string::npos) << v;
    auto code = to_code(status_for(e));
    EXPECT_TRUE(code >= 400 && code < 600) << v;
    EXPECT_FALSE(reason_phrase(code).empty()) << v;
  }
  EXPECT_NE(error_category().message(9999).find("unknown"), std::string::npos);
}

TEST(error, statuses) {
  EXPECT_EQ(status_for(errc::bad_request), status::bad_request);
  EXPECT_EQ(status_for(errc::content_length_with_transfer_encoding), status::bad_request);
  EXPECT_EQ(status_for(errc::duplicate_content_length), status::bad_request);
  EXPECT_EQ(status_for(errc::invalid_chunk_size), status::bad_request);
  EXPECT_EQ(status_for(errc::uri_too_long), status::uri_too_long);
  EXPECT_EQ(status_for(errc::header_too_large), status::request_header_fields_too_large);
  EXPECT_EQ(status_for(errc::too_many_headers), status::request_header_fields_too_large);
  EXPECT_EQ(status_for(errc::body_too_large), status::content_too_large);
  EXPECT_EQ(status_for(errc::version_not_supported), status::http_version_not_supported);
  EXPECT_EQ(status_for(errc::unsupported_transfer_encoding), status::not_implemented);
  EXPECT_EQ(status_for(errc::unsupported_expectation), status::expectation_failed);
  EXPECT_EQ(status_for(errc::not_found), status::not_found);
  EXPECT_EQ(status_for(errc::method_not_allowed), status::method_not_allowed);
  EXPECT_EQ(status_for(errc::too_many_params), status::internal_server_error);
}

TEST(error, foreign_codes_map_to_500) {
  EXPECT_EQ(status_for(std::make_error_code(std::errc::connection_reset)), status::internal_server_error);
  EXPECT_EQ(status_for(std::error_code{errc::body_too_large}), status::content_too_large);
}

}  // namespace
}  // namespace dusty::http
