// Scenario keys that may be varied (--vary, calibrate): where `section.key`,
// `debt.NAME.rate`, ... live in a scenario, the list of them, and setting one.

#include "internal.hpp"

#include <cmath>
#include <limits>

namespace capexsim {

using namespace sensitivity_detail;

namespace {

/// A distribution moved by `delta` (every point x becomes x + delta).
Distribution shifted(const Distribution& d, double delta, std::string_view key) {
  using K = Distribution::Kind;
  auto p = d.params();
  switch (d.kind()) {
    case K::fixed:
      return Distribution::fixed(p[0] + delta);
    case K::uniform:
      return Distribution::uniform(p[0] + delta, p[1] + delta);
    case K::triangular:
      return Distribution::triangular(p[0] + delta, p[1] + delta, p[2] + delta);
    case K::pert:
      return Distribution::pert(p[0] + delta, p[1] + delta, p[2] + delta);
    case K::normal:
      return Distribution::normal(p[0] + delta, p[1], d.min() + delta, d.max() + delta);
    case K::choice:
      for (auto& x : p) x += delta;
      return Distribution::choice(p, d.weights());
    case K::lognormal:
      break;
  }
  throw SensitivityError("'" + std::string(key) + "' is a " + kind_name(d.kind()) +
                         " distribution, which has no location shift; vary a fixed input, or "
                         "give this one as normal, uniform, triangular, pert or choice");
}

const char* vary_forms =
    "expected <section>.<key> of a model input (e.g. build.plan_cap_gw, revenue.growth0, "
    "finance.initial_cash), build.coverage, valuation.arr_multiple, valuation.min_pre_money, "
    "equity_policy.<capacity_per_year|trigger_cash|target_cash|min_round>, "
    "debt.<name>.<rate|limit|min_cash|sweep>, contract.<name>.<total|start|years|gw|"
    "renewal_price_factor|cancel_probability> or vendor_financing.<name>.<per_gw|cap>";

}  // namespace

namespace sensitivity_detail {

KeyRef find_ref(Scenario& s, std::string_view key) {
  const auto parts = split(key, '.');
  KeyRef ref;
  auto absent = [&](const char* section) {
    return SensitivityError("'" + std::string(key) + "': the scenario has no [" + section +
                            "] section, so there is nothing to vary");
  };
  if (parts.size() == 2) {
    for (std::size_t k = 0; k < param_count; ++k) {
      const ParamInfo& info = param_table()[k];
      if (parts[0] == info.section && parts[1] == info.key) {
        ref.dist = &s.params[k];
        ref.param = k;
        return ref;
      }
    }
    Financing& f = s.financing;
    if (parts[0] == "build" && parts[1] == "coverage") {
      if (s.plan.kind != BuildPlan::Kind::demand)
        throw SensitivityError("'" + std::string(key) +
                               "' applies only with [build] plan = \"demand\"");
      ref.dist = &s.plan.coverage;
      return ref;
    }
    if (parts[0] == "valuation" && (parts[1] == "arr_multiple" || parts[1] == "min_pre_money")) {
      if (!f.valuation) throw absent("valuation");
      if (parts[1] == "arr_multiple")
        ref.dist = &f.valuation->arr_multiple;
      else
        ref.number = &f.valuation->min_pre_money_bn;
      return ref;
    }
    if (parts[0] == "equity_policy") {
      if (!f.equity_policy) throw absent("equity_policy");
      EquityPolicy& e = *f.equity_policy;
      if (parts[1] == "capacity_per_year") ref.dist = &e.capacity_per_year;
      if (parts[1] == "trigger_cash") ref.number = &e.trigger_cash_bn;
      if (parts[1] == "target_cash") ref.number = &e.target_cash_bn;
      if (parts[1] == "min_round") ref.number = &e.min_round_bn;
      if (ref.dist || ref.number) return ref;
    }
  } else if (parts.size() == 3 && parts[0] == "debt") {
    for (auto& d : s.financing.debt)
      if (d.name == parts[1]) {
        const std::string& t = parts[2];
        if (t == "rate") ref.dist = &d.rate;
        if (t == "limit") ref.number = &d.limit_bn;
        if (t == "min_cash") ref.number = &d.min_cash_bn;
        if (t == "sweep") ref.number = &d.sweep;
        if (ref.dist || ref.number) return ref;
        throw SensitivityError("'" + std::string(key) + "': debt facility '" + d.name +
                               "' has no term '" + t +
                               "' that can be varied; expected rate, limit, min_cash or sweep");
      }
    std::string names;
    for (const auto& d : s.financing.debt) names += (names.empty() ? "" : ", ") + d.name;
    throw SensitivityError(
        "unknown key '" + std::string(key) + "': no debt facility named '" + parts[1] + "'" +
        (names.empty() ? " (the scenario has none)" : "; the facilities are: " + names));
  } else if (parts.size() == 3 && parts[0] == "contract") {
    for (auto& c : s.contracts)
      if (c.name == parts[1]) {
        const std::string& t = parts[2];
        if (t == "total") ref.dist = &c.total_bn;
        if (t == "start") ref.dist = &c.start_year;
        if (t == "years") ref.dist = &c.years;
        if (t == "gw") ref.dist = &c.gw;
        if (t == "renewal_price_factor") ref.dist = &c.renewal_price_factor;
        if (t == "cancel_probability") ref.number = &c.cancel_probability;
        if (ref.dist || ref.number) return ref;
        throw SensitivityError("unknown key '" + std::string(key) + "' in --vary: contract '" +
                               c.name + "' has no term '" + t +
                               "' that can be varied; expected total, start, years, gw, "
                               "renewal_price_factor or cancel_probability");
      }
    std::string names;
    for (const auto& c : s.contracts) names += (names.empty() ? "" : ", ") + c.name;
    throw SensitivityError(
        "unknown key '" + std::string(key) + "' in --vary: no contract named '" + parts[1] + "'" +
        (names.empty() ? " (the scenario has none)" : "; the contracts are: " + names));
  } else if (parts.size() == 3 && parts[0] == "vendor_financing") {
    for (auto& v : s.vendors)
      if (v.name == parts[1]) {
        if (parts[2] == "per_gw") ref.dist = &v.per_gw_bn;
        if (parts[2] == "cap") ref.dist = &v.cap_bn;
        if (ref.dist) return ref;
        throw SensitivityError("unknown key '" + std::string(key) + "' in --vary: vendor '" +
                               v.name + "' has no term '" + parts[2] +
                               "' that can be varied; expected per_gw or cap");
      }
    throw SensitivityError("unknown key '" + std::string(key) + "' in --vary: no vendor named '" +
                           parts[1] + "'");
  }
  // A key of the format that is not a number the methods can move (a word, a date, ...).
  if (parts.size() >= 2 && find_key(parts[0], parts.back()))
    throw SensitivityError("'" + std::string(key) +
                           "' is a key of the scenario format but cannot be varied; " + vary_forms);
  throw SensitivityError("unknown key '" + std::string(key) + "' in --vary; " + vary_forms);
}

/// Every key the methods can vary, as --vary names them, in the order of the format.
std::vector<std::string> varyable_keys(const Scenario& s) {
  std::vector<std::string> keys;
  for (std::size_t k = 0; k < param_count; ++k)
    keys.push_back(std::string(param_table()[k].section) + "." + param_table()[k].key);
  if (s.plan.kind == BuildPlan::Kind::demand) keys.push_back("build.coverage");
  for (const auto& c : s.contracts)
    for (const char* t :
         {"total", "start", "years", "gw", "renewal_price_factor", "cancel_probability"})
      keys.push_back("contract." + c.name + "." + t);
  for (const auto& v : s.vendors)
    for (const char* t : {"per_gw", "cap"}) keys.push_back("vendor_financing." + v.name + "." + t);
  for (const auto& d : s.financing.debt)
    for (const char* t : {"rate", "limit", "min_cash", "sweep"})
      keys.push_back("debt." + d.name + "." + t);
  if (s.financing.valuation)
    for (const char* t : {"arr_multiple", "min_pre_money"})
      keys.push_back(std::string("valuation.") + t);
  if (s.financing.equity_policy)
    for (const char* t : {"capacity_per_year", "trigger_cash", "target_cash", "min_round"})
      keys.push_back(std::string("equity_policy.") + t);
  return keys;
}

}  // namespace sensitivity_detail

VaryRange parse_vary(std::string_view text) {
  const auto eq = text.rfind('=');
  const std::string shape = "expected KEY=LO:HI, e.g. build.plan_cap_gw=20:40";
  if (eq == std::string_view::npos || eq == 0)
    throw SensitivityError("--vary '" + std::string(text) + "': " + shape);
  VaryRange r;
  r.key = std::string(text.substr(0, eq));
  const auto range = split(text.substr(eq + 1), ':');
  if (range.size() != 2) throw SensitivityError("--vary '" + std::string(text) + "': " + shape);
  const auto lo = number(range[0]), hi = number(range[1]);
  if (!lo || !hi)
    throw SensitivityError("--vary '" + std::string(text) +
                           "': LO and HI must be finite numbers; " + shape);
  if (*lo >= *hi)
    throw SensitivityError("--vary '" + std::string(text) + "': LO (" + range[0] +
                           ") must be below HI (" + range[1] + ")");
  r.lo = *lo;
  r.hi = *hi;
  return r;
}

double key_value(const Scenario& scenario, std::string_view key) {
  Scenario s = scenario;
  const KeyRef ref = find_ref(s, key);
  if (ref.number) return *ref.number;
  if (ref.param == static_cast<std::size_t>(Param::plan_cap_gw) && !s.has_plan_cap)
    return std::numeric_limits<double>::infinity();
  return ref.dist->is_fixed() ? ref.dist->value() : ref.dist->mean();
}

Scenario with_key_value(const Scenario& scenario, std::string_view key, double value) {
  Scenario s = scenario;
  const KeyRef ref = find_ref(s, key);
  if (ref.number) {
    *ref.number = value;
  } else if (ref.dist->is_fixed()) {
    *ref.dist = Distribution::fixed(value);
  } else {
    *ref.dist = shifted(*ref.dist, value - ref.dist->mean(), key);
  }
  if (ref.param == static_cast<std::size_t>(Param::plan_cap_gw)) s.has_plan_cap = true;
  try {
    validate(s, "--vary " + std::string(key) + "=" + fmt(value));
  } catch (const std::exception& e) {
    throw SensitivityError(std::string(key) + " = " + fmt(value) +
                           " is not a valid scenario: " + e.what());
  }
  return s;
}

}  // namespace capexsim
