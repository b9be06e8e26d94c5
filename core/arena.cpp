#include <dusty/core/arena.hpp>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <cstring>
#include <new>

namespace dusty {

arena::arena(arena_config config) : config_(config) {
  config_.first_chunk_size = std::max<std::size_t>(config_.first_chunk_size, 64);
  config_.max_chunk_size = std::max(config_.max_chunk_size, config_.first_chunk_size);
}

arena::~arena() {
  for (auto& c : chunks_) free_chunk(c);
  for (auto& c : large_) free_chunk(c);
}

arena::chunk arena::new_chunk(std::size_t size) { return {static_cast<std::byte*>(::operator new(size)), size}; }

void arena::free_chunk(const chunk& c) noexcept { ::operator delete(c.data, c.size); }

std::string_view arena::copy(std::string_view s) {
  auto* p = static_cast<char*>(allocate(s.size(), 1));
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

std::size_t arena::reserved() const noexcept {
  std::size_t n = 0;
  for (auto& c : chunks_) n += c.size;
  for (auto& c : large_) n += c.size;
  return n;
}

void arena::open(std::size_t index) noexcept {
  ptr_ = chunks_[index].data;
  end_ = ptr_ + chunks_[index].size;
  next_ = index + 1;
}

void* arena::bump(std::size_t bytes, std::size_t alignment) noexcept {
  // Integer arithmetic: an aligned pointer past end_ must not be formed.
  auto start = (reinterpret_cast<std::uintptr_t>(ptr_) + alignment - 1) & ~(alignment - 1);
  auto limit = reinterpret_cast<std::uintptr_t>(end_);
  if (start > limit || limit - start < bytes) return nullptr;
  auto* p = ptr_ + (start - reinterpret_cast<std::uintptr_t>(ptr_));
  ptr_ = p + bytes;
  allocated_ += bytes;
  return p;
}

void* arena::do_allocate(std::size_t bytes, std::size_t alignment) {
  assert(alignment && (alignment & (alignment - 1)) == 0);
  bytes = std::max<std::size_t>(bytes, 1);  // distinct allocations get distinct addresses
  if (void* p = bump(bytes, alignment)) return p;
  return allocate_slow(bytes, alignment);
}

void* arena::allocate_slow(std::size_t bytes, std::size_t alignment) {
  // Chunks come from operator new, aligned for max_align_t; more alignment costs padding.
  std::size_t base_align = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  std::size_t need = bytes + (alignment > base_align ? alignment - base_align : 0);
  if (need > config_.max_chunk_size / 2) {
    large_.reserve(large_.size() + 1);
    chunk c = new_chunk(need);
    large_.push_back(c);
    auto start = (reinterpret_cast<std::uintptr_t>(c.data) + alignment - 1) & ~(alignment - 1);
    allocated_ += bytes;
    return c.data + (start - reinterpret_cast<std::uintptr_t>(c.data));
  }
  while (next_ < chunks_.size()) {
    open(next_);
    if (void* p = bump(bytes, alignment)) return p;
  }
  std::size_t size = chunks_.empty() ? config_.first_chunk_size
                                     : std::min(chunks_.back().size * 2, config_.max_chunk_size);
  chunks_.reserve(chunks_.size() + 1);
  chunks_.push_back(new_chunk(std::max(size, need)));
  open(chunks_.size() - 1);
  return bump(bytes, alignment);
}

void arena::reset() noexcept {
  for (auto& c : large_) free_chunk(c);
  large_.clear();
  std::size_t kept = 0;
  std::size_t total = 0;
  for (; kept < chunks_.size(); ++kept) {
    if (kept > 0 && total + chunks_[kept].size > config_.retain_size) break;
    total += chunks_[kept].size;
  }
  for (std::size_t i = kept; i < chunks_.size(); ++i) free_chunk(chunks_[i]);
  chunks_.resize(kept);
  allocated_ = 0;
  ptr_ = end_ = nullptr;
  next_ = 0;
  if (!chunks_.empty()) open(0);
}

void arena::release() noexcept {
  for (auto& c : chunks_) free_chunk(c);
  for (auto& c : large_) free_chunk(c);
  std::vector<chunk>().swap(chunks_);
  std::vector<chunk>().swap(large_);
  allocated_ = 0;
  ptr_ = end_ = nullptr;
  next_ = 0;
}

}  // namespace dusty
