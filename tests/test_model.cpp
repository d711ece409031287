// The path kernel against closed forms (OU, GBM, Poisson, Markov regime), Wright's law,
// contract totals, construction and refresh timing, and a hand-computed cash path.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "capexsim/model.hpp"
#include "test_util.hpp"

using namespace capexsim;
using test::Moments;

namespace {
// Build nothing (max pace 0): capacity, costs and cash stay out of the way.
const std::string sim5 = "start = 2026.0\nhorizon_years = 5";
const std::string no_build =
    "initial_gw = 1\nmax_pace_gw_per_week = 0\nramp_midpoint_years = 1\nramp_width_years = 1\n"
    "lead_time_years = 1";
const std::string plain_cost = "cost_per_gw = 50\nit_share = 0.5\nuseful_life_years = 5";
const std::string plain_revenue =
    "arr0 = 10\ngrowth0 = 0.2\nlong_run_growth = 0.2\narr_per_gw = 1e6";
constexpr int N = 20000;  // paths per statistical test
}  // namespace

TEST_CASE("execution factor: stationary OU with mean-one factor") {
  // x ~ N(0, v), v = sigma^2/(2 theta) = 0.09/4 = 0.0225 at every step (exact scheme,
  // stationary start). SE(mean x) = sqrt(v/N) = 0.00106; SE(var) = v sqrt(2/N) = 0.000225;
  // SE(mean f) = sqrt(e^v - 1)/sqrt(N) = 0.00107. Tolerances are 5 SE.
  const PathModel m(test::scenario(
      sim5,
      "initial_gw = 1\nmax_pace_gw_per_week = 0.5\nramp_midpoint_years = 1\n"
      "ramp_width_years = 1\nlead_time_years = 1\npace_volatility = 0.3\npace_reversion = 2",
      plain_cost, plain_revenue));
  const double v = 0.0225;
  for (int step : {0, 1, 30, 59}) {
    Moments x, f;
    for (int p = 0; p < N; ++p) {
      const auto t = test::trace(m, 5, p);
      f.add(t.steps[step].exec_factor);
      x.add(std::log(t.steps[step].exec_factor) + v / 2);
    }
    CAPTURE(step);
    CHECK(std::abs(x.mean()) < 5 * 0.00106);
    CHECK(std::abs(x.var() - v) < 5 * 0.000225);
    CHECK(std::abs(f.mean() - 1) < 5 * 0.00107);
  }
}

TEST_CASE("growth rate: OU mean and variance from a fixed start") {
  // g_t ~ N(g_inf + (g0 - g_inf) e^{-k t}, s^2 (1 - e^{-2 k t}) / (2k)); t = t_i.
  const PathModel m(test::scenario(sim5, no_build, plain_cost,
                                   "arr0 = 10\ngrowth0 = 0.8\nlong_run_growth = 0.15\n"
                                   "growth_reversion = 0.35\ngrowth_volatility = 0.15\n"
                                   "arr_per_gw = 1e6"));
  for (int step : {12, 59}) {
    const double t = step / 12.0;
    const double mean = 0.15 + 0.65 * std::exp(-0.35 * t);
    const double var = 0.0225 * (1 - std::exp(-0.7 * t)) / 0.7;
    Moments g;
    for (int p = 0; p < N; ++p) g.add(test::trace(m, 9, p).steps[step].growth);
    CAPTURE(step);
    // SE(mean) = sqrt(var/N); SE(var) = var sqrt(2/N). 5 SE.
    CHECK(std::abs(g.mean() - mean) < 5 * std::sqrt(var / N));
    CHECK(std::abs(g.var() - var) < 5 * var * std::sqrt(2.0 / N));
  }
}

TEST_CASE("cost per GW: GBM mean and variance (no building, so no learning)") {
  // K_t = K0 exp(y_t), y_t ~ N((mu - s^2/2) t, s^2 t): E K = K0 e^{mu t},
  // Var K = K0^2 e^{2 mu t} (e^{s^2 t} - 1).
  const PathModel m(test::scenario(sim5, no_build,
                                   "cost_per_gw = 50\ncost_drift = 0.05\ncost_volatility = 0.2\n"
                                   "learning_rate = 0.2\nit_share = 0.5\nuseful_life_years = 5",
                                   plain_revenue));
  const int step = 59;
  const double t = step / 12.0;
  const double mean = 50 * std::exp(0.05 * t);
  const double sd = mean * std::sqrt(std::exp(0.04 * t) - 1);
  Moments k, logk;
  for (int p = 0; p < N; ++p) {
    const double K = test::trace(m, 13, p).steps[step].cost_per_gw;
    k.add(K);
    logk.add(std::log(K / 50));
  }
  CHECK(std::abs(k.mean() - mean) < 5 * sd / std::sqrt(double(N)));
  // log K: mean (mu - s^2/2) t, sd s sqrt(t); SE of the mean s sqrt(t/N).
  CHECK(std::abs(logk.mean() - (0.05 - 0.02) * t) < 5 * 0.2 * std::sqrt(t / N));
  CHECK(std::abs(logk.var() - 0.04 * t) < 5 * 0.04 * t * std::sqrt(2.0 / N));
}

