// Financing (docs/model.md §10): debt, equity rounds, vendor equity and warrants against
// hand-computed paths, bit-identity across threads and shards, and v1 untouched.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include <tbb/global_control.h>

#include "capexsim/engine.hpp"
#include "test_util.hpp"

using namespace capexsim;

namespace {
Contract contract(const char* name, double total, double start, double years, double gw) {
  Contract c;
  c.name = name;
  c.total_bn = Distribution::fixed(total);
  c.start_year = Distribution::fixed(start);
  c.years = Distribution::fixed(years);
  c.gw = Distribution::fixed(gw);
  return c;
}

// Revenue 10 $B/yr (capacity 100 GW x 100 is ample, no growth, no noise), fixed opex
// 34 $B/yr, nothing built: FCF is exactly -2 $B a step; 20 $B of cash at the start.
Scenario burning() {
  return test::scenario("start = 2026.0\nhorizon_years = 5",
                        "initial_gw = 1\nmax_pace_gw_per_week = 0\nramp_midpoint_years = 1\n"
                        "ramp_width_years = 1\nlead_time_years = 1",
                        "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 5",
                        "arr0 = 10\ngrowth0 = 0\narr_per_gw = 100",
                        "[finance]\ninitial_cash = 20\n[opex]\nfixed_opex = 34\n");
}
}  // namespace

TEST_CASE("debt: draws keep cash at min_cash, interest on the opening balance, up to the limit") {
  Scenario s = burning();
  DebtFacility d;
  d.name = "revolver";
  d.limit_bn = 30;
  d.rate = Distribution::fixed(0.12);
  d.min_cash_bn = 10;
  s.financing.debt.push_back(d);
  const PathModel m(s);
  const auto t = test::trace(m, 1, 0);
  // The rule by hand: W' = W + FCF - b r dt; draw min(limit - b, max(0, 10 - W')).
  double cash = 20, b = 0, interest_total = 0, peak = 0;
  const double fcf = (10.0 - 34.0) / 12;
  for (int i = 0; i < m.steps(); ++i) {
    const double interest = b * 0.12 / 12;
    interest_total += interest;
    cash += fcf - interest;
    const double draw = std::min(30 - b, std::max(0.0, 10 - cash));
    cash += draw;
    b += draw;
    peak = std::max(peak, b);
    CAPTURE(i);
    CHECK(t.steps[i].cash == doctest::Approx(cash).epsilon(1e-9));
    CHECK(t.steps[i].debt == doctest::Approx(b).epsilon(1e-9));
  }
  CHECK(peak == doctest::Approx(30.0));  // the limit binds: cash then falls below 10
  CHECK(t.steps.back().cash < 0);
  CHECK(t.outputs[m.column(Output::debt_peak)] == doctest::Approx(peak));
  CHECK(t.outputs[m.column(Output::interest_total)] == doctest::Approx(interest_total));
  CHECK(m.column(Output::dilution) == -1);  // no equity feature: no equity outputs
  const auto names = m.output_names();
  CHECK(std::find(names.begin(), names.end(), "debt_peak") != names.end());
}

TEST_CASE("debt: maturity repays the balance; a sweep repays from cash above min_cash") {
  Scenario s = burning();
  DebtFacility d;
  d.name = "bank";
  d.limit_bn = 100;
  d.min_cash_bn = 10;
  d.maturity = 2027.5;  // step 18 on this grid
  s.financing.debt.push_back(d);
  const PathModel m(s);
  const auto t = test::trace(m, 1, 0);
  CHECK(t.steps[17].debt > 0);
  CHECK(t.steps[18].debt == 0.0);  // repaid in full at maturity...
  CHECK(t.steps[18].cash == doctest::Approx(t.steps[17].cash - 2 - t.steps[17].debt));
  for (std::size_t i = 19; i < t.steps.size(); ++i) CHECK(t.steps[i].debt == 0.0);  // ...closed

  // A sweep of 50%: with revenue above costs, the balance is repaid from excess cash.
  Scenario g = burning();
  g[Param::fixed_opex] = Distribution::fixed(0);  // FCF = +10/12 a step
  g[Param::initial_cash] = Distribution::fixed(0);
  DebtFacility e;
  e.limit_bn = 50;
  e.min_cash_bn = 5;  // drawn to 5 at once
  e.sweep = 0.5;
  g.financing.debt.push_back(e);
  const auto u = test::trace(PathModel(g), 1, 0);
  double cash = 0, b = 0;
  for (std::size_t i = 0; i < u.steps.size(); ++i) {
    cash += 10.0 / 12;
    const double repay = std::min(b, 0.5 * std::max(0.0, cash - 5));
    cash -= repay;
    b -= repay;
    const double draw = std::min(50 - b, std::max(0.0, 5 - cash));
    cash += draw;
    b += draw;
    CAPTURE(i);
    CHECK(u.steps[i].debt == doctest::Approx(b).epsilon(1e-9));
  }
  CHECK(u.steps[0].debt > 4);
  CHECK(u.steps.back().debt < 1e-3);
}

TEST_CASE("equity rounds: trigger, target, yearly market capacity, dilution at ARR x multiple") {
  Scenario s = burning();
  s.financing.valuation = Valuation{Distribution::fixed(20), 0};
  EquityPolicy p;
  p.trigger_cash_bn = 5;
  p.target_cash_bn = 25;
  p.capacity_per_year = Distribution::fixed(30);
  s.financing.equity_policy = p;
  const PathModel m(s);
  const auto t = test::trace(m, 1, 0);
  double cash = 20, own = 1, budget = 0, raised = 0;
  int rounds = 0;
  for (int i = 0; i < m.steps(); ++i) {
    if (i % 12 == 0) budget = 30;  // calendar years start every 12 steps from 2026.0
    cash += -2;
    if (cash < 5) {
      const double amount = std::min(std::max(25 - cash, 0.0), budget);
      if (amount > 0) {
        own *= 1 - amount / (20 * 10 + amount);  // pre-money = 20 x ARR of 10
        cash += amount;
        budget -= amount;
        raised += amount;
        ++rounds;
      }
    }
    CAPTURE(i);
    CHECK(t.steps[i].cash == doctest::Approx(cash).epsilon(1e-9));
    CHECK(t.steps[i].ownership == doctest::Approx(own).epsilon(1e-12));
  }
  CHECK(rounds >= 4);  // the market's budget binds some years: not every round reaches 25
  CHECK(t.outputs[m.column(Output::rounds)] == rounds);
  CHECK(t.outputs[m.column(Output::equity_raised)] == doctest::Approx(raised));
  CHECK(t.outputs[m.column(Output::dilution)] == doctest::Approx(1 - own));
  CHECK(m.column(Output::debt_peak) == -1);
}

