// The driver: parallel == serial reference bit for bit for any thread count, shards merge
// to the whole, common random numbers, cancellation.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

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
  // The scenario really exercises the branches: jumps, disruptions and vendor money.
  const std::size_t gap = reference_kernel.output_index("funding_gap");
  CHECK(reference_kernel.summary(gap).sd > 0);
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
