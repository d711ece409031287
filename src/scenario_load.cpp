// The loader: TOML text (toml++) to a Scenario, recording where each key is written so
// the checker's errors carry file:line:column. The pre-scan (scenario_prescan.cpp) runs
// first, so text that would exhaust the parser's stack never reaches toml++.

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include <toml++/toml.h>

#include "capexsim/detail/format.hpp"
#include "capexsim/scenario.hpp"
#include "scenario_internal.hpp"

namespace capexsim {

using detail::format_double;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

/// Keys allowed in `section`, in table order.
std::vector<std::string> keys_of(const char* section) {
  std::vector<std::string> out;
  for (const KeyInfo& k : scenario_keys())
    if (std::string_view(k.section) == section) out.emplace_back(k.key);
  return out;
}

/// The top-level keys and tables, in table order.
std::vector<std::string> top_level_keys() {
  std::vector<std::string> out;
  for (const KeyInfo& k : scenario_keys()) {
    const std::string name = *k.section ? k.section : k.key;
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::string type_of(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    default:
      return "nothing";
  }
}

class Loader {
 public:
  Loader(std::string file) : file_(std::move(file)) {}

  Scenario load(std::string_view text, std::string default_name) {
    detail::prescan(text, file_);
    toml::table root;
    try {
      root = toml::parse(text, file_);
    } catch (const toml::parse_error& e) {
      const auto& b = e.source().begin;
      throw ScenarioError(file_, static_cast<int>(b.line), static_cast<int>(b.column), "",
                          "invalid TOML: " + std::string(e.description()));
    }
    Scenario s;
    allowed(root, "", top_level_keys());

    if (auto* n = root.get("name")) {
      s.name = string(*n, "name");
    } else {
      s.name = default_name;
    }

    const toml::table* sim = table(root, "simulation", true);
    allowed(*sim, "simulation", keys_of("simulation"));
    if (auto* n = sim->get("sampling")) {
      const std::string v = string(*n, "simulation.sampling");
      const auto m = sampling_from_name(v);
      if (!m)
        fail(*n, "simulation.sampling",
             "expected \"random\", \"lhs\" or \"sobol\", got \"" + v + "\"");
      s.sampling = *m;
    }
    s.start_year = number(required(*sim, "simulation", "start"), "simulation.start");
    s.horizon_years =
        number(required(*sim, "simulation", "horizon_years"), "simulation.horizon_years");
    if (auto* n = sim->get("step")) {
      const std::string v = string(*n, "simulation.step");
      if (v == "month")
        s.step = StepKind::month;
      else if (v == "week")
        s.step = StepKind::week;
      else if (v == "quarter")
        s.step = StepKind::quarter;
      else
        fail(*n, "simulation.step",
             "expected \"month\", \"week\" or \"quarter\", got \"" + v + "\"");
    }

    for (const std::string& section : detail::param_sections()) {
      const toml::table* t = table(root, section.c_str(), false);
      if (t) allowed(*t, section, keys_of(section.c_str()));
      for (const ParamInfo& info : param_table()) {
        if (std::string(info.section) != section) continue;
        const std::string key = std::string(section) + "." + info.key;
        const toml::node* n = t ? t->get(info.key) : nullptr;
        if (!n) {
          if (info.required) missing(t, key);
          s[info.id] = Distribution::fixed(info.default_value);
          continue;
        }
        s[info.id] = distribution(*n, key);
        if (info.id == Param::plan_cap_gw) s.has_plan_cap = true;
      }
    }
    if (!s.has_plan_cap) s[Param::plan_cap_gw] = Distribution::fixed(0.0);
    if (const toml::table* b = root.get("build") ? root.get("build")->as_table() : nullptr) {
      if (auto* n = b->get("plan"))
        s.plan.kind = word(*n, "build.plan", {"fixed", "demand"}) == "demand"
                          ? BuildPlan::Kind::demand
                          : BuildPlan::Kind::fixed;
      if (auto* n = b->get("coverage")) s.plan.coverage = distribution(*n, "build.coverage");
    }
    if (const toml::table* o = root.get("opex") ? root.get("opex")->as_table() : nullptr) {
      if (auto* n = o->get("fixed_opex_long_run_growth"))
        s.fixed_opex_long_run_growth = number(*n, "opex.fixed_opex_long_run_growth");
      if (auto* n = o->get("fixed_opex_growth_reversion"))
        s.fixed_opex_growth_reversion = number(*n, "opex.fixed_opex_growth_reversion");
    }

    for_each_table(
        root, "contract", [&](const toml::table& t, const std::string& base, std::size_t k) {
          allowed(t, base, keys_of("contract"));
          Contract c;
          c.name = t.get("name") ? string(*t.get("name"), base + ".name")
                                 : "contract-" + std::to_string(k + 1);
          c.total_bn = distribution(required(t, base, "total"), base + ".total");
          c.start_year = distribution(required(t, base, "start"), base + ".start");
          c.years = distribution(required(t, base, "years"), base + ".years");
          if (auto* n = t.get("gw")) c.gw = distribution(*n, base + ".gw");
          if (auto* n = t.get("cancel_probability"))
            c.cancel_probability = number(*n, base + ".cancel_probability");
          if (auto* n = t.get("renewals")) {
            const double r = number(*n, base + ".renewals");
            if (r != std::floor(r) || r < 0 || r > 100)
              fail(*n, base + ".renewals",
                   "expected a whole number of renewals in [0, 100], got " + format_double(r));
            c.renewals = static_cast<int>(r);
          }
          if (auto* n = t.get("renewal_price_factor"))
            c.renewal_price_factor = distribution(*n, base + ".renewal_price_factor");
          if (auto* n = t.get("profile")) {
            const std::string v = word(*n, base + ".profile", {"flat", "ramp", "delivery"});
            c.profile = v == "flat"   ? Contract::Profile::flat
                        : v == "ramp" ? Contract::Profile::ramp
                                      : Contract::Profile::delivery;
          }
          if (auto* n = t.get("ramp_years")) {
            c.ramp_years = number(*n, base + ".ramp_years");
            if (c.profile != Contract::Profile::delivery)
              fail(*n, base + ".ramp_years",
                   "ramp_years applies to profile = \"delivery\" only; add that profile or drop "
                   "ramp_years");
          }
          s.contracts.push_back(c);
        });
    for_each_table(
        root, "revenue_contract",
        [&](const toml::table& t, const std::string& base, std::size_t k) {
          allowed(t, base, keys_of("revenue_contract"));
          RevenueContract c;
          c.name = t.get("name") ? string(*t.get("name"), base + ".name")
                                 : "revenue-" + std::to_string(k + 1);
          c.total_bn = number(required(t, base, "total"), base + ".total");
          c.start_year = number(required(t, base, "start"), base + ".start");
          c.years = number(required(t, base, "years"), base + ".years");
          if (auto* n = t.get("gw")) c.gw = number(*n, base + ".gw");
          if (auto* n = t.get("default_rate"))
            c.default_rate = distribution(*n, base + ".default_rate");
          if (auto* n = t.get("profile")) {
            const std::string v = word(*n, base + ".profile", {"flat", "ramp", "delivery"});
            c.profile = v == "flat"   ? Contract::Profile::flat
                        : v == "ramp" ? Contract::Profile::ramp
                                      : Contract::Profile::delivery;
          }
          if (auto* n = t.get("ramp_years")) c.ramp_years = number(*n, base + ".ramp_years");
          s.revenue_contracts.push_back(c);
        });
    for_each_table(root, "vendor_financing",
                   [&](const toml::table& t, const std::string& base, std::size_t k) {
                     allowed(t, base, keys_of("vendor_financing"));
                     VendorFinancing v;
                     v.name = t.get("name") ? string(*t.get("name"), base + ".name")
                                            : "vendor-" + std::to_string(k + 1);
                     v.per_gw_bn = distribution(required(t, base, "per_gw"), base + ".per_gw");
                     v.cap_bn = distribution(required(t, base, "cap"), base + ".cap");
                     if (auto* n = t.get("kind"))
                       v.kind = word(*n, base + ".kind", {"grant", "equity"}) == "equity"
                                    ? VendorFinancing::Kind::equity
                                    : VendorFinancing::Kind::grant;
                     if (auto* n = t.get("basis")) v.basis = basis(*n, base + ".basis");
                     s.vendors.push_back(v);
                   });
    for_each_table(root, "equity", [&](const toml::table& t, const std::string& base, std::size_t) {
      allowed(t, base, keys_of("equity"));
      EquityInjection e;
      e.at_year = distribution(required(t, base, "at"), base + ".at");
      e.amount_bn = distribution(required(t, base, "amount"), base + ".amount");
      s.equity.push_back(e);
    });

    financing(root, s.financing);

    if (const toml::table* c = table(root, "correlation", false)) correlation(*c, s);
    if (const toml::table* c = table(root, "input_correlation", false)) input_correlation(*c, s);

    if (const toml::table* o = table(root, "outputs", false)) {
      allowed(*o, "outputs", keys_of("outputs"));
      if (auto* n = o->get("thresholds")) {
        note(*n, "outputs.thresholds");
        if (!n->is_table())
          fail(*n, "outputs.thresholds",
               "expected a table such as { funding_gap = [1000, 2000] }, got " + type_of(*n));
        for (auto&& [k, v] : *n->as_table()) {
          const std::string key = "outputs.thresholds." + std::string(k.str());
          std::vector<double> values;
          if (v.is_array())
            values = numbers(v, key, 0);
          else
            values.push_back(number(v, key));
          s.thresholds.emplace_back(std::string(k.str()), std::move(values));
        }
      }
      if (auto* n = o->get("yearly")) {
        const toml::array& a = array(*n, "outputs.yearly");
        for (std::size_t k = 0; k < a.size(); ++k) {
          const std::string key = "outputs.yearly[" + std::to_string(k) + "]";
          const std::string v = word(*a.get(k), key, {"revenue", "fcf", "capex", "need"});
          YearlyKind kind = YearlyKind::revenue;
          for (std::size_t j = 0; j < yearly_kind_count; ++j)
            if (v == yearly_kind_name(static_cast<YearlyKind>(j)))
              kind = static_cast<YearlyKind>(j);
          if (std::find(s.yearly.begin(), s.yearly.end(), kind) != s.yearly.end())
            fail(*a.get(k), key, "expected each of \"" + v + "\" once, got it twice");
          s.yearly.push_back(kind);
        }
        // Column order is the canonical one (revenue, fcf, capex, need), whatever the file's.
        std::sort(s.yearly.begin(), s.yearly.end());
      }
      if (auto* n = o->get("headline")) s.headline = string(*n, "outputs.headline");
      if (auto* n = o->get("checkpoints")) {
        const toml::array& a = array(*n, "outputs.checkpoints");
        for (std::size_t k = 0; k < a.size(); ++k)
          s.checkpoints.push_back(
              number(*a.get(k), "outputs.checkpoints[" + std::to_string(k) + "]"));
      }
    }

    detail::check_scenario(s, file_, &locs_);
    return s;
  }

 private:
  /// The optional financing sections (docs/model.md §10).
  void financing(const toml::table& root, Financing& f) {
    for_each_table(root, "debt", [&](const toml::table& t, const std::string& base, std::size_t k) {
      allowed(t, base, keys_of("debt"));
      DebtFacility d;
      d.name =
          t.get("name") ? string(*t.get("name"), base + ".name") : "debt-" + std::to_string(k + 1);
      d.limit_bn = number(required(t, base, "limit"), base + ".limit");
      if (auto* n = t.get("rate")) d.rate = distribution(*n, base + ".rate");
      if (auto* n = t.get("available_from"))
        d.available_from = number(*n, base + ".available_from");
      if (auto* n = t.get("maturity")) d.maturity = number(*n, base + ".maturity");
      if (auto* n = t.get("min_cash")) d.min_cash_bn = number(*n, base + ".min_cash");
      if (auto* n = t.get("sweep")) d.sweep = number(*n, base + ".sweep");
      if (auto* n = t.get("refinance_years"))
        d.refinance_years = number(*n, base + ".refinance_years");
      f.debt.push_back(d);
    });
    if (const toml::table* t = table(root, "valuation", false)) {
      allowed(*t, "valuation", keys_of("valuation"));
      Valuation v;
      v.arr_multiple =
          distribution(required(*t, "valuation", "arr_multiple"), "valuation.arr_multiple");
      if (auto* n = t->get("min_pre_money"))
        v.min_pre_money_bn = number(*n, "valuation.min_pre_money");
      if (auto* n = t->get("distress_factor"))
        v.distress_factor = distribution(*n, "valuation.distress_factor");
      f.valuation = v;
    }
    if (const toml::table* t = table(root, "equity_policy", false)) {
      allowed(*t, "equity_policy", keys_of("equity_policy"));
      EquityPolicy p;
      const std::string b = "equity_policy";
      p.trigger_cash_bn = number(required(*t, b, "trigger_cash"), b + ".trigger_cash");
      p.target_cash_bn = number(required(*t, b, "target_cash"), b + ".target_cash");
      if (auto* n = t->get("min_round")) p.min_round_bn = number(*n, b + ".min_round");
      if (auto* n = t->get("capacity_per_year"))
        p.capacity_per_year = distribution(*n, b + ".capacity_per_year");
      if (auto* n = t->get("min_interval_years"))
        p.min_interval_years = number(*n, b + ".min_interval_years");
      f.equity_policy = p;
    }
    for_each_table(
        root, "warrant", [&](const toml::table& t, const std::string& base, std::size_t k) {
          allowed(t, base, keys_of("warrant"));
          Warrant w;
          w.name = t.get("name") ? string(*t.get("name"), base + ".name")
                                 : "warrant-" + std::to_string(k + 1);
          w.shares_m = number(required(t, base, "shares_m"), base + ".shares_m");
          w.strike = number(required(t, base, "strike"), base + ".strike");
          w.price0 = number(required(t, base, "price0"), base + ".price0");
          if (auto* n = t.get("price_drift")) w.price_drift = number(*n, base + ".price_drift");
          if (auto* n = t.get("price_volatility"))
            w.price_volatility = number(*n, base + ".price_volatility");
          const toml::array& a = array(required(t, base, "tranches"), base + ".tranches");
          for (std::size_t j = 0; j < a.size(); ++j) {
            const std::string key = base + ".tranches[" + std::to_string(j) + "]";
            const toml::node& n = *a.get(j);
            note(n, key);
            if (!n.is_table())
              fail(n, key,
                   "expected a table {gw = ..., share = ..., price_hurdle = ...}, got " +
                       type_of(n));
            const toml::table& tt = *n.as_table();
            allowed(tt, key, {"gw", "share", "price_hurdle"});
            WarrantTranche tr;
            tr.gw = number(required(tt, key, "gw"), key + ".gw");
            tr.share = number(required(tt, key, "share"), key + ".share");
            if (auto* h = tt.get("price_hurdle"))
              tr.price_hurdle = number(*h, key + ".price_hurdle");
            w.tranches.push_back(tr);
          }
          if (auto* n = t.get("basis")) w.basis = basis(*n, base + ".basis");
          f.warrants.push_back(w);
        });
    if (const toml::table* t = table(root, "constraint", false)) {
      allowed(*t, "constraint", keys_of("constraint"));
      FundingConstraint c;
      if (auto* n = t->get("brake_cash")) c.brake_cash_bn = number(*n, "constraint.brake_cash");
      if (auto* n = t->get("unpaid")) {
        note(*n, "constraint.unpaid");
        if (!n->is_boolean())
          fail(*n, "constraint.unpaid", "expected true or false, got " + type_of(*n));
        c.unpaid = n->as_boolean()->get();
      }
      if (auto* n = t->get("keep_cash")) c.keep_cash_bn = number(*n, "constraint.keep_cash");
      if (auto* n = t->get("seniority"))
        c.seniority = word(*n, "constraint.seniority", {"pro_rata", "debt_first"}) == "debt_first"
                          ? FundingConstraint::Seniority::debt_first
                          : FundingConstraint::Seniority::pro_rata;
      f.constraint = c;
    }
  }

  GwBasis basis(const toml::node& n, const std::string& key) {
    return word(n, key, {"owned", "deployed"}) == "deployed" ? GwBasis::deployed : GwBasis::owned;
  }

  std::string word(const toml::node& n, const std::string& key, std::vector<std::string> options) {
    const std::string v = string(n, key);
    if (std::find(options.begin(), options.end(), v) == options.end()) {
      std::string list;
      for (std::size_t k = 0; k < options.size(); ++k)
        list += (k ? (k + 1 == options.size() ? " or " : ", ") : "") + ("\"" + options[k] + "\"");
      fail(n, key, "expected " + list + ", got \"" + v + "\"");
    }
    return v;
  }

  [[noreturn]] void fail(const toml::node& n, const std::string& key, const std::string& msg) {
    const auto& b = n.source().begin;
    throw ScenarioError(file_, static_cast<int>(b.line), static_cast<int>(b.column), key, msg);
  }

  void note(const toml::node& n, const std::string& key) {
    const auto& b = n.source().begin;
    if (b.line > 0) locs_[key] = {static_cast<int>(b.line), static_cast<int>(b.column)};
  }

  [[noreturn]] void missing(const toml::table* t, const std::string& key) {
    detail::Location loc;
    if (t && t->source().begin.line > 0)
      loc = {static_cast<int>(t->source().begin.line), static_cast<int>(t->source().begin.column)};
    throw ScenarioError(file_, loc.line, loc.column, key, "missing required key");
  }

  void allowed(const toml::table& t, const std::string& base,
               const std::vector<std::string>& keys) {
    for (auto&& [k, v] : t) {
      const std::string name(k.str());
      if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
        std::string list;
        for (const auto& x : keys) list += (list.empty() ? "" : ", ") + x;
        const std::string key = base.empty() ? name : base + "." + name;
        fail(v, key, "unknown key; expected one of: " + list);
      }
    }
  }

  const toml::node& required(const toml::table& t, const std::string& base, const char* key) {
    const toml::node* n = t.get(key);
    if (!n) missing(&t, base + "." + key);
    return *n;
  }

  const toml::table* table(const toml::table& root, const char* key, bool is_required) {
    const toml::node* n = root.get(key);
    if (!n) {
      if (is_required)
        throw ScenarioError(file_, 0, 0, key, "missing required table [" + std::string(key) + "]");
      return nullptr;
    }
    if (!n->is_table()) fail(*n, key, "expected a table, got " + type_of(*n));
    note(*n, key);
    return n->as_table();
  }

  template <class F>
  void for_each_table(const toml::table& root, const char* key, F&& f) {
    const toml::node* n = root.get(key);
    if (!n) return;
    if (!n->is_array_of_tables())
      fail(*n, key,
           "expected an array of tables ([[" + std::string(key) + "]]), got " + type_of(*n));
    const toml::array& a = *n->as_array();
    for (std::size_t k = 0; k < a.size(); ++k) {
      const std::string base = std::string(key) + "[" + std::to_string(k) + "]";
      note(*a.get(k), base);
      f(*a.get(k)->as_table(), base, k);
    }
  }

  double number(const toml::node& n, const std::string& key) {
    note(n, key);
    double x;
    if (auto* i = n.as_integer())
      x = static_cast<double>(i->get());
    else if (auto* f = n.as_floating_point())
      x = f->get();
    else
      fail(n, key, "expected a number, got " + type_of(n));
    if (!std::isfinite(x)) fail(n, key, "expected a finite number, got " + format_double(x));
    return x;
  }

  std::string string(const toml::node& n, const std::string& key) {
    note(n, key);
    if (auto* s = n.as_string()) return s->get();
    fail(n, key, "expected a string, got " + type_of(n));
  }

  const toml::array& array(const toml::node& n, const std::string& key) {
    note(n, key);
    if (!n.is_array()) fail(n, key, "expected an array, got " + type_of(n));
    return *n.as_array();
  }

  std::vector<double> numbers(const toml::node& n, const std::string& key, std::size_t want) {
    const toml::array& a = array(n, key);
    if (want && a.size() != want)
      fail(n, key,
           "expected an array of " + std::to_string(want) + " numbers, got " +
               std::to_string(a.size()));
    std::vector<double> v;
    for (std::size_t k = 0; k < a.size(); ++k)
      v.push_back(number(*a.get(k), key + "[" + std::to_string(k) + "]"));
    return v;
  }

  Distribution distribution(const toml::node& n, const std::string& key) {
    note(n, key);
    if (n.is_integer() || n.is_floating_point()) return Distribution::fixed(number(n, key));
    if (!n.is_table())
      fail(n, key,
           "expected a number or a distribution such as { uniform = [lo, hi] }, got " + type_of(n));
    const toml::table& t = *n.as_table();
    static const std::vector<std::string> shapes{"uniform", "triangular", "pert",
                                                 "normal",  "lognormal",  "choice"};
    std::string shape;
    for (auto&& [k, v] : t) {
      const std::string name(k.str());
      if (std::find(shapes.begin(), shapes.end(), name) == shapes.end()) continue;
      if (!shape.empty())
        fail(v, key, "expected exactly one distribution shape, got both " + shape + " and " + name);
      shape = name;
    }
    if (shape.empty())
      fail(n, key,
           "expected one shape key: uniform, triangular, pert, normal, lognormal or choice");
    std::vector<std::string> keys{shape};
    if (shape == "normal") keys = {"normal", "min", "max"};
    if (shape == "choice") keys = {"choice", "weights"};
    allowed(t, key, keys);
    const toml::node& p = *t.get(shape);
    const std::string pkey = key + "." + shape;
    if (shape == "uniform") {
      auto v = numbers(p, pkey, 2);
      return Distribution::uniform(v[0], v[1]);
    }
    if (shape == "triangular") {
      auto v = numbers(p, pkey, 3);
      return Distribution::triangular(v[0], v[1], v[2]);
    }
    if (shape == "pert") {
      auto v = numbers(p, pkey, 3);
      return Distribution::pert(v[0], v[1], v[2]);
    }
    if (shape == "normal") {
      auto v = numbers(p, pkey, 2);
      const double lo = t.get("min") ? number(*t.get("min"), key + ".min") : -inf;
      const double hi = t.get("max") ? number(*t.get("max"), key + ".max") : inf;
      return Distribution::normal(v[0], v[1], lo, hi);
    }
    if (shape == "lognormal") {
      auto v = numbers(p, pkey, 2);
      return Distribution::lognormal(v[0], v[1]);
    }
    auto values = numbers(p, pkey, 0);
    if (values.empty()) fail(p, pkey, "expected at least one value");
    std::vector<double> weights(values.size(), 1.0);
    if (auto* w = t.get("weights")) weights = numbers(*w, key + ".weights", 0);
    return Distribution::choice(std::move(values), std::move(weights));
  }

  void correlation(const toml::table& c, Scenario& s) {
    allowed(c, "correlation", keys_of("correlation"));
    std::vector<Shock> order{Shock::pace, Shock::cost, Shock::arr, Shock::growth};
    if (auto* n = c.get("shocks")) {
      const toml::array& a = array(*n, "correlation.shocks");
      order.clear();
      for (std::size_t k = 0; k < a.size(); ++k) {
        const std::string key = "correlation.shocks[" + std::to_string(k) + "]";
        const std::string name = string(*a.get(k), key);
        int found = -1;
        for (int q = 0; q < 4; ++q)
          if (name == shock_name(static_cast<Shock>(q))) found = q;
        if (found < 0)
          fail(*a.get(k), key,
               "expected one of \"pace\", \"cost\", \"arr\", \"growth\", got \"" + name + "\"");
        if (std::find(order.begin(), order.end(), static_cast<Shock>(found)) != order.end())
          fail(*a.get(k), key, "shock \"" + name + "\" is listed twice");
        order.push_back(static_cast<Shock>(found));
      }
      if (order.empty()) fail(*n, "correlation.shocks", "expected at least one shock name");
    }
    const toml::node* mn = c.get("matrix");
    if (!mn) missing(&c, "correlation.matrix");
    const toml::array& rows = array(*mn, "correlation.matrix");
    const std::size_t k = order.size();
    if (rows.size() != k)
      fail(*mn, "correlation.matrix",
           "expected a " + std::to_string(k) + "x" + std::to_string(k) +
               " matrix (one row per listed shock), got " + std::to_string(rows.size()) + " rows");
    Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
    for (std::size_t i = 0; i < k; ++i) {
      const std::string rkey = "correlation.matrix[" + std::to_string(i) + "]";
      auto row = numbers(*rows.get(i), rkey, k);
      for (std::size_t j = 0; j < k; ++j)
        m(static_cast<int>(order[i]), static_cast<int>(order[j])) = row[j];
    }
    s.correlation = m;
    s.correlation_order = order;
  }

  void input_correlation(const toml::table& c, Scenario& s) {
    allowed(c, "input_correlation", keys_of("input_correlation"));
    const toml::node* in = c.get("inputs");
    if (!in) missing(&c, "input_correlation.inputs");
    const toml::array& a = array(*in, "input_correlation.inputs");
    if (a.empty()) fail(*in, "input_correlation.inputs", "expected at least one input name");
    for (std::size_t k = 0; k < a.size(); ++k) {
      const std::string key = "input_correlation.inputs[" + std::to_string(k) + "]";
      const std::string name = string(*a.get(k), key);
      const ParamInfo* found = nullptr;
      for (const ParamInfo& info : param_table())
        if (name == std::string(info.section) + "." + info.key) found = &info;
      if (!found)
        fail(*a.get(k), key,
             "expected an input key such as \"cost.cost_per_gw\" (section.key), got \"" + name +
                 "\"");
      s.input_correlation_inputs.push_back(found->id);
    }
    const toml::node* mn = c.get("matrix");
    if (!mn) missing(&c, "input_correlation.matrix");
    const toml::array& rows = array(*mn, "input_correlation.matrix");
    const std::size_t k = a.size();
    if (rows.size() != k)
      fail(*mn, "input_correlation.matrix",
           "expected a " + std::to_string(k) + "x" + std::to_string(k) +
               " matrix (one row per listed input), got " + std::to_string(rows.size()) + " rows");
    for (std::size_t i = 0; i < k; ++i) {
      const auto row =
          numbers(*rows.get(i), "input_correlation.matrix[" + std::to_string(i) + "]", k);
      s.input_correlation.insert(s.input_correlation.end(), row.begin(), row.end());
    }
  }

  std::string file_;
  detail::Locations locs_;
};

}  // namespace