TEST_CASE("vendor money as equity dilutes at the pre-money value; as a grant it does not") {
  Scenario s = test::scenario("start = 2026.0\nhorizon_years = 3",
                              "initial_gw = 1\nmax_pace_gw_per_week = 0.25\n"
                              "ramp_midpoint_years = -100\nramp_width_years = 1\n"
                              "lead_time_years = 0.25",
                              "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 5",
                              "arr0 = 10\ngrowth0 = 0\narr_per_gw = 100",
                              "[[vendor_financing]]\nname = \"nvidia\"\nper_gw = 10\ncap = 30\n");
  const auto grant = test::trace(PathModel(s), 1, 0);
  s.vendors[0].kind = VendorFinancing::Kind::equity;
  s.financing.valuation = Valuation{Distribution::fixed(30), 0};
  const PathModel m(s);
  const auto eq = test::trace(m, 1, 0);
  double own = 1;
  for (std::size_t i = 0; i < eq.steps.size(); ++i) {
    CHECK(eq.steps[i].cash == grant.steps[i].cash);  // the same money arrives
    const double v = eq.steps[i].vendor;
    if (v > 0) own *= 1 - v / (30 * eq.steps[i].arr + v);
    CHECK(eq.steps[i].ownership == doctest::Approx(own).epsilon(1e-12));
  }
  CHECK(own < 1);
  CHECK(eq.outputs[m.column(Output::equity_raised)] == doctest::Approx(30.0));
  CHECK(eq.outputs[m.column(Output::rounds)] == 0);
}

TEST_CASE("warrants vest on GW online and the price hurdle, and are sold at once") {
  // 0.25 GW/week fully ramped = 1.0833 GW started a month, online 3 steps later: the
  // cumulative GW online reach 2 at step 4. The price stays at 100 (no drift, no noise).
  Scenario s = test::scenario("start = 2026.0\nhorizon_years = 3",
                              "initial_gw = 1\nmax_pace_gw_per_week = 0.25\n"
                              "ramp_midpoint_years = -100\nramp_width_years = 1\n"
                              "lead_time_years = 0.25",
                              "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 5",
                              "arr0 = 10\ngrowth0 = 0\narr_per_gw = 100");
  const auto without = test::trace(PathModel(s), 1, 0);
  Warrant w;
  w.name = "amd";
  w.shares_m = 160;
  w.strike = 0.01;
  w.price0 = 100;
  w.tranches = {{2, 0.5, 50}, {5, 0.5, 150}};  // the second never clears its hurdle
  s.financing.warrants.push_back(w);
  const PathModel m(s);
  const auto t = test::trace(m, 1, 0);
  const double proceeds = 160 * 0.5 * (100 - 0.01) / 1000;
  for (std::size_t i = 0; i < t.steps.size(); ++i) {
    const double extra = i >= 4 ? proceeds : 0.0;
    CAPTURE(i);
    CHECK(t.steps[i].cash == doctest::Approx(without.steps[i].cash + extra).epsilon(1e-12));
  }
  CHECK(t.outputs[m.column(Output::warrant_proceeds)] == doctest::Approx(proceeds));
}

TEST_CASE("warrant price: a GBM on its own stream, with the lognormal mean") {
  // A 2-year lead time brings the first GW online at step 24 (t = 2), where a tranche with
  // gw ~ 0, hurdle 0 and strike 0 vests: proceeds = shares x P_24 / 1000, with
  // E[P_24] = P0 e^{mu t} = 100 e^{0.2} and sd/mean = sqrt(e^{sigma^2 t} - 1) = 0.614.
  // N = 20000: SE = 0.614 x 1.2214 / sqrt(N) = 0.0053; tolerance 5 SE.
  Scenario s = test::scenario("start = 2026.0\nhorizon_years = 3",
                              "initial_gw = 1\nmax_pace_gw_per_week = 0.1\n"
                              "ramp_midpoint_years = -100\nramp_width_years = 1\n"
                              "lead_time_years = 2",
                              "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 5",
                              "arr0 = 10\ngrowth0 = 0\narr_per_gw = 100");
  Warrant w;
  w.name = "amd";
  w.shares_m = 10;
  w.price0 = 100;
  w.price_drift = 0.1;
  w.price_volatility = 0.4;
  w.tranches = {{1e-9, 1, 0}};
  s.financing.warrants.push_back(w);
  RunOptions o;
  o.paths = 20000;
  o.seed = 5;
  o.bands = false;
  const Result r = run(s, o);
  const double mean = r.summary("warrant_proceeds").mean;
  const double expected = 10 * 100 * std::exp(0.1 * 2) / 1000;
  CHECK(std::abs(mean - expected) < 5 * 0.0053);
  // Its own stream: the warrant moves no other variate (capacity and ARR as without it).
  s.financing.warrants.clear();
  const Result plain = run(s, o);
  CHECK((plain.per_path.col(plain.output_index("arr_end")) ==
         r.per_path.col(r.output_index("arr_end")))
            .all());
}

TEST_CASE("financing runs are bit-identical for any thread count and shard split") {
  Scenario s = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  DebtFacility d;
  d.name = "banks";
  d.limit_bn = 300;
  d.rate = Distribution::uniform(0.06, 0.10);
  d.min_cash_bn = 5;
  d.sweep = 0.25;
  s.financing.debt.push_back(d);
  s.financing.valuation = Valuation{Distribution::triangular(10, 15, 25), 100};
  EquityPolicy p;
  p.trigger_cash_bn = 5;
  p.target_cash_bn = 40;
  p.capacity_per_year = Distribution::uniform(50, 150);
  s.financing.equity_policy = p;
  s.vendors[0].kind = VendorFinancing::Kind::equity;
  RunOptions o;
  o.paths = 1000;
  o.seed = 11;
  const Result serial = run_serial(s, o);
  o.threads = 2;
  const Result par = run(s, o);
  CHECK(serial.output_names == par.output_names);
  CHECK(std::memcmp(serial.per_path.data(), par.per_path.data(),
                    sizeof(double) * serial.per_path.size()) == 0);
  CHECK(serial.bands == par.bands);
  RunOptions a = o, b = o;
  a.paths = 333;
  b.first_path = 333;
  b.paths = 667;
  const Result merged = merge(run(s, a), run(s, b));
  CHECK(std::memcmp(merged.per_path.data(), par.per_path.data(),
                    sizeof(double) * par.per_path.size()) == 0);
  CHECK(merged.series_names == std::vector<std::string>{"cash", "capacity", "serving_capacity",
                                                        "arr", "demand", "capex_rate", "fcf_rate",
                                                        "cost_per_gw", "debt", "ownership"});
  // Financing changes cash, never the processes: capacity and ARR are the v1 ones.
  const Scenario v1 = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  const Result base = run(v1, o);
  for (const char* name : {"capacity_end", "arr_end", "capex_total"}) {
    const auto x = base.per_path.col(base.output_index(name));
    const auto y = par.per_path.col(par.output_index(name));
    CHECK((x == y).all());
  }
  // Debt and equity fund the lab: the gap left is far smaller than without them.
  CHECK(par.summary("funding_gap").mean < base.summary("funding_gap").mean);
  CHECK(par.summary("debt_peak").mean > 0);
  CHECK(par.summary("dilution").mean > 0);
}

