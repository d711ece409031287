// The path kernel against closed forms (OU, GBM, Poisson, Markov regime), Wright's law,
// contract totals, construction and refresh timing, and a hand-computed cash path.
#include <doctest/doctest.h>

#include <algorithm>
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
    "arr0 = 10\ngrowth0 = 0.2\nlong_run_growth = 0.2\narr_per_gw = 1e4";
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
                                   "arr_per_gw = 1e4"));
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
                                   "arr_volatility = 0.2\narr_per_gw = 1e4"));
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
                                   "arr0 = 10\ngrowth0 = 0\narr_per_gw = 1e4\njump_rate = 0.6\n"
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
                                   "arr0 = 10\ngrowth0 = 0\narr_per_gw = 1e4\njump_rate = 2\n"
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
      const auto tr = test::trace(m, 27, q);
      const auto& st = tr.steps[step];
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

TEST_CASE("breakeven_sustained is the start of the last positive run that lasts to the end") {
  // Revenue 10 $B/yr (0.8333 a step) and no costs, except a flat contract paying 33 $B over
  // 2028 (2.75 a step, steps 24..35). The trailing-year FCF with m contract steps in the
  // window is (120 - 33 m) / 12: positive for m <= 3, -1 at m = 4. So the first crossing is
  // at 1 year (breakeven 1.0), the run breaks at step 27 (m = 4), and the last run starts
  // at step 44 (window 33..44 holds m = 3): breakeven_sustained = 45 / 12 years.
  const std::string build =
      "initial_gw = 1\nmax_pace_gw_per_week = 0\nramp_midpoint_years = 1\n"
      "ramp_width_years = 1\nlead_time_years = 1";
  const std::string cost = "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 5";
  const std::string revenue = "arr0 = 10\ngrowth0 = 0\narr_per_gw = 100";
  const auto t = test::trace(
      PathModel(test::scenario(sim5, build, cost, revenue,
                               "[[contract]]\ntotal = 33\nstart = 2028.0\nyears = 1\n")),
      1, 0);
  CHECK(t.outputs[static_cast<int>(Output::breakeven)] == doctest::Approx(1.0));
  CHECK(t.outputs[static_cast<int>(Output::breakeven_sustained)] == doctest::Approx(45 / 12.0));
  // A contract that runs past the horizon keeps the final trailing FCF negative: never.
  const auto u = test::trace(
      PathModel(test::scenario(sim5, build, cost, revenue,
                               "[[contract]]\ntotal = 330\nstart = 2029.0\nyears = 10\n")),
      1, 0);
  CHECK(u.outputs[static_cast<int>(Output::breakeven)] == doctest::Approx(1.0));
  CHECK(std::isnan(u.outputs[static_cast<int>(Output::breakeven_sustained)]));
}

TEST_CASE("checkpoints read R at the first step at or after the year") {
  const PathModel m(test::scenario(sim5, no_build, plain_cost, plain_revenue,
                                   "[outputs]\ncheckpoints = [2028.0, 2027.5]\n"));
  const auto names = m.output_names();
  const std::size_t c = m.checkpoint_column();
  REQUIRE(names.size() == c + 6);      // arr_at, then funding_need_by and funding_gap_by, each 2
  CHECK(names[c] == "arr_at_2027.5");  // chronological order
  CHECK(names[c + 1] == "arr_at_2028");
  CHECK(names[c + 2] == "funding_need_by_2027.5");
  CHECK(names[c + 5] == "funding_gap_by_2028");
  const auto t = test::trace(m, 3, 0);
  CHECK(t.outputs[c] == t.steps[18].arr);
  CHECK(t.outputs[c + 1] == t.steps[24].arr);
}

TEST_CASE("lead times, lives and contracts beyond the horizon behave as 'never'") {
  // The largest plausible values (100 years): rings are capped at the horizon, so they
  // cost no memory, and nothing finishes or falls due within the 5 simulated years.
  const Scenario s = test::scenario(
      sim5,
      "initial_gw = 1\nmax_pace_gw_per_week = 0.5\nramp_midpoint_years = 0\nramp_width_years = 1\n"
      "lead_time_years = 100",
      "cost_per_gw = 40\nit_share = 0.5\nuseful_life_years = 100",
      "arr0 = 10\ngrowth0 = 0\narr_per_gw = 10",
      "[[contract]]\ntotal = 10\nstart = 2090\nyears = 1\n"
      "[[contract]]\ntotal = 10\nstart = 2020\nyears = 100\ngw = 2\n");
  const PathModel m(s);
  const auto t = test::trace(m, 1, 0);
  for (const auto& st : t.steps) {
    CHECK(st.online_gw == 0.0);  // nothing finishes within the horizon
    CHECK(st.capacity_gw == 1.0);
    CHECK(st.refresh_gw == doctest::Approx(1.0 / 1200));  // the initial fleet over 100 years
    CHECK(st.capex > 0.0);        // ...but capex is still being paid, 1/L a step
    CHECK(st.serving_gw == 3.0);  // the contract active since before the start
  }
}

