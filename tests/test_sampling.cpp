// Sampling of the static inputs: the Feistel permutation, scrambled Sobol points, the
// Latin hypercube and Sobol designs in runs, and the Gaussian copula of
// [input_correlation] (docs/statistics.md).

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <vector>

#include <tbb/global_control.h>
#include <boost/random/sobol.hpp>

#include "capexsim/engine.hpp"
#include "capexsim/sampling.hpp"
#include "test_util.hpp"

using namespace capexsim;

namespace {

Scenario reference() {
  return load_scenario(std::string(CAPEXSIM_SOURCE_DIR) + "/scenarios/ai-lab-2025.toml");
}

/// The static inputs of paths [0, n) through a design.
std::vector<std::array<double, param_count>> inputs_of(const Scenario& s, std::uint64_t seed,
                                                       std::uint64_t n) {
  const StaticSampler sampler(s, seed, n);
  std::vector<std::array<double, param_count>> out(n);
  for (std::uint64_t p = 0; p < n; ++p) sampler.draw(s, rng::PathRng(seed, p), out[p]);
  return out;
}

/// Ranks 0..n-1 of values (no ties in continuous draws).
std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<std::size_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  std::vector<double> r(x.size());
  for (std::size_t k = 0; k < idx.size(); ++k) r[idx[k]] = static_cast<double>(k);
  return r;
}

double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size()), m = (n - 1) / 2;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    sab += (ra[k] - m) * (rb[k] - m);
    saa += (ra[k] - m) * (ra[k] - m);
    sbb += (rb[k] - m) * (rb[k] - m);
  }
  return sab / std::sqrt(saa * sbb);
}

bool same_bits(const Result& a, const Result& b) {
  return a.per_path.rows() == b.per_path.rows() &&
         std::equal(a.per_path.data(), a.per_path.data() + a.per_path.size(), b.per_path.data(),
                    [](double x, double y) { return std::memcmp(&x, &y, sizeof x) == 0; });
}

}  // namespace

TEST_CASE("the Feistel permutation is a bijection of 0..n-1, different per key") {
  for (std::uint64_t n : {1ull, 2ull, 3ull, 5ull, 1000ull, 4096ull, 4097ull}) {
    const sampling::FeistelPermutation pi(n, 7, 3);
    std::vector<char> seen(n, 0);
    for (std::uint64_t p = 0; p < n; ++p) {
      const std::uint64_t x = pi(p);
      REQUIRE(x < n);
      CHECK(!seen[x]);
      seen[x] = 1;
    }
  }
  // Another seed, input or size gives another permutation (a fixed point in all 1000
  // places would be a broken key schedule).
  const sampling::FeistelPermutation a(1000, 7, 3), b(1000, 8, 3), c(1000, 7, 4);
  int same_ab = 0, same_ac = 0;
  for (std::uint64_t p = 0; p < 1000; ++p) {
    same_ab += a(p) == b(p);
    same_ac += a(p) == c(p);
  }
  CHECK(same_ab < 20);  // a random pair agrees at ~1 place
  CHECK(same_ac < 20);
}

TEST_CASE("Sobol direction numbers give Boost.Random's sequence") {
  constexpr unsigned dims = 12;
  boost::random::sobol_engine<std::uint32_t, 32> boost_sobol(dims);
  std::vector<std::array<std::uint32_t, 32>> v;
  for (unsigned d = 0; d < dims; ++d) v.push_back(sampling::sobol_directions(d));
  // Boost's engine starts at point 1 (it skips the origin).
  for (std::uint64_t p = 1; p <= 5000; ++p)
    for (unsigned d = 0; d < dims; ++d) REQUIRE(sampling::sobol_point(v[d], p) == boost_sobol());
  CHECK_THROWS_AS(sampling::sobol_directions(sampling::sobol_max_dimension()),
                  std::invalid_argument);
}

TEST_CASE("Owen scrambling is a nested permutation of binary digits") {
  // For every m, the top m digits of the output are a bijective function of the top m
  // digits of the input: a scrambled (t, m, s)-net stays one.
  for (std::uint32_t key : {0u, 1u, 0xdeadbeefu}) {
    for (int m = 1; m <= 12; ++m) {
      std::set<std::uint32_t> top;
      for (std::uint32_t x = 0; x < (1u << m); ++x) {
        const std::uint32_t hi = x << (32 - m);
        const std::uint32_t a = sampling::owen_scramble(hi, key) >> (32 - m);
        // Lower digits of the input do not move the top m digits of the output.
        const std::uint32_t b =
            sampling::owen_scramble(hi | ((1u << (32 - m)) - 1), key) >> (32 - m);
        CHECK(a == b);
        top.insert(a);
      }
      CHECK(top.size() == (1u << m));
    }
  }
}

