#include <dusty/core/detail/stack_pool.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <new>

#if defined(DUSTY_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace dusty::detail {
namespace {

std::size_t page_size() {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t round_to_pages(std::size_t n) {
  std::size_t p = page_size();
  return (n + p - 1) / p * p;
}

}  // namespace

stack_pool::stack_pool(std::size_t stack_size, std::size_t max_cached)
    : stack_size_(round_to_pages(stack_size)), max_cached_(max_cached) {}

stack_pool::~stack_pool() {
  for (auto& s : free_) {
    void* base = static_cast<char*>(s.sp) - s.size - page_size();
    ::munmap(base, s.size + page_size());
  }
}

boost::context::stack_context stack_pool::allocate(std::size_t size) {
  size = size == 0 ? stack_size_ : round_to_pages(size);
  if (size == stack_size_ && !free_.empty()) {
    auto s = free_.back();
    free_.pop_back();
    released_ = std::min(released_, free_.size());
    return s;
  }
  std::size_t total = size + page_size();
  void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  // The lowest page is the guard: stacks grow down into it.
  if (::mprotect(base, page_size(), PROT_NONE) != 0) {
    ::munmap(base, total);
    throw std::bad_alloc();
  }
  boost::context::stack_context s;
  s.size = size;
  s.sp = static_cast<char*>(base) + total;
  try {
    mapped_.emplace(reinterpret_cast<std::uintptr_t>(s.sp), size);
  } catch (...) {
    ::munmap(base, total);
    throw;
  }
  return s;
}

void stack_pool::deallocate(boost::context::stack_context& s) noexcept {
#if defined(DUSTY_ASAN)
  // A fiber's last frames end in a context switch, not a return, so ASan never clears
  // their redzones; stale poison would otherwise greet the next user of this memory
  // (a reused stack, or any later mapping at the same address).
  ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(s.sp) - s.size, s.size);
#endif
  if (s.size == stack_size_ && free_.size() < max_cached_) {
    free_.push_back(s);
    return;
  }
  mapped_.erase(reinterpret_cast<std::uintptr_t>(s.sp));
  void* base = static_cast<char*>(s.sp) - s.size - page_size();
  ::munmap(base, s.size + page_size());
}

std::size_t stack_pool::release_cached(std::size_t warm, std::size_t warm_bytes) noexcept {
  std::size_t released = 0;
  std::size_t cold_end = free_.size() > warm ? free_.size() - warm : 0;
  auto give_back = [&](const boost::context::stack_context& s, std::size_t keep) {
    std::size_t len = s.size > keep ? (s.size - keep) & ~(page_size() - 1) : 0;
    if (len == 0) return;
    void* bottom = static_cast<char*>(s.sp) - s.size;
    if (::madvise(bottom, len, MADV_DONTNEED) == 0) released += len;
  };
  for (std::size_t i = released_; i < cold_end; ++i) give_back(free_[i], 0);
  released_ = std::max(released_, cold_end);
  for (std::size_t i = cold_end; i < free_.size(); ++i) give_back(free_[i], warm_bytes);
  return released;
}

std::size_t stack_pool::release_below(const void* sp) noexcept {
  auto at = reinterpret_cast<std::uintptr_t>(sp);
  auto it = mapped_.upper_bound(at);  // the first stack whose top is above sp
  if (it == mapped_.end() || at < it->first - it->second) return 0;
  std::uintptr_t bottom = it->first - it->second;
  if (at - bottom < release_margin) return 0;
  std::uintptr_t end = (at - release_margin) & ~(page_size() - 1);
  if (end <= bottom) return 0;
  if (::madvise(reinterpret_cast<void*>(bottom), end - bottom, MADV_DONTNEED) != 0) return 0;
  return end - bottom;
}

}  // namespace dusty::detail