TEST_CASE("demand: GBM with constant growth has mean arr0 e^{g t}") {
  const PathModel m(test::scenario(sim5, no_build, plain_cost,
                                   "arr0 = 10\ngrowth0 = 0.3\nlong_run_growth = 0.3\n"
                                   "arr_volatility = 0.2\narr_per_gw = 1e6"));
  const int step = 48;
  const double t = step / 12.0;
  const double mean = 10 * std::exp(0.3 * t);
  const double sd = mean * std::sqrt(std::exp(0.04 * t) - 1);
  Moments d;
  for (int p = 0; p < N; ++p) {
    const auto tr = test::trace(m, 17, p);
    d.add(tr.steps[step].demand);
    CHECK(tr.steps[step].arr == tr.steps[step].demand);  // capacity never binds here
  }
  CHECK(std::abs(d.mean() - mean) < 5 * sd / std::sqrt(double(N)));
}

TEST_CASE("demand jumps: Poisson counts with mean and variance lambda t") {
  // With every other shock off and jump sizes fixed at 0.1, ln(D_i / arr0) = 0.1 N_i where
  // N_i ~ Poisson(lambda t_i) counts jumps over steps 0..i-1. mu = 0.6 * 59/12 = 2.95.
  // SE(mean) = sqrt(mu/N) = 0.0121; SE(var) = sqrt((mu + 2 mu^2)/N) = 0.0318. 5 SE.
  const PathModel m(test::scenario(sim5, no_build, plain_cost,
                                   "arr0 = 10\ngrowth0 = 0\narr_per_gw = 1e6\njump_rate = 0.6\n"
                                   "jump_mean = 0.1\njump_sd = 0"));
  const int step = 59;
  const double mu = 0.6 * step / 12.0;
  Moments c;
  for (int p = 0; p < N; ++p) {
    const double x = std::log(test::trace(m, 21, p).steps[step].demand / 10) / 0.1;
    const double count = std::round(x);
    REQUIRE(std::abs(x - count) < 1e-9);
    c.add(count);
  }
  CHECK(std::abs(c.mean() - mu) < 5 * std::sqrt(mu / N));
  CHECK(std::abs(c.var() - mu) < 5 * std::sqrt((mu + 2 * mu * mu) / N));
}

TEST_CASE("jump sizes are normal with the given mean and sd") {
  // Many jumps, no other shocks: ln(D_i/arr0) = sum of N_i normals, mean m E N, variance
  // (s^2 + m^2) E N (compound Poisson). E N = 2 * 59/12 = 9.83.
  const PathModel m(test::scenario(sim5, no_build, plain_cost,
                                   "arr0 = 10\ngrowth0 = 0\narr_per_gw = 1e6\njump_rate = 2\n"
                                   "jump_mean = -0.05\njump_sd = 0.1"));
  const double en = 2 * 59 / 12.0;
  const double var = (0.01 + 0.0025) * en;
  Moments j;
  for (int p = 0; p < N; ++p) j.add(std::log(test::trace(m, 23, p).steps[59].demand / 10));
  CHECK(std::abs(j.mean() - (-0.05 * en)) < 5 * std::sqrt(var / N));
  // Compound Poisson kurtosis is mild here; 10% on the variance is > 5 SE for N = 2e4.
  CHECK(std::abs(j.var() / var - 1) < 0.1);
}

