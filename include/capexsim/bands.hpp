#pragma once
// Per-time bands (fan charts) without storing paths x steps.

#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "capexsim/detail/band_sink.hpp"
#include "capexsim/schema.hpp"
#include "capexsim/statistics.hpp"

namespace capexsim {

/// One row of a band: a step's mean and quantiles (band_levels) across paths.
struct BandRow {
  double t = 0;     // years from start to the start of the step, t_i
  double year = 0;  // calendar year, start + t_i
  double mean = 0;
  std::array<double, band_levels.size()> quantiles{};  // p5, p25, p50, p75, p95
};

/// For every series and step: an exact fixed-point sum (the mean, to 2.3e-10), a
/// QuantileSketch (quantiles to 0.39% relative, plus 1e-3 absolute) and the exact smallest
/// and largest value. Each reported quantile and mean is clamped to [min, max], so a band
/// never leaves the data (a sketch bucket's midpoint can lie above the largest value or
/// below the smallest), and a step whose values are all equal reports that value exactly.
/// Memory is series x steps x (occupied buckets), independent of the path count; merging is
/// exact (min and max are exact under any merge order).
class BandAccumulator {
 public:
  BandAccumulator() = default;
  /// Bands of `series` series (PathModel::series) over `steps` steps.
  BandAccumulator(int steps, std::size_t series)
      : steps_(steps),
        sums_(series * static_cast<std::size_t>(steps)),
        sketches_(series * static_cast<std::size_t>(steps)),
        min_(series * static_cast<std::size_t>(steps), std::numeric_limits<double>::infinity()),
        max_(series * static_cast<std::size_t>(steps), -std::numeric_limits<double>::infinity()) {}

  /// Add `count` whole paths at once from a buffer laid out
  /// values[(series * steps + step) * stride + path]: each sketch then takes `count`
  /// values in a row instead of one value per path (far fewer cache misses). Same
  /// integer counts and sums as adding them path by path, so the same bits.
  void add_block(const double* values, std::size_t count, std::size_t stride) {
    if (count == 0) return;
    for (std::size_t k = 0; k < sums_.size(); ++k) {
      const double* v = values + k * stride;
      // Selects rather than std::min, so the loop vectorises. NaN never becomes the
      // smallest or largest value (as in add_flush).
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      bool nan = false;
      for (std::size_t p = 0; p < count; ++p) {
        lo = v[p] < lo ? v[p] : lo;
        hi = v[p] > hi ? v[p] : hi;
        nan |= v[p] != v[p];
      }
      // (+0 and -0 compare equal; both go to the same bucket and round to the same sum.)
      if (lo == hi && !nan) {
        // Every path of the flush has the same value (capacity before the first delivery, a
        // fixed series): one bucket update and one multiply, the same counts and sums.
        sums_[k].add_repeated(lo, count);
        sketches_[k].add_repeated(lo, count);
      } else {
        sums_[k].add_many(v, count);
        sketches_[k].add_many(v, count);
      }
      min_[k] = lo < min_[k] ? lo : min_[k];
      max_[k] = hi > max_[k] ? hi : max_[k];
    }
    paths_ += count;
  }

  /// Add the `count` paths gathered in `f` by the kernels' band sink (detail::BandSink,
  /// columns 0 .. count - 1), then clear `f`. The same integer counts and sums, and the
  /// same min and max, as add_block() of those paths' values: the same bits.
  void add_flush(detail::BandFlush& f, std::size_t count);

  BandAccumulator& operator+=(const BandAccumulator& o);
  /// Merge, taking `o`'s storage when this one is empty (a worker's bands into a result).
  BandAccumulator& operator+=(BandAccumulator&& o);
  bool empty() const { return paths_ == 0; }
  int steps() const { return steps_; }
  std::uint64_t paths() const { return paths_; }

  /// Number of series banded.
  std::size_t series() const {
    return steps_ > 0 ? sums_.size() / static_cast<std::size_t>(steps_) : 0;
  }
  /// Mean and quantiles of the series of band index `k` at every step.
  std::vector<BandRow> rows(std::size_t k, double start_year, double dt) const;

  friend bool operator==(const BandAccumulator&, const BandAccumulator&) = default;
  void write(detail::ByteWriter& w) const;
  /// `with_extremes` = false reads the layout of results written before min and max were
  /// kept ("CAPXRES3" and older): their bands are then not clamped.
  void read(detail::ByteReader& r, bool with_extremes = true);

 private:
  int steps_ = 0;
  std::uint64_t paths_ = 0;
  std::vector<FixedPointSum> sums_;
  std::vector<QuantileSketch> sketches_;
  // Exact smallest and largest value of each (series, step); -inf and +inf when unknown
  // (read from an older result), which makes the clamp a no-op.
  std::vector<double> min_, max_;
};

}  // namespace capexsim
