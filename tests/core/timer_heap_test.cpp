#include <dusty/core/detail/timer_heap.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

using namespace std::chrono_literals;
using tclock = dusty::detail::clock;
using dusty::detail::timer_entry;
using dusty::detail::timer_heap;

namespace {

struct recorder {
  std::vector<int> fired;
};

struct timer {
  timer_entry entry;
  recorder* rec = nullptr;
  int id = 0;
};

void arm(timer_heap& h, timer& t, recorder& rec, int id, tclock::time_point when) {
  t.rec = &rec;
  t.id = id;
  t.entry.when = when;
  t.entry.data = &t;
  t.entry.fire = [](timer_entry* e) {
    auto* self = static_cast<timer*>(e->data);
    self->rec->fired.push_back(self->id);
  };
  h.add(&t.entry);
}

TEST(timer_heap, fires_due_timers_in_order) {
  timer_heap h;
  recorder rec;
  auto t0 = tclock::time_point{} + 1h;
  timer a, b, c, d;
  arm(h, a, rec, 3, t0 + 30ms);
  arm(h, b, rec, 1, t0 + 10ms);
  arm(h, c, rec, 4, t0 + 40ms);
  arm(h, d, rec, 2, t0 + 20ms);
  EXPECT_EQ(h.size(), 4u);
  EXPECT_EQ(h.next(), t0 + 10ms);
  EXPECT_EQ(h.fire_expired(t0), 0u);
  EXPECT_EQ(h.fire_expired(t0 + 25ms), 2u);
  EXPECT_EQ(rec.fired, (std::vector<int>{1, 2}));
  EXPECT_FALSE(b.entry.armed());
  EXPECT_TRUE(a.entry.armed());
  EXPECT_EQ(h.fire_expired(t0 + 1h), 2u);
  EXPECT_EQ(rec.fired, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_TRUE(h.empty());
}

TEST(timer_heap, remove_takes_a_timer_out_from_anywhere) {
  timer_heap h;
  recorder rec;
  auto t0 = tclock::time_point{} + 1h;
  std::vector<timer> ts(20);
  for (int i = 0; i < 20; ++i) arm(h, ts[static_cast<std::size_t>(i)], rec, i, t0 + std::chrono::milliseconds(i));
  for (int i : {0, 7, 19, 10, 3}) h.remove(&ts[static_cast<std::size_t>(i)].entry);
  h.remove(&ts[7].entry);  // not armed any more: a no-op
  EXPECT_EQ(h.size(), 15u);
  h.fire_expired(t0 + 1h);
  EXPECT_EQ(rec.fired, (std::vector<int>{1, 2, 4, 5, 6, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18}));
}

TEST(timer_heap, rearmed_timer_fires_again) {
  timer_heap h;
  recorder rec;
  auto t0 = tclock::time_point{} + 1h;
  timer a;
  arm(h, a, rec, 1, t0);
  h.fire_expired(t0);
  a.entry.when = t0 + 5ms;
  h.add(&a.entry);
  h.fire_expired(t0 + 5ms);
  EXPECT_EQ(rec.fired, (std::vector<int>{1, 1}));
}

TEST(timer_heap, random_mix_fires_in_time_order) {
  timer_heap h;
  recorder rec;
  auto t0 = tclock::time_point{} + 1h;
  std::mt19937 rng(12345);
  std::vector<timer> ts(5000);
  std::vector<bool> removed(ts.size(), false);
  for (std::size_t i = 0; i < ts.size(); ++i)
    arm(h, ts[i], rec, static_cast<int>(i), t0 + std::chrono::microseconds(rng() % 100000));
  for (int k = 0; k < 1000; ++k) {
    std::size_t i = rng() % ts.size();
    h.remove(&ts[i].entry);
    removed[i] = true;
  }
  std::size_t expected = static_cast<std::size_t>(std::count(removed.begin(), removed.end(), false));
  EXPECT_EQ(h.size(), expected);
  // Fire in several steps; every timer must fire once, never before its time.
  for (auto now = t0; !h.empty(); now += 7ms) {
    std::size_t before = rec.fired.size();
    h.fire_expired(now);
    for (std::size_t k = before; k < rec.fired.size(); ++k)
      ASSERT_LE(ts[static_cast<std::size_t>(rec.fired[k])].entry.when, now);
    ASSERT_LT(now, t0 + 1s);
  }
  ASSERT_EQ(rec.fired.size(), expected);
  for (std::size_t k = 1; k < rec.fired.size(); ++k)
    ASSERT_LE(ts[static_cast<std::size_t>(rec.fired[k - 1])].entry.when,
              ts[static_cast<std::size_t>(rec.fired[k])].entry.when);
  for (int id : rec.fired) ASSERT_FALSE(removed[static_cast<std::size_t>(id)]);
}

}  // namespace