TEST_CASE("lhs: every drawn input takes each of the N strata exactly once") {
  Scenario s = reference();
  s.sampling = Sampling::lhs;
  const std::uint64_t n = 1000;
  const auto in = inputs_of(s, 11, n);
  // Uniform inputs: the stratum is floor(N (x - lo) / (hi - lo)).
  for (Param p : {Param::ramp_midpoint_years, Param::learning_rate}) {
    const double lo = s[p].lower(), hi = s[p].upper();
    std::vector<char> seen(n, 0);
    for (std::uint64_t k = 0; k < n; ++k) {
      const auto stratum = static_cast<std::uint64_t>(std::floor(
          static_cast<double>(n) * (in[k][static_cast<std::size_t>(p)] - lo) / (hi - lo)));
      REQUIRE(stratum < n);
      CHECK(!seen[stratum]);
      seen[stratum] = 1;
    }
  }
  // Fixed inputs stay fixed.
  CHECK(in[17][static_cast<std::size_t>(Param::arr0)] == 20.0);
}

TEST_CASE("sobol: 1024 points fill every 1/1024 interval and every 32 x 32 box once") {
  Scenario s = reference();
  s.sampling = Sampling::sobol;
  s[Param::max_pace_gw_per_week] = Distribution::uniform(0.25, 1.0);
  const std::uint64_t n = 1024;
  const auto in = inputs_of(s, 5, n);
  auto unit = [&](std::size_t k, Param p) {
    const double lo = s[p].lower(), hi = s[p].upper();
    return (in[k][static_cast<std::size_t>(p)] - lo) / (hi - lo);
  };
  std::set<std::uint64_t> one, boxes;
  for (std::size_t k = 0; k < n; ++k) {
    const double a = unit(k, Param::max_pace_gw_per_week), b = unit(k, Param::ramp_midpoint_years);
    one.insert(static_cast<std::uint64_t>(a * 1024));
    boxes.insert(static_cast<std::uint64_t>(a * 32) * 32 + static_cast<std::uint64_t>(b * 32));
  }
  CHECK(one.size() == n);
  // max_pace_gw_per_week and ramp_midpoint_years are Sobol dimensions 0 and 1 (drawn
  // inputs in Param order), a (0, 2)-sequence: scrambled, its first 1024 points still put
  // one point in each of the 1024 boxes 1/32 x 1/32.
  CHECK(boxes.size() == n);
}

TEST_CASE("random sampling with no input correlation leaves the design inactive") {
  const StaticSampler none(reference(), 1, 1000);
  CHECK_FALSE(none.active());
}

TEST_CASE("lhs and sobol runs are bit-identical for any thread count and any split") {
  for (Sampling m : {Sampling::lhs, Sampling::sobol}) {
    Scenario s = reference();
    s.sampling = m;
    RunOptions o;
    o.paths = 700;
    o.seed = 3;
    o.bands = false;
    Result serial = run_serial(s, o);
    Result one, four;
    {
      tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
      o.threads = 1;
      one = run(s, o);
    }
    {
      tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 4);
      o.threads = 4;
      four = run(s, o);
    }
    CHECK(same_bits(serial, one));
    CHECK(same_bits(serial, four));
    // Shards of the same design: design_paths is the whole run's N.
    RunOptions a = o, b = o;
    a.paths = 300;
    a.design_paths = 700;
    b.first_path = 300;
    b.paths = 400;
    b.design_paths = 700;
    const Result merged = merge(run(s, b), run(s, a));
    CHECK(same_bits(serial, merged));
    // Another design size is another design.
    RunOptions big = o;
    big.design_paths = 1400;
    if (m == Sampling::lhs) CHECK_FALSE(same_bits(serial, run(s, big)));
  }
}

TEST_CASE("lhs refuses paths beyond its design") {
  Scenario s = reference();
  s.sampling = Sampling::lhs;
  RunOptions o;
  o.paths = 100;
  o.first_path = 50;
  o.design_paths = 120;
  o.bands = false;
  CHECK_THROWS_AS(run(s, o), std::invalid_argument);
}

