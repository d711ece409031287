// Sensitivity analysis (docs/sensitivity.md): the pick-freeze and pin switches of the
// kernel, the kept inputs, rank measures, tornado, Sobol indices of the model and goal
// seek, against results that hold by construction (bit identities) or by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <tbb/global_control.h>

#include "capexsim/engine.hpp"
#include "capexsim/sensitivity.hpp"
#include "test_util.hpp"

using namespace capexsim;

namespace {

const Scenario& reference() {
  static const Scenario s = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  return s;
}
const Scenario& financed() {
  static const Scenario s = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2026.toml");
  return s;
}

RunOptions opts(std::uint64_t paths, std::uint64_t seed = 7) {
  RunOptions o;
  o.paths = paths;
  o.seed = seed;
  o.threads = 2;
  o.bands = false;
  return o;
}

bool same_bits(const Eigen::ArrayXXd& a, const Eigen::ArrayXXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(double) * static_cast<std::size_t>(a.size())) == 0;
}

/// Every drawn input and every process group switched to seed b.
Variation everything_from(std::uint64_t b) {
  Variation v;
  v.alt_seed = b;
  v.alt_input.fill(true);
  v.alt_group.fill(true);
  return v;
}

// No noise, no events: cost_per_gw is the only random input, and the funding gap rises
// with it (a dearer GW costs more capex and nothing else changes).
Scenario one_driver() {
  return test::scenario("start = 2026.0\nhorizon_years = 6",
                        "initial_gw = 1\nmax_pace_gw_per_week = 0.2\nramp_midpoint_years = 1\n"
                        "ramp_width_years = 1\nlead_time_years = 1",
                        "cost_per_gw = { uniform = [40.0, 60.0] }\nit_share = 0.5\n"
                        "useful_life_years = 5",
                        "arr0 = 10\ngrowth0 = 0.3\narr_per_gw = 10",
                        "[finance]\ninitial_cash = 20\n[opex]\nfixed_opex = 5\n");
}

}  // namespace

TEST_CASE("pick-freeze: every factor from seed b is the run of seed b, bit for bit") {
  // If any variate escaped the groups (a stream left on the run's seed), this would differ.
  const Scenario neocloud = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/neocloud.toml");
  for (const Scenario* s : {&reference(), &financed(), &neocloud}) {
    CAPTURE(s->name);
    const Result b = run(*s, opts(300, 99));
    PathModel m(*s);
    m.set_variation(everything_from(99));
    const Result ab = run(m, opts(300, 7));
    CHECK(same_bits(ab.per_path, b.per_path));
    CHECK(same_bits(ab.inputs, b.inputs));
    // And the reference kernel agrees with the block kernel under the switches.
    const Result serial = run_serial(m, opts(300, 7));
    CHECK(same_bits(serial.per_path, ab.per_path));
  }
}

TEST_CASE("pick-freeze: switching to the run's own seed changes nothing; one group moves alone") {
  const Scenario& s = financed();
  const Result a = run(s, opts(300));
  Variation v = everything_from(7);
  PathModel m(s);
  m.set_variation(v);
  CHECK(same_bits(run(m, opts(300)).per_path, a.per_path));
  // The cost group alone from another seed: the static inputs are untouched, the outputs move.
  Variation c;
  c.alt_seed = 1234;
  c.alt_group[static_cast<std::size_t>(ProcessGroup::cost)] = true;
  m.set_variation(c);
  const Result rc = run(m, opts(300));
  CHECK(same_bits(rc.inputs, a.inputs));
  CHECK_FALSE(same_bits(rc.per_path, a.per_path));
  // A group that draws nothing in a scenario (no cost noise, and no [correlation] through
  // which cost's independent normal would reach the other shocks) moves nothing.
  Scenario quiet = s;
  quiet.params[static_cast<std::size_t>(Param::cost_volatility)] = Distribution::fixed(0);
  quiet.correlation = Eigen::Matrix4d::Identity();
  quiet.correlation_order.clear();
  const Result q = run(quiet, opts(300));
  PathModel mq(quiet);
  mq.set_variation(c);
  CHECK(same_bits(run(mq, opts(300)).per_path, q.per_path));
}

