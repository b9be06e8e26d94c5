#include <dusty/core/deadline.hpp>

#include <dusty/core/fiber.hpp>
#include <dusty/core/submit_to.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <atomic>
#include <string>
#include <vector>

using namespace std::chrono_literals;

namespace {

TEST(deadline, returns_the_value_when_in_time) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    EXPECT_EQ(dusty::with_timeout(1h, [] { return std::string("done"); }), "done");
    int x = 0;
    int& r = dusty::with_timeout(1h, [&]() -> int& { return x; });
    EXPECT_EQ(&r, &x);
    dusty::with_deadline(std::chrono::steady_clock::now() + 1h, [] { dusty::sleep_for(1ms); });
  });
}

TEST(deadline, timeout_error_describes_itself) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    try {
      dusty::with_timeout(10ms, [] { dusty::sleep_for(1h); });
      ADD_FAILURE() << "no timeout";
    } catch (const dusty::timeout_error& e) {
      EXPECT_EQ(e.code(), dusty::errc::timed_out);
      EXPECT_EQ(e.code(), std::errc::timed_out);
      EXPECT_NE(std::string(e.what()).find("timed out after"), std::string::npos) << e.what();
    }
  });
}

TEST(deadline, expiry_interrupts_sleep_join_and_yield_loop) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(dusty::with_timeout(5ms, [] { dusty::sleep_for(1h); }), dusty::timeout_error);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 5ms);

    auto sleeper = dusty::spawn([] { dusty::sleep_for(1h); });
    EXPECT_THROW(dusty::with_timeout(5ms, [&] { sleeper.join(); }), dusty::timeout_error);
    EXPECT_TRUE(sleeper.joinable());  // the joined fiber is not affected
    EXPECT_FALSE(sleeper.done());
    sleeper.cancel();
    EXPECT_THROW(sleeper.join(), dusty::cancelled_error);

    long spins = 0;
    EXPECT_THROW(dusty::with_timeout(5ms,
                                     [&] {
                                       for (;;) {
                                         dusty::yield();
                                         ++spins;
                                       }
                                     }),
                 dusty::timeout_error);
    EXPECT_GT(spins, 0);
  });
}

TEST(deadline, inner_expiry_leaves_the_outer_scope_running) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    int result = dusty::with_timeout(1h, [] {
      EXPECT_THROW(dusty::with_timeout(5ms, [] { dusty::sleep_for(1h); }), dusty::timeout_error);
      EXPECT_FALSE(dusty::cancellation_pending());
      dusty::sleep_for(1ms);  // the outer scope still allows waits
      return 7;
    });
    EXPECT_EQ(result, 7);
  });
}

TEST(deadline, outer_expiry_inside_inner_is_the_outer_timeout) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    bool inner_saw_cancel = false;
    EXPECT_THROW(dusty::with_timeout(5ms,
                                     [&] {
                                       try {
                                         dusty::with_timeout(1h, [] { dusty::sleep_for(1h); });
                                       } catch (const dusty::timeout_error&) {
                                         ADD_FAILURE() << "the inner scope did not expire";
                                       } catch (const dusty::cancelled_error&) {
                                         inner_saw_cancel = true;
                                         throw;
                                       }
                                     }),
                 dusty::timeout_error);
    EXPECT_TRUE(inner_saw_cancel);
    dusty::sleep_for(1ms);  // the fiber itself is fine
  });
}

TEST(deadline, fiber_cancel_inside_scopes_is_a_cancel_not_a_timeout) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    auto f = dusty::spawn([] {
      dusty::with_timeout(1h, [] { dusty::with_timeout(1h, [] { dusty::sleep_for(1h); }); });
    });
    dusty::yield();
    f.cancel();
    EXPECT_THROW(f.join(), dusty::cancelled_error);
  });
}

TEST(deadline, cancel_of_a_fiber_in_an_expired_scope_is_a_cancel) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    dusty::fiber f;
    f = dusty::spawn([&f] {
      dusty::with_timeout(1ms, [&f] {
        try {
          dusty::sleep_for(1h);
        } catch (const dusty::cancelled_error&) {  // the scope expired
        }
        f.cancel();            // and now the whole fiber is cancelled as well
        dusty::sleep_for(1h);  // throws at once
      });
    });
    EXPECT_THROW(f.join(), dusty::cancelled_error);
  });
}

TEST(deadline, expired_scope_keeps_throwing_until_left) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    int throws = 0;
    EXPECT_THROW(dusty::with_timeout(2ms,
                                     [&] {
                                       for (int i = 0; i < 3; ++i) {
                                         try {
                                           dusty::sleep_for(1h);
                                         } catch (const dusty::cancelled_error&) {
                                           ++throws;
                                         }
                                       }
                                       dusty::check_cancelled();
                                     }),
                 dusty::timeout_error);
    EXPECT_EQ(throws, 3);
    EXPECT_FALSE(dusty::cancellation_pending());
  });
}

TEST(deadline, expiry_touches_only_its_own_fiber) {
  dusty::runtime rt(dusty::test::shards(1));
  dusty::test::run(rt, [] {
    bool other_finished = false;
    auto other = dusty::spawn([&] {
      dusty::sleep_for(20ms);
      other_finished = true;
    });
    EXPECT_THROW(dusty::with_timeout(2ms, [] { dusty::sleep_for(1h); }), dusty::timeout_error);
    other.join();
    EXPECT_TRUE(other_finished);
  });
}

TEST(deadline, ten_thousand_concurrent_timeouts_all_expire) {
  for (unsigned n : {1u, 2u}) {
    dusty::runtime rt(dusty::test::shards(n));
    std::atomic<int> expired{0};
    dusty::test::run(rt, [&] {
      auto burst = [&expired] {
        std::vector<dusty::fiber> fibers;
        fibers.reserve(10'000);
        for (int i = 0; i < 10'000; ++i)
          fibers.push_back(dusty::spawn([&expired, i] {
            try {
              dusty::with_timeout(std::chrono::microseconds(20'000 + i % 1000), [] { dusty::sleep_for(1h); });
            } catch (const dusty::timeout_error&) {
              expired.fetch_add(1, std::memory_order_relaxed);
            }
          }));
        // On shard 1 too, a lost wake-up must fail rather than hang the suite.
        dusty::with_timeout(60s, [&] {
          for (auto& f : fibers) f.join();
        });
      };
      std::vector<dusty::future<void>> shards;
      for (unsigned s = 0; s < dusty::shard_count(); ++s) shards.push_back(dusty::submit_to(s, burst));
      for (auto& f : shards) f.get();
    });
    EXPECT_EQ(expired.load(), static_cast<int>(n) * 10'000) << n << " shards";
  }
}

}  // namespace
