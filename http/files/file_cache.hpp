#pragma once
// file_cache: one shard's memory of the files beneath one served directory: open
// descriptors, their metadata and validators, the whole content of small files, and
// which names do not exist. A hit costs no system call.
//
// Stale data is the classic failure of such caches (nginx's open_file_cache keeps
// serving the old file of a deploy until open_file_cache_valid passes, 60 s by default,
// because it holds the old descriptor). Here an entry older than `revalidate_after` is
// checked by opening the path again (through open_beneath: one openat2 and one fstat):
// the same device, inode, size and modification time keep the entry; anything else (a
// file replaced by rename, rewritten in place, removed, created) replaces it. So a
// deploy shows within revalidate_after (default 1 s; zero checks on every request).
//
// Bounded: at most max_entries entries (each regular file holds a descriptor) and
// max_content_bytes of small-file content, least recently used first out. Entries are
// shared: a response in flight keeps its descriptor or bytes even after eviction.
// Belongs to one shard; no locking.
#include <dusty/core/file_descriptor.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

namespace dusty::http::files {

struct file_entry {
  enum class kind { file, directory, absent };
  kind what = kind::absent;
  unsigned status = 404;  ///< For absent: 404, 403 (refused: symlink, permission, not a regular file), 500, 503.
  std::shared_ptr<const file_descriptor> fd;  ///< Regular files.
  std::uint64_t size = 0;
  dev_t device = 0;
  ino_t inode = 0;
  std::int64_t mtime_ns = 0;
  std::chrono::system_clock::time_point modified;  ///< mtime, whole seconds (HTTP dates).
  std::string etag;           ///< Strong: "<mtime ns hex>-<size hex>", quoted.
  std::string last_modified;  ///< IMF-fixdate.
  bool has_content = false;   ///< `content` holds the whole file (a small one).
  std::string content;
};

struct file_cache_limits {
  std::size_t max_entries = 1024;
  std::size_t max_content_bytes = 8 << 20;
  std::size_t small_file = 16 * 1024;  ///< Files up to this size are kept in memory.
  std::chrono::milliseconds revalidate_after{1000};
  bool follow_symlinks = true;
};

class file_cache {
 public:
  /// `root`: a descriptor of the served directory, which must outlive the cache.
  file_cache(int root, file_cache_limits limits) : root_(root), limits_(limits) {}
  file_cache(const file_cache&) = delete;
  file_cache& operator=(const file_cache&) = delete;

  /// What `relative` (from safe_path) is now, at most revalidate_after old. Call from a
  /// fiber: reading a small file's content may suspend (reactor::read_at).
  std::shared_ptr<const file_entry> lookup(const std::string& relative);

  std::size_t size() const noexcept { return map_.size(); }
  std::size_t content_bytes() const noexcept { return content_bytes_; }

 private:
  struct slot {
    std::shared_ptr<const file_entry> entry;
    std::chrono::steady_clock::time_point checked;
    std::list<std::string>::iterator age;
  };

  std::shared_ptr<const file_entry> load(const std::string& relative, const std::shared_ptr<const file_entry>& previous);
  void store(const std::string& relative, std::shared_ptr<const file_entry> entry);
  void erase(std::unordered_map<std::string, slot>::iterator it);

  int root_;
  file_cache_limits limits_;
  std::unordered_map<std::string, slot> map_;
  std::list<std::string> lru_;  // front: most recently used
  std::size_t content_bytes_ = 0;
};

}  // namespace dusty::http::files
