// Monte Carlo error: the 95% half-widths of every summary statistic (their coverage),
// exceedance probabilities, and runs to a target half-width (docs/statistics.md).

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include <tbb/global_control.h>

#include "capexsim/engine.hpp"
#include "capexsim/random.hpp"
#include "capexsim/statistics.hpp"
#include "capexsim/target.hpp"

using namespace capexsim;

namespace {

Scenario reference() {
  return load_scenario(std::string(CAPEXSIM_SOURCE_DIR) + "/scenarios/ai-lab-2025.toml");
}

/// m Exp(1) values of replication r (inverse CDF of Philox uniforms).
std::vector<double> exponential(std::uint64_t r, std::size_t m) {
  std::vector<double> v(m);
  for (std::size_t k = 0; k < m; ++k) v[k] = -std::log(rng::PathRng(r, k).static_uniform(0));
  return v;
}

}  // namespace

TEST_CASE("95% intervals cover the true value about 95% of the time") {
  // Exp(1): mean 1, p50 ln 2, p95 ln 20, P(X > 1) = 1/e, cvar95 = ln 20 + 1,
  // cvar05 = E[X | X <= q] with q = -ln 0.95: (1 - 0.95 (q + 1)) / 0.05.
  const double q05 = -std::log(0.95);
  const double truth_mean = 1, truth_p50 = std::log(2.0), truth_p95 = std::log(20.0),
               truth_p05 = q05, truth_exceed = std::exp(-1.0), truth_cvar95 = std::log(20.0) + 1,
               truth_cvar05 = (1 - 0.95 * (q05 + 1)) / 0.05;
  const int reps = 1000;
  const std::size_t m = 2000;
  int mean = 0, p50 = 0, p95 = 0, p05 = 0, exceed = 0, cvar95 = 0, cvar05 = 0, sketch_p95 = 0;
  for (int r = 0; r < reps; ++r) {
    const std::vector<double> v = exponential(static_cast<std::uint64_t>(r) + 1, m);
    ScalarAccumulator acc;
    for (double x : v) acc.add(x);
    const Summary s = acc.summary(v);
    mean += std::abs(s.mean - truth_mean) <= s.mean_ci95;
    p50 += std::abs(s.quantile(0.5) - truth_p50) <= s.quantile_ci95(0.5);
    p95 += std::abs(s.quantile(0.95) - truth_p95) <= s.quantile_ci95(0.95);
    p05 += std::abs(s.quantile(0.05) - truth_p05) <= s.quantile_ci95(0.05);
    cvar95 += std::abs(s.cvar95 - truth_cvar95) <= s.cvar95_ci95;
    cvar05 += std::abs(s.cvar05 - truth_cvar05) <= s.cvar05_ci95;
    const Exceedance e = exceedance(v, 1.0);
    exceed += std::abs(e.prob - truth_exceed) <= e.ci95;
    const Summary t = acc.summary();
    sketch_p95 += std::abs(t.quantile(0.95) - truth_p95) <= t.quantile_ci95(0.95);
  }
  MESSAGE("coverage over ", reps, " replications of ", m, " Exp(1) values: mean ", mean, ", p05 ",
          p05, ", p50 ", p50, ", p95 ", p95, ", P(X>1) ", exceed, ", cvar95 ", cvar95, ", cvar05 ",
          cvar05, ", p95 from the sketch ", sketch_p95);
  // A coverage count over 1000 replications has sd sqrt(1000 * 0.95 * 0.05) = 6.9; the
  // window [925, 985] is -3.6 to +5 sd around 950 (order-statistic intervals rounded
  // outwards are conservative, so they may sit above 950).
  for (int c : {mean, p50, p95, p05, exceed, cvar95, cvar05, sketch_p95}) {
    CHECK(c >= 925);
    CHECK(c <= 985);
  }
}

TEST_CASE("proportion half-widths are never 0 and match the binomial error in the middle") {
  CHECK(proportion_ci95(0, 1000) > 0);
  // p = 0.5, n = 10000: 1.96 * 0.005 = 0.0098.
  CHECK(proportion_ci95(5000, 10000) == doctest::Approx(0.0098).epsilon(0.01));
  const auto [lo, hi] = quantile_ci_ranks(10000, 0.95);
  // 9500 -+ 1.96 sqrt(475) = 9500 -+ 42.7 -> 1-based [9457, 9543], 0-based [9456, 9542].
  CHECK(lo == 9456);
  CHECK(hi == 9542);
}

