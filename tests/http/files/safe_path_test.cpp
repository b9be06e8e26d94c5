#include <dusty/http/files/directory_listing.hpp>
#include <dusty/http/files/mime.hpp>
#include <dusty/http/files/safe_path.hpp>

#include "support/support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

namespace files = dusty::http::files;

TEST(SafePath, DecodesOnceAndCollapsesEmptyAndDotSegments) {
  EXPECT_EQ(files::relative_path("css/%73ite.css", false).path, "css/site.css");
  EXPECT_EQ(files::relative_path("a//./b/", false).path, "a/b");
  EXPECT_TRUE(files::relative_path("a//./b/", false).directory);
  EXPECT_FALSE(files::relative_path("a/b", false).directory);
  EXPECT_TRUE(files::relative_path("a/b/.", false).directory);
  EXPECT_EQ(files::relative_path("", false).path, "");
  EXPECT_TRUE(files::relative_path("", false).directory);
  // Decoded once: "%252e%252e" is the literal name "%2e%2e", not "..".
  auto literal = files::relative_path("%252e%252e/x", false);
  EXPECT_EQ(literal.status, 0u);
  EXPECT_EQ(literal.path, "%2e%2e/x");
  // An encoded slash separates segments after decoding.
  EXPECT_EQ(files::relative_path("sub%2fsite.css", false).path, "sub/site.css");
  EXPECT_EQ(files::relative_path("caf%C3%A9 menu.txt", false).path, "caf\xc3\xa9 menu.txt");
}

TEST(SafePath, RefusesTraversalInEveryDisguise) {
  for (const char* raw : {"../etc/passwd", "a/../../etc/passwd", "%2e%2e/etc/passwd", ".%2e/x", "%2E%2E%2Fetc",
                          "sub%2f..%2f..%2fetc/passwd", "a/..", ".."}) {
    auto r = files::relative_path(raw, true);
    EXPECT_EQ(r.status, 400u) << raw;
    EXPECT_TRUE(r.path.empty()) << raw;
  }
  for (const char* raw : {"..%5c..%5cetc/passwd", "a\\b", "x%00.html", "%c0%ae%c0%ae/etc/passwd", "%c0%af", "%ff"}) {
    EXPECT_EQ(files::relative_path(raw, true).status, 400u) << raw;
  }
}

TEST(SafePath, HiddenNamesAreRefusedUnlessAllowed) {
  EXPECT_EQ(files::relative_path(".env", false).status, 404u);
  EXPECT_EQ(files::relative_path("a/.git/config", false).status, 404u);
  EXPECT_EQ(files::relative_path("%2egit/config", false).status, 404u);
  EXPECT_EQ(files::relative_path(".env", true).status, 0u);
  EXPECT_EQ(files::relative_path("a/.well-known/x", true).path, "a/.well-known/x");
}

TEST(Mime, KnownUnknownAndOverridden) {
  EXPECT_EQ(files::mime_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(files::mime_type("a/b/APP.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(files::mime_type("x.tar.gz"), "application/gzip");
  EXPECT_EQ(files::mime_type("logo.svg"), "image/svg+xml");
  EXPECT_EQ(files::mime_type("noext"), "application/octet-stream");
  EXPECT_EQ(files::mime_type("dir.d/noext"), "application/octet-stream");
  EXPECT_EQ(files::mime_type("trailing."), "application/octet-stream");
  EXPECT_EQ(files::mime_type("x.unknownext"), "application/octet-stream");
  files::mime_overrides o{{"wasm", "application/x-custom"}, {"log", "text/plain"}};
  EXPECT_EQ(files::mime_type("m.WASM", o), "application/x-custom");
  EXPECT_EQ(files::mime_type("app.log", o), "text/plain");
  EXPECT_EQ(files::mime_type("a.css", o), "text/css; charset=utf-8");
}

TEST(DirectoryListing, EscapesNamesAndSortsThem) {
  dusty::test::temp_dir dir;
  dir.write("b.txt", "b");
  dir.write("<script>alert(1)<script>", "x");
  dir.write("a\"q'.txt", "x");
  dir.write(".hidden", "x");
  std::filesystem::create_directory(dir.path("sub dir"));
  int fd = ::open(dir.path("").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto html = files::directory_listing(fd, "/x/<y>/", false);
  ::close(fd);
  ASSERT_TRUE(html);
  EXPECT_EQ(html->find("<script>"), std::string::npos);
  EXPECT_NE(html->find("&lt;script&gt;alert(1)&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html->find("href=\"%3Cscript%3Ealert%281%29%3Cscript%3E\""), std::string::npos);
  EXPECT_NE(html->find("a&quot;q&#39;.txt"), std::string::npos);
  EXPECT_NE(html->find("href=\"sub%20dir/\""), std::string::npos);
  EXPECT_NE(html->find("Index of /x/&lt;y&gt;/"), std::string::npos);
  EXPECT_EQ(html->find(".hidden"), std::string::npos);
  EXPECT_LT(html->find("a&quot;"), html->find("b.txt"));
}