// ---------------------------------------------------------------------------------------
// v3 levers (docs/model.md §13.5-13.8, 13.10): known answers on deterministic paths.

TEST_CASE("arr_per_gw_growth: a GW serves arr_per_gw e^{h t}, in the cap and in idle capacity") {
  // Quarterly, no building, 1 GW owned; demand far above capacity, so R_i = 8 e^{0.1 t_i}.
  const std::string rev = "arr0 = 1000\ngrowth0 = 0\narr_per_gw = 8\narr_per_gw_growth = 0.1";
  const auto t =
      test::trace(PathModel(test::scenario("start = 2026.0\nhorizon_years = 3\nstep = \"quarter\"",
                                           no_build, plain_cost, rev)),
                  1, 0);
  for (int i = 0; i < 12; ++i) {
    CAPTURE(i);
    CHECK(t.steps[i].arr == doctest::Approx(8 * std::exp(0.1 * i * 0.25)).epsilon(1e-13));
    CHECK(t.steps[i].idle_gw == doctest::Approx(0).scale(1));
  }
  // Demand 4 $B/yr below capacity: idle = 1 - 4 / (8 e^{0.1 t}).
  const auto u =
      test::trace(PathModel(test::scenario(
                      "start = 2026.0\nhorizon_years = 3\nstep = \"quarter\"", no_build, plain_cost,
                      "arr0 = 4\ngrowth0 = 0\narr_per_gw = 8\narr_per_gw_growth = 0.1")),
                  1, 0);
  for (int i = 0; i < 12; ++i) {
    CAPTURE(i);
    CHECK(u.steps[i].arr == doctest::Approx(4));
    CHECK(u.steps[i].idle_gw == doctest::Approx(1 - 4 / (8 * std::exp(0.1 * i * 0.25))));
  }
}

TEST_CASE("fixed opex growth relaxing to a long-run rate: the closed form, and lambda = 0") {
  // fixed_opex 10, h0 = 0.2 -> h_inf = 0.05 at lambda = 0.5:
  // opex_i = 10 exp(0.05 t + 0.15 (1 - e^{-0.5 t}) / 0.5) dt.
  const std::string sim = "start = 2026.0\nhorizon_years = 20\nstep = \"quarter\"";
  const std::string opex =
      "[opex]\nfixed_opex = 10\nfixed_opex_growth = 0.2\nfixed_opex_long_run_growth = 0.05\n"
      "fixed_opex_growth_reversion = 0.5\n";
  const auto t =
      test::trace(PathModel(test::scenario(sim, no_build, plain_cost, plain_revenue, opex)), 1, 0);
  for (int i = 0; i < 80; ++i) {
    const double ti = i * 0.25;
    CAPTURE(i);
    CHECK(t.steps[i].opex ==
          doctest::Approx(10 * std::exp(0.05 * ti + 0.15 * (1 - std::exp(-0.5 * ti)) / 0.5) * 0.25)
              .epsilon(1e-13));
  }
  // Late on, the growth rate is h_inf: opex grows by e^{0.05} a year.
  CHECK(t.steps[79].opex / t.steps[75].opex == doctest::Approx(std::exp(0.05)).epsilon(1e-4));
  // A growth drawn per path (a degenerate uniform) takes the per-lane branch: same numbers.
  const std::string drawn =
      "[opex]\nfixed_opex = 10\nfixed_opex_growth = { uniform = [0.2, 0.2] }\n"
      "fixed_opex_long_run_growth = 0.05\nfixed_opex_growth_reversion = 0.5\n";
  const auto d =
      test::trace(PathModel(test::scenario(sim, no_build, plain_cost, plain_revenue, drawn)), 1, 0);
  for (int i = 0; i < 80; ++i)
    CHECK(d.steps[i].opex == doctest::Approx(t.steps[i].opex).epsilon(1e-14));
  // lambda = 0 (with or without a long-run rate) is the v1 formula, bit for bit.
  const std::string v1 = "[opex]\nfixed_opex = 10\nfixed_opex_growth = 0.2\n";
  const auto a =
      test::trace(PathModel(test::scenario(sim, no_build, plain_cost, plain_revenue, v1)), 1, 0);
  const auto b = test::trace(PathModel(test::scenario(sim, no_build, plain_cost, plain_revenue,
                                                      v1 + "fixed_opex_long_run_growth = 0.05\n"
                                                           "fixed_opex_growth_reversion = 0\n")),
                             1, 0);
  for (int i = 0; i < 80; ++i)
    CHECK(std::memcmp(&a.steps[i].opex, &b.steps[i].opex, sizeof(double)) == 0);
}

