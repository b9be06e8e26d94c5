#include <dusty/core/sharded.hpp>

#include <dusty/core/fiber.hpp>
#include <dusty/core/runtime.hpp>

#include <gtest/gtest.h>

#include "support/support.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Events from every shard, in the order they happened (shards run on their own threads).
struct journal {
  std::mutex m;
  std::vector<std::string> events;
  void add(std::string e) {
    std::lock_guard lock(m);
    events.push_back(std::move(e));
  }
  std::size_t count(const std::string& e) {
    std::lock_guard lock(m);
    return static_cast<std::size_t>(std::count(events.begin(), events.end(), e));
  }
};

struct counter {
  journal* log;
  unsigned shard;
  std::thread::id thread;
  int value = 0;
  counter(journal* j, int start) : log(j), shard(dusty::this_shard_id()), thread(std::this_thread::get_id()), value(start) {
    log->add("construct " + std::to_string(shard));
  }
  ~counter() { log->add("destroy " + std::to_string(shard)); }
  void stop() {
    dusty::sleep_for(1ms);  // stop() may suspend
    log->add("stop " + std::to_string(shard));
  }
};

TEST(sharded, lifecycle_on_every_shard) {
  journal j;
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [&] {
    dusty::sharded<counter> c;
    EXPECT_FALSE(c.started());
    c.start(&j, 10);
    EXPECT_TRUE(c.started());
    EXPECT_EQ(j.count("construct 0"), 1u);
    EXPECT_EQ(j.count("construct 1"), 1u);
    EXPECT_THROW(c.start(&j, 0), std::logic_error);

    // Each instance was built on its own shard's thread.
    std::set<std::thread::id> threads;
    for (unsigned s = 0; s < 2; ++s) {
      auto [shard, thread] = c.invoke_on(s, [](counter& x) { return std::pair(x.shard, x.thread); });
      EXPECT_EQ(shard, s);
      EXPECT_EQ(thread, dusty::submit_to(s, [] { return std::this_thread::get_id(); }).get());
      threads.insert(thread);
    }
    EXPECT_EQ(threads.size(), 2u);

    EXPECT_EQ(c.local().shard, 0u);
    c.local().value += 1;
    c.invoke_on(1, [](counter& x) { x.value += 5; });
    c.invoke_on_all([](counter& x) { x.value *= 2; });
    EXPECT_EQ(c.map_reduce([](counter& x) { return x.value; }, 0, std::plus<>()), (11 + 15) * 2);
    auto order = c.map_reduce([](counter& x) { return std::to_string(x.shard); }, std::string(),
                              [](std::string acc, std::string s) { return acc + s; });
    EXPECT_EQ(order, "01");  // folded in shard order

    c.stop();
    EXPECT_FALSE(c.started());
    c.stop();  // stopping twice is harmless
  });
  // stop() then destruction, on each shard.
  for (std::string s : {"0", "1"}) {
    auto& e = j.events;
    auto stop = std::find(e.begin(), e.end(), "stop " + s);
    auto destroy = std::find(e.begin(), e.end(), "destroy " + s);
    ASSERT_NE(stop, e.end());
    ASSERT_NE(destroy, e.end());
    EXPECT_LT(stop, destroy);
  }
  EXPECT_EQ(j.events.size(), 6u);
}

TEST(sharded, invoke_on_all_rethrows_after_every_shard_ran) {
  journal j;
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [&] {
    dusty::sharded<counter> c;
    c.start(&j, 0);
    EXPECT_THROW(c.invoke_on_all([](counter& x) {
      if (x.shard == 0) throw std::runtime_error("shard 0 failed");
      x.value = 1;
    }), std::runtime_error);
    EXPECT_EQ(c.invoke_on(1, [](counter& x) { return x.value; }), 1);  // shard 1 still ran
    c.stop();
  });
}

struct fragile {
  static inline std::atomic<int> alive{0};
  fragile() {
    if (dusty::this_shard_id() == 1) throw std::runtime_error("no room on shard 1");
    ++alive;
  }
  ~fragile() { --alive; }
};

TEST(sharded, constructor_failure_rolls_back) {
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [] {
    dusty::sharded<fragile> f;
    try {
      f.start();
      ADD_FAILURE() << "start succeeded";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "no room on shard 1");
    }
    EXPECT_FALSE(f.started());
    EXPECT_EQ(fragile::alive.load(), 0);  // shard 0's instance was destroyed again
  });
}

TEST(sharded, destructor_stops_what_was_not_stopped) {
  journal j;
  dusty::runtime rt(dusty::test::shards(2));
  dusty::test::run(rt, [&] {
    dusty::sharded<counter> c;
    c.start(&j, 0);
  });
  EXPECT_EQ(j.count("stop 0") + j.count("stop 1"), 2u);
  EXPECT_EQ(j.count("destroy 0") + j.count("destroy 1"), 2u);
}

}  // namespace