TEST_CASE("funding constraint: deficits left unpaid pro rata, cash floored at 0") {
  // FCF = -2 a step from opex (34/yr) against revenue (10/yr), plus a contract paying 12
  // over 2026 (1 a step): cash 20 - 3 (k + 1) turns negative at step 6 (deficit 1), then
  // each step's whole outflow beyond the revenue is unpaid: 3 a step to the end of 2026,
  // 2 a step after. Owed per step in 2026: opex 34/12 + contract 1 (no capex, no refresh).
  Scenario s = burning();
  s.contracts.push_back(contract("oracle", 12, 2026.0, 1, 0));
  s.financing.constraint = FundingConstraint{std::nullopt, true};
  const PathModel m(s);
  const auto t = test::trace(m, 1, 0);
  for (const auto& st : t.steps) CHECK(st.cash >= 0.0);
  const double owed = 34.0 / 12 + 1;
  const double contract_unpaid = (1 + 3 * 5) * (1 / owed);
  CHECK(t.outputs[m.column(Output::default_time)] == doctest::Approx(7 / 12.0));
  CHECK(t.outputs[m.column(Output::unpaid_total)] == doctest::Approx(1 + 3 * 5 + 2 * 48));
  CHECK(t.outputs[m.column(Output::unpaid_capex)] == doctest::Approx(0.0));
  const auto names = m.output_names();
  const auto k = std::find(names.begin(), names.end(), "unpaid_oracle") - names.begin();
  REQUIRE(k < static_cast<long>(names.size()));
  CHECK(t.outputs[k] == doctest::Approx(contract_unpaid));
  // v3 (§13.1): under unpaid = true the residual is the peak of arrears; nothing is ever
  // repaid here (no surplus), so it is all that is still unpaid at the horizon.
  CHECK(t.outputs[m.column(Output::funding_gap)] == doctest::Approx(1 + 3 * 5 + 2 * 48));
}

TEST_CASE("demand-led plan builds to projected demand; the brake stops starts on low cash") {
  // Demand 10 $B/yr, flat and certain; 10 $B/yr per GW: with coverage 1 the lab needs
  // 1 GW, has 0.5, so it starts 0.5 GW in all (however fast the pace would allow).
  Scenario s =
      test::scenario("start = 2026.0\nhorizon_years = 4",
                     "initial_gw = 0.5\nplan_cap_gw = 5\nmax_pace_gw_per_week = 0.05\n"
                     "ramp_midpoint_years = -100\nramp_width_years = 1\n"
                     "lead_time_years = 0.5",
                     "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 5",
                     "arr0 = 10\ngrowth0 = 0\narr_per_gw = 10", "[finance]\ninitial_cash = 1000\n");
  s.plan.kind = BuildPlan::Kind::demand;
  s.plan.coverage = Distribution::fixed(1.0);
  const PathModel m(s);
  const auto t = test::trace(m, 1, 0);
  double started = 0;
  for (const auto& st : t.steps) {
    started += st.started_gw;
    CHECK(st.started_gw <= 0.05 * 52 / 12 * (1 + 1e-12));  // never above the pace
  }
  CHECK(started == doctest::Approx(0.5));
  CHECK(t.outputs[m.column(Output::capacity_end)] == doctest::Approx(1.0));
  CHECK(t.outputs[m.column(Output::gw_not_started)] == doctest::Approx(5 - 0.5 - 0.5));

  // Coverage 1.5 builds half as much again; a contract due by completion counts against it.
  s.plan.coverage = Distribution::fixed(1.5);
  s.contracts.push_back(contract("cloud", 10, 2026.0, 10, 0.25));
  const auto u = test::trace(PathModel(s), 1, 0);
  double started_u = 0;
  for (const auto& st : u.steps) started_u += st.started_gw;
  CHECK(started_u == doctest::Approx(1.5 - 0.5 - 0.25));

  // The brake: with cash below brake_cash from the start, nothing is ever started.
  Scenario b = s;
  b.plan = BuildPlan{};
  b[Param::initial_cash] = Distribution::fixed(10);
  b.financing.constraint = FundingConstraint{50.0, false};
  const PathModel mb(b);
  const auto v = test::trace(mb, 1, 0);
  for (const auto& st : v.steps) CHECK(st.started_gw == 0.0);
  CHECK(v.outputs[mb.column(Output::gw_not_started)] == doctest::Approx(4.5));
}

