// The statistic of an output a tornado, Sobol run or goal seek looks at: its name,
// parsing and value over the paths (docs/sensitivity.md).

#include "internal.hpp"

#include <cmath>
#include <vector>

#include "capexsim/detail/select.hpp"
#include "capexsim/statistics.hpp"

namespace capexsim {

using namespace sensitivity_detail;

std::string Statistic::name() const {
  switch (kind) {
    case Kind::mean:
      return "mean";
    case Kind::prob_positive:
      return "prob_positive";
    case Kind::nan_share:
      return "nan_share";
    case Kind::quantile: {
      const double pct = level * 100;
      return "p" + (pct == std::round(pct) ? std::to_string(static_cast<int>(pct)) : fmt(pct));
    }
  }
  return "?";
}

Statistic parse_statistic(std::string_view text) {
  Statistic s;
  if (text == "mean") return s;
  if (text == "prob_positive") {
    s.kind = Statistic::Kind::prob_positive;
    return s;
  }
  if (text == "nan_share") {
    s.kind = Statistic::Kind::nan_share;
    return s;
  }
  if (text == "median") text = "p50";
  if (text.size() > 1 && text[0] == 'p')
    if (const auto q = number(text.substr(1)); q && *q > 0 && *q < 100) {
      s.kind = Statistic::Kind::quantile;
      s.level = *q / 100;
      return s;
    }
  throw SensitivityError("unknown statistic '" + std::string(text) +
                         "'; expected mean, pNN with 0 < NN < 100 (e.g. p50, p95, p2.5), "
                         "prob_positive or nan_share");
}

StatisticValue evaluate_statistic(const Statistic& stat, std::span<const double> values) {
  StatisticValue out;
  std::uint64_t defined = 0, positive = 0;
  for (double v : values)
    if (!std::isnan(v)) {
      ++defined;
      positive += v > 0;
    }
  out.defined = defined;
  if (stat.kind == Statistic::Kind::nan_share) {  // over all paths, as run --target reads it
    const auto n = static_cast<std::uint64_t>(values.size());
    out.value = n ? static_cast<double>(n - defined) / static_cast<double>(n) : nan;
    out.ci95 = proportion_ci95(n - defined, n);
    return out;
  }
  if (stat.kind == Statistic::Kind::prob_positive) {
    // Over all paths: a path where the output is undefined is not above 0.
    const auto n = static_cast<std::uint64_t>(values.size());
    out.value = n ? static_cast<double>(positive) / static_cast<double>(n) : nan;
    out.ci95 = proportion_ci95(positive, n);
    return out;
  }
  if (defined == 0) return {nan, nan, 0};
  if (stat.kind == Statistic::Kind::mean) {
    // Through the run's own accumulator (exact sums), so the mean has the bits of the
    // summary of a plain run.
    ScalarAccumulator acc;
    for (double v : values) acc.add(v);
    const Summary sm = acc.summary();
    out.value = sm.mean;
    out.ci95 = sm.mean_ci95;
    return out;
  }
  // A quantile (type 7) and its order-statistic 95% interval.
  const auto [lo, hi] = quantile_ci_ranks(defined, stat.level);
  const double m1 = static_cast<double>(defined - 1);
  const std::vector<double> levels = {stat.level, m1 > 0 ? static_cast<double>(lo) / m1 : 0.0,
                                      m1 > 0 ? static_cast<double>(hi) / m1 : 0.0};
  const auto q = detail::exact_quantiles(values, levels, levels[0]);
  out.value = q.quantiles[0];
  out.ci95 = 0.5 * (q.quantiles[2] - q.quantiles[1]);
  return out;
}

}  // namespace capexsim
