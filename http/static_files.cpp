#include <dusty/http/static_files.hpp>

#include <dusty/core/runtime.hpp>
#include <dusty/http/codec/conditional.hpp>
#include <dusty/http/codec/content_coding.hpp>
#include <dusty/http/codec/range.hpp>
#include <dusty/http/files/directory_listing.hpp>
#include <dusty/http/files/file_cache.hpp>
#include <dusty/http/files/open_beneath.hpp>
#include <dusty/http/files/safe_path.hpp>
#include <dusty/http/status.hpp>

#include <fcntl.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <memory>
#include <system_error>

namespace dusty::http {
namespace {

using files::file_entry;

// What every shard shares: the root and the options. The per-shard caches hang off it,
// one per shard id, each created by its own shard on first use.
class static_root {
 public:
  static_root(const std::string& root, static_files_options options) : options_(std::move(options)) {
    int fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "static_files: cannot open directory " + root);
    root_.reset(fd);
  }
  ~static_root() {
    for (auto& c : caches_) delete c.load(std::memory_order_relaxed);
  }

  void serve(request& req, response& res) {
    auto path = files::relative_path(req.glob(), options_.hidden_files);
    if (path.status) return refuse(res, path.status, path.why);
    // The router matches "/x/" like "/x", so the glob has lost a trailing '/': the path has not.
    if (req.path().ends_with('/')) path.directory = true;
    auto& cache = local_cache();
    auto entry = cache.lookup(path.path);
    if (entry->what == file_entry::kind::directory) return serve_directory(req, res, cache, path.path);
    if (entry->what == file_entry::kind::absent) return refuse(res, entry->status, "");
    // "/file/" names a directory: a file there does not exist (as on a POSIX filesystem).
    if (path.directory) return refuse(res, 404, "");
    serve_file(req, res, cache, path.path, std::move(entry));
  }

 private:
  files::file_cache& local_cache() {
    unsigned id = this_shard_id();
    if (id >= caches_.size()) throw status_error(500, "static_files: too many shards");
    files::file_cache* c = caches_[id].load(std::memory_order_acquire);
    if (!c) {
      c = new files::file_cache(root_.get(), {.max_entries = options_.cache_entries,
                                              .max_content_bytes = options_.cache_bytes,
                                              .small_file = options_.small_file,
                                              .revalidate_after = options_.revalidate_after,
                                              .follow_symlinks = options_.follow_symlinks});
      caches_[id].store(c, std::memory_order_release);  // only this shard ever writes slot `id`
    }
    return *c;
  }

  static void refuse(response& res, unsigned status, std::string_view why) {
    res.status = status;
    res.content_type("text/plain; charset=utf-8");
    res.body = why.empty() ? reason_phrase(status) : why;
  }

  void serve_directory(request& req, response& res, files::file_cache& cache, const std::string& dir) {
    if (req.path().empty() || req.path().back() != '/') {
      // Relative links in the index resolve against the directory only with the '/'.
      std::string location(req.path());
      location += '/';
      if (!req.raw_query().empty()) location.append("?").append(req.raw_query());
      res.status = 301;
      res.header("Location", location);
      return;
    }
    if (!options_.index.empty()) {
      std::string index = dir.empty() ? options_.index : dir + "/" + options_.index;
      auto entry = cache.lookup(index);
      if (entry->what == file_entry::kind::file) return serve_file(req, res, cache, index, std::move(entry));
    }
    if (!options_.directory_listing) return refuse(res, 403, "directory listing is off");
    auto opened = files::open_beneath(root_.get(), dir, options_.follow_symlinks);
    if (!opened) return refuse(res, 404, "");
    auto listing = files::directory_listing(opened->fd.get(), req.path(), options_.hidden_files);
    if (!listing) return refuse(res, 403, "directory unreadable");
    res.content_type("text/html; charset=utf-8");
    res.body = std::move(*listing);
  }

  void serve_file(request& req, response& res, files::file_cache& cache, const std::string& path,
                  std::shared_ptr<const file_entry> chosen) {
    std::string_view coding;
    if (options_.precompressed && !req.header("Range")) {
      static constexpr std::array<std::pair<std::string_view, std::string_view>, 2> variants{
          {{"br", ".br"}, {"gzip", ".gz"}}};
      auto accept = req.header("Accept-Encoding");
      bool any_sibling = false;
      for (auto [name, suffix] : variants) {
        auto e = cache.lookup(path + std::string(suffix));
        if (e->what != file_entry::kind::file) continue;
        any_sibling = true;
        if (coding.empty() && accept_encoding_weight(accept, name) > 0) {
          chosen = std::move(e);
          coding = name;
        }
      }
      if (any_sibling) res.header("Vary", "Accept-Encoding");
    }

    res.content_type(files::mime_type(path, options_.mime_types));
    if (!coding.empty()) res.header("Content-Encoding", coding);
    if (!options_.cache_control.empty()) res.header("Cache-Control", options_.cache_control);
    if (answer_conditional(req, res, {.etag = chosen->etag, .last_modified = chosen->modified})) return;
    res.header("ETag", chosen->etag);
    res.header("Last-Modified", chosen->last_modified);

    auto plan = apply_range(req, res, chosen->size, {.etag = chosen->etag, .last_modified = chosen->modified});
    if (plan.status == 416) return;
    if (chosen->has_content) {
      // The entry owns the bytes; the body shares them, so an eviction cannot pull them away.
      auto bytes = std::string_view(chosen->content).substr(plan.first, plan.length());
      res.body.share(std::move(chosen), bytes);
    } else {
      res.body = file_range{chosen->fd, plan.first, plan.length()};
    }
  }

  file_descriptor root_;
  static_files_options options_;
  std::array<std::atomic<files::file_cache*>, 1024> caches_{};
};

}  // namespace

handler static_files(const std::string& root, static_files_options options) {
  auto state = std::make_shared<static_root>(root, std::move(options));
  return [state](request& req, response& res) { state->serve(req, res); };
}

}  // namespace dusty::http