TEST_CASE("financing sections load from TOML, round-trip, and bad input names its key") {
  const std::string base =
      "[simulation]\nstart = 2026.0\nhorizon_years = 5\n[build]\ninitial_gw = 1\n"
      "max_pace_gw_per_week = 0\nramp_midpoint_years = 1\nramp_width_years = 1\n"
      "lead_time_years = 1\n";
  const std::string rest =
      "[cost]\ncost_per_gw = 50\nit_share = 0.5\nuseful_life_years = 5\n"
      "[revenue]\narr0 = 10\ngrowth0 = 0.2\narr_per_gw = 10\n"
      "[[vendor_financing]]\nname = \"nvidia\"\nper_gw = 10\ncap = 100\nkind = \"equity\"\n"
      "[[debt]]\nname = \"banks\"\nlimit = 100\nrate = { uniform = [0.06, 0.1] }\n"
      "maturity = 2030.0\nmin_cash = 5\nsweep = 0.25\n"
      "[valuation]\narr_multiple = { triangular = [10, 15, 25] }\nmin_pre_money = 100\n"
      "[equity_policy]\ntrigger_cash = 5\ntarget_cash = 40\ncapacity_per_year = 80\n"
      "[[warrant]]\nname = \"amd\"\nshares_m = 160\nstrike = 0.01\nprice0 = 200\n"
      "price_volatility = 0.5\ntranches = [{gw = 1, share = 0.5, price_hurdle = 300}, "
      "{gw = 6, share = 0.5, price_hurdle = 600}]\n"
      "[constraint]\nbrake_cash = 2\nunpaid = true\n";
  const std::string text = base + "plan = \"demand\"\ncoverage = { uniform = [1.1, 1.4] }\n" + rest;
  const Scenario s = parse_scenario(text, "fin.toml");
  CHECK(s.plan.kind == BuildPlan::Kind::demand);
  REQUIRE(s.financing.debt.size() == 1);
  CHECK(s.financing.debt[0].maturity == 2030.0);
  CHECK(s.vendors[0].kind == VendorFinancing::Kind::equity);
  REQUIRE(s.financing.warrants.size() == 1);
  CHECK(s.financing.warrants[0].tranches[1].price_hurdle == 600);
  CHECK(s.financing.constraint->unpaid);
  CHECK(parse_scenario(to_toml(s), "fin.toml") == s);  // the writer spells everything out
  const auto names = PathModel(s).output_names();
  for (const char* name : {"debt_peak", "interest_total", "dilution", "warrant_proceeds",
                           "unpaid_total", "default_time", "unpaid_nvidia_never"}) {
    CAPTURE(name);
    const bool present = std::find(names.begin(), names.end(), name) != names.end();
    CHECK(present == (std::string(name) != "unpaid_nvidia_never"));
  }

  auto error_of = [&](const std::string& t) -> std::string {
    try {
      parse_scenario(t, "fin.toml");
    } catch (const ScenarioError& e) {
      return e.what();
    }
    return "no error";
  };
  // Equity needs a valuation; the message names the section and what is expected.
  CHECK(error_of(base + rest.substr(0, rest.find("[valuation]")) +
                 rest.substr(rest.find("[equity_policy]")))
            .find("expected a [valuation] section") != std::string::npos);
  std::string bad = text;
  bad.replace(bad.find("target_cash = 40"), 16, "target_cash = 1");
  CHECK(error_of(bad).find("equity_policy.target_cash") != std::string::npos);
  bad = text;
  bad.replace(bad.find("share = 0.5, price_hurdle = 600"), 11, "share = 0.7");
  CHECK(error_of(bad).find("warrant[0].tranches") != std::string::npos);
  bad = text;
  bad.replace(bad.find("{gw = 6, share = 0.5"), 7, "{gw = 0.5");  // tranches out of order
  CHECK(error_of(bad).find("warrant[0].tranches[1].gw: expected tranches in order") !=
        std::string::npos);
  bad = text;
  bad.replace(bad.find("limit = 100"), 11, "limit = { uniform = [1, 2] }");  // not a number
  CHECK(error_of(bad).find("debt[0].limit: expected a number") != std::string::npos);
  bad = text;
  bad.replace(bad.find("sweep = 0.25"), 12, "sweep = 1.5");
  const std::string e = error_of(bad);
  CHECK(e.find("fin.toml:") != std::string::npos);
  CHECK(e.find("debt[0].sweep") != std::string::npos);
  CHECK(e.find("[0, 1]") != std::string::npos);
  bad = text;
  bad.replace(bad.find("limit = 100"), 11, "limit = 1e11");  // dollars, not $B
  CHECK(error_of(bad).find("wrong unit") != std::string::npos);
  bad = text;
  bad.replace(bad.find("unpaid = true"), 13, "unpaid = 1");
  CHECK(error_of(bad).find("constraint.unpaid: expected true or false") != std::string::npos);
  bad = text;
  bad.replace(bad.find("plan = \"demand\""), 15, "plan = \"greedy\"");
  CHECK(error_of(bad).find("build.plan") != std::string::npos);
  bad = text;
  bad.replace(bad.find("coverage = { uniform = [1.1, 1.4] }"), 35, "coverage = 0.8");
  CHECK(error_of(bad).find("build.coverage") != std::string::npos);
  CHECK(error_of(text + "[debt_typo]\nx = 1\n").find("unknown key") != std::string::npos);
  // The rest of the bad inputs the issue lists, each naming its key.
  auto refused = [&](const std::string& from, const std::string& to, const std::string& key) {
    std::string t = text;
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), to);
    const std::string e = error_of(t);
    CAPTURE(e);
    CHECK(e.find("fin.toml:") == 0);
    CHECK(e.find(key) != std::string::npos);
  };
  refused("limit = 100", "limit = -5", "debt[0].limit: expected a value >= 0");
  refused("rate = { uniform = [0.06, 0.1] }", "rate = -0.01", "debt[0].rate");
  refused("maturity = 2030.0", "maturity = 2025.0", "debt[0].maturity: expected a maturity after");
  refused("min_pre_money = 100", "min_pre_money = -1", "valuation.min_pre_money");
  refused("kind = \"equity\"", "kind = \"loan\"",
          "vendor_financing[0].kind: expected \"grant\" or \"equity\"");
  refused("brake_cash = 2", "brake_cash = \"low\"", "constraint.brake_cash: expected a number");
  std::string with_terms = text;
  with_terms.replace(with_terms.find("[[debt]]"), 0,
                     "[[contract]]\nname = \"c\"\ntotal = 10\nstart = 2026\nyears = 2\n"
                     "cancel_probability = 0.5\nrenewals = 1\n");
  CHECK(error_of(with_terms) == "no error");
  auto names2 = [&](const std::string& from, const std::string& to, const std::string& key) {
    std::string t = with_terms;
    t.replace(t.find(from), from.size(), to);
    const std::string e = error_of(t);
    CAPTURE(e);
    CHECK(e.find(key) != std::string::npos);
  };
  names2("cancel_probability = 0.5", "cancel_probability = 1.5",
         "contract[0].cancel_probability: expected a value in [0, 1]");
  names2("renewals = 1", "renewals = 1.5", "contract[0].renewals: expected a whole number");
  names2("renewals = 1", "renewals = -1", "contract[0].renewals: expected a whole number");
}

