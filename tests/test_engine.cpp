// The driver: parallel == serial reference bit for bit for any thread count, shards merge
// to the whole, common random numbers, cancellation.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <tbb/global_control.h>

#include "capexsim/engine.hpp"
#include "test_util.hpp"

using namespace capexsim;

namespace {
const Scenario& reference() {
  static const Scenario s = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  return s;
}

bool same_bits(const Eigen::ArrayXXd& a, const Eigen::ArrayXXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * a.size()) == 0;
}

bool same_bits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

void check_identical(const Result& a, const Result& b) {
  CHECK(a.paths == b.paths);
  CHECK(a.first_path == b.first_path);
  CHECK(a.output_names == b.output_names);
  CHECK(same_bits(a.per_path, b.per_path));
  CHECK(a.stats == b.stats);
  CHECK(a.bands == b.bands);
  for (std::size_t k = 0; k < a.output_names.size(); ++k) {
    const Summary x = a.summary(k), y = b.summary(k);
    CHECK(same_bits(x.mean, y.mean));
    CHECK(same_bits(x.sd, y.sd));
    CHECK(same_bits(x.cvar95, y.cvar95));
    for (std::size_t q = 0; q < x.quantiles.size(); ++q)
      CHECK(same_bits(x.quantiles[q], y.quantiles[q]));
  }
  const auto ra = a.band(Series::cash), rb = b.band(Series::cash);
  for (std::size_t i = 0; i < ra.size(); ++i) {
    CHECK(same_bits(ra[i].mean, rb[i].mean));
    CHECK(same_bits(ra[i].quantiles[2], rb[i].quantiles[2]));
  }
}
}  // namespace

TEST_CASE("parallel runs equal the serial reference bit for bit, for 1, 2 and 4 threads") {
  RunOptions o;
  o.paths = 3000;
  o.seed = 20261122;
  const Result serial = run_serial(reference(), o);
  for (int threads : {1, 2, 4}) {
    CAPTURE(threads);
    // Pin the global TBB limit too, as a user embedding the library might.
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    o.threads = threads;
    check_identical(run(reference(), o), serial);
  }
  // The per-path outputs of the serial reference are those of the kernel itself.
  const PathModel model(reference());
  for (std::uint64_t p : {0ull, 1ull, 2999ull}) {
    const auto t = test::trace(model, o.seed, p);
    for (std::size_t k = 0; k < t.outputs.size(); ++k)
      CHECK(same_bits(serial.per_path(p, k), t.outputs[k]));
  }
}

TEST_CASE("the block kernel equals the reference kernel on every branch it vectorises") {
  // run() goes through the 32-path block kernel, run_serial() through the one-path
  // reference. This scenario turns on what the reference scenario leaves off: lanes with
  // different lead times (ring lags differ per lane), the opex growth drawn per path (no
  // precomputed factor), no plan cap, resale, two vendors (the reference's correlated
  // shocks stay on), a weekly
  // grid; and a path count that leaves a partial last block.
  std::ifstream in(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
  };
  replace("lead_time_years = 1.5", "lead_time_years = { uniform = [0.5, 3.0] }");
  replace("fixed_opex_growth = 0.20", "fixed_opex_growth = { uniform = [0.1, 0.3] }");
  replace("plan_cap_gw = 30.0", "");
  replace("resale_utilization = 0.0", "resale_utilization = 0.5");
  replace("step = \"month\"", "step = \"week\"");
  text += "\n[[vendor_financing]]\nname = \"amd\"\nper_gw = 3.0\ncap = 20.0\n";
  const Scenario stress = parse_scenario(text, "stress.toml");
  REQUIRE(PathModel(stress).correlated());
  RunOptions o;
  o.paths = 331;  // 10 blocks and 11 paths
  o.seed = 77;
  o.first_path = 1000;
  const Result reference_kernel = run_serial(stress, o);
  const tbb::global_control one(tbb::global_control::max_allowed_parallelism, 2);
  check_identical(run(stress, o), reference_kernel);
  // The scenario really exercises the branches, and each one does what the model says:
  // - vendor money: on every path each vendor pays min(cap, per_gw x GW come online), an
  //   identity of the path (rounding only);
  // - disruptions: the share of disrupted steps averages to the two-state Markov chain's
  //   expectation, E share = (1/n) sum_i q_i with q_i = q_{i-1}(1 - p_off) + (1 - q_{i-1}) p_on
  //   and q_{-1} = 0; tolerance 4 standard errors of the mean over the paths (the
  //   per-path shares are independent; their sd is estimated from the sample).
  const PathModel model(stress);
  const int n = model.steps();
  const double dt = model.dt();
  const double p_on = -std::expm1(-stress[Param::disruption_rate].value() * dt);
  const double p_off = -std::expm1(-dt / stress[Param::disruption_mean_years].value());
  double q = 0, expected_share = 0;
  for (int i = 0; i < n; ++i) {
    q = q * (1 - p_off) + (1 - q) * p_on;
    expected_share += q / n;
  }
  test::Moments share;
  double vendor_total = 0;
  for (std::uint64_t p = o.first_path; p < o.first_path + o.paths; ++p) {
    const auto t = test::trace(model, o.seed, p);
    double online = 0, vendor = 0, disrupted = 0;
    for (const StepState& st : t.steps) {
      online += st.online_gw;
      vendor += st.vendor;
      disrupted += st.regime;
    }
    double expected_vendor = 0;
    for (const VendorFinancing& v : stress.vendors)
      expected_vendor += std::min(v.cap_bn.value(), v.per_gw_bn.value() * online);
    CHECK(vendor == doctest::Approx(expected_vendor).epsilon(1e-12));
    vendor_total += vendor;
    share.add(disrupted / n);
  }
  CHECK(vendor_total > 0);
  const double se = std::sqrt(share.var() / share.n);
  CHECK(se > 0);
  CHECK(std::abs(share.mean() - expected_share) < 4 * se);
}

