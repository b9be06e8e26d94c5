#pragma once
// latency_histogram: an HdrHistogram-style log-linear histogram of non-negative integer
// values (dusty-load records latencies in nanoseconds).
//
// Values below 2^sub_bucket_bits are counted exactly; above, each power-of-two range is
// split into 2^(sub_bucket_bits-1) equal sub-buckets, so every recorded value is known to
// within a relative error of 2^-(sub_bucket_bits-1): 1/1024 (three significant digits)
// with the default 11 bits. Memory is fixed at construction (about 270 KiB for the
// default range of 2^42 ns, 73 minutes) and recording never allocates: a per-shard
// histogram takes every request of the shard. Values above the range are clamped into
// the top bucket; min() and max() stay exact.
//
// Histograms with the same parameters merge by adding their counts, which is how the
// shards' latencies become one distribution on shard 0.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

namespace dusty::load {

class latency_histogram {
 public:
  /// Counts values up to 2^42 - 1 (73 minutes in nanoseconds) at 3 significant digits.
  latency_histogram() : latency_histogram(42, 11) {}
  /// Counts values in [0, 2^max_bits) at a precision of sub_bucket_bits (see the file
  /// comment). Throws std::invalid_argument unless 2 <= sub_bucket_bits < max_bits <= 63.
  explicit latency_histogram(unsigned max_bits, unsigned sub_bucket_bits = 11)
      : sub_bits_(sub_bucket_bits), max_bits_(max_bits) {
    if (sub_bucket_bits < 2 || max_bits <= sub_bucket_bits || max_bits > 63)
      throw std::invalid_argument("latency_histogram: need 2 <= sub_bucket_bits < max_bits <= 63");
    counts_.assign(index_of(highest_trackable()) + 1, 0);
  }

  /// Counts `value` (clamped to highest_trackable()) `n` times. Never allocates.
  void record(std::uint64_t value, std::uint64_t n = 1) noexcept {
    if (n == 0) return;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
    sum_ += static_cast<double>(value) * static_cast<double>(n);
    total_ += n;
    counts_[index_of(std::min(value, highest_trackable()))] += n;
  }

  /// Adds another histogram's counts. Throws std::invalid_argument when the two were
  /// built with different parameters.
  void merge(const latency_histogram& other) {
    if (other.sub_bits_ != sub_bits_ || other.max_bits_ != max_bits_)
      throw std::invalid_argument("latency_histogram::merge: different parameters");
    if (other.total_ == 0) return;
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }

  /// Forgets every value; the memory stays.
  void clear() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = 0;
    sum_ = 0;
    min_ = std::numeric_limits<std::uint64_t>::max();
    max_ = 0;
  }

  /// Values recorded.
  std::uint64_t count() const noexcept { return total_; }
  /// Exact smallest and largest values recorded; 0 when empty.
  std::uint64_t min() const noexcept { return total_ ? min_ : 0; }
  std::uint64_t max() const noexcept { return max_; }
  /// Exact mean of the values recorded (before clamping); 0 when empty.
  double mean() const noexcept { return total_ ? sum_ / static_cast<double>(total_) : 0.0; }

  /// The smallest value v such that at least `percentile` percent of the recorded values
  /// are <= v, reported as the highest value of v's sub-bucket (so it never understates a
  /// latency) but never above max(). percentile is clamped to [0, 100]; 0 gives min(),
  /// 100 gives max(); an empty histogram gives 0.
  std::uint64_t value_at_percentile(double percentile) const noexcept {
    if (total_ == 0) return 0;
    if (!(percentile > 0)) return min();
    if (percentile >= 100) return max_;
    // The rank of the value asked for, 1-based: ceil(p/100 * n), at least 1.
    auto rank = static_cast<std::uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(total_)));
    rank = std::clamp<std::uint64_t>(rank, 1, total_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::clamp(highest_equivalent(i), min(), max_);
    }
    return max_;
  }

  /// The largest value record() distinguishes; larger ones are counted here.
  std::uint64_t highest_trackable() const noexcept { return (std::uint64_t{1} << max_bits_) - 1; }
  /// Bytes of counters this histogram holds.
  std::size_t memory() const noexcept { return counts_.size() * sizeof(std::uint64_t); }

  /// Whether two values fall into the same sub-bucket (are indistinguishable here).
  bool equivalent(std::uint64_t a, std::uint64_t b) const noexcept {
    return index_of(std::min(a, highest_trackable())) == index_of(std::min(b, highest_trackable()));
  }

 private:
  // Values below 2^sub_bits_ index themselves. A larger value v with highest bit m is in
  // bucket b = m - sub_bits_ + 1, where v >> b lies in [2^(sub_bits_-1), 2^sub_bits_).
  std::size_t index_of(std::uint64_t v) const noexcept {
    std::uint64_t linear = std::uint64_t{1} << sub_bits_;
    if (v < linear) return static_cast<std::size_t>(v);
    unsigned m = 63 - static_cast<unsigned>(std::countl_zero(v));
    unsigned b = m - sub_bits_ + 1;
    std::uint64_t half = linear >> 1;
    return static_cast<std::size_t>(linear + (b - 1) * half + ((v >> b) - half));
  }

  // The largest value that maps to index i.
  std::uint64_t highest_equivalent(std::size_t i) const noexcept {
    std::uint64_t linear = std::uint64_t{1} << sub_bits_;
    if (i < linear) return i;
    std::uint64_t half = linear >> 1;
    std::uint64_t b = (i - linear) / half + 1;
    std::uint64_t sub = (i - linear) % half + half;
    return ((sub + 1) << b) - 1;
  }

  unsigned sub_bits_;
  unsigned max_bits_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  double sum_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
};

}  // namespace dusty::load