namespace {
// Quarterly, 3 years: a 1 GW start at step 0 (plan cap 2 GW over 1 GW initial), lead 2
// steps, a quarter of it leased at 20 $B per GW-year. Revenue 8 $B/yr per GW, demand ample.
Scenario rented(const std::string& rest = "", const std::string& share = "0.25") {
  return test::scenario(
      "start = 2026.0\nhorizon_years = 3\nstep = \"quarter\"",
      "initial_gw = 1\nplan_cap_gw = 2\nmax_pace_gw_per_week = 10\nramp_midpoint_years = -100\n"
      "ramp_width_years = 1\nlead_time_years = 0.5\nrent_share = " +
          share + "\nrent_per_gw_year = 20",
      "cost_per_gw = 40\nit_share = 0.5\nuseful_life_years = 2",
      "arr0 = 1000\ngrowth0 = 0\narr_per_gw = 8", "[finance]\ninitial_cash = 100\n" + rest);
}
}  // namespace

TEST_CASE("rent_share: leased GW cost no capex or refresh, serve demand and pay rent") {
  //   start:   1 GW at step 0, 0.75 owned (capex 0.75 x 40 / 2 = 15 at steps 0, 1), 0.25 leased.
  //   online:  step 2: G 1 -> 1.75, leased 0 -> 0.25, serving 2 GW, R = 16 $B/yr.
  //   rent:    0.25 GW x 20 x 0.25 = 1.25 $B a step from step 2.
  //   refresh: initial 1 GW over steps 0..7 (1/8 a step, 20 $B/GW), again 8..11; the
  //            0.75 owned GW at step 10.
  //   vendor:  5 $B per GW: 3.75 at step 2 on owned GW, 5 on deployed GW.
  const std::string vendors =
      "[[vendor_financing]]\nname = \"own\"\nper_gw = 5\ncap = 100\n"
      "[[vendor_financing]]\nname = \"dep\"\nper_gw = 5\ncap = 100\nbasis = \"deployed\"\n";
  const PathModel m(rented(vendors));
  const auto t = test::trace(m, 1, 0);
  double cash = 100;
  for (int i = 0; i < 12; ++i) {
    const double capex = i < 2 ? 15 : 0;
    const double owned = i < 2 ? 1 : 1.75, leased = i < 2 ? 0 : 0.25;
    const double refresh = 20 * (0.125 + (i == 10 ? 0.75 : 0));
    const double rent = leased * 20 * 0.25;
    const double arr = 8 * (owned + leased);
    const double fcf = arr * 0.25 - capex - refresh - rent;
    const double vendor = i == 2 ? 3.75 + 5 : 0;
    cash += fcf + vendor;
    CAPTURE(i);
    CHECK(t.steps[i].capex == doctest::Approx(capex));
    CHECK(t.steps[i].capacity_gw == doctest::Approx(owned));
    CHECK(t.steps[i].leased_gw == doctest::Approx(leased));
    CHECK(t.steps[i].serving_gw == doctest::Approx(owned + leased));
    CHECK(t.steps[i].online_gw == doctest::Approx(i == 2 ? 0.75 : 0));
    CHECK(t.steps[i].refresh_capex == doctest::Approx(refresh));
    CHECK(t.steps[i].rent == doctest::Approx(rent));
    CHECK(t.steps[i].vendor == doctest::Approx(vendor));
    CHECK(t.steps[i].fcf == doctest::Approx(fcf).epsilon(1e-12));
    CHECK(t.steps[i].cash == doctest::Approx(cash).epsilon(1e-12));
    CHECK(t.steps[i].series(Series::leased) == t.steps[i].leased_gw);
  }
  CHECK(t.outputs[m.column(Output::leased_gw_end)] == doctest::Approx(0.25));
  CHECK(t.outputs[static_cast<int>(Output::capacity_end)] == doctest::Approx(1.75));
  CHECK(t.outputs[static_cast<int>(Output::capex_total)] ==
        doctest::Approx(30 + 20 * (12 * 0.125 + 0.75)));
  const auto names = m.output_names();
  CHECK(std::find(names.begin(), names.end(), "leased_gw_end") != names.end());
  CHECK(std::find(m.series().begin(), m.series().end(), Series::leased) != m.series().end());
  // Without rent_share there is neither the output nor the series.
  const PathModel plain(rented("", "0"));
  CHECK(plain.column(Output::leased_gw_end) < 0);
  CHECK(std::find(plain.series().begin(), plain.series().end(), Series::leased) ==
        plain.series().end());
}

