#include <dusty/core/submit_to.hpp>

#include <dusty/core/deadline.hpp>
#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct remote_failure : std::runtime_error {
  int code;
  explicit remote_failure(int c) : std::runtime_error("remote failure"), code(c) {}
};

TEST(submit_to, runs_on_the_target_shard_and_thread) {
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [] {
    auto here = std::this_thread::get_id();
    for (unsigned s = 0; s < 2; ++s) {
      auto [id, thread] = dusty::submit_to(s, [] { return std::pair(dusty::this_shard_id(), std::this_thread::get_id()); }).get();
      EXPECT_EQ(id, s);
      EXPECT_EQ(thread == here, s == 0);
    }
  });
}

TEST(submit_to, round_trips_between_every_pair_of_shards_under_load) {
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [] {
    // Each shard fires a burst larger than a cross-core ring (4,096) at every shard,
    // while several fibers per shard do sequential round trips.
    constexpr std::uint64_t burst = 5000, fibers_per_shard = 4, trips = 300;
    auto per_shard = [] {
      unsigned n = dusty::shard_count();
      std::uint64_t sum = 0, expected = 0;
      std::vector<dusty::future<std::uint64_t>> calls;
      for (unsigned target = 0; target < n; ++target)
        for (std::uint64_t i = 0; i < burst; ++i) {
          calls.push_back(dusty::submit_to(target, [i, target] {
            if (dusty::this_shard_id() != target) throw std::logic_error("wrong shard");
            return i * 2 + target;
          }));
          expected += i * 2 + target;
        }
      std::vector<dusty::fiber> fibers;
      std::uint64_t ok = 0;
      for (std::uint64_t f = 0; f < fibers_per_shard; ++f)
        fibers.push_back(dusty::spawn([&, f] {
          for (std::uint64_t t = 0; t < trips; ++t) {
            unsigned target = static_cast<unsigned>((f + t) % dusty::shard_count());
            if (dusty::submit_to(target, [] { return dusty::this_shard_id(); }).get() == target) ++ok;
          }
        }));
      for (auto& c : calls) sum += c.get();
      for (auto& f : fibers) f.join();
      return sum == expected && ok == fibers_per_shard * trips;
    };
    std::vector<dusty::future<bool>> all;
    for (unsigned s = 0; s < dusty::shard_count(); ++s) all.push_back(dusty::submit_to(s, per_shard));
    for (unsigned s = 0; s < all.size(); ++s) EXPECT_TRUE(all[s].get()) << "shard " << s;
  });
}

TEST(submit_to, remote_exception_arrives_at_get) {
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [] {
    auto f = dusty::submit_to(1, []() -> int { throw remote_failure(42); });
    try {
      f.get();
      ADD_FAILURE() << "no exception";
    } catch (const remote_failure& e) {
      EXPECT_EQ(e.code, 42);
    }
    EXPECT_FALSE(f.valid());
    EXPECT_THROW(dusty::submit_to(0, [] { throw std::out_of_range("local"); }).get(), std::out_of_range);
  });
}

TEST(submit_to, moves_results_and_reports_readiness) {
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [] {
    auto f = dusty::submit_to(1, [] { return std::make_unique<int>(5); });
    EXPECT_TRUE(f.valid());
    auto p = f.get();
    EXPECT_EQ(*p, 5);
    dusty::future<void> empty;
    EXPECT_FALSE(empty.valid());
    EXPECT_THROW(empty.get(), std::logic_error);
    auto v = dusty::submit_to(0, [] {});
    for (int i = 0; i < 100 && !v.ready(); ++i) dusty::yield();
    EXPECT_TRUE(v.ready());
    v.get();
  });
}

TEST(submit_to, bad_shard_throws) {
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [] {
    EXPECT_THROW(dusty::submit_to(2, [] { return 1; }), std::out_of_range);
    EXPECT_THROW(dusty::submit_to(~0u, [] {}), std::out_of_range);
  });
}

TEST(submit_to, dropping_a_future_is_safe) {
  std::atomic<int> ran{0};
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [&] {
    for (int i = 0; i < 100; ++i) {
      (void)dusty::submit_to(1, [&ran] { ran.fetch_add(1); });  // dropped at once
    }
    { auto late = dusty::submit_to(1, [] { dusty::sleep_for(1ms); return std::string(100, 'x'); }); }
    // Messages to a shard run in order, so once this answers the dropped calls have run.
    dusty::submit_to(1, [] {}).get();
    EXPECT_EQ(ran.load(), 100);
    // A dropped call still sleeping when the runtime ends is cancelled and freed.
    (void)dusty::submit_to(1, [] { dusty::sleep_for(1h); });
  });
}

TEST(submit_to, cancel_interrupts_get) {
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [] {
    auto waiter = dusty::spawn([] { dusty::submit_to(1, [] { dusty::sleep_for(1h); }).get(); });
    dusty::yield();
    waiter.cancel();
    EXPECT_THROW(waiter.join(), dusty::cancelled_error);
    // The remote sleep is still running; the runtime cancels it when main returns.
  });
}

TEST(submit_to, deadline_scope_interrupts_get) {
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [] {
    auto f = dusty::submit_to(1, [] {
      dusty::sleep_for(30ms);
      return 1;
    });
    EXPECT_THROW(dusty::with_timeout(5ms, [&] { return f.get(); }), dusty::timeout_error);
    EXPECT_TRUE(f.valid());
    EXPECT_EQ(f.get(), 1);  // the result can still be collected afterwards
  });
}

}  // namespace
