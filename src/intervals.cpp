// 95% confidence half-widths of the summary statistics, cvar05 and exceedance
// probabilities (docs/statistics.md, "Monte Carlo error").

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "capexsim/detail/select.hpp"
#include "capexsim/engine.hpp"
#include "capexsim/statistics.hpp"

namespace capexsim {

namespace {
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// Half-width of the expected shortfall of a tail of k values with mean `es`, variance
/// `tail_var` and boundary quantile `q`, out of m: the asymptotic variance of the
/// estimator (Chen 2008) is (Var(X | tail) + (1 - beta)(ES - q)^2) / (m beta), beta = k/m.
double es_ci95(std::uint64_t k, std::uint64_t m, double es, double tail_var, double q) {
  if (k < 2 || m == 0) return nan;
  const double beta = static_cast<double>(k) / static_cast<double>(m);
  const double var = (tail_var + (1 - beta) * (es - q) * (es - q)) / static_cast<double>(k);
  return z95 * std::sqrt(std::max(0.0, var));
}
}  // namespace

double proportion_ci95(std::uint64_t hits, std::uint64_t n) {
  if (n == 0) return nan;
  const double nt = static_cast<double>(n) + 4;
  const double p = (static_cast<double>(hits) + 2) / nt;
  return z95 * std::sqrt(p * (1 - p) / nt);
}

std::pair<std::uint64_t, std::uint64_t> quantile_ci_ranks(std::uint64_t m, double q) {
  if (m == 0) return {0, 0};
  // The j-th smallest (1-based) is below the q-quantile iff Bin(m, q) >= j, so
  // [X_(l), X_(u)] covers it with probability P(l <= B < u) ~ 95% for l, u at
  // m q -+ z95 sqrt(m q (1 - q)), rounded outwards.
  const double md = static_cast<double>(m);
  const double c = md * q, h = z95 * std::sqrt(md * q * (1 - q));
  const double lo = std::clamp(std::floor(c - h), 1.0, md);
  const double hi = std::clamp(std::ceil(c + h), 1.0, md);
  return {static_cast<std::uint64_t>(lo) - 1, static_cast<std::uint64_t>(hi) - 1};
}

void add_intervals(Summary& s, std::span<const double> values) {
  s.quantiles_ci95.fill(nan);
  // One serial pass for the counts and the tails (path order: deterministic), no copy; the
  // order statistics at the interval ranks come from the parallel selection.
  std::uint64_t m = 0, positive = 0;
  for (double x : values)
    if (!std::isnan(x)) {
      ++m;
      positive += x > 0;
    }
  const std::uint64_t paths = values.size();
  s.prob_positive_ci95 = proportion_ci95(positive, paths);
  s.nan_share_ci95 = proportion_ci95(paths - m, paths);
  s.mean_ci95 = m > 1 ? z95 * s.std_error : nan;
  if (m == 0) return;

  // Tails, summed in path order (deterministic: the values are those of the paths).
  const double p5 = s.quantile(0.05), p95 = s.quantile(0.95);
  double lo_sum = 0, lo_sq = 0, hi_sum = 0, hi_sq = 0;
  std::uint64_t lo_n = 0, hi_n = 0;
  for (double x : values) {
    if (x <= p5) {  // false for NaN
      lo_sum += x;
      ++lo_n;
    }
    if (x >= p95) {
      hi_sum += x;
      ++hi_n;
    }
  }
  s.cvar05 = lo_n ? lo_sum / static_cast<double>(lo_n) : nan;
  const double es_hi = hi_n ? hi_sum / static_cast<double>(hi_n) : nan;
  for (double x : values) {
    if (x <= p5) lo_sq += (x - s.cvar05) * (x - s.cvar05);
    if (x >= p95) hi_sq += (x - es_hi) * (x - es_hi);
  }
  s.cvar05_ci95 =
      lo_n > 1 ? es_ci95(lo_n, m, s.cvar05, lo_sq / static_cast<double>(lo_n - 1), p5) : nan;
  s.cvar95_ci95 =
      hi_n > 1 ? es_ci95(hi_n, m, es_hi, hi_sq / static_cast<double>(hi_n - 1), p95) : nan;

  // Order statistics at the interval ranks: rank r is the quantile at level r / (m - 1)
  // (nudged up by 1e-6 of a rank, so that rounding never lands on rank r - 1; the value
  // then differs from X_(r) by at most 1e-6 of the gap to X_(r+1)).
  std::vector<double> levels;
  for (double q : summary_levels) {
    const auto [a, b] = quantile_ci_ranks(m, q);
    for (std::uint64_t r : {a, b})
      levels.push_back(
          m > 1 ? std::min(1.0, (static_cast<double>(r) + 1e-6) / static_cast<double>(m - 1))
                : 0.0);
  }
  const detail::ExactQuantiles at = detail::exact_quantiles(values, levels, 1.0);
  for (std::size_t k = 0; k < summary_levels.size(); ++k)
    s.quantiles_ci95[k] = 0.5 * (at.quantiles[2 * k + 1] - at.quantiles[2 * k]);
}

void add_intervals(Summary& s, const QuantileSketch& sketch) {
  const std::uint64_t m = sketch.count(), paths = s.paths;
  s.nan_share_ci95 = proportion_ci95(paths - m, paths);
  s.prob_positive_ci95 =
      proportion_ci95(static_cast<std::uint64_t>(std::llround(s.prob_positive * paths)), paths);
  s.mean_ci95 = m > 1 ? z95 * s.std_error : nan;
  s.quantiles_ci95.fill(nan);
  if (m == 0) return;
  for (std::size_t k = 0; k < summary_levels.size(); ++k) {
    const auto [a, b] = quantile_ci_ranks(m, summary_levels[k]);
    const double lo = sketch.order_statistic(a), hi = sketch.order_statistic(b);
    // Plus the sketch's own error bound, since both ends are bucket midpoints: the
    // half-width then covers the Monte Carlo error and the sketch's resolution.
    const double resolution =
        QuantileSketch::relative_accuracy * std::max(std::abs(lo), std::abs(hi)) +
        QuantileSketch::zero_threshold;
    s.quantiles_ci95[k] = 0.5 * (hi - lo) + resolution;
  }
  // cvar05: ranks 0 .. floor(0.05 (m - 1)), the complement of a tail mean.
  const std::uint64_t head = static_cast<std::uint64_t>(0.05 * static_cast<double>(m - 1)) + 1;
  const double all = sketch.tail_mean_from(0);
  s.cvar05 = head >= m ? all
                       : (all * static_cast<double>(m) -
                          sketch.tail_mean_from(head) * static_cast<double>(m - head)) /
                             static_cast<double>(head);
}

Exceedance exceedance(std::span<const double> values, double threshold) {
  std::uint64_t hits = 0;
  for (double x : values) hits += x > threshold;  // NaN compares false
  Exceedance e;
  e.threshold = threshold;
  e.prob = values.empty() ? nan : static_cast<double>(hits) / static_cast<double>(values.size());
  e.ci95 = proportion_ci95(hits, values.size());
  return e;
}

Exceedance exceedance(const QuantileSketch& sketch, std::uint64_t paths, double threshold) {
  // The smallest rank whose estimate exceeds the threshold, by bisection.
  std::uint64_t lo = 0, hi = sketch.count();
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    if (sketch.order_statistic(mid) > threshold)
      hi = mid;
    else
      lo = mid + 1;
  }
  const std::uint64_t hits = sketch.count() - lo;
  Exceedance e;
  e.threshold = threshold;
  e.prob = paths ? static_cast<double>(hits) / static_cast<double>(paths) : nan;
  e.ci95 = proportion_ci95(hits, paths);
  return e;
}

Exceedance Result::exceedance(std::size_t output, double threshold) const {
  if (output >= stats.size()) throw std::out_of_range("output index out of range");
  if (has_per_path())
    return capexsim::exceedance(
        std::span<const double>(per_path.col(static_cast<Eigen::Index>(output)).data(), paths),
        threshold);
  return capexsim::exceedance(stats[output].sketch(), stats[output].paths(), threshold);
}

double Summary::quantile_ci95(double level) const {
  for (std::size_t k = 0; k < summary_levels.size(); ++k)
    if (summary_levels[k] == level) return quantiles_ci95[k];
  throw std::invalid_argument("Summary::quantile_ci95: not a reported level");
}

}  // namespace capexsim
