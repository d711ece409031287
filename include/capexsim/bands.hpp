#pragma once
// Per-time bands (fan charts) without storing paths x steps.

#include <array>
#include <cstdint>
#include <vector>

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

/// For every series and step: an exact fixed-point sum (the mean, to 2.3e-10) and a
/// QuantileSketch (quantiles to 0.39% relative, plus 1e-3 absolute). Memory is
/// series x steps x (occupied buckets), independent of the path count; merging is exact.
class BandAccumulator {
 public:
  BandAccumulator() = default;
  /// Bands of `series` series (PathModel::series) over `steps` steps.
  BandAccumulator(int steps, std::size_t series)
      : steps_(steps),
        sums_(series * static_cast<std::size_t>(steps)),
        sketches_(series * static_cast<std::size_t>(steps)) {}

  /// Add `count` whole paths at once from a buffer laid out
  /// values[(series * steps + step) * stride + path]: each sketch then takes `count`
  /// values in a row instead of one value per path (far fewer cache misses). Same
  /// integer counts and sums as adding them path by path, so the same bits.
  void add_block(const double* values, std::size_t count, std::size_t stride) {
    for (std::size_t k = 0; k < sums_.size(); ++k) {
      const double* v = values + k * stride;
      sums_[k].add_many(v, count);
      sketches_[k].add_many(v, count);
    }
    paths_ += count;
  }

  BandAccumulator& operator+=(const BandAccumulator& o);
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
  void read(detail::ByteReader& r);

 private:
  int steps_ = 0;
  std::uint64_t paths_ = 0;
  std::vector<FixedPointSum> sums_;
  std::vector<QuantileSketch> sketches_;
};

}  // namespace capexsim