TEST_CASE("deal terms: cancellation, renewals at a price factor, drawn contract terms") {
  // One flat contract, 12 over 2026 (1 a step), 0.5 GW; renewed twice at 1.5x: 18 over
  // each of 2027 and 2028 (1.5 a step), the same GW; nothing after.
  Scenario s = burning();
  Contract c = contract("azure", 12, 2026.0, 1, 0.5);
  c.renewals = 2;
  c.renewal_price_factor = Distribution::fixed(1.5);
  s.contracts.push_back(c);
  const auto t = test::trace(PathModel(s), 1, 0);
  for (int i = 0; i < 60; ++i) {
    CAPTURE(i);
    const double pay = i < 12 ? 1.0 : i < 36 ? 1.5 : 0.0;
    CHECK(t.steps[i].contracts == doctest::Approx(pay));
    CHECK(t.steps[i].serving_gw == doctest::Approx(i < 36 ? 1.5 : 1.0));
  }

  // Cancelled with probability 0.3: on about 30% of paths no payment and no capacity.
  // N = 4000: SE of the share = sqrt(0.21 / 4000) = 0.0072; tolerance 5 SE.
  Scenario k = burning();
  Contract d = contract("oracle", 12, 2026.0, 1, 0.5);
  d.cancel_probability = 0.3;
  d.total_bn = Distribution::uniform(6, 18);  // drawn per path: mean 12
  k.contracts.push_back(d);
  const PathModel m(k);
  CHECK(m.per_path_terms());
  int cancelled = 0;
  test::Moments total;
  for (int p = 0; p < 4000; ++p) {
    const auto u = test::trace(m, 2, p);
    double paid = 0;
    for (const auto& st : u.steps) paid += st.contracts;
    if (paid == 0) {
      ++cancelled;
      CHECK(u.steps[0].serving_gw == 1.0);
    } else {
      CHECK(paid >= 6 - 1e-9);
      CHECK(paid <= 18 + 1e-9);
      total.add(paid);
    }
  }
  CHECK(std::abs(cancelled / 4000.0 - 0.3) < 5 * 0.0072);
  // Uniform(6, 18): sd 3.46; SE of the mean over ~2800 paths = 0.065; 5 SE.
  CHECK(std::abs(total.mean() - 12) < 5 * 0.065);

  // Drawn terms are shard- and thread-safe like everything else.
  RunOptions o;
  o.paths = 200;
  o.seed = 3;
  const Result a = run_serial(k, o);
  o.threads = 2;
  const Result b = run(k, o);
  CHECK(std::memcmp(a.per_path.data(), b.per_path.data(), sizeof(double) * a.per_path.size()) == 0);
}

// ---- v3: arrears, seniority, refinancing, distress, the waterfall (docs/model.md §13) ----

namespace {
double out(const test::Trace& t, const PathModel& m, const std::string& name) {
  const auto names = m.output_names();
  const auto k = std::find(names.begin(), names.end(), name) - names.begin();
  REQUIRE(k < static_cast<long>(names.size()));
  return t.outputs[static_cast<std::size_t>(k)];
}
// Revenue 36 $B/yr, fixed opex 24 $B/yr (+1 a step), a contract paying 36 over 2026 (3 a
// step): -2 a step in 2026, +1 a step after; 4 $B of cash at the start.
Scenario deficit_then_surplus(double horizon) {
  Scenario s = test::scenario("start = 2026.0\nhorizon_years = " + std::to_string(horizon),
                              "initial_gw = 1\nmax_pace_gw_per_week = 0\nramp_midpoint_years = 1\n"
                              "ramp_width_years = 1\nlead_time_years = 1",
                              "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 5",
                              "arr0 = 36\ngrowth0 = 0\narr_per_gw = 100",
                              "[finance]\ninitial_cash = 4\n[opex]\nfixed_opex = 24\n");
  s.contracts.push_back(contract("oracle", 36, 2026.0, 1, 0));
  s.financing.constraint = FundingConstraint{std::nullopt, true};
  return s;
}
}  // namespace

TEST_CASE("arrears: a deficit is carried per class and repaid pro rata from later surpluses") {
  // By hand: cash 4 -> 2 -> 0, then a deficit of 2 at steps 2..11 (owed: opex 2 + contract
  // 3, so 0.8 + 1.2 of each step's 2 unpaid): arrears 20 = 8 opex + 12 oracle at the end
  // of 2026. From 2027, +1 a step repays arrears pro rata to the balances.
  {
    const PathModel m(deficit_then_surplus(2));  // 12 steps of repayment: 8 left
    const auto t = test::trace(m, 1, 0);
    CHECK(out(t, m, "deferred_total") == doctest::Approx(20));
    CHECK(out(t, m, "unpaid_total") == doctest::Approx(8));
    CHECK(out(t, m, "unpaid_oracle") == doctest::Approx(12 * 8 / 20.0));
    CHECK(out(t, m, "unpaid_opex") == doctest::Approx(8 * 8 / 20.0));
    CHECK(out(t, m, "recovered_total") == doctest::Approx(12));
    CHECK(out(t, m, "flow_arrears_paid") == doctest::Approx(12));
    CHECK(out(t, m, "funding_gap") == doctest::Approx(20));  // peak arrears, end of 2026
    CHECK(out(t, m, "gap_time") == doctest::Approx(1.0));
    CHECK(out(t, m, "runway") == doctest::Approx(3 / 12.0));
    CHECK(out(t, m, "default_time") == doctest::Approx(3 / 12.0));
    for (std::size_t i = 1; i < t.steps.size(); ++i) CHECK(t.steps[i].cash == doctest::Approx(0.0));
    // The classes add up to the total exactly (unpaid_total is their sum, in one order).
    CHECK(out(t, m, "unpaid_oracle") + out(t, m, "unpaid_capex") + out(t, m, "unpaid_opex") ==
          out(t, m, "unpaid_total"));
  }
  {
    const PathModel m(deficit_then_surplus(4));  // repaid in full at step 31, then cash grows
    const auto t = test::trace(m, 1, 0);
    CHECK(out(t, m, "unpaid_total") == 0.0);
    CHECK(out(t, m, "unpaid_oracle") == 0.0);
    CHECK(out(t, m, "recovered_total") == doctest::Approx(20));
    CHECK(out(t, m, "terminal_cash") == doctest::Approx(48 - 32));
  }
  {
    Scenario s = deficit_then_surplus(2);
    s.financing.constraint->keep_cash_bn = 5;  // cash first rebuilds to 5: 7 steps repay
    const PathModel m(s);
    const auto t = test::trace(m, 1, 0);
    CHECK(out(t, m, "unpaid_total") == doctest::Approx(20 - 7));
    CHECK(out(t, m, "terminal_cash") == doctest::Approx(5));
  }
}