TEST_CASE("demand jumps: count and total size match the compound Poisson law") {
  // With no diffusion in demand or growth, each step's jump is recoverable exactly from a
  // path: J_i = ln D_{i+1} - ln D_i - g_i dt. Per step, N ~ Poisson(lambda dt) jumps of
  // size N(mu, s): P(a step has a jump) = 1 - exp(-lambda dt), E J = lambda dt mu,
  // Var J = lambda dt (s^2 + mu^2). Over the n - 1 observable steps of P independent paths
  // the means have standard errors sqrt(p (1 - p) (n - 1) / P) (steps are independent) and
  // sqrt((n - 1) lambda dt (s^2 + mu^2) / P); the tolerance is 4 of them.
  const Scenario s =
      test::scenario("start = 2026.0\nhorizon_years = 10",
                     "initial_gw = 1.0\nmax_pace_gw_per_week = 0.0\n"
                     "ramp_midpoint_years = 1.0\nramp_width_years = 1.0\nlead_time_years = 1.0",
                     "cost_per_gw = 40.0\nit_share = 0.5\nuseful_life_years = 5.0",
                     "arr0 = 10.0\ngrowth0 = 0.3\narr_per_gw = 100.0\njump_rate = 2.0\n"
                     "jump_mean = -0.1\njump_sd = 0.05");
  const PathModel model(s);
  const int n = model.steps();
  const double dt = model.dt(), lambda = 2.0, mu = -0.1, sd = 0.05;
  constexpr int paths = 2000;
  test::Moments count, total;
  for (std::uint64_t p = 0; p < paths; ++p) {
    const auto t = test::trace(model, 9, p);
    double jumps = 0, sum = 0;
    for (int i = 0; i + 1 < n; ++i) {
      const auto& a = t.steps[i];
      const double j = std::log(t.steps[i + 1].demand) - std::log(a.demand) - a.growth * dt;
      if (std::abs(j) > 1e-9) ++jumps;
      sum += j;
    }
    count.add(jumps);
    total.add(sum);
  }
  const double p_jump = -std::expm1(-lambda * dt), m = n - 1;
  const double se_count = std::sqrt(p_jump * (1 - p_jump) * m / paths);
  const double se_total = std::sqrt(m * lambda * dt * (sd * sd + mu * mu) / paths);
  CHECK(std::abs(count.mean() - m * p_jump) < 4 * se_count);
  CHECK(std::abs(total.mean() - m * lambda * dt * mu) < 4 * se_total);
  // And the sample spread agrees with the law's (a loose 20% band: a sd estimate from
  // 2000 samples has a relative error of about 1/sqrt(2 x 2000) = 1.6%).
  CHECK(std::sqrt(total.var()) ==
        doctest::Approx(std::sqrt(m * lambda * dt * (sd * sd + mu * mu))).epsilon(0.2));
}

TEST_CASE("shards merge into the result of the whole range, in any order") {
  RunOptions o;
  o.paths = 2500;
  o.seed = 77;
  o.threads = 2;
  const Result whole = run(reference(), o);

  RunOptions a = o, b = o, c = o;
  a.paths = 1001;  // an odd split that does not align with any chunk size
  b.first_path = 1001;
  b.paths = 998;
  c.first_path = 1999;
  c.paths = 501;
  c.threads = 1;
  const Result ra = run(reference(), a), rb = run_serial(reference(), b), rc = run(reference(), c);
  check_identical(merge(merge(ra, rb), rc), whole);
  check_identical(merge(rc, merge(rb, ra)), whole);

  CHECK_THROWS_AS(merge(ra, rc), std::invalid_argument);  // not adjacent
  RunOptions other_seed = b;
  other_seed.seed = 78;
  CHECK_THROWS_AS(merge(ra, run(reference(), other_seed)), std::invalid_argument);

  // merge_bytes: every shard's bytes at once, in any order, each array copied once.
  const std::string ba = ra.to_bytes(), bb = rb.to_bytes(), bc = rc.to_bytes();
  const std::vector<std::string_view> shuffled{bc, ba, bb};
  const Result all = merge_bytes(shuffled);
  check_identical(all, whole);
  CHECK(all.to_bytes() == whole.to_bytes());  // sketches write only their occupied buckets
  const std::vector<std::string_view> gap{ba, bc};
  CHECK_THROWS_AS(merge_bytes(gap), std::invalid_argument);
  CHECK_THROWS_AS(merge_bytes({}), std::invalid_argument);
}

