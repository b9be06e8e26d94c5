#include <dusty/http/files/file_cache.hpp>

#include <dusty/core/reactor.hpp>
#include <dusty/http/codec/conditional.hpp>
#include <dusty/http/files/open_beneath.hpp>

#include <cerrno>
#include <cstdio>

namespace dusty::http::files {
namespace {

unsigned status_for_errno(int e) {
  switch (e) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return 404;
    case EACCES:
    case EPERM:
    case ELOOP:  // a symlink where none may be
    case EXDEV:  // resolution would leave the root
      return 403;
    case EMFILE:
    case ENFILE:
    case ENOMEM:
      return 503;
    default:
      return 500;
  }
}

std::int64_t mtime_ns(const struct stat& st) {
  return std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

bool same_file(const file_entry& e, const struct stat& st) {
  return e.device == st.st_dev && e.inode == st.st_ino && e.size == static_cast<std::uint64_t>(st.st_size) &&
         e.mtime_ns == mtime_ns(st);
}

// Reads the whole (small) file; false if it changed size under us (it is then sent from
// its descriptor, whose length check catches a shrink).
bool read_content(int fd, std::uint64_t size, std::string& out) {
  out.resize(size);
  std::size_t got = 0;
  while (got < size) {
    auto n = reactor::read_at(fd, std::as_writable_bytes(std::span(out)).subspan(got), got);
    if (!n || *n == 0) return false;
    got += *n;
  }
  return true;
}

}  // namespace

std::shared_ptr<const file_entry> file_cache::lookup(const std::string& relative) {
  auto now = std::chrono::steady_clock::now();
  auto it = map_.find(relative);
  if (it != map_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second.age);
    if (now - it->second.checked < limits_.revalidate_after) return it->second.entry;
  }
  std::shared_ptr<const file_entry> previous = it != map_.end() ? it->second.entry : nullptr;
  auto entry = load(relative, previous);
  store(relative, entry);
  return entry;
}

std::shared_ptr<const file_entry> file_cache::load(const std::string& relative,
                                                   const std::shared_ptr<const file_entry>& previous) {
  auto entry = std::make_shared<file_entry>();
  auto opened = open_beneath(root_, relative, limits_.follow_symlinks);
  if (!opened) {
    entry->status = status_for_errno(opened.error().value());
    return entry;
  }
  const struct stat& st = opened->info;
  if (S_ISDIR(st.st_mode)) {
    entry->what = file_entry::kind::directory;
    return entry;
  }
  if (!S_ISREG(st.st_mode)) {
    entry->status = 403;  // a FIFO, socket or device file is never served
    return entry;
  }
  if (previous && previous->what == file_entry::kind::file && same_file(*previous, st)) {
    return previous;  // unchanged: keep the descriptor and content we have
  }
  entry->what = file_entry::kind::file;
  entry->size = static_cast<std::uint64_t>(st.st_size);
  entry->device = st.st_dev;
  entry->inode = st.st_ino;
  entry->mtime_ns = mtime_ns(st);
  entry->modified = std::chrono::system_clock::time_point(std::chrono::seconds(st.st_mtim.tv_sec));
  char tag[48];
  std::snprintf(tag, sizeof tag, "%llx-%llx", static_cast<unsigned long long>(entry->mtime_ns),
                static_cast<unsigned long long>(entry->size));
  entry->etag = make_etag(tag);
  entry->last_modified = format_http_date(entry->modified);
  if (entry->size <= limits_.small_file && content_bytes_ + entry->size <= limits_.max_content_bytes)
    entry->has_content = read_content(opened->fd.get(), entry->size, entry->content);
  if (!entry->has_content) entry->content.clear();
  entry->fd = std::make_shared<const file_descriptor>(std::move(opened->fd));
  return entry;
}

void file_cache::store(const std::string& relative, std::shared_ptr<const file_entry> entry) {
  if (auto it = map_.find(relative); it != map_.end()) {
    if (it->second.entry == entry) {
      it->second.checked = std::chrono::steady_clock::now();
      return;
    }
    erase(it);
  }
  while (!lru_.empty() && (map_.size() >= limits_.max_entries ||
                           content_bytes_ + entry->content.size() > limits_.max_content_bytes))
    erase(map_.find(lru_.back()));
  if (limits_.max_entries == 0) return;
  content_bytes_ += entry->content.size();
  lru_.push_front(relative);
  map_.emplace(relative, slot{std::move(entry), std::chrono::steady_clock::now(), lru_.begin()});
}

void file_cache::erase(std::unordered_map<std::string, slot>::iterator it) {
  content_bytes_ -= it->second.entry->content.size();
  lru_.erase(it->second.age);
  map_.erase(it);
}

}  // namespace dusty::http::files
