#include <dusty/http/files/open_beneath.hpp>

#include "support/support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace files = dusty::http::files;

namespace {

struct tree {
  dusty::test::temp_dir outer;
  int root = -1;
  tree() {
    std::filesystem::create_directories(outer.path("www/sub"));
    std::filesystem::create_directories(outer.path("www-private"));
    outer.write("www/sub/a.txt", "a");
    outer.write("www-private/secret", "s");
    outer.write("outside.txt", "o");
    std::filesystem::create_symlink("../outside.txt", outer.path("www/up"));
    std::filesystem::create_symlink("../www-private/secret", outer.path("www/prefix"));
    std::filesystem::create_symlink("/proc/self/root/etc/passwd", outer.path("www/magic"));
    std::filesystem::create_symlink("sub/a.txt", outer.path("www/inside"));
    ::mkfifo(outer.path("www/fifo").c_str(), 0600);
    root = ::open(outer.path("www").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  }
  ~tree() { ::close(root); }
};

}  // namespace

TEST(OpenBeneath, OpensFilesAndDirectoriesInsideTheRoot) {
  tree t;
  auto f = files::open_beneath(t.root, "sub/a.txt", true);
  ASSERT_TRUE(f);
  EXPECT_TRUE(S_ISREG(f->info.st_mode));
  EXPECT_EQ(f->info.st_size, 1);
  // A regular file comes back blocking: splice and io_uring reads must wait for the disk.
  EXPECT_EQ(::fcntl(f->fd.get(), F_GETFL) & O_NONBLOCK, 0);
  auto d = files::open_beneath(t.root, "", true);
  ASSERT_TRUE(d);
  EXPECT_TRUE(S_ISDIR(d->info.st_mode));
  EXPECT_EQ(files::open_beneath(t.root, "nope", true).error().value(), ENOENT);
  EXPECT_EQ(files::open_beneath(t.root, "sub/a.txt/x", true).error().value(), ENOTDIR);
}

TEST(OpenBeneath, NoSymlinkLeadsOutOfTheRoot) {
  tree t;
  for (const char* link : {"up", "prefix", "magic"}) {
    auto r = files::open_beneath(t.root, link, true);
    EXPECT_FALSE(r) << link;
  }
  if (files::have_openat2()) {
    EXPECT_EQ(files::open_beneath(t.root, "up", true).error().value(), EXDEV);
    ASSERT_TRUE(files::open_beneath(t.root, "inside", true));  // followed: it stays inside
  }
  EXPECT_EQ(files::open_beneath(t.root, "inside", false).error().value(), ELOOP);
}

TEST(OpenBeneath, AFifoOpensWithoutBlocking) {
  tree t;
  auto r = files::open_beneath(t.root, "fifo", true);  // with no writer, a blocking open would hang
  ASSERT_TRUE(r);
  EXPECT_TRUE(S_ISFIFO(r->info.st_mode));
}