TEST_CASE("streaming-only runs keep no per-path values but the same moments") {
  RunOptions o;
  o.paths = 2000;
  o.threads = 2;
  const Result kept = run(reference(), o);
  o.keep_paths = false;
  o.bands = false;
  const Result streamed = run(reference(), o);
  CHECK(streamed.per_path.size() == 0);
  CHECK_FALSE(streamed.has_per_path());
  const Summary a = kept.summary("funding_gap"), b = streamed.summary("funding_gap");
  CHECK(a.exact_quantiles);
  CHECK_FALSE(b.exact_quantiles);
  CHECK(same_bits(a.mean, b.mean));
  CHECK(same_bits(a.sd, b.sd));
  // The sketch's median is within its stated accuracy of the exact one (the bound is
  // applied to the interpolated value: neighbours differ by far less than the median).
  CHECK(std::abs(a.quantile(0.5) - b.quantile(0.5)) <=
        2 * QuantileSketch::relative_accuracy * a.quantile(0.5) + 1e-3);
  CHECK_THROWS_AS(streamed.band(Series::cash), std::logic_error);
}

TEST_CASE("common random numbers: changing cost_per_gw leaves every path's arr_end unchanged") {
  Scenario cheaper = reference();
  cheaper[Param::cost_per_gw] = Distribution::triangular(30, 35, 45);
  RunOptions o;
  o.paths = 2000;
  o.threads = 2;
  const Result base = run(reference(), o), alt = run(cheaper, o);
  const std::size_t arr_end = base.output_index("arr_end");
  const std::size_t capex = base.output_index("capex_total");
  int differ = 0;
  for (std::uint64_t p = 0; p < o.paths; ++p) {
    CHECK(same_bits(base.per_path(p, arr_end), alt.per_path(p, arr_end)));
    differ += base.per_path(p, capex) != alt.per_path(p, capex);
  }
  CHECK(differ == static_cast<int>(o.paths));  // ...while costs did change on every path
  // Other inputs too: a fixed cost instead of a distribution shifts nothing else either.
  Scenario fixed_cost = reference();
  fixed_cost[Param::cost_per_gw] = Distribution::fixed(50);
  const Result fixed = run(fixed_cost, o);
  CHECK(same_bits(fixed.per_path.col(arr_end).eval(), base.per_path.col(arr_end).eval()));
}

TEST_CASE("the paired difference under CRN has a far smaller standard error") {
  // Var(A - B) = Var A + Var B - 2 Cov(A, B): with CRN the covariance is large, so the
  // paired SE must be well below the SE of independent runs, sqrt(SE_A^2 + SE_B^2).
  Scenario cheaper = reference();
  cheaper[Param::cost_per_gw] = Distribution::triangular(38, 48, 58);
  RunOptions o;
  o.paths = 2000;
  o.threads = 2;
  const Result a = run(reference(), o), b = run(cheaper, o);
  const std::size_t gap = a.output_index("funding_gap");
  const Eigen::ArrayXd d = a.per_path.col(gap) - b.per_path.col(gap);
  const double paired_se = std::sqrt((d - d.mean()).square().sum() / (d.size() - 1) / d.size());
  const double independent_se = std::hypot(a.summary(gap).std_error, b.summary(gap).std_error);
  CHECK(paired_se < 0.2 * independent_se);
}

TEST_CASE("a progress callback sees every path and can cancel") {
  RunOptions o;
  o.paths = 5000;
  o.threads = 2;
  std::uint64_t last = 0;
  int calls = 0;
  o.progress = [&](std::uint64_t done, std::uint64_t total) {
    CHECK(total == 5000);
    CHECK(done > last);  // calls are serialised and monotone
    last = done;
    ++calls;
    return true;
  };
  (void)run(reference(), o);
  CHECK(last == 5000);
  CHECK(calls > 1);

  o.progress = [](std::uint64_t done, std::uint64_t) { return done < 1000; };
  CHECK_THROWS_AS(run(reference(), o), Cancelled);
  CHECK_THROWS_AS(run_serial(reference(), o), Cancelled);
}