TEST_CASE("pick-freeze: each financing source moves the run exactly when it is a factor") {
  // Issue 24: the financing draws are split by source. A source the scenario lists as a
  // Sobol factor must move the outputs when switched alone; one it does not list must move
  // nothing (else its variance would go unreported), and no source touches the inputs.
  const Scenario neocloud = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/neocloud.toml");
  for (const Scenario* s : {&reference(), &financed(), &neocloud}) {
    CAPTURE(s->name);
    const Result a = run(*s, opts(300));
    const auto names = sobol_factors(*s);
    for (std::size_t g = static_cast<std::size_t>(first_financing_group); g < process_group_count;
         ++g) {
      const std::string name = process_group_name(static_cast<ProcessGroup>(g));
      CAPTURE(name);
      Variation v;
      v.alt_seed = 1234;
      v.alt_group[g] = true;
      PathModel m(*s);
      m.set_variation(v);
      const Result r = run(m, opts(300));
      CHECK(same_bits(r.inputs, a.inputs));
      const bool listed = std::find(names.begin(), names.end(), name) != names.end();
      CHECK(listed == !same_bits(r.per_path, a.per_path));
    }
  }
  // ai-lab-2026 draws six of the seven; neocloud's revenue contracts draw their defaults.
  const auto fin = sobol_factors(financed()), neo = sobol_factors(neocloud);
  CHECK(std::find(fin.begin(), fin.end(), "revenue_defaults") == fin.end());
  CHECK(std::find(neo.begin(), neo.end(), "revenue_defaults") != neo.end());
}

TEST_CASE("sobol: the financing sources together are the old financing group") {
  // Issue 24. Switching every financing source at once is the old `financing` group (one
  // seed for every financing draw). Estimated on the same A and B runs, its indices bound
  // the split ones: the sources are disjoint, so sum S_g <= S_closed(all) and
  // ST(all) <= sum ST_g (an interaction among sources counts once in ST(all), once per
  // source in the sum), up to sampling error.
  const Scenario& s = financed();
  const std::uint64_t n = 4096, a = 7, b = 99;
  const auto gap = [&](const Result& r) {
    const Eigen::ArrayXd c =
        r.per_path.col(static_cast<Eigen::Index>(r.output_index("funding_gap")));
    return c;
  };
  const Eigen::ArrayXd ya = gap(run(s, opts(n, a))), yb = gap(run(s, opts(n, b)));
  const double mean = (ya.sum() + yb.sum()) / (2.0 * n);
  const double var = ((ya - mean).square().sum() + (yb - mean).square().sum()) / (2.0 * n);
  REQUIRE(var > 0);
  struct Index {
    double S, ST;
  };
  const auto indices = [&](const Variation& v) {
    PathModel m(s);
    m.set_variation(v);
    const Eigen::ArrayXd yab = gap(run(m, opts(n, a)));
    return Index{((yb - mean) * (yab - ya)).mean() / var, (ya - yab).square().mean() / (2 * var)};
  };
  Variation all;
  all.alt_seed = b;
  double sum_S = 0, sum_ST = 0;
  const auto names = sobol_factors(s);
  for (std::size_t g = static_cast<std::size_t>(first_financing_group); g < process_group_count;
       ++g) {
    if (std::find(names.begin(), names.end(), process_group_name(static_cast<ProcessGroup>(g))) ==
        names.end())
      continue;
    Variation v;
    v.alt_seed = b;
    v.alt_group[g] = all.alt_group[g] = true;
    const Index i = indices(v);
    sum_S += i.S;
    sum_ST += i.ST;
  }
  const Index whole = indices(all);
  CAPTURE(sum_S);
  CAPTURE(sum_ST);
  CAPTURE(whole.S);
  CAPTURE(whole.ST);
  CHECK(whole.ST > 0.05);  // financing matters for ai-lab-2026's gap
  CHECK(sum_S <= whole.S + 0.05);
  CHECK(whole.ST <= sum_ST + 0.02);
  CHECK(whole.S <= whole.ST + 0.05);
}

TEST_CASE("pins: an input pinned at v equals the scenario with that input fixed at v") {
  // Common random numbers: each input has its own counter, so fixing one leaves the others.
  const Scenario& s = reference();
  const std::size_t k = static_cast<std::size_t>(Param::cost_per_gw);
  PathModel m(s);
  Variation v;
  v.pinned[k] = true;
  v.pin[k] = 47.5;
  m.set_variation(v);
  Scenario fixed = s;
  fixed.params[k] = Distribution::fixed(47.5);
  const Result pinned = run(m, opts(500)), plain = run(fixed, opts(500));
  CHECK(same_bits(pinned.per_path, plain.per_path));
}

