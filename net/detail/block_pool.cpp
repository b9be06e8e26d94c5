#include <dusty/net/detail/block_pool.hpp>

namespace dusty::net::detail {

block_pool& block_pool::local() noexcept {
  thread_local block_pool pool;
  return pool;
}

std::byte* block_pool::get() {
  std::byte* b;
  if (free_.empty()) {
    b = new std::byte[block_size];
  } else {
    b = free_.back();
    free_.pop_back();
  }
  ++in_use_;
  return b;
}

void block_pool::put(std::byte* block) noexcept {
  --in_use_;
  if (free_.size() < max_cached)
    free_.push_back(block);  // never reallocates: reserved in the constructor
  else
    delete[] block;
}

block_pool::~block_pool() {
  for (std::byte* b : free_) delete[] b;
}

}  // namespace dusty::net::detail
