#include "capexsim/bands.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

namespace capexsim {

BandAccumulator& BandAccumulator::operator+=(const BandAccumulator& o) {
  if (o.paths_ == 0 && o.steps_ == 0) return *this;
  if (steps_ == 0 && paths_ == 0) {
    *this = o;
    return *this;
  }
  if (steps_ != o.steps_ || sums_.size() != o.sums_.size())
    throw std::invalid_argument("BandAccumulator: step or series counts differ");
  paths_ += o.paths_;
  for (std::size_t k = 0; k < sums_.size(); ++k) {
    sums_[k] += o.sums_[k];
    sketches_[k] += o.sketches_[k];
    min_[k] = std::min(min_[k], o.min_[k]);
    max_[k] = std::max(max_[k], o.max_[k]);
  }
  return *this;
}

BandAccumulator& BandAccumulator::operator+=(BandAccumulator&& o) {
  // Nothing added yet (a default one, or a result's empty bands of the same shape): take
  // o's sums and sketches instead of adding them to empty ones (the same values).
  if (paths_ == 0 && (steps_ == 0 || (steps_ == o.steps_ && sums_.size() == o.sums_.size()))) {
    *this = std::move(o);
    return *this;
  }
  return *this += static_cast<const BandAccumulator&>(o);
}

void BandAccumulator::add_flush(detail::BandFlush& f, std::size_t count) {
  if (count == 0) return;
  if (f.rows != sums_.size() || count > f.stride)
    throw std::invalid_argument("BandAccumulator: flush does not match the bands");
  for (const auto& [k, x] : f.slow) sums_[k].add(x);
  for (std::size_t k = 0; k < sums_.size(); ++k) {
    sums_[k].add_units(f.units[k]);
    const double lo = f.lo[k], hi = f.hi[k];
    // (+0 and -0 compare equal; both go to the zero bucket.)
    if (lo == hi && !f.nan[k])
      // Every path of the flush has the same value (capacity before the first delivery, a
      // fixed series): one bucket update, the same counts.
      sketches_[k].add_repeated(lo, count);
    else
      sketches_[k].add_codes(f.codes.get() + k * f.stride, count);
    min_[k] = lo < min_[k] ? lo : min_[k];
    max_[k] = hi > max_[k] ? hi : max_[k];
  }
  paths_ += count;
  f.clear();
}

std::vector<BandRow> BandAccumulator::rows(std::size_t series, double start_year, double dt) const {
  std::vector<BandRow> out(static_cast<std::size_t>(steps_));
  if (series >= this->series()) throw std::out_of_range("BandAccumulator: no such series");
  const std::size_t base = series * static_cast<std::size_t>(steps_);
  for (int i = 0; i < steps_; ++i) {
    BandRow& r = out[static_cast<std::size_t>(i)];
    r.t = i * dt;
    r.year = start_year + r.t;
    const std::size_t k = base + static_cast<std::size_t>(i);
    r.mean = paths_ ? sums_[k].value() / static_cast<double>(paths_)
                    : std::numeric_limits<double>::quiet_NaN();
    for (std::size_t q = 0; q < band_levels.size(); ++q)
      r.quantiles[q] = sketches_[k].quantile(band_levels[q]);
    // The sketch returns a bucket's midpoint, which can lie outside the data (capacity 2.0
    // on every path read 2.0078): clamp to the exact extremes. Each quantile then stays
    // within the documented bound, and equals the value exactly when min == max. The
    // mean's fixed-point rounding (2^-32 per value) is clamped the same way.
    const double lo = min_[k], hi = max_[k];
    if (paths_ && lo <= hi) {
      // lo + 0.0: a step of zeros reads +0, not -0.
      for (double& q : r.quantiles) q = lo == hi ? lo + 0.0 : std::clamp(q, lo, hi);
      r.mean = lo == hi ? lo + 0.0 : std::clamp(r.mean, lo, hi);
    }
  }
  return out;
}

void BandAccumulator::write(detail::ByteWriter& w) const {
  w.put(steps_);
  w.put(paths_);
  w.put<std::uint64_t>(sums_.size());
  for (const auto& x : sums_) x.write(w);
  for (const auto& x : sketches_) x.write(w);
  w.put_vector(min_);
  w.put_vector(max_);
}

void BandAccumulator::read(detail::ByteReader& r, bool with_extremes) {
  steps_ = r.get<int>();
  paths_ = r.get<std::uint64_t>();
  const auto n = r.get<std::uint64_t>();
  // Each band holds a sum and a sketch of at least 16 + 8 + 56 bytes: a count beyond what
  // the bytes left can hold is refused before anything is allocated for it.
  if (steps_ < 0 || (steps_ == 0 && n != 0) ||
      (steps_ > 0 && n % static_cast<std::uint64_t>(steps_) != 0) ||
      n > series_count * static_cast<std::uint64_t>(std::max(steps_, 0)) || n > r.remaining() / 80)
    throw std::invalid_argument("result bytes: corrupt band data");
  sums_.assign(n, FixedPointSum());
  sketches_.assign(n, QuantileSketch());
  for (auto& x : sums_) x.read(r, paths_);
  for (auto& x : sketches_) {
    x.read(r);
    if (x.count() != paths_) throw std::invalid_argument("result bytes: corrupt band data");
  }
  if (with_extremes) {
    min_ = r.get_vector<double>();
    max_ = r.get_vector<double>();
    if (min_.size() != n || max_.size() != n)
      throw std::invalid_argument("result bytes: corrupt band data");
  } else {
    min_.assign(n, -std::numeric_limits<double>::infinity());
    max_.assign(n, std::numeric_limits<double>::infinity());
  }
}

}  // namespace capexsim