TEST_CASE("disruption regime: two-state Markov chain occupancy") {
  // P(d_i = 1) = pi (1 - (1 - p_on - p_off)^{i+1}), pi = p_on / (p_on + p_off), with
  // p_on = 1 - e^{-rate dt}, p_off = 1 - e^{-dt/mean}. SE = sqrt(P(1-P)/N). 5 SE.
  const PathModel m(test::scenario(
      sim5,
      "initial_gw = 1\nmax_pace_gw_per_week = 0.5\nramp_midpoint_years = 1\nramp_width_years = 1\n"
      "lead_time_years = 1\ndisruption_rate = 0.5\ndisruption_mean_years = 0.25\n"
      "disruption_multiplier = 0.3",
      plain_cost, plain_revenue));
  const double dt = 1 / 12.0;
  const double p_on = 1 - std::exp(-0.5 * dt), p_off = 1 - std::exp(-dt / 0.25);
  const double pi = p_on / (p_on + p_off);
  for (int step : {0, 5, 59}) {
    const double p = pi * (1 - std::pow(1 - p_on - p_off, step + 1));
    double on = 0;
    for (int q = 0; q < N; ++q) {
      const auto st = test::trace(m, 27, q).steps[step];
      on += st.regime;
      if (st.regime) {  // the multiplier applies while disrupted
        const double undisrupted = st.pace_target * 52 * dt * st.exec_factor;
        CHECK(st.started_gw == doctest::Approx(0.3 * undisrupted));
      }
    }
    CAPTURE(step);
    CHECK(std::abs(on / N - p) < 5 * std::sqrt(p * (1 - p) / N));
  }
}

TEST_CASE("correlated shocks carry the scenario's correlation") {
  // Recover Z_pace and Z_cost from the exact updates of x and y:
  //   Z_pace = (x_{i+1} - x_i e^{-theta dt}) / vol_x,  Z_cost = (y_{i+1} - y_i - drift) / vol_c.
  // corr 0.3; SE of a sample correlation = (1 - rho^2)/sqrt(n) with n = 2000 x 59. 5 SE.
  const PathModel m(test::scenario(
      sim5,
      "initial_gw = 1\nmax_pace_gw_per_week = 0\nramp_midpoint_years = 1\nramp_width_years = 1\n"
      "lead_time_years = 1\npace_volatility = 0.3\npace_reversion = 2",
      "cost_per_gw = 50\ncost_volatility = 0.2\nit_share = 0.5\nuseful_life_years = 5",
      plain_revenue,
      "[correlation]\nshocks = [\"pace\", \"cost\"]\nmatrix = [[1.0, 0.3], [0.3, 1.0]]\n"));
  const double dt = 1 / 12.0, theta = 2, sx = 0.3, sc = 0.2;
  const double v = sx * sx / (2 * theta);
  const double vol_x = sx * std::sqrt((1 - std::exp(-2 * theta * dt)) / (2 * theta));
  const double drift = -0.5 * sc * sc * dt, vol_c = sc * std::sqrt(dt);
  double sxy = 0, sxx = 0, syy = 0, n = 0;
  for (int p = 0; p < 2000; ++p) {
    const auto t = test::trace(m, 31, p);
    for (int i = 0; i + 1 < 60; ++i) {
      const double x0 = std::log(t.steps[i].exec_factor) + v / 2;
      const double x1 = std::log(t.steps[i + 1].exec_factor) + v / 2;
      const double zp = (x1 - x0 * std::exp(-theta * dt)) / vol_x;
      const double zc =
          (std::log(t.steps[i + 1].cost_per_gw / t.steps[i].cost_per_gw) - drift) / vol_c;
      sxy += zp * zc;
      sxx += zp * zp;
      syy += zc * zc;
      n += 1;
    }
  }
  const double rho = sxy / std::sqrt(sxx * syy);
  CHECK(std::abs(rho - 0.3) < 5 * (1 - 0.09) / std::sqrt(n));
  CHECK(std::abs(sxx / n - 1) < 5 * std::sqrt(2 / n));
}