TEST_CASE("bad run options are rejected") {
  RunOptions o;
  o.paths = 0;
  CHECK_THROWS_AS(run(reference(), o), std::invalid_argument);
  o.paths = 10;
  o.threads = -1;
  CHECK_THROWS_AS(run(reference(), o), std::invalid_argument);
}

TEST_CASE("weekly and quarterly grids run and agree with the monthly one in distribution") {
  // The funding gap does not depend much on the grid; its mean must agree across grids
  // within 5 combined SE plus a 3% discretisation allowance.
  RunOptions o;
  o.paths = 2000;
  o.threads = 2;
  Scenario week = reference(), quarter = reference();
  week.step = StepKind::week;
  quarter.step = StepKind::quarter;
  const Summary m = run(reference(), o).summary("funding_gap");
  for (const Scenario* s : {&week, &quarter}) {
    const Summary x = run(*s, o).summary("funding_gap");
    CHECK(std::abs(x.mean - m.mean) < 5 * std::hypot(x.std_error, m.std_error) + 0.03 * m.mean);
  }
  CHECK(run(week, o).steps == 520);
}

TEST_CASE("results survive a round trip through bytes, bit for bit, and still merge") {
  RunOptions o;
  o.paths = 700;
  o.threads = 2;
  const Result a = run(reference(), o);
  const Result back = Result::from_bytes(a.to_bytes());
  check_identical(back, a);
  CHECK(back.scenario_fingerprint == a.scenario_fingerprint);
  RunOptions o2 = o;
  o2.first_path = 700;
  const Result b = Result::from_bytes(run(reference(), o2).to_bytes());
  RunOptions all = o;
  all.paths = 1400;
  check_identical(merge(back, b), run(reference(), all));
  std::string broken = a.to_bytes();
  broken.resize(broken.size() / 2);
  CHECK_THROWS_AS(Result::from_bytes(broken), std::invalid_argument);
  CHECK_THROWS_AS(Result::from_bytes("nonsense"), std::invalid_argument);
}

TEST_CASE("the block kernel equals the reference kernel with the v3 levers, drawn per path") {
  // docs/model.md §12: leased GW with a share and rent drawn per path, revenue per GW
  // rising at a drawn rate, a drawn opex growth that relaxes (the per-lane branch), a
  // delivery contract with a drawn gw (per-path schedules), a demand-led plan that counts
  // leased capacity, deployed-basis vendor money and warrants, and calendar-year outputs.
  std::ifstream in(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
  };
  replace("plan_cap_gw = 30.0",
          "plan_cap_gw = 30.0\nplan = \"demand\"\nrent_share = { uniform = [0.3, 0.9] }\n"
          "rent_per_gw_year = { triangular = [12, 15, 20] }");
  replace("fixed_opex_growth = 0.20",
          "fixed_opex_growth = { uniform = [0.1, 0.3] }\nfixed_opex_long_run_growth = 0.05\n"
          "fixed_opex_growth_reversion = 0.4");
  replace("arr_per_gw = ", "arr_per_gw_growth = { uniform = [0.0, 0.15] }\narr_per_gw = ");
  replace("checkpoints = [2028.0, 2030.0]",
          "checkpoints = [2028.0, 2030.0]\nyearly = [\"revenue\", \"fcf\", \"capex\"]");
  text +=
      "\n[[contract]]\nname = \"delivered\"\ntotal = 120.0\nstart = 2026.5\nyears = 5.0\n"
      "gw = { uniform = [1.0, 3.0] }\nprofile = \"delivery\"\nramp_years = 2.0\n"
      "[[vendor_financing]]\nname = \"deployed\"\nper_gw = 4.0\ncap = 30.0\nbasis = \"deployed\"\n"
      "[[warrant]]\nname = \"amd\"\nshares_m = 160\nstrike = 0.01\nprice0 = 220\n"
      "price_volatility = 0.5\ntranches = [{gw = 1, share = 0.5}, {gw = 4, share = 0.5, "
      "price_hurdle = 300}]\nbasis = \"deployed\"\n";
  const Scenario levers = parse_scenario(text, "levers.toml");
  const PathModel model(levers);
  REQUIRE(model.has_rent());
  REQUIRE(model.per_path_terms());
  REQUIRE(model.fixed_opex_growth_factor().empty());
  REQUIRE(model.yearly_columns() == 30);
  RunOptions o;
  o.paths = 75;  // two blocks and 11 paths
  o.seed = 5;
  o.first_path = 300;
  const Result reference_kernel = run_serial(levers, o);
  const tbb::global_control one(tbb::global_control::max_allowed_parallelism, 2);
  check_identical(run(levers, o), reference_kernel);
  CHECK(reference_kernel.summary(reference_kernel.output_index("leased_gw_end")).mean > 0);
}
