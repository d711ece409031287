// Goal seek: the value of a key at which a statistic of an output hits a target
// (TOMS 748 on ordinary runs), with its Monte Carlo error.

#include "internal.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include <boost/math/tools/roots.hpp>

namespace capexsim {

using namespace sensitivity_detail;

CalibrateResult calibrate(const Scenario& scenario, const VaryRange& range, std::string_view output,
                          const Statistic& stat, double target, const RunOptions& options) {
  if (!(range.lo < range.hi))
    throw SensitivityError("--vary " + range.key + ": LO (" + fmt(range.lo) +
                           ") must be below HI (" + fmt(range.hi) + ")");
  if (!std::isfinite(target)) throw SensitivityError("the target must be a finite number");
  check_output(scenario, output);
  with_key_value(scenario, range.key, range.lo);
  with_key_value(scenario, range.key, range.hi);
  RunOptions o = options;
  o.keep_paths = true;
  o.keep_inputs = false;
  o.bands = false;
  o.trace_series.clear();
  CalibrateResult res;
  res.key = range.key;
  res.output = std::string(output);
  res.statistic = stat.name();
  res.target = target;
  constexpr int max_runs = 40;
  auto eval = [&](double x) {
    const Result r = run(with_key_value(scenario, range.key, x),
                         run_of(o, static_cast<std::uint64_t>(res.runs) * o.paths,
                                static_cast<std::uint64_t>(max_runs) * o.paths));
    ++res.runs;
    const auto v = evaluate_statistic(stat, column(r, output_column(r, output)));
    res.evaluations.emplace_back(x, v.value);
    return v;
  };
  const auto at_lo = eval(range.lo), at_hi = eval(range.hi);
  const double f_lo = at_lo.value - target, f_hi = at_hi.value - target;
  if (std::isnan(f_lo) || std::isnan(f_hi))
    throw SensitivityError("the " + stat.name() + " of " + res.output +
                           " is undefined (no path has a value) at " + range.key + " = " +
                           fmt(std::isnan(f_lo) ? range.lo : range.hi));
  auto pick = [&](double x, const StatisticValue& v) {
    res.value = x;
    res.achieved = v.value;
    res.achieved_ci95 = v.ci95;
  };
  // A statistic that does not move over the range (up to rounding) and sits on the
  // target: any value hits it, and the root would be rounding noise.
  const double scale = std::max({std::abs(at_lo.value), std::abs(at_hi.value), std::abs(target)});
  if (std::abs(at_lo.value - at_hi.value) <= 1e-12 * scale && std::abs(f_lo) <= 1e-12 * scale)
    throw SensitivityError("the " + res.statistic + " of " + res.output + " is " +
                           fmt(at_lo.value) + " at both ends of " + range.key + " in [" +
                           fmt(range.lo) + ", " + fmt(range.hi) + "]: it does not move with " +
                           range.key +
                           ", so every value in the range hits the target and there is nothing "
                           "to calibrate; vary an input it depends on");
  if (f_lo == 0 || f_hi == 0) {
    pick(f_lo == 0 ? range.lo : range.hi, f_lo == 0 ? at_lo : at_hi);
  } else if ((f_lo > 0) == (f_hi > 0)) {
    throw SensitivityError("the target " + res.output + "." + res.statistic + " = " + fmt(target) +
                           " is outside what " + range.key + " in [" + fmt(range.lo) + ", " +
                           fmt(range.hi) + "] reaches: " + res.statistic + " is " +
                           fmt(at_lo.value) + " at " + fmt(range.lo) + " and " + fmt(at_hi.value) +
                           " at " + fmt(range.hi) + "; widen the range or check the direction");
  } else {
    // The statistic of a finite sample is a step function of the key at the finest
    // scale; stop when the bracket is 1e-6 of the range (far below Monte Carlo error).
    const double width = (range.hi - range.lo) * 1e-6;
    auto tol = [width](double l, double h) { return h - l <= width; };
    std::uintmax_t iters = max_runs - 3;
    StatisticValue last{};
    double last_x = 0;
    const auto f = [&](double x) {
      last = eval(x);
      last_x = x;
      return last.value - target;
    };
    const auto [l, h] =
        boost::math::tools::toms748_solve(f, range.lo, range.hi, f_lo, f_hi, tol, iters);
    const double x = 0.5 * (l + h);
    pick(x, eval(x));
    (void)last_x;
  }
  // Monte Carlo error of the value: the statistic's half-width over its slope, measured
  // at the scale of that half-width. Close to the root a finite sample's statistic is
  // jagged (paths cross thresholds one by one), so the slope between the nearest
  // evaluations can be far steeper or flatter than the trend: on each side the nearest
  // evaluation whose statistic differs from the target by at least the half-width is
  // used (else the farthest, LO or HI).
  std::vector<std::pair<double, double>> evals = res.evaluations;
  std::sort(evals.begin(), evals.end());
  const double h = std::isfinite(res.achieved_ci95) ? res.achieved_ci95 : 0.0;
  auto side = [&](bool left) {
    std::optional<std::pair<double, double>> pick, farthest;
    for (const auto& e : evals) {
      if (left ? !(e.first < res.value) : !(e.first > res.value)) continue;
      if (!farthest || (left ? e.first < farthest->first : e.first > farthest->first)) farthest = e;
      if (std::abs(e.second - target) >= h &&
          (!pick || (left ? e.first > pick->first : e.first < pick->first)))
        pick = e;
    }
    return pick ? pick : farthest;
  };
  const auto l = side(true), r = side(false);
  double slope = nan;
  if (l && r)
    slope = (r->second - l->second) / (r->first - l->first);
  else if (l)
    slope = (res.achieved - l->second) / (res.value - l->first);
  else if (r)
    slope = (r->second - res.achieved) / (r->first - res.value);
  res.value_ci95 = slope != 0 && std::isfinite(slope) ? std::abs(res.achieved_ci95 / slope) : nan;
  res.scenario = with_key_value(scenario, range.key, res.value);
  return res;
}

}  // namespace capexsim
