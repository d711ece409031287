// The checker: every rule of a valid scenario, one function for files and for scenarios
// built in code (the loader only adds source locations). Ranges and plausibility limits
// come from the key table (scenario_keys.cpp).

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <set>

#include <Eigen/Cholesky>

#include "capexsim/detail/format.hpp"
#include "capexsim/path_model.hpp"
#include "capexsim/random.hpp"
#include "capexsim/scenario.hpp"
#include "capexsim/schema.hpp"
#include "scenario_internal.hpp"

namespace capexsim {

using detail::format_double;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

std::string short_number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", x);
  return buf;
}

class Checker {
 public:
  Checker(std::string file, const detail::Locations* locs) : file_(std::move(file)), locs_(locs) {}

  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    detail::Location loc = find(key);
    throw ScenarioError(file_, loc.line, loc.column, key, msg);
  }

  void check(const Scenario& s) const {
    if (s.name.empty()) fail("name", "expected a non-empty string");
    counted_tables(s);
    for (std::size_t k = 0; k < s.contracts.size(); ++k)
      label("contract[" + std::to_string(k) + "].name", s.contracts[k].name);
    for (std::size_t k = 0; k < s.vendors.size(); ++k)
      label("vendor_financing[" + std::to_string(k) + "].name", s.vendors[k].name);
    for (std::size_t k = 0; k < s.financing.debt.size(); ++k)
      label("debt[" + std::to_string(k) + "].name", s.financing.debt[k].name);
    for (std::size_t k = 0; k < s.financing.warrants.size(); ++k)
      label("warrant[" + std::to_string(k) + "].name", s.financing.warrants[k].name);
    if (!std::isfinite(s.start_year)) fail("simulation.start", "expected a finite year");
    plausible("simulation.start", *find_key("simulation", "start"), std::abs(s.start_year));
    if (!(s.horizon_years > 0) || !std::isfinite(s.horizon_years))
      fail("simulation.horizon_years", "expected a number > 0, got " + num(s.horizon_years));
    plausible("simulation.horizon_years", *find_key("simulation", "horizon_years"),
              s.horizon_years);
    const int n = s.steps();
    if (n < 1)
      fail("simulation.horizon_years", "expected a horizon of at least one " +
                                           std::string(step_name(s.step)) + ", got " +
                                           num(s.horizon_years) + " years");
    if (n > detail::max_steps)
      fail("simulation.horizon_years",
           "expected at most " + std::to_string(detail::max_steps) + " steps, got " +
               short_number(std::round(s.horizon_years / s.dt())) + " (" + num(s.horizon_years) +
               " years of " + std::string(step_name(s.step)) + "s)");

    for (const ParamInfo& info : param_table()) {
      if (info.id == Param::plan_cap_gw && !s.has_plan_cap) continue;
      check_param(s[info.id], info);
    }
    if (s.has_plan_cap && s[Param::plan_cap_gw].lower() < s[Param::initial_gw].upper())
      fail("build.plan_cap_gw", "expected a plan cap >= build.initial_gw (" +
                                    num(s[Param::initial_gw].upper()) + "), got " +
                                    support(s[Param::plan_cap_gw]));

    for (std::size_t k = 0; k < s.contracts.size(); ++k) check_contract(s.contracts[k], k);
    std::set<std::string> revenue_names;
    for (std::size_t k = 0; k < s.revenue_contracts.size(); ++k) {
      const RevenueContract& c = s.revenue_contracts[k];
      const std::string base = "revenue_contract[" + std::to_string(k) + "].";
      // Its name makes outputs (received_<name>, defaulted_<name>) and CSV columns.
      const bool ident =
          !c.name.empty() && !std::isdigit(static_cast<unsigned char>(c.name[0])) &&
          std::all_of(c.name.begin(), c.name.end(), [](char ch) {
            return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
          });
      if (!ident)
        fail(base + "name",
             "expected a name of letters, digits, '_' or '-' (it names outputs "
             "and CSV columns), got \"" +
                 c.name + "\"");
      if (!revenue_names.insert(c.name).second)
        fail(base + "name",
             "expected distinct revenue contract names, got \"" + c.name + "\" twice");
      value(base + "total", c.total_bn, "revenue_contract", "total");
      value(base + "start", c.start_year, "revenue_contract", "start");
      value(base + "years", c.years, "revenue_contract", "years");
      value(base + "gw", c.gw, "revenue_contract", "gw");
      check_dist(c.default_rate, base + "default_rate",
                 *find_key("revenue_contract", "default_rate"));
      if (c.ramp_years) {
        value(base + "ramp_years", *c.ramp_years, "revenue_contract", "ramp_years");
        if (c.profile != Contract::Profile::delivery)
          fail(base + "ramp_years", "expected profile = \"delivery\" with ramp_years");
        if (*c.ramp_years > c.years)
          fail(base + "ramp_years",
               "expected at most the term (" + num(c.years) + " years), got " + num(*c.ramp_years));
      }
    }
    for (std::size_t k = 0; k < s.vendors.size(); ++k) {
      const auto& v = s.vendors[k];
      const std::string base = "vendor_financing[" + std::to_string(k) + "].";
      check_dist(v.per_gw_bn, base + "per_gw", *find_key("vendor_financing", "per_gw"));
      check_dist(v.cap_bn, base + "cap", *find_key("vendor_financing", "cap"));
    }
    for (std::size_t k = 0; k < s.equity.size(); ++k) {
      const auto& e = s.equity[k];
      const std::string base = "equity[" + std::to_string(k) + "].";
      check_dist(e.at_year, base + "at", *find_key("equity", "at"));
      if (e.at_year.lower() < s.start_year)
        fail(base + "at", "expected a year >= simulation.start (" + num(s.start_year) + "), got " +
                              support(e.at_year));
      check_dist(e.amount_bn, base + "amount", *find_key("equity", "amount"));
    }
    if (s.fixed_opex_long_run_growth)
      value("opex.fixed_opex_long_run_growth", *s.fixed_opex_long_run_growth, "opex",
            "fixed_opex_long_run_growth");
    value("opex.fixed_opex_growth_reversion", s.fixed_opex_growth_reversion, "opex",
          "fixed_opex_growth_reversion");
    check_correlation(s);
    check_input_correlation(s);
    check_thresholds(s);
    check_financing(s);
    std::set<std::string> names;
    // A checkpoint is read at the first step at or after it, so the last one allowed is
    // the start of the last step.
    const double last = s.start_year + (n - 1) * s.dt();
    for (std::size_t k = 0; k < s.checkpoints.size(); ++k) {
      const double y = s.checkpoints[k];
      const std::string key = "outputs.checkpoints[" + std::to_string(k) + "]";
      if (!std::isfinite(y) || y < s.start_year - 1e-9 ||
          std::ceil((y - s.start_year) / s.dt() - 1e-9) >= n)
        fail(key, "expected a year inside the simulated horizon, from " + num(s.start_year) +
                      " to " + num(last) +
                      " (the start of the last step; a checkpoint is read at the first step at "
                      "or after it), got " +
                      num(y));
      if (!names.insert(checkpoint_name(y)).second)
        fail(key, "expected distinct checkpoints, got " + num(y) + " twice");
    }
  }

 private:
  /// Each table of these kinds draws from its own static-input ids, a row of random.hpp's
  /// `static_ids`; the ids after a row's last item belong to another purpose, so one
  /// table more would share its random numbers with it (facility 64's rate would be the
  /// ARR multiple's). Refused at the first table over, named with its file and line.
  void counted_tables(const Scenario& s) const {
    auto limit = [&](rng::Ids ids, std::size_t n) {
      const rng::StaticIds& row = rng::static_ids_of(ids);
      if (n <= row.items) return;
      const std::string table = row.table;
      fail(table + "[" + std::to_string(row.items) + "]",
           "expected at most " + std::to_string(row.items) + " [[" + table +
               "]] tables (each draws from its own counters, random.hpp), got " +
               std::to_string(n));
    };
    limit(rng::Ids::contract_terms, s.contracts.size());
    limit(rng::Ids::vendor_terms, s.vendors.size());
    limit(rng::Ids::equity_terms, s.equity.size());
    limit(rng::Ids::revenue_default, s.revenue_contracts.size());
    limit(rng::Ids::debt_rate, s.financing.debt.size());
  }

  detail::Location find(std::string key) const {
    if (!locs_) return {};
    while (!key.empty()) {
      auto it = locs_->find(key);
      if (it != locs_->end()) return it->second;
      const auto cut = key.find_last_of(".[");
      if (cut == std::string::npos) break;
      key.resize(cut);
    }
    return {};
  }

  static std::string num(double x) { return format_double(x); }
  static std::string support(const Distribution& d) {
    if (d.is_fixed()) return num(d.value());
    return d.to_toml() + " (support " + (d.lower_open() ? "(" : "[") + num(d.lower()) + ", " +
           num(d.upper()) + "])";
  }

  // A non-negative number that is not a model input (contract, vendor, equity terms).
  void amount(const std::string& key, double x, const char* section, const char* name) const {
    if (!std::isfinite(x) || x < 0) fail(key, "expected a finite number >= 0, got " + num(x));
    plausible(key, *find_key(section, name), std::abs(x));
  }

  /// docs/model.md §13.6: a rate, growth rate or share written as a percent (`rate = 9.5`,
  /// `growth0 = 70`) is refused with the fraction it probably meant. The limits are far
  /// above any believable fraction: 100%/year of interest, continuous growth of 200%/year
  /// (300% for the initial growth: 20x in a year), a share of 2 (between 1 and 2 the range
  /// check speaks). Only the top of the support counts: a percent is rarely negative, and
  /// a steep decline (growth0 = -5) is a scenario, not a typo.
  void percent_like(const std::string& key, const KeyInfo& info, double magnitude,
                    const Distribution& d) const {
    const std::string_view k = info.key, unit = info.unit;
    double limit = inf;
    if (unit == "share")
      limit = 2;
    else if (k == "rate")
      limit = 1;
    else if (k == "growth0")
      limit = 3;
    else if (unit == "1/year" && (k.ends_with("growth") || k.ends_with("drift")))
      limit = 2;
    const double top = d.upper();
    if (!(top > limit) || magnitude > 100) return;
    std::string msg = "got " + support(d) + ", which looks like a percent; ";
    if (d.is_fixed())
      msg += "did you mean " + num(d.value() / 100) + "?";
    else
      msg += "did you mean each number divided by 100?";
    msg += " (rates, growth rates and shares are fractions: 0.095 is 9.5%)";
    fail(key, msg);
  }

  void plausible(const std::string& key, const KeyInfo& info, double magnitude) const {
    if (magnitude > info.plausible_max) fail(key, detail::implausible(info, magnitude));
  }

  void check_param(const Distribution& d, const ParamInfo& info) const {
    check_dist(d, std::string(info.section) + "." + info.key, *find_key(info.section, info.key));
  }

  /// A value that may be a distribution, at `key`, against its key-table entry: its shape,
  /// its plausibility and its range over the whole support.
  void check_dist(const Distribution& d, const std::string& key, const KeyInfo& info) const {
    check_shape(d, key);
    // Every parameter of the distribution (its location and spread are in the key's unit).
    double magnitude = 0;
    for (double x : d.params()) magnitude = std::max(magnitude, std::abs(x));
    if (d.kind() == Distribution::Kind::normal)
      for (double x : {d.min(), d.max()})
        if (std::isfinite(x)) magnitude = std::max(magnitude, std::abs(x));
    if (magnitude > info.plausible_max) fail(key, detail::implausible(info, magnitude));
    percent_like(key, info, magnitude, d);
    const double lo = d.lower(), hi = d.upper();
    const bool open = d.lower_open();
    std::string expected;
    switch (info.range) {
      case Range::any:
        return;
      case Range::non_negative:
        if (lo >= 0) return;
        expected = "a value >= 0";
        break;
      case Range::positive:
        if (lo > 0 || (open && lo >= 0)) return;
        expected = "a value > 0";
        break;
      case Range::unit:
        if (lo >= 0 && hi <= 1) return;
        expected = "a value in [0, 1]";
        break;
      case Range::unit_open_top:
        if (lo >= 0 && hi < 1) return;
        expected = "a value in [0, 1)";
        break;
    }
    std::string msg = "expected " + expected;
    if (!d.is_fixed()) msg += " over the whole support of the distribution";
    msg += ", got " + support(d);
    if (d.kind() == Distribution::Kind::normal && std::isinf(lo))
      msg += "; a normal on a bounded quantity needs `min` (and `max`) to truncate it";
    fail(key, msg);
  }

  void check_shape(const Distribution& d, const std::string& key) const {
    using K = Distribution::Kind;
    const auto& p = d.params();
    for (double x : p)
      if (!std::isfinite(x)) fail(key, "expected finite numbers, got " + num(x));
    switch (d.kind()) {
      case K::fixed:
        return;
      case K::uniform:
        if (p[0] > p[1])
          fail(key,
               "uniform = [lo, hi] needs lo <= hi, got lo = " + num(p[0]) + " > hi = " + num(p[1]));
        return;
      case K::triangular:
      case K::pert: {
        const std::string k = kind_name(d.kind());
        if (p[0] > p[2])
          fail(key, k + " = [lo, mode, hi] needs lo <= hi, got lo = " + num(p[0]) +
                        " > hi = " + num(p[2]));
        if (p[1] < p[0] || p[1] > p[2])
          fail(key, k + " = [lo, mode, hi] needs lo <= mode <= hi, got mode " + num(p[1]) +
                        " outside [" + num(p[0]) + ", " + num(p[2]) + "]");
        return;
      }
      case K::normal: {
        if (p[1] < 0) fail(key, "normal = [mean, sd] needs sd >= 0, got sd = " + num(p[1]));
        if (std::isnan(d.min()) || std::isnan(d.max()) || d.min() == inf || d.max() == -inf)
          fail(key, "expected finite min/max bounds");
        if (d.min() > d.max())
          fail(key,
               "normal needs min <= max, got min = " + num(d.min()) + " > max = " + num(d.max()));
        if (p[1] == 0) {
          if (p[0] < d.min() || p[0] > d.max())
            fail(key, "normal with sd = 0 needs its mean inside [min, max]");
          return;
        }
        const double za = (d.min() - p[0]) / p[1], zb = (d.max() - p[0]) / p[1];
        const double mass =
            0.5 * (std::erfc(-zb / std::sqrt(2.0)) - std::erfc(-za / std::sqrt(2.0)));
        if (!(mass > 1e-12))
          fail(key, "normal truncated to [" + num(d.min()) + ", " + num(d.max()) +
                        "] has no probability mass (more than ~7 sd from the mean)");
        return;
      }
      case K::lognormal:
        if (!(p[0] > 0)) fail(key, "lognormal = [mean, sd] needs mean > 0, got " + num(p[0]));
        if (p[1] < 0) fail(key, "lognormal = [mean, sd] needs sd >= 0, got sd = " + num(p[1]));
        return;
      case K::choice: {
        const auto& w = d.weights();
        if (p.empty()) fail(key, "choice needs at least one value");
        if (w.size() != p.size())
          fail(key + ".weights", "expected " + std::to_string(p.size()) +
                                     " weights (one per value), got " + std::to_string(w.size()));
        double total = 0;
        for (double x : w) {
          if (!std::isfinite(x) || x < 0)
            fail(key + ".weights", "expected finite weights >= 0, got " + num(x));
          total += x;
        }
        if (!(total > 0)) fail(key + ".weights", "expected weights summing to a positive number");
        return;
      }
    }
  }

  void check_contract(const Contract& c, std::size_t k) const {
    const std::string base = "contract[" + std::to_string(k) + "].";
    check_dist(c.total_bn, base + "total", *find_key("contract", "total"));
    check_dist(c.start_year, base + "start", *find_key("contract", "start"));
    if (!(c.years.lower() > 0) && !(c.years.lower_open() && c.years.lower() >= 0))
      fail(base + "years", "expected a positive term in years, got " + support(c.years));
    check_dist(c.years, base + "years", *find_key("contract", "years"));
    check_dist(c.gw, base + "gw", *find_key("contract", "gw"));
    value(base + "cancel_probability", c.cancel_probability, "contract", "cancel_probability");
    if (c.ramp_years) {
      value(base + "ramp_years", *c.ramp_years, "contract", "ramp_years");
      if (*c.ramp_years > c.years.lower())
        fail(base + "ramp_years", "expected a delivery ramp no longer than the term (years = " +
                                      support(c.years) + "), got " + num(*c.ramp_years));
    }
    if (c.renewals < 0 || c.renewals > 100)
      fail(base + "renewals",
           "expected a whole number in [0, 100], got " + std::to_string(c.renewals));
    check_dist(c.renewal_price_factor, base + "renewal_price_factor",
               *find_key("contract", "renewal_price_factor"));
  }

  /// A plain number of a financing section against its key-table entry.
  void value(const std::string& key, double x, const char* section, const char* name) const {
    const KeyInfo& info = *find_key(section, name);
    if (!std::isfinite(x)) fail(key, "expected a finite number, got " + num(x));
    plausible(key, info, std::abs(x));
    percent_like(key, info, std::abs(x), Distribution::fixed(x));
    const bool ok = info.range == Range::any || (info.range == Range::non_negative && x >= 0) ||
                    (info.range == Range::positive && x > 0) ||
                    (info.range == Range::unit && x >= 0 && x <= 1);
    if (!ok)
      fail(key, std::string("expected a value ") + range_words(info.range) + ", got " + num(x));
  }

  static const char* range_words(Range r) {
    switch (r) {
      case Range::non_negative:
        return ">= 0";
      case Range::positive:
        return "> 0";
      case Range::unit:
        return "in [0, 1]";
      case Range::unit_open_top:
        return "in [0, 1)";
      case Range::any:
        break;
    }
    return "";
  }

  void check_financing(const Scenario& s) const {
    const Financing& f = s.financing;
    if (s.plan.kind == BuildPlan::Kind::demand || !s.plan.coverage.is_fixed() ||
        s.plan.coverage.value() != 1.2) {
      check_dist(s.plan.coverage, "build.coverage", *find_key("build", "coverage"));
      if (s.plan.coverage.lower() < 1)
        fail("build.coverage",
             "expected coverage >= 1 over its whole support, got " + support(s.plan.coverage));
    }
    for (std::size_t k = 0; k < f.debt.size(); ++k) {
      const DebtFacility& d = f.debt[k];
      const std::string b = "debt[" + std::to_string(k) + "].";
      value(b + "limit", d.limit_bn, "debt", "limit");
      check_dist(d.rate, b + "rate", *find_key("debt", "rate"));
      if (d.available_from)
        value(b + "available_from", *d.available_from, "debt", "available_from");
      if (d.maturity) {
        value(b + "maturity", *d.maturity, "debt", "maturity");
        if (*d.maturity <= d.available_from.value_or(s.start_year))
          fail(b + "maturity", "expected a maturity after the facility opens (" +
                                   num(d.available_from.value_or(s.start_year)) + "), got " +
                                   num(*d.maturity));
      }
      value(b + "min_cash", d.min_cash_bn, "debt", "min_cash");
      value(b + "sweep", d.sweep, "debt", "sweep");
      if (d.refinance_years) {
        value(b + "refinance_years", *d.refinance_years, "debt", "refinance_years");
        if (!d.maturity)
          fail(b + "refinance_years", "expected a maturity to refinance at (debt.maturity)");
      }
    }
    const bool equity_vendor = std::any_of(
        s.vendors.begin(), s.vendors.end(),
        [](const VendorFinancing& v) { return v.kind == VendorFinancing::Kind::equity; });
    if ((f.equity_policy || equity_vendor) && !f.valuation)
      fail(f.equity_policy ? "equity_policy" : "vendor_financing",
           "expected a [valuation] section: equity rounds and vendor equity are priced at "
           "valuation.arr_multiple x ARR");
    if (f.valuation) {
      check_dist(f.valuation->arr_multiple, "valuation.arr_multiple",
                 *find_key("valuation", "arr_multiple"));
      value("valuation.min_pre_money", f.valuation->min_pre_money_bn, "valuation", "min_pre_money");
      check_dist(f.valuation->distress_factor, "valuation.distress_factor",
                 *find_key("valuation", "distress_factor"));
    }
    if (const EquityPolicy* p = f.equity_policy ? &*f.equity_policy : nullptr) {
      value("equity_policy.trigger_cash", p->trigger_cash_bn, "equity_policy", "trigger_cash");
      value("equity_policy.target_cash", p->target_cash_bn, "equity_policy", "target_cash");
      if (p->target_cash_bn < p->trigger_cash_bn)
        fail("equity_policy.target_cash", "expected target_cash >= trigger_cash (" +
                                              num(p->trigger_cash_bn) + "), got " +
                                              num(p->target_cash_bn));
      value("equity_policy.min_round", p->min_round_bn, "equity_policy", "min_round");
      const Distribution& c = p->capacity_per_year;
      if (!(c.is_fixed() && std::isinf(c.value())))
        check_dist(c, "equity_policy.capacity_per_year",
                   *find_key("equity_policy", "capacity_per_year"));
      value("equity_policy.min_interval_years", p->min_interval_years, "equity_policy",
            "min_interval_years");
    }
    for (std::size_t k = 0; k < f.warrants.size(); ++k) {
      const Warrant& w = f.warrants[k];
      const std::string b = "warrant[" + std::to_string(k) + "].";
      value(b + "shares_m", w.shares_m, "warrant", "shares_m");
      value(b + "strike", w.strike, "warrant", "strike");
      value(b + "price0", w.price0, "warrant", "price0");
      value(b + "price_drift", w.price_drift, "warrant", "price_drift");
      value(b + "price_volatility", w.price_volatility, "warrant", "price_volatility");
      if (w.tranches.empty()) fail(b + "tranches", "expected at least one tranche");
      double total = 0;
      for (std::size_t j = 0; j < w.tranches.size(); ++j) {
        const WarrantTranche& t = w.tranches[j];
        const std::string tk = b + "tranches[" + std::to_string(j) + "].";
        if (!std::isfinite(t.gw) || t.gw < 0 || t.gw > 1e5)
          fail(tk + "gw", "expected GW online in [0, 1e5], got " + num(t.gw));
        if (!(t.share >= 0 && t.share <= 1))
          fail(tk + "share", "expected a share in [0, 1], got " + num(t.share));
        if (!std::isfinite(t.price_hurdle) || t.price_hurdle < 0 || t.price_hurdle > 1e6)
          fail(tk + "price_hurdle",
               "expected a price in [0, 1e6] $/share, got " + num(t.price_hurdle));
        total += t.share;
        if (j > 0 && t.gw < w.tranches[j - 1].gw)
          fail(tk + "gw", "expected tranches in order of gw (" + num(w.tranches[j - 1].gw) +
                              " comes before), got " + num(t.gw));
      }
      if (total > 1 + 1e-9)
        fail(b + "tranches", "expected tranche shares summing to at most 1, got " + num(total));
    }
    if (f.constraint && f.constraint->brake_cash_bn)
      value("constraint.brake_cash", *f.constraint->brake_cash_bn, "constraint", "brake_cash");
    if (f.constraint)
      value("constraint.keep_cash", f.constraint->keep_cash_bn, "constraint", "keep_cash");
    if (f.constraint && f.constraint->unpaid) {
      std::set<std::string> names;
      for (std::size_t k = 0; k < s.contracts.size(); ++k) {
        const std::string& n = s.contracts[k].name;
        const std::string key = "contract[" + std::to_string(k) + "].name";
        if (n == "total" || n == "capex" || n == "opex" || n == "debt" || n == "rent")
          fail(key,
               "expected a name other than \"total\", \"capex\", \"opex\", \"debt\" or "
               "\"rent\" (the output unpaid_" +
                   n + " is taken)");
        if (!names.insert(n).second)
          fail(key, "expected distinct contract names (each gets an unpaid_<name> output), got \"" +
                        n + "\" twice");
      }
    }
  }

  /// A label becomes part of output names (unpaid_<contract>), of --vary keys
  /// (debt.<name>.rate) and of CSV cells and columns: letters, digits, '_' and '-' only, so
  /// no comma, quote, dot or line break can corrupt a file or a key.
  void label(const std::string& key, const std::string& name) const {
    // Empty is a scenario built in code without labels: nothing to corrupt.
    const bool ok = name.empty() || (name.size() <= max_label_chars && name.front() != '-' &&
                                     std::all_of(name.begin(), name.end(), [](char c) {
                                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                              (c >= '0' && c <= '9') || c == '_' || c == '-';
                                     }));
    if (ok) return;
    std::string shown;  // the name as written, control characters escaped
    for (const char c : name.substr(0, max_label_chars + 1)) {
      if (c == '\n')
        shown += "\\n";
      else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        shown +=
            "\\x" + std::string(1, "0123456789abcdef"[(c >> 4) & 15]) + "0123456789abcdef"[c & 15];
      else if (c == '"' || c == '\\')
        shown += std::string("\\") + c;
      else
        shown += c;
    }
    fail(key, "expected a name of at most " + std::to_string(max_label_chars) +
                  " letters, digits, '_' and '-', not starting with '-' (names become parts of "
                  "output names, --vary keys and CSV columns), got \"" +
                  shown + "\"");
  }
  static constexpr std::size_t max_label_chars = 64;

  // [input_correlation] (docs/statistics.md): drawn inputs, a symmetric unit-diagonal
  // Spearman matrix that stays positive-definite on the normal scale of the copula.
  void check_input_correlation(const Scenario& s) const {
    const auto& in = s.input_correlation_inputs;
    const std::size_t k = in.size();
    if (k == 0) return;
    if (s.input_correlation.size() != k * k)
      fail("input_correlation.matrix", "expected a " + std::to_string(k) + "x" + std::to_string(k) +
                                           " matrix (one row per input)");
    for (std::size_t i = 0; i < k; ++i) {
      const ParamInfo& info = param_info(in[i]);
      const std::string name = std::string(info.section) + "." + info.key;
      const std::string key = "input_correlation.inputs[" + std::to_string(i) + "]";
      if (s[in[i]].is_fixed())
        fail(key, "expected an input drawn from a distribution, got " + name + " = " +
                      num(s[in[i]].value()) + " (fixed)");
      for (std::size_t j = 0; j < i; ++j)
        if (in[j] == in[i]) fail(key, "input \"" + name + "\" is listed twice");
    }
    Eigen::MatrixXd pearson(k, k);
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = 0; j < k; ++j) {
        const double x = s.input_correlation[i * k + j], y = s.input_correlation[j * k + i];
        const std::string key =
            "input_correlation.matrix[" + std::to_string(i) + "][" + std::to_string(j) + "]";
        if (!std::isfinite(x)) fail(key, "expected a finite number");
        if (i == j && std::abs(x - 1.0) > 1e-12)
          fail(key, "expected 1.0 on the diagonal of a correlation matrix, got " + num(x));
        if (i != j && std::abs(x) > 1.0)
          fail(key, "expected a correlation in [-1, 1], got " + num(x));
        if (std::abs(x - y) > 1e-12)
          fail(key, "expected a symmetric matrix: this entry is " + num(x) + " but its mirror is " +
                        num(y));
        pearson(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
            i == j ? 1.0 : 2 * std::sin(std::numbers::pi * x / 6);
      }
    Eigen::LLT<Eigen::MatrixXd> llt(pearson);
    if (llt.info() != Eigen::Success ||
        llt.matrixL().toDenseMatrix().diagonal().minCoeff() <= 1e-10)
      fail("input_correlation.matrix",
           "expected a positive-definite rank correlation matrix (on the normal scale of the "
           "copula, 2 sin(pi rho / 6), it has a zero or negative eigenvalue: some correlations "
           "contradict others)");
  }

  // [outputs] thresholds: names of outputs (any the schema knows, or a checkpoint of this
  // scenario) and finite values.
  void check_thresholds(const Scenario& s) const {
    std::vector<std::string> known;
    for (std::size_t k = 0; k < output_kinds; ++k)
      known.push_back(output_name(static_cast<Output>(k)));
    for (double y : s.checkpoints) known.push_back(checkpoint_name(y));
    for (YearlyKind kind : s.yearly)
      for (int y : calendar_years(s)) known.push_back(yearly_name(kind, y));
    for (const auto& [name, values] : s.thresholds) {
      const std::string key = "outputs.thresholds." + name;
      if (std::find(known.begin(), known.end(), name) == known.end() &&
          name.rfind("unpaid_", 0) != 0) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        fail(key, "unknown output; expected one of: " + list);
      }
      for (std::size_t k = 0; k < values.size(); ++k)
        if (!std::isfinite(values[k]))
          fail(key + "[" + std::to_string(k) + "]", "expected a finite number");
    }
  }

  void check_correlation(const Scenario& s) const {
    const Eigen::Matrix4d& m = s.correlation;
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        const std::string key = element_key(s, i, j);
        if (!std::isfinite(m(i, j))) fail(key, "expected a finite number");
        if (i == j && std::abs(m(i, i) - 1.0) > 1e-12)
          fail(key, "expected 1.0 on the diagonal of a correlation matrix, got " + num(m(i, i)));
        if (i != j && std::abs(m(i, j)) > 1.0)
          fail(key, "expected a correlation in [-1, 1], got " + num(m(i, j)));
        if (std::abs(m(i, j) - m(j, i)) > 1e-12)
          fail(key, "expected a symmetric matrix: this entry is " + num(m(i, j)) +
                        " but its mirror is " + num(m(j, i)));
      }
    Eigen::LLT<Eigen::Matrix4d> llt(m);
    if (llt.info() != Eigen::Success ||
        llt.matrixL().toDenseMatrix().diagonal().minCoeff() <= 1e-10)
      fail("correlation.matrix",
           "expected a positive-definite correlation matrix (it has a zero "
           "or negative eigenvalue: some correlations contradict others)");
  }

  static std::string element_key(const Scenario& s, int i, int j) {
    // Report positions as they are written in the file (its shock order).
    const auto& order = s.correlation_order;
    auto pos = [&](int canonical) {
      for (std::size_t k = 0; k < order.size(); ++k)
        if (static_cast<int>(order[k]) == canonical) return static_cast<int>(k);
      return canonical;
    };
    return "correlation.matrix[" + std::to_string(pos(i)) + "][" + std::to_string(pos(j)) + "]";
  }

  std::string file_;
  const detail::Locations* locs_;
};

}  // namespace