TEST_CASE("lhs and sobol reduce the spread of the mean over seeds") {
  // With the per-step shocks and events off, every output is a function of the static
  // inputs alone, which is what the designs stratify. At N = 256 over 40 seeds the sd of
  // the mean of capex_total is 18.8 (random), 4.5 (lhs), 1.0 (sobol) (bench/
  // sampling_variance). The sd over 40 seeds has a relative standard error of
  // 1/sqrt(78) = 11%, so a ratio of 0.24 cannot come out above 0.5 by chance.
  auto sd_of_means = [](Sampling m) {
    Scenario s = reference();
    for (Param p : {Param::pace_volatility, Param::disruption_rate, Param::cost_volatility,
                    Param::growth_volatility, Param::arr_volatility, Param::jump_rate})
      s[p] = Distribution::fixed(0.0);
    s.sampling = m;
    std::vector<double> means;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
      RunOptions o;
      o.paths = 256;
      o.seed = seed;
      o.bands = false;
      means.push_back(run(s, o).summary("capex_total").mean);
    }
    double mu = std::accumulate(means.begin(), means.end(), 0.0) / means.size(), ss = 0;
    for (double x : means) ss += (x - mu) * (x - mu);
    return std::sqrt(ss / (means.size() - 1));
  };
  const double random = sd_of_means(Sampling::random);
  CHECK(sd_of_means(Sampling::lhs) < 0.5 * random);
  CHECK(sd_of_means(Sampling::sobol) < 0.2 * random);
}

TEST_CASE("input correlation: achieved Spearman correlations match their targets") {
  Scenario s = reference();
  s.input_correlation_inputs = {Param::cost_per_gw, Param::learning_rate, Param::arr_per_gw};
  s.input_correlation = {1.0,  -0.5, 0.3,  //
                         -0.5, 1.0,  0.0,  //
                         0.3,  0.0,  1.0};
  validate(s);
  const std::uint64_t n = 20000;
  for (Sampling m : {Sampling::random, Sampling::lhs, Sampling::sobol}) {
    s.sampling = m;
    const auto in = inputs_of(s, 9, n);
    auto col = [&](Param p) {
      std::vector<double> v(n);
      for (std::uint64_t k = 0; k < n; ++k) v[k] = in[k][static_cast<std::size_t>(p)];
      return v;
    };
    const auto cost = col(Param::cost_per_gw), lr = col(Param::learning_rate),
               arr = col(Param::arr_per_gw), pace = col(Param::max_pace_gw_per_week);
    // Tolerance: the sample Spearman coefficient has variance at most 1/(n-1) (its value
    // under independence; dependence only lowers it), so sd <= 1/sqrt(19999) = 0.0071; the
    // check allows 4 sd = 0.028, a false alarm rate below 1e-4 per coefficient.
    const double tol = 4 / std::sqrt(static_cast<double>(n - 1));
    CHECK(std::abs(spearman(cost, lr) - (-0.5)) < tol);
    CHECK(std::abs(spearman(cost, arr) - 0.3) < tol);
    CHECK(std::abs(spearman(lr, arr) - 0.0) < tol);
    // An input outside the copula stays independent.
    CHECK(std::abs(spearman(cost, pace)) < tol);
  }
  // Marginals are kept: the mean of cost_per_gw stays that of its triangular (50).
  s.sampling = Sampling::random;
  const auto in = inputs_of(s, 9, n);
  double mean = 0;
  for (const auto& x : in) mean += x[static_cast<std::size_t>(Param::cost_per_gw)] / n;
  // sd of triangular(40, 50, 60) = sqrt(200/12 - ... ) = 4.08; se of the mean 0.029.
  CHECK(std::abs(mean - 50.0) < 4 * 4.08 / std::sqrt(static_cast<double>(n)));
}