namespace {
// burning() (FCF -2 a step) with a facility drawn to keep 10 of cash from 10 at the
// start: 2 drawn each step, rate 0, maturity mid-2026 (step 6) with 12 outstanding.
Scenario maturing(bool debt_first, std::optional<double> refinance) {
  Scenario s = burning();
  s[Param::initial_cash] = Distribution::fixed(10);
  DebtFacility d;
  d.name = "bank";
  d.limit_bn = 100;
  d.min_cash_bn = 10;
  d.maturity = 2026.5;
  d.refinance_years = refinance;
  s.financing.debt.push_back(d);
  s.financing.constraint = FundingConstraint{std::nullopt, true};
  if (debt_first) s.financing.constraint->seniority = FundingConstraint::Seniority::debt_first;
  s.horizon_years = 1;
  return s;
}
}  // namespace

TEST_CASE("arrears: a maturity inside a deficit shares it; debt_first pays lenders first") {
  // Step 6: W' = 10 - 2 = 8, then the 12 due -> deficit 4, owed opex 34/12 + principal 12.
  // Steps 7..11: deficit 2 each, all opex (the facility closed).
  const double opex = 34.0 / 12, owed = opex + 12;
  {
    const PathModel m(maturing(false, std::nullopt));
    const auto t = test::trace(m, 1, 0);
    CHECK(out(t, m, "unpaid_debt") == doctest::Approx(12 * 4 / owed));
    CHECK(out(t, m, "unpaid_opex") == doctest::Approx(opex * 4 / owed + 10));
    CHECK(out(t, m, "unpaid_total") == doctest::Approx(14));
    CHECK(out(t, m, "flow_debt_repaid") == doctest::Approx(12));
    CHECK(out(t, m, "flow_debt_drawn") == doctest::Approx(12));
  }
  {
    const PathModel m(maturing(true, std::nullopt));
    const auto t = test::trace(m, 1, 0);
    // The other obligations (opex) take the deficit first: all of it unpaid, the lender
    // short only by 4 - opex.
    CHECK(out(t, m, "unpaid_debt") == doctest::Approx(4 - opex));
    CHECK(out(t, m, "unpaid_opex") == doctest::Approx(opex + 10));
    CHECK(out(t, m, "unpaid_total") == doctest::Approx(14));
  }
}

TEST_CASE("refinancing: a facility of a lab with no arrears rolls at maturity") {
  const PathModel m(maturing(false, 0.5));
  const auto t = test::trace(m, 1, 0);
  // Nothing falls due: the draws go on, 2 a step, and cash stays at 10.
  CHECK(t.steps.back().debt == doctest::Approx(24));
  CHECK(t.steps.back().cash == doctest::Approx(10));
  CHECK(out(t, m, "flow_debt_repaid") == 0.0);
  CHECK(out(t, m, "unpaid_total") == 0.0);
  CHECK(out(t, m, "deferred_total") == 0.0);
}

TEST_CASE("distress: rounds while in arrears are priced and budgeted at distress_factor") {
  // FCF -12 a step (opex 154/yr); 20 of cash; a round when cash < 10, up to 20, at most 12
  // a calendar year. 2026: one round of 12 at step 0, then arrears from step 2. From 2027
  // the lab starts every step in arrears: distress 0 halts rounds, distress 1 raises 12 a
  // year (one round each year).
  auto make = [](double distress) {
    Scenario s = burning();
    s[Param::fixed_opex] = Distribution::fixed(154);
    s.financing.constraint = FundingConstraint{std::nullopt, true};
    s.financing.valuation = Valuation{Distribution::fixed(10), 0, Distribution::fixed(distress)};
    EquityPolicy p;
    p.trigger_cash_bn = 10;
    p.target_cash_bn = 20;
    p.capacity_per_year = Distribution::fixed(12);
    s.financing.equity_policy = p;
    return s;
  };
  const PathModel halted(make(0.0)), normal(make(1.0));
  const auto h = test::trace(halted, 1, 0), n = test::trace(normal, 1, 0);
  // (The amounts, not the round count: dt = 1/12 leaves a budget of ~1e-15 after the
  // first round, which a later step raises as a round of that size.)
  CHECK(out(h, halted, "flow_equity_rounds") == doctest::Approx(12));
  CHECK(out(n, normal, "flow_equity_rounds") == doctest::Approx(60));
  CHECK(out(h, halted, "dilution") == doctest::Approx(12 / 112.0));
}

TEST_CASE("demand plan under the brake: the pipeline holds only GW actually started") {
  // The demand-led lab of the test above needs 0.5 GW more; a brake holds it back at the
  // start (and again whenever capex pulls opening cash under 1001). A start the brake
  // cancels must not count as in the pipeline: the lab still starts exactly 0.5 GW.
  Scenario s =
      test::scenario("start = 2026.0\nhorizon_years = 6",
                     "initial_gw = 0.5\nplan_cap_gw = 5\nmax_pace_gw_per_week = 0.05\n"
                     "ramp_midpoint_years = -100\nramp_width_years = 1\n"
                     "lead_time_years = 0.5",
                     "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 50",
                     "arr0 = 10\ngrowth0 = 0\narr_per_gw = 10", "[finance]\ninitial_cash = 1000\n");
  s.plan.kind = BuildPlan::Kind::demand;
  s.plan.coverage = Distribution::fixed(1.0);
  s.financing.constraint = FundingConstraint{1001.0, false};
  const PathModel m(s);
  const auto t = test::trace(m, 1, 0);
  double started = 0, blocked = 0;
  for (const auto& st : t.steps) {
    started += st.started_gw;
    blocked += st.started_gw == 0 && started < 0.5 ? 1 : 0;
  }
  CHECK(blocked > 0);  // the brake did hold starts back
  CHECK(started == doctest::Approx(0.5));
}