std::string detail::implausible(const KeyInfo& info, double magnitude) {
  const std::string unit = info.unit;
  std::string msg = "expected " + unit + ", e.g. " + short_number(info.example) + "; got " +
                    short_number(magnitude) + ", above the plausible limit of " +
                    short_number(info.plausible_max) + " " + unit +
                    ": the value looks like the wrong unit";
  if (unit.rfind("$B", 0) == 0)
    msg += " (money is in billions of dollars: " + short_number(info.example) + " means $" +
           short_number(info.example) + "B)";
  return msg + "; limits are listed in docs/model.md";
}

// [outputs] headline names an output of this scenario's run: the model's own list (which
// knows every optional output), read off a copy without the headline so that building the
// model (which validates) does not come back here.
static void check_headline(const Scenario& s, const Checker& checker) {
  if (s.headline.empty()) return;
  Scenario plain = s;
  plain.headline.clear();
  const std::vector<std::string> names = PathModel(std::move(plain)).output_names();
  if (std::find(names.begin(), names.end(), s.headline) != names.end()) return;
  std::string list;
  for (const auto& k : names) list += (list.empty() ? "" : ", ") + k;
  checker.fail("outputs.headline", "unknown output '" + s.headline +
                                       "'; expected one of this scenario's outputs: " + list);
}