TEST_CASE("warrant basis: deployed GW (owned and leased) vest a tranche that owned GW do not") {
  // 1 GW arrives at step 2, 0.75 owned: a tranche at 0.9 GW vests on the deployed basis
  // only, for 10 M shares x $100 / 1000 = 1 $B.
  auto proceeds = [](const char* basis) {
    const PathModel m(rented(std::string("[[warrant]]\nshares_m = 10\nstrike = 0\nprice0 = 100\n"
                                         "tranches = [{gw = 0.9, share = 1}]\nbasis = \"") +
                             basis + "\"\n"));
    return test::trace(m, 1, 0).outputs[m.column(Output::warrant_proceeds)];
  };
  CHECK(proceeds("deployed") == doctest::Approx(1.0));
  CHECK(proceeds("owned") == 0.0);
}

TEST_CASE("rent_share: the demand plan counts leased capacity and pipeline") {
  // Demand-led, demand 16 $B/yr flat, 8 $B/yr per GW, coverage 1.25: the plan wants 2.5 GW
  // in total, whoever owns them. Leasing half of each start must start the same GW.
  auto starts = [](const char* share) {
    const Scenario s = test::scenario(
        "start = 2026.0\nhorizon_years = 3\nstep = \"quarter\"",
        std::string("initial_gw = 1\nmax_pace_gw_per_week = 0.05\nramp_midpoint_years = -100\n"
                    "ramp_width_years = 1\nlead_time_years = 0.5\nplan = \"demand\"\n"
                    "coverage = 1.25\nrent_per_gw_year = 10\nrent_share = ") +
            share,
        "cost_per_gw = 40\nit_share = 0.5\nuseful_life_years = 5",
        "arr0 = 16\ngrowth0 = 0\narr_per_gw = 8");
    const auto t = test::trace(PathModel(s), 1, 0);
    std::vector<double> v;
    double total = 0;
    for (const auto& st : t.steps) v.push_back(st.started_gw), total += st.started_gw;
    v.push_back(total);
    v.push_back(t.steps.back().capacity_gw + t.steps.back().leased_gw);
    return v;
  };
  const auto owned = starts("0"), half = starts("0.5");
  REQUIRE(owned.size() == half.size());
  for (std::size_t k = 0; k < owned.size(); ++k) CHECK(half[k] == doctest::Approx(owned[k]));
  CHECK(owned[owned.size() - 2] == doctest::Approx(1.5));  // 2.5 GW wanted - 1 GW owned
  CHECK(half.back() == doctest::Approx(2.5));
}

TEST_CASE("delivery profile: capacity and payments follow GW delivered, the term sums to total") {
  // 100 $B over 4 years, 2 GW delivered linearly over 2 years, quarterly: at the middle
  // of step i the share delivered is min(1, (i + 0.5) / 8); price per GW-year
  // 100 / (2 (4 - 1)); payment 100 share / 3 x 0.25. Shares sum to 4 + 8 = 12: total 100.
  const std::string sim = "start = 2026.0\nhorizon_years = 5\nstep = \"quarter\"";
  for (const char* ramp : {"ramp_years = 2\n", ""}) {  // default ramp_years = years / 2
    const PathModel m(test::scenario(sim, no_build, plain_cost, plain_revenue,
                                     std::string("[[contract]]\ntotal = 100\nstart = 2026.0\n"
                                                 "years = 4\ngw = 2\nprofile = \"delivery\"\n") +
                                         ramp));
    double sum = 0;
    for (int i = 0; i < 20; ++i) {
      const double share = i < 16 ? std::min(1.0, (i + 0.5) / 8) : 0.0;
      CAPTURE(i);
      CHECK(m.contract_gw()[i] == doctest::Approx(2 * share));
      CHECK(m.contract_payment()[i] == doctest::Approx(100 * share / 3 * 0.25));
      sum += m.contract_payment()[i];
    }
    CHECK(sum == doctest::Approx(100).epsilon(1e-13));
    // The kernel serves the delivered GW: serving = 1 owned + delivered.
    const auto t = test::trace(m, 1, 0);
    CHECK(t.steps[3].serving_gw == doctest::Approx(1 + 2 * 3.5 / 8));
    CHECK(t.steps[3].contracts == doctest::Approx(100 * (3.5 / 8) / 3 * 0.25));
  }
  // Per-path terms (a drawn gw, degenerate) build the same schedule in the kernel.
  const PathModel d(test::scenario(sim, no_build, plain_cost, plain_revenue,
                                   "[[contract]]\ntotal = 100\nstart = 2026.0\nyears = 4\n"
                                   "gw = { uniform = [2, 2] }\nprofile = \"delivery\"\n"));
  REQUIRE(d.per_path_terms());
  const auto t = test::trace(d, 1, 0);
  for (int i = 0; i < 20; ++i) {
    const double share = i < 16 ? std::min(1.0, (i + 0.5) / 8) : 0.0;
    CAPTURE(i);
    CHECK(t.steps[i].contracts == doctest::Approx(100 * share / 3 * 0.25));
    CHECK(t.steps[i].serving_gw == doctest::Approx(1 + 2 * share));
  }
}

