#include <dusty/core/detail/stack_trim.hpp>

#include <dusty/core/fiber.hpp>

#include <dusty/core/detail/shard.hpp>

#include <boost/context/fiber.hpp>

#if defined(DUSTY_MIMALLOC)
#include <mimalloc.h>
#else
#include <malloc.h>
#endif

#include <chrono>
#include <cstdlib>
#include <optional>
#include <cstring>
#include <vector>

namespace dusty::detail {

namespace {

// Fibers waiting for a trim on this thread's shard, each holding a reference (so a fiber
// that ends meanwhile stays allocated until the helper has looked at it).
struct trim_queue {
  std::vector<fiber_context*> pending;
  bool helper_running = false;
  scheduler* sched = nullptr;  // the shard this thread ran last (threads may host several runtimes)
  std::optional<std::chrono::steady_clock::time_point> last_heap_trim;  // empty: never
};

// How often a shard may ask the allocator to return free heap pages. Neither allocator
// does it on its own for what idle connections freed (arena chunks, header storage):
// mimalloc (2.0) purges free pages only on later allocation activity of the same thread,
// which an idle shard has none of; glibc gives back only the top of a heap on free(). The
// collection walks the thread's heap (mimalloc) or every malloc arena under its lock
// (glibc), so it is rate-limited; it happens only when fibers went idle, never on a busy
// connection's path.
constexpr std::chrono::milliseconds heap_trim_interval{250};

thread_local trim_queue queue;

// Freed stacks the cache keeps warm (their top pages resident) for the next fibers, and
// how much of each: a fiber serving a plain request touches two or three pages.
constexpr std::size_t warm_stacks = 16;
constexpr std::size_t warm_stack_bytes = 16 * 1024;
constexpr std::size_t helper_stack_size = 60 * 1024;

void return_free_heap() noexcept {
#if defined(DUSTY_MIMALLOC)
  mi_collect(true);  // this thread's heap: retired pages freed, free pages decommitted now
#else
  ::malloc_trim(0);
#endif
}

// Trims every queued fiber's stack and drops the references taken for it.
void trim_pending() noexcept {
  while (!queue.pending.empty()) {
    auto batch = std::move(queue.pending);
    queue.pending.clear();
    for (fiber_context* f : batch) {
      trim_parked_stack(*f);
      queue.sched->release(f);
    }
  }
}

// The helper fiber: trims, then returns free heap pages once heap_trim_interval has passed
// since the last time (sleeping until then, trimming what queues meanwhile), then ends.
void run_trims() {
  for (;;) {
    trim_pending();
    if (queue.last_heap_trim && std::chrono::steady_clock::now() < *queue.last_heap_trim + heap_trim_interval) {
      auto due = *queue.last_heap_trim + heap_trim_interval;
      try {
        sleep_until(due);
      } catch (...) {  // cancelled: the shard is stopping
        trim_pending();
        queue.helper_running = false;
        return;
      }
      continue;
    }
    queue.last_heap_trim = std::chrono::steady_clock::now();
    // Fibers that ended (idle connections gone to an input watch) left their stacks'
    // pages in the cache; they go back with the heap's.
    queue.sched->stacks().release_cached(warm_stacks, warm_stack_bytes);
    if (auto* sh = shard::current()) sh->io().release_idle_memory();
    return_free_heap();
    if (queue.pending.empty()) break;
  }
  queue.helper_running = false;
}

void start_trim_helper() {
  if (queue.helper_running) return;
  queue.helper_running = true;
  try {
    // A stack of its own size, so never one from the cache: taking the stack a fiber just
    // left (the newest in the cache) would keep that stack's pages out of the trim.
    spawn([] { run_trims(); }, {.stack_size = helper_stack_size}).detach();
  } catch (...) {
    queue.helper_running = false;
    throw;
  }
}

}  // namespace

void configure_heap_release() noexcept {
#if defined(DUSTY_MIMALLOC)
  // mimalloc (2.0) decommits the free spans of a segment only decommit_delay (25 ms) after
  // they were freed, and then only when that segment is next allocated from: a shard whose
  // connections all went idle never allocates again, so their memory (about 9 KiB per
  // connection served) stayed resident however often mi_collect ran. With no delay the
  // spans go back as mi_collect finds them free. An explicit MIMALLOC_DECOMMIT_DELAY wins.
  if (!std::getenv("MIMALLOC_DECOMMIT_DELAY")) mi_option_set(mi_option_decommit_delay, 0);
#endif
}

const void* saved_stack_pointer(const fiber_context& f) noexcept {
  // boost::context::fiber (fcontext flavour) holds exactly its fcontext_t, which is private.
  static_assert(sizeof(boost::context::fiber) == sizeof(void*));
  const void* sp;
  std::memcpy(&sp, static_cast<const void*>(&f.resume_point), sizeof sp);
  return sp;
}

std::size_t trim_parked_stack(fiber_context& f) noexcept {
  if (f.st != fiber_context::state::parked) return 0;
  const void* sp = saved_stack_pointer(f);
  if (!sp) return 0;
  return f.owner->stacks().release_below(sp);
}

void request_stack_trim(fiber_context& f) {
  if (queue.sched != f.owner) queue = trim_queue{.sched = f.owner};  // a runtime that ended left this
  queue.pending.reserve(queue.pending.size() + 1);
  ++f.refs;
  queue.pending.push_back(&f);
  try {
    start_trim_helper();
  } catch (...) {
    queue.pending.pop_back();
    --f.refs;
    throw;
  }
}

void request_idle_trim(scheduler& s) {
  if (queue.sched != &s) queue = trim_queue{.sched = &s};
  start_trim_helper();
}

}  // namespace dusty::detail