TEST_CASE("waterfall: gross need = residual without financing inflows; the ledger balances") {
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 2);
  for (const char* file : {"ai-lab-2025.toml", "one-gw-per-week.toml", "ai-cloud.toml",
                           "cheap-compute.toml", "ai-lab-2026.toml"}) {
    CAPTURE(file);
    const Scenario sc = load_scenario(std::string(CAPEXSIM_SOURCE_DIR "/scenarios/") + file);
    RunOptions o;
    o.paths = 500;
    o.seed = 3;
    const Result r = run(sc, o);
    REQUIRE(sc[Param::initial_cash].is_fixed());
    const double w0 = sc[Param::initial_cash].value();
    auto col = [&](const std::string& n) {
      return r.per_path.col(static_cast<Eigen::Index>(r.output_index(n)));
    };
    auto has = [&](const std::string& n) {
      return std::find(r.output_names.begin(), r.output_names.end(), n) != r.output_names.end();
    };
    const char* sources[] = {"flow_revenue",      "flow_vendor",     "flow_scheduled_equity",
                             "flow_warrants",     "flow_debt_drawn", "flow_equity_rounds",
                             "flow_arrears_added"};
    const char* uses[] = {"flow_capex",    "flow_contracts",   "flow_rent",        "flow_opex",
                          "flow_interest", "flow_debt_repaid", "flow_arrears_paid"};
    double worst = 0;
    for (Eigen::Index p = 0; p < r.per_path.rows(); ++p) {
      double in = 0, outs = 0, scale = std::abs(w0);
      for (const char* n : sources)
        if (has(n)) in += col(n)(p), scale += std::abs(col(n)(p));
      for (const char* n : uses)
        if (has(n)) outs += col(n)(p), scale += std::abs(col(n)(p));
      // Sums of a few hundred steps in double: rounding is ~1e-16 of the flows' scale per
      // addition; 1e-12 of the scale is far below a cent and far above rounding.
      worst = std::max(worst, std::abs(col("terminal_cash")(p) - (w0 + in - outs)) / scale);
    }
    CHECK(worst < 1e-12);
    if (has("unpaid_total")) {
      for (Eigen::Index p = 0; p < r.per_path.rows(); ++p) {
        double sum = 0;
        for (const auto& c : sc.contracts) sum += col("unpaid_" + c.name)(p);
        sum = ((sum + col("unpaid_capex")(p)) + col("unpaid_opex")(p)) +
              (has("unpaid_debt") ? col("unpaid_debt")(p) : 0.0);
        CHECK(sum == col("unpaid_total")(p));
      }
    }
    // Without any financing inflow, the gross need is the residual, bit for bit.
    Scenario bare = sc;
    bare.vendors.clear();
    bare.equity.clear();
    bare.financing = Financing{};
    const Result b = run(bare, o);
    const auto need = b.per_path.col(static_cast<Eigen::Index>(b.output_index("funding_need")));
    const auto gap = b.per_path.col(static_cast<Eigen::Index>(b.output_index("funding_gap")));
    CHECK(std::memcmp(need.data(), gap.data(), sizeof(double) * need.size()) == 0);
  }
}

TEST_CASE("monotone in what the analyst expects (common random numbers)") {
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 2);
  Scenario sc = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2026-stress.toml");
  REQUIRE(sc.financing.constraint->unpaid);
  RunOptions o;
  o.paths = 1000;
  o.seed = 5;
  // More debt capacity, refinanced, never raises the mean still owed to the lab's other
  // counterparties (builders, opex, contracts), for the same build (no brake) and a lab
  // funded by debt alone. The total still unpaid does rise with the limit: a lab in arrears
  // cannot refinance, so a bigger balloon falls due and stays owed to the lenders; with the
  // brake more money also builds more, and with an equity policy draws (which come before
  // rounds in a step) displace equity with interest-bearing debt (docs/model.md §12.5).
  double last = std::numeric_limits<double>::infinity();
  for (double scale : {1.0, 1.5, 2.0, 3.0}) {
    Scenario s = sc;
    s.financing.equity_policy.reset();
    s.financing.constraint->brake_cash_bn.reset();
    for (DebtFacility& d : s.financing.debt) {
      d.limit_bn *= scale;
      if (d.maturity) d.refinance_years = 5;
    }
    const Result r = run(s, o);
    const double unpaid = r.summary("unpaid_total").mean - r.summary("unpaid_debt").mean;
    CAPTURE(scale);
    MESSAGE("debt x" << scale << ": mean unpaid " << r.summary("unpaid_total").mean
                     << " of which to others than lenders " << unpaid);
    CHECK(unpaid <= last);
    last = unpaid;
  }
  // A bigger contract is never more likely to be paid in full.
  double p_last = 2;
  for (double scale : {1.0, 1.2, 1.5}) {
    Scenario s = sc;
    s.contracts[0].total_bn = Distribution::fixed(s.contracts[0].total_bn.value() * scale);
    const double p = 1 - run(s, o).summary("unpaid_" + s.contracts[0].name).prob_positive;
    CAPTURE(scale);
    CHECK(p <= p_last);
    p_last = p;
  }
}

// ---- v3: revenue contracts and joint runs (docs/model.md §12.6) ----

namespace {
// A provider: 2 GW owned, demand 30 $B/yr (10 per GW, so 20 served), opex 10 $B/yr, and a
// revenue contract "lab" of 60 $B over 2026-2030 for 1 GW.
Scenario provider(double default_rate) {
  Scenario s = test::scenario("start = 2026.0\nhorizon_years = 6",
                              "initial_gw = 2\nmax_pace_gw_per_week = 0\nramp_midpoint_years = 1\n"
                              "ramp_width_years = 1\nlead_time_years = 1",
                              "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 50",
                              "arr0 = 30\ngrowth0 = 0\narr_per_gw = 10",
                              "[finance]\ninitial_cash = 5\n[opex]\nfixed_opex = 10\n");
  RevenueContract c;
  c.name = "lab";
  c.total_bn = 60;
  c.start_year = 2026;
  c.years = 5;
  c.gw = 1;
  c.default_rate = Distribution::fixed(default_rate);
  s.revenue_contracts.push_back(c);
  return s;
}
}  // namespace

TEST_CASE("revenue contract: pays exactly its total without a default; its GW are reserved") {
  const PathModel m(provider(0));
  const auto t = test::trace(m, 1, 0);
  CHECK(out(t, m, "received_lab") == doctest::Approx(60).epsilon(1e-12));
  CHECK(std::isnan(out(t, m, "defaulted_lab")));
  // 1 of the 2 GW is reserved: open demand is served by 1 GW (10 $B/yr) until 2031, then 2.
  CHECK(t.steps[0].arr == doctest::Approx(10));
  CHECK(t.steps.back().arr == doctest::Approx(20));
  // Revenue 10 + 12 contracted - opex 10 = 12 $B/yr for 5 years, then 20 - 10 for a year.
  CHECK(out(t, m, "terminal_cash") == doctest::Approx(5 + 12 * 5 + 10));
  CHECK(out(t, m, "flow_revenue") == doctest::Approx(10 * 5 + 60 + 20));
}

TEST_CASE("revenue contract: a default stops the payments at the drawn step") {
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 2);
  RunOptions o;
  o.paths = 300;
  o.seed = 9;
  const Scenario s = provider(0.5);
  const Result r = run(s, o);
  const auto received = r.per_path.col(static_cast<Eigen::Index>(r.output_index("received_lab")));
  const auto when = r.per_path.col(static_cast<Eigen::Index>(r.output_index("defaulted_lab")));
  int defaults = 0;
  for (Eigen::Index p = 0; p < received.size(); ++p) {
    // Paid 1 a month (60 over 60 months) on the steps before the default's step.
    const double months = std::isnan(when(p)) ? 60 : std::round(when(p) * 12) - 1;
    defaults += !std::isnan(when(p));
    CHECK(received(p) == doctest::Approx(months).epsilon(1e-12));
  }
  // P(default within 5 years at 0.5/yr) = 1 - e^-2.5 = 0.918; SE sqrt(.918 .082 / 300)
  // = 0.016: within 5 SE.
  CHECK(std::abs(defaults / 300.0 - (1 - std::exp(-2.5))) < 5 * 0.016);
}