TEST_CASE("inputs: kept per path, the drawn ones only, through bytes and merge") {
  const Scenario& s = reference();
  const Result r = run(s, opts(1000));
  std::size_t drawn = 0;
  for (const auto& d : s.params) drawn += d.is_fixed() ? 0 : 1;
  REQUIRE(r.input_names.size() == drawn);
  REQUIRE(r.has_inputs());
  for (std::size_t j = 0; j < drawn; ++j) {
    const Distribution& d = s.params[r.input_params[j]];
    const auto col = r.inputs.col(static_cast<Eigen::Index>(j));
    CAPTURE(r.input_names[j]);
    CHECK(col.minCoeff() >= d.lower());
    CHECK(col.maxCoeff() <= d.upper());
    CHECK(col.maxCoeff() > col.minCoeff());
  }
  CHECK(std::find(r.input_names.begin(), r.input_names.end(), "cost.cost_per_gw") !=
        r.input_names.end());
  const Result back = Result::from_bytes(r.to_bytes());
  CHECK(back.input_names == r.input_names);
  CHECK(same_bits(back.inputs, r.inputs));
  RunOptions first = opts(400), second = opts(600);
  second.first_path = 400;
  const Result merged = merge(run(s, first), run(s, second));
  CHECK(same_bits(merged.inputs, r.inputs));
  RunOptions none = opts(100);
  none.keep_inputs = false;
  CHECK_FALSE(run(s, none).has_inputs());
}