Scenario parse_scenario(std::string_view toml_text, std::string_view source_name) {
  const std::string stem = std::filesystem::path(std::string(source_name)).stem().string();
  return Loader(std::string(source_name)).load(toml_text, stem.empty() ? "scenario" : stem);
}

Scenario load_scenario(const std::filesystem::path& file) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec) && !std::filesystem::is_regular_file(file, ec))
    throw ScenarioError(file.string(), 0, 0, "", "cannot read the scenario: not a regular file");
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw ScenarioError(file.string(), 0, 0, "", "cannot open the scenario file for reading");
  // The size before reading: a huge (or sparse) file is refused at once, not read whole.
  const auto too_big = [&](const std::string& size) {
    return ScenarioError(file.string(), 0, 0, "",
                         "the scenario file is " + size + " bytes; expected at most " +
                             std::to_string(max_scenario_bytes) + " (16 MiB)");
  };
  const std::uintmax_t size = std::filesystem::file_size(file, ec);
  if (!ec && size > max_scenario_bytes) throw too_big(std::to_string(size));
  // At most one byte past the limit, whatever the size said (a file that grows, or a
  // special file reporting 0), so the read is bounded either way.
  std::string text;
  text.reserve(ec ? 0 : static_cast<std::size_t>(size));
  char chunk[1 << 16];
  while (in && text.size() <= max_scenario_bytes) {
    in.read(chunk, sizeof chunk);
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw ScenarioError(file.string(), 0, 0, "", "cannot read the scenario file");
  if (text.size() > max_scenario_bytes)
    throw too_big("more than " + std::to_string(max_scenario_bytes));
  return parse_scenario(text, file.string());
}

}  // namespace capexsim