void detail::check_scenario(const Scenario& s, const std::string& file,
                            const Locations* locations) {
  const Checker checker(file, locations);
  checker.check(s);
  check_headline(s, checker);
}

void validate(const Scenario& scenario, std::string_view source_name) {
  const Checker checker(std::string(source_name), nullptr);
  checker.check(scenario);
  check_headline(scenario, checker);
}

std::vector<UnitEconomics> unit_economics(const Scenario& s) {
  const double net = s[Param::arr_per_gw].mean() * (1 - s[Param::revenue_cost_share].mean());
  std::vector<UnitEconomics> rows;
  rows.push_back({"owned", net,
                  s[Param::power_ops_per_gw_year].mean() + s[Param::cost_per_gw].mean() *
                                                               s[Param::it_share].mean() /
                                                               s[Param::useful_life_years].mean()});
  if (s[Param::rent_share].mean() > 0)
    rows.push_back({"leased", net, s[Param::rent_per_gw_year].mean()});
  for (const Contract& c : s.contracts) {
    const double gw = c.gw.mean(), years = c.years.mean();
    if (!(gw > 0)) continue;  // capacity-free: a payment, not a source of GW
    const double term = c.profile == Contract::Profile::delivery
                            ? years - 0.5 * c.ramp_years.value_or(years / 2)
                            : years;
    rows.push_back({"contract " + c.name, net, c.total_bn.mean() / (gw * term)});
  }
  return rows;
}

}  // namespace capexsim
