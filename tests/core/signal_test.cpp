#include <dusty/core/signal.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/support.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>

using namespace std::chrono_literals;
using testing::HasSubstr;

namespace {

// Waits (bounded) until `pred` holds, sleeping in the fiber.
template <class P>
bool eventually(P pred) {
  for (int i = 0; i < 500 && !pred(); ++i) dusty::sleep_for(10ms);
  return pred();
}

TEST(on_signal, sighup_runs_the_registered_function_on_shard_0_and_does_not_stop) {
  auto c = dusty::test::shards(2);
  c.handle_signals = true;
  dusty::runtime rt(c);
  testing::internal::CaptureStderr();
  int calls = 0;
  unsigned shard = 99;
  bool stopped_early = true;
  bool in_order = false;
  rt.run([&] {
    std::string order;
    auto first = dusty::on_signal(SIGHUP, [&] {
      ++calls;
      shard = dusty::this_shard_id();
      order += 'a';
    });
    auto second = dusty::on_signal(SIGHUP, [&] { order += 'b'; });
    ::kill(::getpid(), SIGHUP);
    EXPECT_TRUE(eventually([&] { return order.size() == 2; }));
    in_order = order == "ab";
    stopped_early = dusty::stop_requested();
    // Unregistered: the next SIGHUP finds nobody and stops the runtime instead.
    first.reset();
    second.reset();
    ::kill(::getpid(), SIGHUP);
    dusty::wait_for_stop();
  });
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(shard, 0u);
  EXPECT_TRUE(in_order);
  EXPECT_FALSE(stopped_early);
  EXPECT_THAT(err, HasSubstr("stopping"));
  sigset_t pending, mask;
  ::sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGHUP));
  ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGHUP));
}

TEST(on_signal, an_exception_in_the_function_is_logged_and_later_signals_still_arrive) {
  auto c = dusty::test::shards(1);
  c.handle_signals = true;
  dusty::runtime rt(c);
  testing::internal::CaptureStderr();
  int calls = 0;
  rt.run([&] {
    auto h = dusty::on_signal(SIGUSR1, [&] {
      ++calls;
      throw std::runtime_error("reload boom");
    });
    ::kill(::getpid(), SIGUSR1);
    EXPECT_TRUE(eventually([&] { return calls == 1; }));
    ::kill(::getpid(), SIGUSR1);
    EXPECT_TRUE(eventually([&] { return calls == 2; }));
    EXPECT_FALSE(dusty::stop_requested());
  });
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(calls, 2);
  EXPECT_THAT(err, HasSubstr("reload boom"));
}

TEST(on_signal, only_the_reload_and_user_signals_can_be_registered) {
  dusty::runtime rt(dusty::test::shards(1));
  rt.run([] {
    EXPECT_THROW((void)dusty::on_signal(SIGINT, [] {}), std::invalid_argument);
    EXPECT_THROW((void)dusty::on_signal(SIGKILL, [] {}), std::invalid_argument);
    auto h = dusty::on_signal(SIGUSR2, [] {});
    EXPECT_TRUE(h);
    auto moved = std::move(h);
    EXPECT_FALSE(h);
    EXPECT_TRUE(moved);
  });
  EXPECT_THROW((void)dusty::on_signal(SIGHUP, [] {}), std::system_error);
}

}  // namespace