TEST_CASE(
    "yearly outputs: revenue, fcf and capex summed over each calendar year, need to its end") {
  // Monthly from mid-2025 for 2 years: calendar years 2025 (6 steps), 2026 (12), 2027 (6).
  const Scenario s = test::scenario(
      "start = 2025.5\nhorizon_years = 2",
      "initial_gw = 1\nplan_cap_gw = 2\nmax_pace_gw_per_week = 10\nramp_midpoint_years = -100\n"
      "ramp_width_years = 1\nlead_time_years = 0.5",
      "cost_per_gw = 40\nit_share = 0.5\nuseful_life_years = 2",
      "arr0 = 10\ngrowth0 = 0.3\nlong_run_growth = 0.3\narr_per_gw = 8\n"
      "resale_price_per_gw_year = 4\nresale_utilization = 0.5",
      "[opex]\nfixed_opex = 3\n[outputs]\nyearly = [\"capex\", \"revenue\", \"fcf\", \"need\"]\n");
  const PathModel m(s);
  REQUIRE(m.yearly_years() == std::vector<int>{2025, 2026, 2027});
  const auto names = m.output_names();
  const std::vector<std::string> tail(names.end() - 12, names.end());
  CHECK(tail == std::vector<std::string>{"revenue_2025", "revenue_2026", "revenue_2027", "fcf_2025",
                                         "fcf_2026", "fcf_2027", "capex_2025", "capex_2026",
                                         "capex_2027", "need_2025", "need_2026", "need_2027"});
  CHECK(m.output_count() == names.size());
  const auto t = test::trace(m, 1, 0);
  double rev[3] = {}, fcf[3] = {}, capex[3] = {}, low[3] = {0, 0, 0};
  double lowest = 0;  // max(0, -min cash) so far: without financing shadow cash is cash
  for (int i = 0; i < 24; ++i) {
    const int y = i < 6 ? 0 : i < 18 ? 1 : 2;
    lowest = std::max(lowest, -t.steps[i].cash);
    low[y] = lowest;
    rev[y] += t.steps[i].arr * t.steps[i].dt + t.steps[i].resale;
    fcf[y] += t.steps[i].fcf;
    capex[y] += t.steps[i].capex + t.steps[i].refresh_capex;
  }
  const std::size_t c = m.yearly_column();
  for (int y = 0; y < 3; ++y) {
    CAPTURE(y);
    CHECK(t.outputs[c + y] == doctest::Approx(rev[y]).epsilon(1e-13));
    CHECK(t.outputs[c + 3 + y] == doctest::Approx(fcf[y]).epsilon(1e-13));
    CHECK(t.outputs[c + 6 + y] == doctest::Approx(capex[y]).epsilon(1e-13));
    CHECK(t.outputs[c + 9 + y] == doctest::Approx(low[y]).epsilon(1e-13));
  }
  CHECK(low[2] > low[0]);  // the need grows over the years (the test has power)
  CHECK(t.outputs[c + 11] == t.outputs[m.column(Output::funding_need)]);
  CHECK(rev[0] > 0);
  // 2025: the start's 40, and 6 steps of refreshing the initial GW over 24 (0.5 x 40 / 24).
  CHECK(capex[0] == doctest::Approx(40 + 6 * (0.5 * 40 / 24)).epsilon(1e-12));
  // Without financing, the years' FCF add up to the change in cash.
  CHECK(t.outputs[c + 3] + t.outputs[c + 4] + t.outputs[c + 5] ==
        doctest::Approx(t.outputs[static_cast<int>(Output::terminal_cash)]));
}
