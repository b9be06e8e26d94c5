#pragma once
// sharded<T>: one instance of T per shard, each built, used and destroyed on its own
// shard. The usual way to hold per-core state (a cache, a counter, a connection pool)
// and to reach another core's copy through a cross-core call.
//
//   dusty::sharded<counter> hits;
//   hits.start();                                         // T() on every shard
//   hits.local().add(1);                                  // this shard's copy, no locks
//   auto total = hits.map_reduce([](counter& c) { return c.value(); }, 0ul, std::plus<>());
//   hits.stop();                                          // T::stop() if any, then ~T()
#include <dusty/core/runtime.hpp>
#include <dusty/core/submit_to.hpp>

#include <concepts>
#include <exception>
#include <stdexcept>
#include <utility>
#include <vector>

namespace dusty {

template <class T>
class sharded {
 public:
  sharded() = default;
  sharded(const sharded&) = delete;
  sharded& operator=(const sharded&) = delete;
  /// A sharded<T> must be stopped before it is destroyed; if it was not, the destructor
  /// stops it (it must then run in a fiber of the same runtime).
  ~sharded() {
    if (started()) {
      try {
        stop();
      } catch (...) {
      }
    }
  }

  /// Constructs T(args...) on every shard, each on its own shard, with its own copy of
  /// the arguments. If a constructor throws, the instances already built are destroyed
  /// and the first exception is rethrown. Suspends the calling fiber.
  template <class... A>
  void start(const A&... args) {
    if (started()) throw std::logic_error("dusty::sharded::start: already started");
    instances_.assign(shard_count(), nullptr);
    std::exception_ptr error = for_each_shard([this, args...](unsigned id) { instances_[id] = new T(args...); });
    if (error) {
      stop();
      std::rethrow_exception(error);
    }
  }

  /// Calls T::stop() (if T has one; it may suspend) and then destroys each instance, on
  /// its own shard. Rethrows the first exception a stop() threw, after all are destroyed.
  void stop() {
    if (instances_.empty()) return;
    std::exception_ptr error = for_each_shard([this](unsigned id) {
      T* p = std::exchange(instances_[id], nullptr);
      if (!p) return;
      struct deleter {
        T* p;
        ~deleter() { delete p; }
      } guard{p};
      if constexpr (requires(T& t) { t.stop(); }) p->stop();
    });
    instances_.clear();
    if (error) std::rethrow_exception(error);
  }

  bool started() const noexcept { return !instances_.empty(); }

  /// This shard's instance. Never suspends.
  T& local() { return *instances_.at(this_shard_id()); }

  /// Runs fn(T&) on `shard` with that shard's instance and returns its result.
  /// Suspends the calling fiber until it is back.
  template <class F>
  auto invoke_on(unsigned shard, F fn) {
    return submit_to(shard, [this, fn = std::move(fn)]() mutable { return fn(*instances_[this_shard_id()]); }).get();
  }

  /// Runs fn(T&) on every shard concurrently and waits for all of them; rethrows the
  /// first exception once every shard has finished.
  template <class F>
  void invoke_on_all(F fn) {
    std::exception_ptr error = for_each_shard([this, fn](unsigned id) mutable { fn(*instances_[id]); });
    if (error) std::rethrow_exception(error);
  }

  /// Runs map(T&) on every shard concurrently, then folds the results in shard order:
  /// acc = reduce(acc, result_i), starting from init.
  template <class Mapper, class R, class Reducer>
  R map_reduce(Mapper map, R init, Reducer reduce) {
    using M = std::invoke_result_t<Mapper&, T&>;
    std::vector<future<M>> parts;
    for (unsigned i = 0; i < instances_.size(); ++i)
      parts.push_back(submit_to(i, [this, map]() mutable { return map(*instances_[this_shard_id()]); }));
    for (auto& p : parts) init = reduce(std::move(init), p.get());
    return init;
  }

 private:
  // Runs fn(shard id) on each shard concurrently; waits for all; returns the first error.
  template <class F>
  std::exception_ptr for_each_shard(F fn) {
    std::vector<future<void>> parts;
    unsigned n = shard_count();
    for (unsigned i = 0; i < n; ++i) parts.push_back(submit_to(i, [fn, i]() mutable { fn(i); }));
    std::exception_ptr first;
    for (auto& p : parts) {
      try {
        p.get();
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    return first;
  }

  std::vector<T*> instances_;  // slot i is touched only on shard i (and before/after all run)
};

}  // namespace dusty
