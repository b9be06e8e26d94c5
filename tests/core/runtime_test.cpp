#include <dusty/core/runtime.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/submit_to.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/support.hpp"

#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using testing::HasSubstr;

namespace {

unsigned allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  return static_cast<unsigned>(CPU_COUNT(&set));
}

std::string config_error_of(const dusty::runtime_config& c) {
  try {
    dusty::runtime rt(c);
  } catch (const dusty::config_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(runtime, runs_main_on_one_shard) {
  dusty::runtime rt(dusty::test::shards(1));
  unsigned id = 99, count = 0;
  int result = rt.run([&] {
    id = dusty::this_shard_id();
    count = dusty::shard_count();
    return 42;
  });
  EXPECT_EQ(result, 42);
  EXPECT_EQ(id, 0u);
  EXPECT_EQ(count, 1u);
}

TEST(runtime, runs_two_shards_on_their_own_threads) {
  dusty::runtime rt(dusty::test::shards(2));
  std::set<std::thread::id> threads;
  rt.run([&] {
    EXPECT_EQ(dusty::shard_count(), 2u);
    for (unsigned s = 0; s < 2; ++s) {
      auto [id, count, thread] = dusty::submit_to(s, [] {
        return std::tuple(dusty::this_shard_id(), dusty::shard_count(), std::this_thread::get_id());
      }).get();
      EXPECT_EQ(id, s);
      EXPECT_EQ(count, 2u);
      threads.insert(thread);
    }
  });
  EXPECT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

TEST(runtime, defaults_to_every_allowed_cpu) {
  dusty::runtime_config c;
  c.handle_signals = false;
  dusty::runtime rt(c);
  EXPECT_EQ(rt.config().shards.value(), allowed_cpus());
  EXPECT_NE(rt.backend(), dusty::backend_kind::automatic);
  EXPECT_EQ(rt.config().backend, rt.backend());
  unsigned seen = 0;
  rt.run([&] { seen = dusty::shard_count(); });
  EXPECT_EQ(seen, allowed_cpus());
}

TEST(runtime, identity_calls_outside_the_runtime_throw) {
  EXPECT_THROW(dusty::this_shard_id(), std::system_error);
  EXPECT_THROW(dusty::shard_count(), std::system_error);
  EXPECT_THROW(dusty::sleep_for(1ms), std::system_error);
  EXPECT_FALSE(dusty::stop_requested());
}

TEST(runtime, runs_only_once) {
  dusty::runtime rt(dusty::test::shards(1));
  rt.run([] {});
  EXPECT_THROW(rt.run([] {}), std::logic_error);
}

TEST(runtime, invalid_config_is_a_clear_config_error) {
  auto zero = dusty::test::shards(0);
  EXPECT_THAT(config_error_of(zero), HasSubstr("shards must be at least 1"));

  auto too_many = dusty::test::shards(allowed_cpus() + 1);
  EXPECT_THAT(config_error_of(too_many), HasSubstr("may run on only"));

  auto bufs = dusty::test::shards(1);
  bufs.io_uring.recv_buffers = 1000;
  EXPECT_THAT(config_error_of(bufs), HasSubstr("recv_buffers must be a power of two"));

  auto stack = dusty::test::shards(1);
  stack.fiber_stack_size = 1024;
  EXPECT_THAT(config_error_of(stack), HasSubstr("fiber_stack_size"));

  {
    dusty::test::scoped_env env("DUSTY_BACKEND", "bogus");
    EXPECT_THAT(config_error_of(dusty::test::shards(1)), HasSubstr("DUSTY_BACKEND=bogus: unknown backend"));
    // A backend set in the config wins over the environment.
    auto forced = dusty::test::shards(1);
    forced.backend = dusty::backend_kind::epoll;
    EXPECT_EQ(config_error_of(forced), "no error");
  }
}

TEST(runtime, request_stop_wakes_wait_for_stop_on_every_shard) {
  dusty::runtime rt(dusty::test::shards(2));
  rt.run([] {
    EXPECT_FALSE(dusty::stop_requested());
    static std::atomic<int> waiting;
    waiting = 0;
    std::vector<dusty::future<unsigned>> woken;
    for (unsigned s = 0; s < dusty::shard_count(); ++s)
      for (int k = 0; k < 2; ++k)
        woken.push_back(dusty::submit_to(s, [] {
          waiting.fetch_add(1);
          dusty::wait_for_stop();  // no suspension between the count and the wait
          return dusty::this_shard_id();
        }));
    // Wait (bounded) until all four are parked, so the stop really wakes them.
    auto give_up = std::chrono::steady_clock::now() + 30s;
    while (waiting.load() < 4 && std::chrono::steady_clock::now() < give_up) dusty::yield();
    ASSERT_EQ(waiting.load(), 4);
    dusty::request_stop();
    EXPECT_TRUE(dusty::stop_requested());
    std::vector<unsigned> ids;
    dusty::with_timeout(30s, [&] {
      for (auto& f : woken) ids.push_back(f.get());
    });
    EXPECT_EQ(ids, (std::vector<unsigned>{0, 0, 1, 1}));
    dusty::wait_for_stop();  // returns at once now
  });
}

TEST(runtime, request_stop_from_another_thread) {
  dusty::runtime rt(dusty::test::shards(2));
  rt.run([&rt] {
    std::thread other([&rt] { rt.request_stop(); });
    dusty::wait_for_stop();
    other.join();
    EXPECT_TRUE(dusty::stop_requested());
  });
}

TEST(runtime, main_returning_cancels_fibers_still_sleeping_on_every_shard) {
  static std::atomic<int> unwound, saw_cancel;
  unwound = saw_cancel = 0;
  struct on_unwind {
    ~on_unwind() { unwound.fetch_add(1); }
  };
  auto sleeper = [] {
    on_unwind guard;
    try {
      dusty::sleep_for(1h);
    } catch (const dusty::cancelled_error&) {
      saw_cancel.fetch_add(1);
    }
  };
  dusty::runtime rt(dusty::test::shards(2));
  auto start = std::chrono::steady_clock::now();
  rt.run([&] {
    for (unsigned s = 0; s < dusty::shard_count(); ++s)
      dusty::submit_to(s, [sleeper] {
        for (int i = 0; i < 3; ++i) dusty::spawn(sleeper).detach();
      }).get();
  });
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);
  EXPECT_EQ(unwound.load(), 6);
  EXPECT_EQ(saw_cancel.load(), 6);
}

TEST(runtime, exception_of_a_detached_fiber_is_logged_and_the_process_goes_on) {
  dusty::runtime rt(dusty::test::shards(1));
  testing::internal::CaptureStderr();
  bool after = false;
  rt.run([&] {
    bool thrown = false;
    dusty::spawn([&] {
      thrown = true;
      throw std::runtime_error("detached boom");
    }).detach();
    auto finished = dusty::spawn([] { throw std::runtime_error("unjoined boom"); });
    for (int i = 0; i < 10 && !(thrown && finished.done()); ++i) dusty::yield();
    EXPECT_TRUE(thrown);
    EXPECT_TRUE(finished.done());
    finished = dusty::fiber();  // dropped without join: logged here
    dusty::sleep_for(1ms);      // the runtime keeps running fibers
    after = true;
  });
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(after);
  EXPECT_THAT(err, HasSubstr("detached boom"));
  EXPECT_THAT(err, HasSubstr("unjoined boom"));
}

TEST(runtime, sigterm_stops_the_runtime) {
  auto c = dusty::test::shards(2);
  c.handle_signals = true;
  dusty::runtime rt(c);
  testing::internal::CaptureStderr();  // the runtime logs the signal
  int result = rt.run([] {
    dusty::spawn([] { ::kill(::getpid(), SIGTERM); }).detach();
    dusty::wait_for_stop();
    EXPECT_TRUE(dusty::stop_requested());
    return 0;
  });
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(result, 0);
  EXPECT_THAT(err, HasSubstr("stopping"));
  // The signal was consumed and this thread's mask restored: later tests are unaffected.
  sigset_t pending, mask;
  ::sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGTERM));
  ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGTERM));
}

TEST(runtime, sigterm_without_a_stop_waiter_cancels_main) {
  auto c = dusty::test::shards(1);
  c.handle_signals = true;
  dusty::runtime rt(c);
  testing::internal::CaptureStderr();
  bool cancelled = false;
  rt.run([&] {
    ::kill(::getpid(), SIGTERM);
    try {
      dusty::sleep_for(1h);
    } catch (const dusty::cancelled_error&) {
      cancelled = true;
    }
  });
  testing::internal::GetCapturedStderr();
  EXPECT_TRUE(cancelled);
}

TEST(runtime, fibers_cancelled_at_exit_are_not_logged_as_errors) {
  dusty::runtime rt(dusty::test::shards(2));
  testing::internal::CaptureStderr();
  rt.run([] {
    for (unsigned s = 0; s < dusty::shard_count(); ++s)
      dusty::submit_to(s, [] {
        for (int i = 0; i < 3; ++i) dusty::spawn([] { dusty::sleep_for(1h); }).detach();
      }).get();
  });
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find("error"), std::string::npos) << err;
}

}  // namespace