namespace {
bool same_result(const Result& a, const Result& b) {
  return a.paths == b.paths && a.first_path == b.first_path && a.stats == b.stats &&
         a.bands == b.bands && a.per_path.rows() == b.per_path.rows() &&
         std::memcmp(a.per_path.data(), b.per_path.data(),
                     sizeof(double) * static_cast<std::size_t>(a.per_path.size())) == 0;
}
}  // namespace

TEST_CASE("parse_target reads OUTPUT.STAT:TOL and rejects what is not one") {
  const Target a = parse_target("funding_gap.p95:0.5%");
  CHECK(a.output == "funding_gap");
  CHECK(a.statistic == "p95");
  CHECK(a.relative);
  CHECK(a.tolerance == doctest::Approx(0.005));
  const Target b = parse_target("runway.nan_share:0.002");
  CHECK_FALSE(b.relative);
  CHECK(b.tolerance == 0.002);
  CHECK(parse_target("arr_at_2028.5.mean:1").output == "arr_at_2028.5");
  for (const char* bad : {"funding_gap", "funding_gap.p95", "funding_gap.p95:", "funding_gap.p95:0",
                          "funding_gap.p95:-1%", "funding_gap.p96:1%", "funding_gap.sd:1", ".p95:1",
                          "funding_gap.p95:abc"})
    CHECK_THROWS_AS(parse_target(bad), std::invalid_argument);
}

TEST_CASE("a target run stops within its target and equals a fixed run of its final N") {
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 2);
  const Scenario s = reference();
  RunOptions o;
  o.seed = 4;
  o.threads = 2;
  TargetOptions to;
  to.first_paths = 1000;
  to.max_paths = 200000;
  std::vector<TargetProgress> seen;
  to.on_batch = [&](const TargetProgress& p) {
    seen.push_back(p);
    return true;
  };
  const TargetResult t = run_to_target(s, o, parse_target("funding_gap.p95:1%"), to);
  CHECK(t.reached);
  CHECK(t.final.half_width <= 0.01 * t.final.estimate);
  CHECK(t.batches.size() >= 2);  // 1000 paths give ~±6%: more batches were needed
  CHECK(seen.size() == t.batches.size());
  CHECK(t.result.paths == t.final.paths);
  RunOptions fixed = o;
  fixed.paths = t.final.paths;
  CHECK(same_result(t.result, run(s, fixed)));
  // Batches grow: each N at least 1.5 times the last.
  for (std::size_t k = 1; k < t.batches.size(); ++k)
    CHECK(t.batches[k].paths * 2 >= t.batches[k - 1].paths * 3);
}

TEST_CASE("a target out of reach stops at the cap and says so") {
  RunOptions o;
  o.bands = false;
  TargetOptions to;
  to.first_paths = 500;
  to.max_paths = 3000;
  const TargetResult t = run_to_target(reference(), o, parse_target("funding_gap.mean:0.01%"), to);
  CHECK_FALSE(t.reached);
  CHECK(t.final.paths == 3000);
  CHECK(t.final.half_width > t.final.wanted);
}

TEST_CASE("sobol target runs grow in powers of two; lhs and bad targets are refused") {
  Scenario s = reference();
  s.sampling = Sampling::sobol;
  RunOptions o;
  o.bands = false;
  TargetOptions to;
  to.first_paths = 1024;
  to.max_paths = 1 << 16;
  const TargetResult t = run_to_target(s, o, parse_target("capex_total.mean:0.2%"), to);
  for (const auto& b : t.batches) CHECK(std::has_single_bit(b.paths));
  RunOptions fixed = o;
  fixed.paths = t.final.paths;
  CHECK(same_result(t.result, run(s, fixed)));

  s.sampling = Sampling::lhs;
  CHECK_THROWS_WITH_AS(run_to_target(s, o, parse_target("capex_total.mean:1%"), to),
                       doctest::Contains("lhs"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(run_to_target(reference(), o, parse_target("nope.mean:1%"), to),
                       doctest::Contains("no output named 'nope'"), std::invalid_argument);
}