TEST_CASE("contract payments sum to their totals, flat and ramp") {
  const Scenario s = test::scenario(
      "start = 2026.0\nhorizon_years = 10", no_build, plain_cost, plain_revenue,
      "[[contract]]\ntotal = 250\nstart = 2026.0\nyears = 6\ngw = 3.5\n"
      "[[contract]]\ntotal = 300\nstart = 2027.0\nyears = 5\ngw = 4.5\nprofile = \"ramp\"\n");
  for (const char* step : {"month", "week", "quarter"}) {
    Scenario one = s, two = s;
    one.contracts.resize(1);
    two.contracts.erase(two.contracts.begin());
    for (Scenario* sc : {&one, &two}) {
      sc->step = std::string(step) == "month"  ? StepKind::month
                 : std::string(step) == "week" ? StepKind::week
                                               : StepKind::quarter;
    }
    const PathModel flat(one), ramp(two);
    double sum_flat = 0, sum_ramp = 0;
    for (double x : flat.contract_payment()) sum_flat += x;
    for (double x : ramp.contract_payment()) sum_ramp += x;
    CAPTURE(step);
    CHECK(sum_flat == doctest::Approx(250).epsilon(1e-12));
    CHECK(sum_ramp == doctest::Approx(300).epsilon(1e-12));
    // The ramp rises linearly: first payment < last, and the middle one is the average.
    const auto& r = ramp.contract_payment();
    const int first = ramp.first_step_at_or_after(2027.0);
    const int last = ramp.first_step_at_or_after(2032.0) - 1;
    CHECK(r[first - 1] == 0);
    CHECK(r[first] > 0);
    CHECK(r[last] > r[first]);
    CHECK(r[last + 1] == 0);
    CHECK(r[first] + r[last] == doctest::Approx(2 * 300.0 / (last - first + 1)));
    // Capacity from the contract is there exactly while it is active.
    CHECK(flat.contract_gw()[0] == 3.5);
    CHECK(flat.contract_gw()[flat.first_step_at_or_after(2032.0) - 1] == 3.5);
    CHECK(flat.contract_gw()[flat.first_step_at_or_after(2032.0)] == 0);
  }
}

namespace {
// One build of exactly 1 GW at step 0: initial 1 GW, plan cap 2 GW, pace far above it.
Scenario one_build(const std::string& step, double lead, double life, double learning = 0) {
  return test::scenario(
      "start = 2026.0\nhorizon_years = 4\nstep = \"" + step + "\"",
      "initial_gw = 1\nplan_cap_gw = 2\nmax_pace_gw_per_week = 10\nramp_midpoint_years = -100\n"
      "ramp_width_years = 1\nlead_time_years = " +
          std::to_string(lead),
      "cost_per_gw = 40\nit_share = 0.5\nuseful_life_years = " + std::to_string(life) +
          "\nlearning_rate = " + std::to_string(learning),
      "arr0 = 10\ngrowth0 = 0\narr_per_gw = 10");
}
}  // namespace

TEST_CASE("Wright's law: cost falls by the learning rate at each doubling") {
  const PathModel m(one_build("quarter", 0.5, 2.0, 0.2));
  const auto t = test::trace(m, 1, 0);
  CHECK(t.steps[0].started_gw == 1.0);
  CHECK(t.steps[0].cost_per_gw == doctest::Approx(40.0));
  // B doubles from 1 to 2 GW: K = 40 (1 - 0.2).
  CHECK(t.steps[1].cost_per_gw == doctest::Approx(32.0).epsilon(1e-12));
  // A half-doubling: B = 1.5 gives 40 * 1.5^{log2(0.8)}.
  Scenario s = one_build("quarter", 0.5, 2.0, 0.2);
  s[Param::plan_cap_gw] = Distribution::fixed(1.5);
  const auto h = test::trace(PathModel(s), 1, 0);
  CHECK(h.steps[1].cost_per_gw == doctest::Approx(40 * std::pow(1.5, std::log2(0.8))));
}

TEST_CASE("construction: capex spread over the lead time, online after it") {
  // Monthly, lead 0.5 y = 6 steps: a 1 GW start at step 0 costs 40, paid 40/6 at steps
  // 0..5, and comes online at step 6.
  const PathModel m(one_build("month", 0.5, 1.0));
  const auto t = test::trace(m, 1, 0);
  for (int i = 0; i < 12; ++i) {
    CAPTURE(i);
    CHECK(t.steps[i].capex == doctest::Approx(i < 6 ? 40.0 / 6 : 0.0));
    CHECK(t.steps[i].online_gw == (i == 6 ? 1.0 : 0.0));
    CHECK(t.steps[i].capacity_gw == (i < 6 ? 1.0 : 2.0));
  }
}

TEST_CASE("refresh: each vintage comes due one useful life after it was installed") {
  // Life 1 y = 12 steps. The initial 1 GW is refreshed 1/12 GW a step over steps 0..11,
  // each piece again 12 steps later; the 1 GW online at step 6 is due at 18 and 30.
  const PathModel m(one_build("month", 0.5, 1.0));
  const auto t = test::trace(m, 1, 0);
  for (int i = 0; i < 40; ++i) {
    const double expected = 1.0 / 12 + ((i == 18 || i == 30) ? 1.0 : 0.0);
    CAPTURE(i);
    CHECK(t.steps[i].refresh_gw == doctest::Approx(expected));
    CHECK(t.steps[i].refresh_capex ==
          doctest::Approx(0.5 * t.steps[i].cost_per_gw * t.steps[i].refresh_gw));
  }
}