TEST_CASE("input correlation and sampling are validated with key and line") {
  const std::string base = R"(
[simulation]
start = 2026.0
horizon_years = 10
[build]
initial_gw = 2.0
max_pace_gw_per_week = { triangular = [0.25, 0.6, 1.0] }
ramp_midpoint_years = 2.0
ramp_width_years = 0.75
lead_time_years = 1.5
[cost]
cost_per_gw = { triangular = [40.0, 50.0, 60.0] }
it_share = 0.6
useful_life_years = 5
learning_rate = { uniform = [0.0, 0.1] }
[revenue]
arr0 = 20
growth0 = 0.8
arr_per_gw = { uniform = [8, 14] }
)";
  auto error_of = [&](const std::string& extra) {
    try {
      parse_scenario(base + extra, "x.toml");
    } catch (const ScenarioError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(parse_scenario(base + "[input_correlation]\ninputs = [\"cost.cost_per_gw\", "
                              "\"cost.learning_rate\"]\nmatrix = [[1, 0.5], [0.5, 1]]\n",
                       "x.toml")
            .input_correlation.size() == 4);
  CHECK(error_of("[input_correlation]\ninputs = [\"cost.cost_per_gw\", \"cost.it_share\"]\n"
                 "matrix = [[1, 0.5], [0.5, 1]]\n")
            .find("input_correlation.inputs[1]: expected an input drawn from a distribution") !=
        std::string::npos);
  CHECK(error_of("[input_correlation]\ninputs = [\"cost.cost_per_gw\", \"cost.nope\"]\n"
                 "matrix = [[1, 0.5], [0.5, 1]]\n")
            .find("x.toml:21:") != std::string::npos);
  CHECK(error_of("[input_correlation]\ninputs = [\"cost.cost_per_gw\", \"cost.learning_rate\", "
                 "\"revenue.arr_per_gw\"]\nmatrix = [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, "
                 "1]]\n")
            .find("positive-definite") != std::string::npos);
  CHECK(error_of("[input_correlation]\ninputs = [\"cost.cost_per_gw\", \"cost.learning_rate\"]\n"
                 "matrix = [[1, 0.5], [0.4, 1]]\n")
            .find("symmetric") != std::string::npos);
  const std::string sampled = base;
  std::string bad = base;
  bad.replace(bad.find("horizon_years = 10"), 18, "horizon_years = 10\nsampling = \"halton\"");
  try {
    parse_scenario(bad, "x.toml");
    FAIL("no error");
  } catch (const ScenarioError& e) {
    CHECK(std::string(e.what()).find("simulation.sampling") != std::string::npos);
    CHECK(e.line() == 5);
  }
  std::string good = base;
  good.replace(good.find("horizon_years = 10"), 18, "horizon_years = 10\nsampling = \"sobol\"");
  const Scenario s = parse_scenario(good, "x.toml");
  CHECK(s.sampling == Sampling::sobol);
  CHECK(parse_scenario(to_toml(s), "y.toml").sampling == Sampling::sobol);
}

TEST_CASE("sampling_note flags Sobol at a path count that is not a power of two") {
  CHECK(sampling_note(Sampling::sobol, 4096).empty());
  CHECK(sampling_note(Sampling::sobol, 5000).find("4096 or 8192") != std::string::npos);
  CHECK(sampling_note(Sampling::lhs, 5000).empty());
}

TEST_CASE("sampling, input correlation and thresholds round-trip through to_toml") {
  Scenario s = reference();
  s.sampling = Sampling::lhs;
  s.input_correlation_inputs = {Param::cost_per_gw, Param::growth0};
  s.input_correlation = {1.0, 0.25, 0.25, 1.0};
  s.thresholds = {{"arr_at_2030", {100}}, {"funding_gap", {1000, 2000}}};
  validate(s);
  const Scenario back = parse_scenario(to_toml(s), "back.toml");
  CHECK(back == s);
  CHECK(fingerprint(back) != fingerprint(reference()));
  // The v1 spelling is unchanged when none of them is used (fingerprints keep their value).
  CHECK(to_toml(reference()).find("sampling") == std::string::npos);
  CHECK(to_toml(reference()).find("thresholds") == std::string::npos);
}

TEST_CASE("lhs keeps common random numbers: another input's change leaves a stratum alone") {
  // An input's stratum depends on (seed, its id, N) only, and its value on its own
  // uniform: making arr_per_gw fixed leaves cost_per_gw's value of every path unchanged.
  Scenario a = reference();
  a.sampling = Sampling::lhs;
  Scenario b = a;
  b[Param::arr_per_gw] = Distribution::fixed(10.5);
  const auto ia = inputs_of(a, 3, 500), ib = inputs_of(b, 3, 500);
  for (std::size_t k = 0; k < 500; ++k)
    CHECK(ia[k][static_cast<std::size_t>(Param::cost_per_gw)] ==
          ib[k][static_cast<std::size_t>(Param::cost_per_gw)]);
}