namespace {
// The lab: the burning() lab owing the provider 60 over 2026-2030 ("lab" contract), with
// unpaid = true and revenue that grows late, so it falls into arrears and repays some.
Scenario lab_owing() {
  Scenario s = test::scenario("start = 2026.0\nhorizon_years = 6",
                              "initial_gw = 1\nmax_pace_gw_per_week = 0\nramp_midpoint_years = 1\n"
                              "ramp_width_years = 1\nlead_time_years = 1",
                              "cost_per_gw = 50\nit_share = 0\nuseful_life_years = 5",
                              "arr0 = 10\ngrowth0 = 0.3\narr_per_gw = 1000\narr_volatility = 0.3",
                              "[finance]\ninitial_cash = 10\n[opex]\nfixed_opex = 20\n");
  s.contracts.push_back(contract("lab", 60, 2026.0, 5, 1));
  s.financing.constraint = FundingConstraint{std::nullopt, true};
  return s;
}
}  // namespace

TEST_CASE("joint run: the provider is paid what the lab paid, path by path, bit for bit") {
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 2);
  const Scenario prov = provider(0.5), lab = lab_owing();
  RunOptions o;
  o.paths = 200;
  o.seed = 4;
  o.counterparties.push_back(joint_run(prov, lab, "lab"));
  const Result r = run(prov, o);
  CHECK(r.scenario_fingerprint.find("+lab=") != std::string::npos);
  const PathModel lab_model(lab);
  const auto received = r.per_path.col(static_cast<Eigen::Index>(r.output_index("received_lab")));
  int short_paid = 0;
  for (std::uint64_t p = 0; p < o.paths; ++p) {
    // What the lab paid on "lab" each step of path p, summed in step order.
    PathWorkspace ws;
    std::vector<double> paid(static_cast<std::size_t>(lab_model.steps())),
        outs(lab_model.output_count());
    ws.capture_contract = 0;
    ws.capture = paid.data();
    simulate_path(lab_model, o.seed, p, ws, outs.data());
    double sum = 0;
    for (double x : paid) sum += x;
    CHECK(received(static_cast<Eigen::Index>(p)) == sum);
    short_paid += sum < 60 - 1e-9;
    // ... which is what it owed less what is still in arrears at the horizon.
    const auto names = lab_model.output_names();
    const auto k = std::find(names.begin(), names.end(), "unpaid_lab") - names.begin();
    CHECK(sum == doctest::Approx(60 - outs[static_cast<std::size_t>(k)]).epsilon(1e-9));
  }
  CHECK(short_paid > 0);    // the lab's risk reaches the provider on some paths
  CHECK(short_paid < 200);  // ... not on all
  // The provider's own default draw is replaced by the lab's payments: never "defaulted".
  const auto when = r.per_path.col(static_cast<Eigen::Index>(r.output_index("defaulted_lab")));
  for (Eigen::Index p = 0; p < when.size(); ++p) CHECK(std::isnan(when(p)));

  // The same bits for any thread count, as two shards, and through the reference kernel.
  RunOptions one = o;
  one.threads = 1;
  const Result r1 = run(prov, one), rs = run_serial(prov, o);
  RunOptions a = o, b = o;
  a.paths = 77;
  b.first_path = 77;
  b.paths = 123;
  const Result merged = merge(run(prov, a), run(prov, b));
  for (const Result* x : {&r1, &rs, &merged}) {
    REQUIRE(x->per_path.size() == r.per_path.size());
    CHECK(std::memcmp(x->per_path.data(), r.per_path.data(),
                      sizeof(double) * static_cast<std::size_t>(r.per_path.size())) == 0);
  }
}

TEST_CASE("joint run: bad pairs are refused naming the problem") {
  const Scenario prov = provider(0), lab = lab_owing();
  auto error = [](auto f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  CHECK(error([&] { joint_run(prov, lab, "nobody"); }).find("no [[revenue_contract]] named") !=
        std::string::npos);
  Scenario other = lab;
  other.contracts[0].name = "azure";
  CHECK(error([&] { joint_run(prov, other, "lab"); }).find("no [[contract]] named") !=
        std::string::npos);
  Scenario longer = lab;
  longer.horizon_years = 8;
  CHECK(error([&] { joint_run(prov, longer, "lab"); }).find("number of steps") !=
        std::string::npos);
}

// ---- v3 reference (docs/scenarios.md "ai-lab-2026 v3") ----

TEST_CASE("the stress variant is the reference with unpaid = true, and nothing else") {
  Scenario ref = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2026.toml");
  const Scenario stress = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2026-stress.toml");
  REQUIRE(!ref.financing.constraint->unpaid);
  REQUIRE(stress.financing.constraint->unpaid);
  ref.name = stress.name;
  ref.financing.constraint->unpaid = true;
  CHECK(to_toml(ref) == to_toml(stress));
}

TEST_CASE("the reference's gross need and residual level off with the horizon") {
  // docs/scenarios.md shows 5/8/10/15/20 years. Means at 20 years within 1.5x those at 10:
  // 2,000 paths put the standard error of each mean near 1-2% of it (the doc's table),
  // far inside the margin.
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 2);
  Scenario sc = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2026.toml");
  RunOptions o;
  o.paths = 2000;
  o.seed = 1;
  o.bands = false;
  auto at = [&](double years) {
    Scenario s = sc;
    s.horizon_years = years;
    s.yearly.clear();    // calendar-year outputs follow the horizon; not needed here
    s.headline.clear();  // (the reference's headline is one of them)
    const Result r = run(s, o);
    const double need = r.summary("funding_need").mean, gap = r.summary("funding_gap").mean;
    MESSAGE(years << " years: mean gross need " << need << ", mean residual " << gap);
    return std::pair{need, gap};
  };
  const auto [need10, gap10] = at(10);
  const auto [need20, gap20] = at(20);
  CHECK(need20 <= 1.5 * need10);
  CHECK(gap20 <= 1.5 * gap10 + 1.0);  // + $1B: a residual near 0 at 10 years is level too
}
