#include <dusty/core/detail/timer_heap.hpp>

namespace dusty::detail {

void timer_heap::add(timer_entry* t) {
  heap_.push_back(t);
  t->index = heap_.size() - 1;
  sift_up(t->index);
}

void timer_heap::remove(timer_entry* t) noexcept {
  if (!t->armed()) return;
  std::size_t i = t->index;
  timer_entry* last = heap_.back();
  heap_.pop_back();
  t->index = timer_entry::not_armed;
  if (last == t) return;
  place(i, last);
  sift_up(i);
  sift_down(last->index);
}

std::size_t timer_heap::fire_expired(clock::time_point now) {
  std::size_t fired = 0;
  while (!heap_.empty() && heap_.front()->when <= now) {
    timer_entry* t = heap_.front();
    remove(t);
    t->fire(t);
    ++fired;
  }
  return fired;
}

void timer_heap::sift_up(std::size_t i) noexcept {
  timer_entry* t = heap_[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (heap_[parent]->when <= t->when) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void timer_heap::sift_down(std::size_t i) noexcept {
  timer_entry* t = heap_[i];
  std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->when < heap_[child]->when) ++child;
    if (t->when <= heap_[child]->when) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

}  // namespace dusty::detail
