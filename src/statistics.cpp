#include "capexsim/statistics.hpp"

#include "capexsim/detail/select.hpp"

#include <algorithm>
#include <stdexcept>

namespace capexsim {

namespace {
void add_dense(std::vector<std::uint64_t>& v, std::int64_t& lo, const std::vector<std::uint64_t>& o,
               std::int64_t olo) {
  if (o.empty()) return;
  if (v.empty()) {
    v = o;
    lo = olo;
    return;
  }
  const std::int64_t new_lo = std::min(lo, olo);
  const std::int64_t new_hi =
      std::max(lo + static_cast<std::int64_t>(v.size()), olo + static_cast<std::int64_t>(o.size()));
  if (new_lo != lo || new_hi != lo + static_cast<std::int64_t>(v.size())) {
    std::vector<std::uint64_t> w(static_cast<std::size_t>(new_hi - new_lo), 0);
    std::copy(v.begin(), v.end(), w.begin() + (lo - new_lo));
    v.swap(w);
    lo = new_lo;
  }
  for (std::size_t k = 0; k < o.size(); ++k) v[static_cast<std::size_t>(olo - lo) + k] += o[k];
}

bool same_dense(const std::vector<std::uint64_t>& a, std::int64_t alo,
                const std::vector<std::uint64_t>& b, std::int64_t blo) {
  // Equal as functions key -> count, whatever the allocated range.
  auto at = [](const std::vector<std::uint64_t>& v, std::int64_t lo, std::int64_t key) {
    const std::int64_t off = key - lo;
    return off >= 0 && off < static_cast<std::int64_t>(v.size()) ? v[static_cast<std::size_t>(off)]
                                                                 : 0;
  };
  const std::int64_t lo = std::min(alo, blo);
  const std::int64_t hi = std::max(alo + static_cast<std::int64_t>(a.size()),
                                   blo + static_cast<std::int64_t>(b.size()));
  for (std::int64_t k = lo; k < hi; ++k)
    if (at(a, alo, k) != at(b, blo, k)) return false;
  return true;
}
}  // namespace

void QuantileSketch::merge(const QuantileSketch& o) {
  add_dense(pos_, pos_lo_, o.pos_, o.pos_lo_);
  add_dense(neg_, neg_lo_, o.neg_, o.neg_lo_);
  zero_ += o.zero_;
  count_ += o.count_;
}

bool operator==(const QuantileSketch& a, const QuantileSketch& b) {
  return a.count_ == b.count_ && a.zero_ == b.zero_ &&
         same_dense(a.pos_, a.pos_lo_, b.pos_, b.pos_lo_) &&
         same_dense(a.neg_, a.neg_lo_, b.neg_, b.neg_lo_);
}

template <class F>
void QuantileSketch::for_each_ascending(F&& f) const {
  // f(value, count) -> false to stop
  for (std::size_t k = neg_.size(); k-- > 0;)
    if (neg_[k] && !f(-bucket_mid(neg_lo_ + static_cast<std::int64_t>(k)), neg_[k])) return;
  if (zero_ && !f(0.0, zero_)) return;
  for (std::size_t k = 0; k < pos_.size(); ++k)
    if (pos_[k] && !f(bucket_mid(pos_lo_ + static_cast<std::int64_t>(k)), pos_[k])) return;
}

double QuantileSketch::order_statistic(std::uint64_t k) const {
  if (k >= count_) throw std::out_of_range("QuantileSketch::order_statistic: rank out of range");
  double result = 0;
  std::uint64_t seen = 0;
  for_each_ascending([&](double value, std::uint64_t c) {
    seen += c;
    if (seen > k) {
      result = value;
      return false;
    }
    return true;
  });
  return result;
}

double QuantileSketch::quantile(double q) const {
  if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
  const double h = q * static_cast<double>(count_ - 1);
  const auto lo = static_cast<std::uint64_t>(std::floor(h));
  const double frac = h - static_cast<double>(lo);
  const double a = order_statistic(lo);
  if (frac == 0 || lo + 1 >= count_) return a;
  return a + frac * (order_statistic(lo + 1) - a);
}

double QuantileSketch::tail_mean_from(std::uint64_t k) const {
  if (k >= count_) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  std::uint64_t seen = 0;
  for_each_ascending([&](double value, std::uint64_t c) {
    const std::uint64_t before = seen;
    seen += c;
    if (seen > k) sum += value * static_cast<double>(seen - std::max(before, k));
    return true;
  });
  return sum / static_cast<double>(count_ - k);
}

void QuantileSketch::write(detail::ByteWriter& w) const {
  w.put_vector(pos_);
  w.put_vector(neg_);
  w.put(pos_lo_);
  w.put(neg_lo_);
  w.put(zero_);
  w.put(count_);
}

void QuantileSketch::read(detail::ByteReader& r) {
  pos_ = r.get_vector<std::uint64_t>();
  neg_ = r.get_vector<std::uint64_t>();
  pos_lo_ = r.get<std::int64_t>();
  neg_lo_ = r.get<std::int64_t>();
  zero_ = r.get<std::uint64_t>();
  count_ = r.get<std::uint64_t>();
}

void ScalarAccumulator::write(detail::ByteWriter& w) const {
  w.put(paths_);
  w.put(nan_);
  w.put(positive_);
  sum_.write(w);
  sum_sq_.write(w);
  sketch_.write(w);
}

void ScalarAccumulator::read(detail::ByteReader& r) {
  paths_ = r.get<std::uint64_t>();
  nan_ = r.get<std::uint64_t>();
  positive_ = r.get<std::uint64_t>();
  sum_.read(r);
  sum_sq_.read(r);
  sketch_.read(r);
}

double sorted_quantile(std::span<const double> sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double h = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const double frac = h - static_cast<double>(lo);
  if (frac == 0 || lo + 1 >= sorted.size()) return sorted[lo];
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

double Summary::quantile(double level) const {
  for (std::size_t k = 0; k < summary_levels.size(); ++k)
    if (summary_levels[k] == level) return quantiles[k];
  throw std::invalid_argument("Summary::quantile: not a reported level");
}

ScalarAccumulator& ScalarAccumulator::operator+=(const ScalarAccumulator& o) {
  paths_ += o.paths_;
  nan_ += o.nan_;
  positive_ += o.positive_;
  sum_ += o.sum_;
  sum_sq_ += o.sum_sq_;
  sketch_ += o.sketch_;
  return *this;
}

Summary ScalarAccumulator::moments() const {
  Summary s;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s.paths = paths_;
  s.count = paths_ - nan_;
  s.nan_share = paths_ ? static_cast<double>(nan_) / static_cast<double>(paths_) : nan;
  s.prob_positive = paths_ ? static_cast<double>(positive_) / static_cast<double>(paths_) : nan;
  const double m = static_cast<double>(s.count);
  if (s.count == 0) {
    s.mean = s.sd = s.std_error = s.cvar95 = nan;
    s.quantiles.fill(nan);
    return s;
  }
  s.mean = sum_.value() / m;
  if (s.count > 1) {
    const double ss = sum_sq_.value() - sum_.value() * s.mean;
    s.sd = std::sqrt(std::max(0.0, ss / (m - 1)));
    s.std_error = s.sd / std::sqrt(m);
  } else {
    s.sd = s.std_error = nan;
  }
  return s;
}

Summary ScalarAccumulator::summary() const {
  Summary s = moments();
  if (s.count == 0) {
    add_intervals(s, sketch_);
    return s;
  }
  for (std::size_t k = 0; k < summary_levels.size(); ++k)
    s.quantiles[k] = sketch_.quantile(summary_levels[k]);
  // cvar95: values at or above p95, i.e. ranks from ceil(0.95 (m-1)).
  const auto from = static_cast<std::uint64_t>(std::ceil(0.95 * static_cast<double>(s.count - 1)));
  s.cvar95 = sketch_.tail_mean_from(from);
  add_intervals(s, sketch_);
  return s;
}

Summary ScalarAccumulator::summary(std::span<const double> values) const {
  Summary s = moments();
  if (values.size() != paths_)
    throw std::invalid_argument("ScalarAccumulator::summary: values do not match the paths");
  if (s.count == 0) {
    add_intervals(s, values);
    return s;
  }
  // Selection, not a full sort: the same bits as sorting (see detail/select.hpp).
  const detail::ExactQuantiles e = detail::exact_quantiles(values, summary_levels, 0.95);
  std::copy(e.quantiles.begin(), e.quantiles.end(), s.quantiles.begin());
  s.cvar95 = e.tail_mean;
  s.exact_quantiles = true;
  add_intervals(s, values);
  return s;
}

}  // namespace capexsim
