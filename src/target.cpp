#include "capexsim/target.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "capexsim/detail/format.hpp"

namespace capexsim {

std::vector<SummaryStatistic> summary_statistics(const Summary& s) {
  std::vector<SummaryStatistic> v{{"mean", s.mean, s.mean_ci95}};
  for (std::size_t k = 0; k < summary_levels.size(); ++k)
    v.push_back({level_name(summary_levels[k]), s.quantiles[k], s.quantiles_ci95[k]});
  v.push_back({"prob_positive", s.prob_positive, s.prob_positive_ci95});
  v.push_back({"cvar95", s.cvar95, s.cvar95_ci95});
  v.push_back({"cvar05", s.cvar05, s.cvar05_ci95, false});
  v.push_back({"nan_share", s.nan_share, s.nan_share_ci95});
  return v;
}

const std::vector<std::string>& target_statistics() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const SummaryStatistic& x : summary_statistics(Summary{})) v.push_back(x.name);
    return v;
  }();
  return names;
}

std::pair<double, double> statistic_with_ci95(const Summary& s, std::string_view stat) {
  for (const SummaryStatistic& x : summary_statistics(s))
    if (x.name == stat) return {x.value, x.ci95};
  std::string list;
  for (const auto& n : target_statistics()) list += (list.empty() ? "" : ", ") + n;
  throw std::invalid_argument("no statistic named '" + std::string(stat) +
                              "' with a half-width; expected one of: " + list);
}

std::string Target::to_string() const {
  return output + "." + statistic + ":" +
         (relative ? detail::format_double(tolerance * 100) + "%"
                   : detail::format_double(tolerance));
}

Target parse_target(std::string_view text) {
  const std::string t(text);
  const auto colon = t.rfind(':');
  const auto dot = t.substr(0, colon).rfind('.');
  if (colon == std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 == colon)
    throw std::invalid_argument("target '" + t +
                                "': expected OUTPUT.STAT:TOL, e.g. funding_gap.p95:0.5% "
                                "(relative) or runway.nan_share:0.002 (absolute)");
  Target out;
  out.output = t.substr(0, dot);
  out.statistic = t.substr(dot + 1, colon - dot - 1);
  std::string tol = t.substr(colon + 1);
  if (!tol.empty() && tol.back() == '%') {
    out.relative = true;
    tol.pop_back();
  }
  std::size_t used = 0;
  double x = std::numeric_limits<double>::quiet_NaN();
  try {
    x = std::stod(tol, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (tol.empty() || used != tol.size() || !std::isfinite(x) || !(x > 0))
    throw std::invalid_argument("target '" + t +
                                "': expected a positive tolerance after ':', got '" +
                                t.substr(colon + 1) + "'");
  out.tolerance = out.relative ? x / 100 : x;
  statistic_with_ci95(Summary{}, out.statistic);  // throws for an unknown statistic
  return out;
}

namespace {

std::uint64_t next_size(std::uint64_t n, const TargetProgress& p, bool sobol, std::uint64_t cap) {
  double want = 4.0 * static_cast<double>(n);
  if (p.wanted > 0 && std::isfinite(p.half_width) && p.half_width > 0) {
    const double ratio = p.half_width / p.wanted;
    want = std::clamp(1.1 * static_cast<double>(n) * ratio * ratio, 1.5 * static_cast<double>(n),
                      4.0 * static_cast<double>(n));
  }
  std::uint64_t next = static_cast<std::uint64_t>(std::ceil(std::min(want, 1e18)));
  if (sobol) next = std::max(std::bit_ceil(next), 2 * n);
  return std::min(next, cap);
}

}  // namespace

TargetResult run_to_target(const Scenario& scenario, const RunOptions& options,
                           const Target& target, const TargetOptions& to) {
  if (scenario.sampling == Sampling::lhs)
    throw std::invalid_argument(
        "a target run cannot use lhs sampling: a Latin hypercube's strata depend on the final "
        "path count, which grows batch by batch; use sobol (it grows in powers of two) or "
        "random");
  if (!(target.tolerance > 0) || !std::isfinite(target.tolerance))
    throw std::invalid_argument("target " + target.to_string() + ": the tolerance must be > 0");
  statistic_with_ci95(Summary{}, target.statistic);
  const PathModel model(scenario);
  const std::vector<std::string> names = model.output_names();
  const auto it = std::find(names.begin(), names.end(), target.output);
  if (it == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    throw std::invalid_argument("target " + target.to_string() + ": no output named '" +
                                target.output + "'; expected one of: " + list);
  }
  const std::size_t output = static_cast<std::size_t>(it - names.begin());
  const bool sobol = scenario.sampling == Sampling::sobol;
  const std::uint64_t first = to.first_paths ? to.first_paths : (sobol ? 8192 : 10000);
  if (to.max_paths < first)
    throw std::invalid_argument("max paths (" + std::to_string(to.max_paths) +
                                ") is below the first batch (" + std::to_string(first) + ")");
  // Sobol stops at a power of two: the largest one within the cap (or the first batch).
  const std::uint64_t cap = sobol ? std::max(first, std::bit_floor(to.max_paths)) : to.max_paths;

  TargetResult out;
  std::uint64_t n = 0, next = first;
  while (true) {
    RunOptions o = options;
    o.first_path = n;
    o.paths = next - n;
    o.design_paths = 0;  // sobol: point p depends on p alone; random: no design
    Result batch = run(model, o);
    out.result = n == 0 ? std::move(batch) : merge(out.result, batch);
    n = next;
    const auto [estimate, half] = statistic_with_ci95(out.result.summary(output), target.statistic);
    TargetProgress p;
    p.paths = n;
    p.estimate = estimate;
    p.half_width = half;
    p.wanted = target.relative ? target.tolerance * std::abs(estimate) : target.tolerance;
    // An output undefined (NaN) on every path has no mean, quantile or CVaR: no batch size
    // brings its half-width down, so stop now rather than run to the cap.
    if (std::isnan(estimate))
      throw std::invalid_argument(
          "target " + target.to_string() + ": " + target.output + " is undefined (NaN) on " +
          (out.result.summary(output).nan_share >= 1 ? "every one of the " : "too many of the ") +
          std::to_string(n) + " paths run, so its " + target.statistic +
          " has no value to converge to; target " + target.output +
          ".nan_share (how often it is undefined) or another output");
    out.batches.push_back(p);
    out.final = p;
    out.reached = std::isfinite(half) && half <= p.wanted;
    if (to.on_batch && !to.on_batch(p)) throw Cancelled();
    if (out.reached || n >= cap) break;
    next = next_size(n, p, sobol, cap);
  }
  return out;
}

}  // namespace capexsim
