#pragma once
// Giving back the stack pages of parked fibers. A fiber parked for a long wait (a
// keep-alive connection between requests) still holds every stack page it ever touched,
// though everything below its saved stack pointer is dead until it runs again. A fiber
// that expects a long wait asks for a trim (dusty::release_memory_while_parked()); the
// request is carried out by a short-lived helper fiber of the shard, which runs only after
// the asking fiber has parked, so the saved stack pointer it reads is the real bottom of
// the live frames. The helper also returns the heap's free pages to the kernel, rate-
// limited (see stack_trim.cpp). Nothing of this runs on the request path.
#include <dusty/core/detail/fiber_context.hpp>
#include <dusty/core/detail/scheduler.hpp>

#include <cstddef>

namespace dusty::detail {

/// The stack pointer a suspended fiber (parked or ready, not running) saved when it
/// switched away: Boost.Context's fcontext_t is the address of the registers it pushed
/// on the fiber's own stack, so nothing live lies below it.
const void* saved_stack_pointer(const fiber_context& f) noexcept;

/// Releases the dead pages of `f`'s stack if `f` is parked now (else does nothing).
/// Returns the bytes released. Must run on f's shard, outside f.
std::size_t trim_parked_stack(fiber_context& f) noexcept;

/// Queues a trim of `f` (the calling fiber) for when it has parked; starts the shard's
/// helper fiber if none is running. Never suspends.
void request_stack_trim(fiber_context& f);

/// Starts the helper with no fiber to trim: it returns the pages of the stacks cached by
/// fibers that ended and the heap's free pages (rate-limited). Never suspends.
void request_idle_trim(scheduler& s);

/// Sets the allocator up so that what request_*_trim return really leaves the process.
/// Called once by the runtime before its shards start.
void configure_heap_release() noexcept;

}  // namespace dusty::detail