TEST_CASE("a deterministic scenario's cash path and funding gap, by hand") {
  // Quarterly (dt = 1/4), 3 years = 12 steps, every volatility and jump rate zero.
  //   build:   1 GW at t=0, plan cap 2 GW, pace far above the cap -> a 1 GW start at
  //            step 0; lead 0.5 y = 2 steps -> capex 40/2 = 20 at steps 0 and 1,
  //            online at step 2 (G = 1, 1, 2, 2, ...).
  //   refresh: life 2 y = 8 steps, it_share 0.5, K = 40 -> 20 $B per GW refreshed.
  //            Initial fleet 1/8 GW per step at steps 0..7; again at 8..11; the GW
  //            online at step 2 again at step 10.
  //   revenue: D_i = 10 e^{0.4 t_i}; arr_per_gw 8; C = G + 0.5 GW contracted for the
  //            first year; R = min(D, 8 C).
  //   resale:  idle GW x 4 $B/GW-yr x 0.5 utilisation x dt.
  //   opex:    (1 G + 0.2 R + 2 e^{0.1 t}) dt.
  //   contract: 12 $B flat over 1 y = 3 $B a step at steps 0..3.
  //   vendor:  5 $B/GW online, cap 3 -> 3 at step 2.   equity: 7 at 2027.3 -> step 5.
  const Scenario s = test::scenario(
      "start = 2026.0\nhorizon_years = 3\nstep = \"quarter\"",
      "initial_gw = 1\nplan_cap_gw = 2\nmax_pace_gw_per_week = 10\nramp_midpoint_years = -100\n"
      "ramp_width_years = 1\nlead_time_years = 0.5",
      "cost_per_gw = 40\nit_share = 0.5\nuseful_life_years = 2",
      "arr0 = 10\ngrowth0 = 0.4\nlong_run_growth = 0.4\narr_per_gw = 8\n"
      "resale_price_per_gw_year = 4\nresale_utilization = 0.5",
      "[finance]\ninitial_cash = 30\n"
      "[opex]\npower_ops_per_gw_year = 1\nrevenue_cost_share = 0.2\nfixed_opex = 2\n"
      "fixed_opex_growth = 0.1\n"
      "[[contract]]\ntotal = 12\nstart = 2026.0\nyears = 1\ngw = 0.5\n"
      "[[vendor_financing]]\nper_gw = 5\ncap = 3\n"
      "[[equity]]\nat = 2027.3\namount = 7\n");
  const double dt = 0.25;
  const double capex[12] = {20, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const double owned[12] = {1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
  const double contracted[12] = {0.5, 0.5, 0.5, 0.5, 0, 0, 0, 0, 0, 0, 0, 0};
  const double refresh_gw[12] = {.125, .125, .125, .125, .125,  .125,
                                 .125, .125, .125, .125, 1.125, .125};
  const double contract_pay[12] = {3, 3, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0};
  const double vendor[12] = {0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const double equity[12] = {0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0};

  double cash = 30, min_cash = INFINITY, total_capex = 0;
  int min_step = -1, first_negative = -1;
  const auto t = test::trace(PathModel(s), 123, 0);
  REQUIRE(t.steps.size() == 12);
  for (int i = 0; i < 12; ++i) {
    const double ti = i * dt;
    const double demand = 10 * std::exp(0.4 * ti);
    const double serving = owned[i] + contracted[i];
    const double arr = std::min(demand, 8 * serving);
    const double resale = (serving - arr / 8) * 4 * 0.5 * dt;
    const double refresh = 0.5 * 40 * refresh_gw[i];
    const double opex = (1 * owned[i] + 0.2 * arr + 2 * std::exp(0.1 * ti)) * dt;
    const double fcf = arr * dt + resale - capex[i] - refresh - contract_pay[i] - opex;
    cash += fcf + vendor[i] + equity[i];
    total_capex += capex[i] + refresh;
    if (cash < min_cash) min_cash = cash, min_step = i;
    if (first_negative < 0 && cash < 0) first_negative = i;
    CAPTURE(i);
    CHECK(t.steps[i].cash == doctest::Approx(cash).epsilon(1e-12));
    CHECK(t.steps[i].arr == doctest::Approx(arr).epsilon(1e-12));
  }
  // Step 0 written out: R = min(10, 12) = 10; resale (1.5 - 1.25) 4 .5 .25 = 0.125;
  // refresh 2.5; opex (1 + 2 + 2) .25 = 1.25; FCF = 2.5 + .125 - 20 - 2.5 - 3 - 1.25.
  CHECK(t.steps[0].fcf == doctest::Approx(-24.125));
  CHECK(t.steps[0].cash == doctest::Approx(5.875));
  CHECK(min_cash < 0);
  CHECK(t.outputs[static_cast<int>(Output::funding_gap)] == doctest::Approx(-min_cash));
  CHECK(t.outputs[static_cast<int>(Output::gap_time)] == doctest::Approx((min_step + 1) * dt));
  CHECK(t.outputs[static_cast<int>(Output::runway)] == doctest::Approx((first_negative + 1) * dt));
  CHECK(t.outputs[static_cast<int>(Output::terminal_cash)] == doctest::Approx(cash));
  CHECK(t.outputs[static_cast<int>(Output::capex_total)] == doctest::Approx(total_capex));
  CHECK(t.outputs[static_cast<int>(Output::capacity_end)] == 2.0);
  // The same numbers for every path and seed: nothing is random here.
  const auto other = test::trace(PathModel(s), 999, 77);
  REQUIRE(other.outputs.size() == t.outputs.size());
  CHECK(std::memcmp(other.outputs.data(), t.outputs.data(), sizeof(double) * t.outputs.size()) ==
        0);
}

TEST_CASE("breakeven is the first trailing-year FCF > 0, never before one year") {
  // No costs at all: FCF = R dt > 0 from step 0, so breakeven is exactly 1 year.
  const PathModel m(
      test::scenario(sim5,
                     "initial_gw = 1\nmax_pace_gw_per_week = 0\nramp_midpoint_years = 1\n"
                     "ramp_width_years = 1\nlead_time_years = 1",
                     "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 5",
                     "arr0 = 10\ngrowth0 = 0\narr_per_gw = 100"));
  const auto t = test::trace(m, 1, 0);
  CHECK(t.outputs[static_cast<int>(Output::breakeven)] == doctest::Approx(1.0));
  CHECK(std::isnan(t.outputs[static_cast<int>(Output::runway)]));
  CHECK(std::isnan(t.outputs[static_cast<int>(Output::gap_time)]));
  CHECK(t.outputs[static_cast<int>(Output::funding_gap)] == 0.0);
  CHECK(t.outputs[static_cast<int>(Output::terminal_cash)] == doctest::Approx(10 * 5.0));
}

TEST_CASE("checkpoints read R at the first step at or after the year") {
  const PathModel m(test::scenario(sim5, no_build, plain_cost, plain_revenue,
                                   "[outputs]\ncheckpoints = [2028.0, 2027.5]\n"));
  const auto names = m.output_names();
  REQUIRE(names.size() == base_output_count + 2);
  CHECK(names[base_output_count] == "arr_at_2027.5");  // chronological order
  CHECK(names[base_output_count + 1] == "arr_at_2028");
  const auto t = test::trace(m, 3, 0);
  CHECK(t.outputs[base_output_count] == t.steps[18].arr);
  CHECK(t.outputs[base_output_count + 1] == t.steps[24].arr);
}

TEST_CASE("huge lead times, lives and contract years cost no memory and behave as 'never'") {
  const Scenario s = test::scenario(
      sim5,
      "initial_gw = 1\nmax_pace_gw_per_week = 0.5\nramp_midpoint_years = 0\nramp_width_years = 1\n"
      "lead_time_years = 1e12",
      "cost_per_gw = 40\nit_share = 0.5\nuseful_life_years = 1e300",
      "arr0 = 10\ngrowth0 = 0\narr_per_gw = 10",
      "[[contract]]\ntotal = 10\nstart = 1e300\nyears = 1\n"
      "[[contract]]\ntotal = 10\nstart = 2000\nyears = 1e300\ngw = 2\n");
  const PathModel m(s);
  const auto t = test::trace(m, 1, 0);
  for (const auto& st : t.steps) {
    CHECK(st.online_gw == 0.0);  // nothing finishes within the horizon
    CHECK(st.capacity_gw == 1.0);
    CHECK(st.refresh_gw == doctest::Approx(0.0).epsilon(1e-200));
    CHECK(st.capex > 0.0);        // ...but capex is still being paid, 1/L a step
    CHECK(st.serving_gw == 3.0);  // the contract active since forever
  }
}