TEST_CASE("rank: one monotone driver gives rank correlation 1 and R^2 1") {
  const Result r = run(one_driver(), opts(2000));
  const RankTable t = rank_sensitivity(r, "funding_gap");
  REQUIRE(t.rows.size() == 1);
  CHECK(t.rows[0].factor == "cost.cost_per_gw");
  CHECK(t.rows[0].spearman == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(t.rows[0].srrc == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(t.r2 == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(t.rows[0].contribution == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(t.nan_share == 0);
}

TEST_CASE("rank: the reference's measures by hand; NaN outputs counted, never dropped silently") {
  const Result r = run(reference(), opts(4000));
  const RankTable t = rank_sensitivity(r, "funding_gap");
  CHECK(t.r2 > 0);
  CHECK(t.r2 <= 1);
  double sum = 0;
  for (const auto& row : t.rows) sum += row.contribution;
  CHECK(sum == doctest::Approx(t.r2).epsilon(1e-9));
  for (std::size_t i = 1; i < t.rows.size(); ++i)
    CHECK(std::abs(t.rows[i - 1].srrc) >= std::abs(t.rows[i].srrc));
  // An event output: breakeven never happens on some paths.
  const std::size_t k = r.output_index("breakeven");
  std::uint64_t nans = 0;
  for (std::uint64_t p = 0; p < r.paths; ++p)
    nans += std::isnan(r.per_path(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(k)));
  const RankTable e = rank_sensitivity(r, "breakeven");
  CHECK(e.defined == r.paths - nans);
  CHECK(e.nan_share == doctest::Approx(static_cast<double>(nans) / r.paths));
  if (nans > 0 && nans < r.paths)
    for (const auto& row : e.rows) CHECK(std::isfinite(row.event_spearman));
  CHECK_THROWS_AS(rank_sensitivity(r, "no_such_output"), SensitivityError);
}

TEST_CASE("tornado: base and pinned runs equal plain runs with the same seed") {
  const Scenario& s = reference();
  const Statistic mean = parse_statistic("mean");
  TornadoOptions to;
  to.vary.push_back(parse_vary("finance.initial_cash=0:100"));
  const TornadoTable t = tornado(s, "funding_gap", mean, opts(2000), to);
  const Result base = run(s, opts(2000));
  CHECK(t.base == base.summary("funding_gap").mean);
  std::size_t drawn = 0;
  for (const auto& d : s.params) drawn += d.is_fixed() ? 0 : 1;
  CHECK(t.rows.size() == drawn + 1);
  for (std::size_t i = 1; i < t.rows.size(); ++i) CHECK(t.rows[i - 1].swing >= t.rows[i].swing);
  for (const auto& row : t.rows) {
    CAPTURE(row.factor);
    CHECK(row.swing == std::abs(row.stat_high - row.stat_low));
    CHECK(row.stat_base == t.base);
  }
  // The learning-rate row: its P10 by hand (uniform [0, 0.1]) and a run fixed there.
  const auto lr = std::find_if(t.rows.begin(), t.rows.end(), [](const TornadoRow& r) {
    return r.factor == "cost.learning_rate";
  });
  REQUIRE(lr != t.rows.end());
  CHECK(lr->low_input == doctest::Approx(0.01));
  Scenario at_low = s;
  at_low.params[static_cast<std::size_t>(Param::learning_rate)] =
      Distribution::fixed(lr->low_input);
  CHECK(lr->stat_low == run(at_low, opts(2000)).summary("funding_gap").mean);
  // More learning: cheaper GW, smaller gap.
  CHECK(lr->stat_high < lr->stat_low);
  // initial_cash via --vary: 100 $B more cash at the start cuts the mean gap.
  const auto cash = std::find_if(t.rows.begin(), t.rows.end(), [](const TornadoRow& r) {
    return r.factor == "finance.initial_cash";
  });
  REQUIRE(cash != t.rows.end());
  CHECK(cash->stat_high < cash->stat_low);
}

TEST_CASE("tornado: drawn inputs outside the input table (coverage, rates, terms) are pinned too") {
  // The v3 reference draws the demand plan's coverage, a debt rate, the valuation multiple,
  // equity capacity and renewal prices outside the model's input table: each is a row,
  // pinned at its own P10/P90 by a copy where that distribution is the fixed number.
  const Scenario& s = financed();
  const TornadoTable t = tornado(s, "need_2030", parse_statistic("mean"), opts(1000));
  auto row = [&](const std::string& f) {
    return std::find_if(t.rows.begin(), t.rows.end(),
                        [&](const TornadoRow& r) { return r.factor == f; });
  };
  std::size_t drawn = 0;
  for (const auto& d : s.params) drawn += d.is_fixed() ? 0 : 1;
  for (const char* f :
       {"build.coverage", "valuation.arr_multiple", "equity_policy.capacity_per_year"})
    CHECK_MESSAGE(row(f) != t.rows.end(), f);
  CHECK(t.rows.size() > drawn + 3);
  const auto cov = row("build.coverage");
  REQUIRE(cov != t.rows.end());
  REQUIRE(!s.plan.coverage.is_fixed());
  CHECK(cov->low_input == s.plan.coverage.sample(0.1));
  CHECK(cov->high_input == s.plan.coverage.sample(0.9));
  Scenario at_high = s;
  at_high.plan.coverage = Distribution::fixed(cov->high_input);
  CHECK(cov->stat_high == run(at_high, opts(1000)).summary("need_2030").mean);
  // Building ahead of more of the demand needs more money by 2030.
  CHECK(cov->stat_high > cov->stat_low);
  // A drawn key is refused as --vary (it is pinned already).
  TornadoOptions to;
  to.vary.push_back(parse_vary("build.coverage=1:2"));
  CHECK_THROWS_AS(tornado(s, "need_2030", parse_statistic("mean"), opts(100), to),
                  SensitivityError);
}

TEST_CASE("sobol on the model: a single driver takes all the variance, idle groups none") {
  const SobolTable t =
      sobol_sensitivity(one_driver(), "funding_gap", parse_statistic("mean"), opts(4096));
  REQUIRE(t.rows.size() == 5);  // cost_per_gw, pace, cost, demand, growth
  CHECK(t.rows[0].name == "cost.cost_per_gw");
  // Y = g(cost_per_gw) alone: A_B^(input) = B exactly, so the estimators reduce to
  // S = mean(yB (yB - yA)) / V and ST = mean((yA - yB)^2) / (2V), both 1 up to sampling
  // error of order 1/sqrt(N) = 0.016.
  CHECK(t.rows[0].S == doctest::Approx(1.0).epsilon(0.06));
  CHECK(t.rows[0].ST == doctest::Approx(1.0).epsilon(0.06));
  // The groups draw nothing here: A_B^(g) = A, so both indices are exactly 0.
  for (std::size_t i = 1; i < t.rows.size(); ++i) {
    CAPTURE(t.rows[i].name);
    CHECK(t.rows[i].S == 0);
    CHECK(t.rows[i].ST == 0);
  }
}

TEST_CASE("sobol on the model: reproducible across threads; the reference's factors") {
  const Scenario& s = reference();
  RunOptions one = opts(2048), two = opts(2048);
  one.threads = 1;
  SobolTable a, b;
  {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, 1);
    a = sobol_sensitivity(s, "funding_gap", parse_statistic("mean"), one);
  }
  b = sobol_sensitivity(s, "funding_gap", parse_statistic("mean"), two);
  REQUIRE(a.rows.size() == b.rows.size());
  for (std::size_t i = 0; i < a.rows.size(); ++i) {
    CHECK(a.rows[i].name == b.rows[i].name);
    CHECK(a.rows[i].S == b.rows[i].S);
    CHECK(a.rows[i].ST == b.rows[i].ST);
    CHECK(a.rows[i].S_lo == b.rows[i].S_lo);
    CHECK(a.rows[i].ST_hi == b.rows[i].ST_hi);
  }
  const auto names = sobol_factors(s);
  CHECK(names.size() == b.rows.size());
  CHECK(std::find(names.begin(), names.end(), "demand") != names.end());
  const char* financing_groups[] = {"debt_rates",       "valuation",  "equity_capacity",
                                    "warrant_price",    "deal_terms", "plan_coverage",
                                    "revenue_defaults", "financing"};
  for (const char* g : financing_groups)  // v1 draws no financing: none of them
    CHECK(std::find(names.begin(), names.end(), g) == names.end());
  // ai-lab-2026 (issue 24): the financing draws split by source, in group order; it has no
  // revenue contract, so no revenue_defaults, and the whole `financing` group is gone.
  const auto fin = sobol_factors(financed());
  const std::vector<std::string> tail(fin.end() - 10, fin.end());
  CHECK(tail == std::vector<std::string>{"pace", "cost", "demand", "growth", "debt_rates",
                                         "valuation", "equity_capacity", "warrant_price",
                                         "deal_terms", "plan_coverage"});
  CHECK(std::find(fin.begin(), fin.end(), "financing") == fin.end());
  // Over time: one set of indices per checkpoint year within the horizon.
  SobolModelOptions so;
  so.over_time = "cash";
  const SobolTable ot = sobol_sensitivity(s, "", parse_statistic("mean"), opts(512), so);
  CHECK(ot.years == s.checkpoints);
  CHECK(ot.over_time.size() == s.checkpoints.size());
  // Bad input.
  CHECK_THROWS_AS(sobol_sensitivity(s, "funding_gap", parse_statistic("p95"), opts(64)),
                  SensitivityError);
  CHECK_THROWS_AS(sobol_sensitivity(s, "runway_years", parse_statistic("mean"), opts(256)),
                  SensitivityError);  // NaN where the lab never runs out
  so.over_time = "no_such_series";
  CHECK_THROWS_AS(sobol_sensitivity(s, "", parse_statistic("mean"), opts(64), so),
                  SensitivityError);
}

TEST_CASE("keys: fixed values, shifted distributions, errors naming the key") {
  const Scenario& s = reference();
  CHECK(key_value(s, "finance.initial_cash") ==
        s.params[static_cast<std::size_t>(Param::initial_cash)].value());
  // growth0 is triangular [0.5, 0.8, 1.1], mean 0.8; shifted to mean 0.9, shape kept.
  CHECK(key_value(s, "revenue.growth0") == doctest::Approx(0.8));
  const Scenario up = with_key_value(s, "revenue.growth0", 0.9);
  const Distribution& g = up.params[static_cast<std::size_t>(Param::growth0)];
  CHECK(g.kind() == Distribution::Kind::triangular);
  CHECK(g.params()[0] == doctest::Approx(0.6));
  CHECK(g.params()[2] == doctest::Approx(1.2));
  CHECK(g.mean() == doctest::Approx(0.9));
  // A lognormal has no shift.
  Scenario ln = s;
  ln.params[static_cast<std::size_t>(Param::arr0)] = Distribution::lognormal(20, 3);
  CHECK_THROWS_WITH_AS(with_key_value(ln, "revenue.arr0", 25),
                       doctest::Contains("no location shift"), SensitivityError);
  CHECK_THROWS_WITH_AS(with_key_value(s, "revenue.no_such_key", 1),
                       doctest::Contains("unknown key 'revenue.no_such_key'"), SensitivityError);
  CHECK_THROWS_WITH_AS(with_key_value(s, "contract.nobody.total", 1),
                       doctest::Contains("no contract named 'nobody'"), SensitivityError);
  // A value the scenario format refuses, named.
  CHECK_THROWS_WITH_AS(with_key_value(s, "cost.it_share", 1.5), doctest::Contains("cost.it_share"),
                       SensitivityError);
  // Contract terms of the financed scenario.
  const std::string name = financed().contracts.at(0).name;
  const Scenario c = with_key_value(financed(), "contract." + name + ".total", 123);
  CHECK(c.contracts[0].total_bn.value() == 123);
  // Parsers.
  CHECK_THROWS_WITH_AS(parse_vary("build.plan_cap_gw=40:20"), doctest::Contains("must be below"),
                       SensitivityError);
  CHECK_THROWS_AS(parse_vary("build.plan_cap_gw=20"), SensitivityError);
  CHECK_THROWS_AS(parse_vary("build.plan_cap_gw=a:b"), SensitivityError);
  CHECK(parse_vary("build.plan_cap_gw=20:40").hi == 40);
  CHECK(parse_statistic("p95").level == doctest::Approx(0.95));
  CHECK(parse_statistic("p2.5").name() == "p2.5");
  CHECK(parse_statistic("median").name() == "p50");
  CHECK_THROWS_WITH_AS(parse_statistic("p100"), doctest::Contains("unknown statistic"),
                       SensitivityError);
  CHECK_THROWS_AS(parse_statistic("average"), SensitivityError);
}

TEST_CASE("statistics: mean, quantile and share with their half-widths") {
  const std::vector<double> v = {1, 2, 3, 4, std::nan(""), -1};
  const auto m = evaluate_statistic(parse_statistic("mean"), v);
  CHECK(m.value == doctest::Approx(1.8));  // over the 5 defined values
  CHECK(m.defined == 5);
  CHECK(m.ci95 > 0);
  const auto med = evaluate_statistic(parse_statistic("p50"), v);
  CHECK(med.value == 2);  // type 7 over {-1, 1, 2, 3, 4}
  const auto pp = evaluate_statistic(parse_statistic("prob_positive"), v);
  CHECK(pp.value == doctest::Approx(4.0 / 6));  // over all paths: NaN is not positive
  const auto ns = evaluate_statistic(parse_statistic("nan_share"), v);  // as run --target reads it
  CHECK(ns.value == doctest::Approx(1.0 / 6));
  CHECK(ns.ci95 > 0);
  CHECK(parse_statistic("nan_share").is_share());
  CHECK(parse_statistic("nan_share").name() == "nan_share");
}

TEST_CASE("assumptions: tagged fixed keys of the file, moved by a share; all keys with all") {
  const std::string text =
      "[build]\n"
      "initial_gw = 2.0            # [assumption] a fixed number, tagged\n"
      "lead_time_years = 1.5       # [reported] a fixed number, not an assumption\n"
      "max_pace_gw_per_week = { triangular = [0.2, 0.6, 1.0] }  # [assumption] drawn: pinned\n"
      "[[contract]]\n"
      "name = \"azure\"\n"
      "years = 6.0                 # [assumption] a contract term, by the contract's name\n"
      "start = 2026.0              # [assumption] a calendar year: never moved by a share\n";
  Scenario s = financed();
  const AssumptionRanges a = assumption_ranges(s, text, 0.2, false);
  std::vector<std::string> keys;
  for (const auto& r : a.ranges) keys.push_back(r.key);
  CHECK(keys == std::vector<std::string>{"build.initial_gw", "contract.azure.years"});
  CHECK(a.ranges[0].lo == doctest::Approx(1.6));
  CHECK(a.ranges[0].hi == doctest::Approx(2.4));
  const AssumptionRanges all = assumption_ranges(s, "", 0.2, true);
  CHECK(all.ranges.size() > 20);
  const auto has = [&](const std::string& k) {
    return std::any_of(all.ranges.begin(), all.ranges.end(),
                       [&](const VaryRange& r) { return r.key == k; });
  };
  CHECK(has("revenue.arr0"));
  CHECK(has("opex.fixed_opex_growth"));
  CHECK(has("debt.revolver.limit"));
  CHECK_FALSE(has("contract.azure.start"));  // a date
  CHECK_FALSE(has("cost.cost_per_gw"));      // drawn
  CHECK_THROWS_AS(assumption_ranges(s, text, 1.5, false), SensitivityError);
  CHECK_THROWS_AS(assumption_ranges(s, text, 0, false), SensitivityError);
}

TEST_CASE("calibrate: hits the target, reproducible, refuses an unreachable one") {
  // In the one-driver scenario 1 $B more initial cash cuts every path's gap by up to 1 $B;
  // the mean gap is continuous and decreasing in initial_cash.
  const Scenario s = one_driver();
  const Statistic mean = parse_statistic("mean");
  const double gap0 = run(s, opts(1000)).summary("funding_gap").mean;
  REQUIRE(gap0 > 20);
  const double target = gap0 - 10;
  const CalibrateResult c = calibrate(s, parse_vary("finance.initial_cash=0:200"), "funding_gap",
                                      mean, target, opts(1000));
  CHECK(c.achieved == doctest::Approx(target).epsilon(1e-6));
  CHECK(c.value > 20);  // more cash than the scenario's 20
  CHECK(c.runs <= 20);
  // The calibrated scenario reproduces the statistic (same seed and paths).
  CHECK(run(c.scenario, opts(1000)).summary("funding_gap").mean == c.achieved);
  CHECK(std::isfinite(c.value_ci95));
  CHECK_THROWS_WITH_AS(
      calibrate(s, parse_vary("finance.initial_cash=0:10"), "funding_gap", mean, -5, opts(500)),
      doctest::Contains("outside what finance.initial_cash"), SensitivityError);
}

TEST_CASE("sobol shards: ranges merged in any order give the whole analysis, bit for bit") {
  const Scenario& s = reference();
  const Statistic mean = parse_statistic("mean");
  const SobolTable whole = sobol_sensitivity(s, "funding_gap", mean, opts(1000));
  RunOptions first = opts(400), second = opts(600);
  second.first_path = 400;
  const SobolSamples a = sobol_samples(s, "funding_gap", mean, first);
  const SobolSamples b =
      SobolSamples::from_bytes(sobol_samples(s, "funding_gap", mean, second).to_bytes());
  const SobolTable merged = sobol_table(merge(b, a));
  REQUIRE(merged.rows.size() == whole.rows.size());
  for (std::size_t i = 0; i < whole.rows.size(); ++i) {
    CHECK(merged.rows[i].S == whole.rows[i].S);
    CHECK(merged.rows[i].ST == whole.rows[i].ST);
    CHECK(merged.rows[i].S_lo == whole.rows[i].S_lo);
    CHECK(merged.rows[i].ST_hi == whole.rows[i].ST_hi);
  }
  // Mismatches are refused.
  RunOptions other_seed = second;
  other_seed.seed = 8;
  CHECK_THROWS_WITH_AS(merge(a, sobol_samples(s, "funding_gap", mean, other_seed)),
                       doctest::Contains("different seeds"), SensitivityError);
  CHECK_THROWS_WITH_AS(merge(a, sobol_samples(s, "capex_total", mean, second)),
                       doctest::Contains("different analyses"), SensitivityError);
  RunOptions gap = opts(100);
  gap.first_path = 2000;
  CHECK_THROWS_WITH_AS(merge(a, sobol_samples(s, "funding_gap", mean, gap)),
                       doctest::Contains("not adjacent"), SensitivityError);
  std::string bytes = a.to_bytes();
  bytes[0] ^= 1;
  CHECK_THROWS_AS(SobolSamples::from_bytes(bytes), std::invalid_argument);
}

TEST_CASE("tornado shards: ranges merged give the whole tornado for any statistic") {
  const Scenario& s = reference();
  TornadoOptions to;
  to.vary.push_back(parse_vary("build.plan_cap_gw=20:40"));
  RunOptions first = opts(700), second = opts(500);
  second.first_path = 700;
  const TornadoSamples a = tornado_samples(s, "funding_gap", first, to);
  const TornadoSamples b =
      TornadoSamples::from_bytes(tornado_samples(s, "funding_gap", second, to).to_bytes());
  const TornadoSamples all = merge(b, a);
  for (const char* name : {"mean", "p90", "prob_positive"}) {
    CAPTURE(name);
    const Statistic stat = parse_statistic(name);
    const TornadoTable whole = tornado(s, "funding_gap", stat, opts(1200), to);
    const TornadoTable merged = tornado_table(all, stat);
    CHECK(merged.base == whole.base);
    REQUIRE(merged.rows.size() == whole.rows.size());
    for (std::size_t i = 0; i < whole.rows.size(); ++i) {
      CHECK(merged.rows[i].factor == whole.rows[i].factor);
      CHECK(merged.rows[i].stat_low == whole.rows[i].stat_low);
      CHECK(merged.rows[i].stat_high == whole.rows[i].stat_high);
      CHECK(merged.rows[i].varied == whole.rows[i].varied);
    }
  }
  TornadoOptions other = to;
  other.vary[0].hi = 50;
  CHECK_THROWS_WITH_AS(merge(a, tornado_samples(s, "funding_gap", second, other)),
                       doctest::Contains("different analyses"), SensitivityError);
}

TEST_CASE("joint runs: a tornado pins the input in the lab too; Sobol counts the lab's inputs") {
  // Issue 23: path p of the provider and of its lab are one world (they share every
  // variate), so a pinned input is pinned in both, each at the same quantile of its own
  // distribution: the tornado's low run is the joint run of the two with that input fixed.
  const Scenario prov = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/oracle-side.toml");
  const Scenario lab = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2026-stress.toml");
  RunOptions o = opts(600);
  o.counterparties.push_back(joint_run(prov, lab, "oracle"));
  const TornadoSamples t = tornado_samples(prov, "funding_gap", o);
  CHECK(t.scenario_fingerprint == fingerprint(prov) + "+oracle=" + fingerprint(lab));
  auto gap = [](const Result& r) {
    const auto c = r.per_path.col(static_cast<Eigen::Index>(r.output_index("funding_gap")));
    return std::vector<double>(c.data(), c.data() + c.size());
  };
  CHECK(t.values[0] == gap(run(prov, o)));  // the base run is the joint run
  REQUIRE(!t.rows.empty());
  std::size_t checked = 0, extras = 0;
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    std::size_t k = 0;
    while (k < param_count &&
           std::string(param_table()[k].section) + "." + param_table()[k].key != t.rows[i].factor)
      ++k;
    if (k == param_count) {
      // A drawn input outside the table (a debt rate, a contract's terms) is pinned in the
      // provider only: the low run is the provider with that distribution fixed, jointly
      // with the lab as it is.
      CAPTURE(t.rows[i].factor);
      REQUIRE(t.rows[i].factor == "debt.bonds-and-project-loans.rate");
      Scenario p2 = prov;
      CHECK(t.rows[i].low_input == p2.financing.debt.at(0).rate.sample(0.1));
      p2.financing.debt.at(0).rate = Distribution::fixed(t.rows[i].low_input);
      RunOptions o2 = opts(600);
      o2.counterparties.push_back(joint_run(p2, lab, "oracle"));
      CHECK(t.values[1 + 2 * i] == gap(run(p2, o2)));
      ++extras;
      continue;
    }
    if (lab.params[k].is_fixed()) continue;  // the lab keeps its own value
    CAPTURE(t.rows[i].factor);
    Scenario p2 = prov, l2 = lab;
    p2.params[k] = Distribution::fixed(t.rows[i].low_input);
    l2.params[k] = Distribution::fixed(lab.params[k].sample(0.1));
    RunOptions o2 = opts(600);
    o2.counterparties.push_back(joint_run(p2, l2, "oracle"));
    CHECK(t.values[1 + 2 * i] == gap(run(p2, o2)));
    ++checked;
  }
  CHECK(checked > 0);
  CHECK(extras == 1);
  // Without the lab the pinned runs differ (the lab's payments move the gap).
  const TornadoSamples alone = tornado_samples(prov, "funding_gap", opts(600));
  CHECK(alone.values[0] != t.values[0]);
  // Sobol: every input the lab draws is a factor, even where the provider fixes it. The
  // provider's own factors stay, but revenue_defaults (issue 24): its one revenue contract
  // is the lab's, which defaults with the lab and draws no default of its own.
  const auto factors = sobol_factors(prov, o.counterparties);
  for (const auto& f : sobol_factors(prov))
    CHECK((std::find(factors.begin(), factors.end(), f) != factors.end()) ==
          (f != "revenue_defaults"));
  for (std::size_t k = 0; k < param_count; ++k)
    if (!lab.params[k].is_fixed()) {
      const std::string name = std::string(param_table()[k].section) + "." + param_table()[k].key;
      CAPTURE(name);
      CHECK(std::find(factors.begin(), factors.end(), name) != factors.end());
    }
  const SobolSamples s = sobol_samples(prov, "funding_gap", parse_statistic("mean"), opts(300));
  CHECK(s.factors == sobol_factors(prov));
  RunOptions o3 = opts(300);
  o3.counterparties = o.counterparties;
  const SobolSamples js = sobol_samples(prov, "funding_gap", parse_statistic("mean"), o3);
  CHECK(js.factors == factors);
  CHECK(js.values[0][0] == gap(run(prov, o3)));  // A is the joint run
}
