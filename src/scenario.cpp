// Scenario loading (toml++), validation and TOML writing. Validation is one function for
// files and for scenarios built in code; the loader only adds source locations.

#include "capexsim/scenario.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <numbers>
#include <set>
#include <sstream>

#include <toml++/toml.h>
#include <Eigen/Cholesky>

#include "capexsim/detail/format.hpp"
#include "capexsim/model.hpp"

namespace capexsim {

using detail::format_double;

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan_ = std::numeric_limits<double>::quiet_NaN();
constexpr int max_steps = 100000;
}  // namespace

// ---------------------------------------------------------------------------------------
// Tables

const std::array<ParamInfo, param_count>& param_table() {
  using P = Param;
  using R = Range;
  static const std::array<ParamInfo, param_count> table{{
      {P::initial_cash, "finance", "initial_cash", false, 0.0, R::non_negative},
      {P::initial_gw, "build", "initial_gw", true, nan_, R::positive},
      {P::plan_cap_gw, "build", "plan_cap_gw", false, nan_, R::non_negative},
      {P::max_pace_gw_per_week, "build", "max_pace_gw_per_week", true, nan_, R::non_negative},
      {P::ramp_midpoint_years, "build", "ramp_midpoint_years", true, nan_, R::any},
      {P::ramp_width_years, "build", "ramp_width_years", true, nan_, R::positive},
      {P::lead_time_years, "build", "lead_time_years", true, nan_, R::positive},
      {P::pace_volatility, "build", "pace_volatility", false, 0.0, R::non_negative},
      {P::pace_reversion, "build", "pace_reversion", false, 1.0, R::positive},
      {P::disruption_rate, "build", "disruption_rate", false, 0.0, R::non_negative},
      {P::disruption_mean_years, "build", "disruption_mean_years", false, 0.25, R::positive},
      {P::disruption_multiplier, "build", "disruption_multiplier", false, 1.0, R::unit},
      {P::cost_per_gw, "cost", "cost_per_gw", true, nan_, R::non_negative},
      {P::cost_drift, "cost", "cost_drift", false, 0.0, R::any},
      {P::cost_volatility, "cost", "cost_volatility", false, 0.0, R::non_negative},
      {P::learning_rate, "cost", "learning_rate", false, 0.0, R::unit_open_top},
      {P::it_share, "cost", "it_share", true, nan_, R::unit},
      {P::useful_life_years, "cost", "useful_life_years", true, nan_, R::positive},
      {P::arr0, "revenue", "arr0", true, nan_, R::positive},
      {P::growth0, "revenue", "growth0", true, nan_, R::any},
      {P::long_run_growth, "revenue", "long_run_growth", false, 0.0, R::any},
      {P::growth_reversion, "revenue", "growth_reversion", false, 1.0, R::positive},
      {P::growth_volatility, "revenue", "growth_volatility", false, 0.0, R::non_negative},
      {P::arr_volatility, "revenue", "arr_volatility", false, 0.0, R::non_negative},
      {P::jump_rate, "revenue", "jump_rate", false, 0.0, R::non_negative},
      {P::jump_mean, "revenue", "jump_mean", false, 0.0, R::any},
      {P::jump_sd, "revenue", "jump_sd", false, 0.0, R::non_negative},
      {P::arr_per_gw, "revenue", "arr_per_gw", true, nan_, R::positive},
      {P::resale_price_per_gw_year, "revenue", "resale_price_per_gw_year", false, 0.0,
       R::non_negative},
      {P::resale_utilization, "revenue", "resale_utilization", false, 0.0, R::unit},
      {P::power_ops_per_gw_year, "opex", "power_ops_per_gw_year", false, 0.0, R::non_negative},
      {P::revenue_cost_share, "opex", "revenue_cost_share", false, 0.0, R::unit},
      {P::fixed_opex, "opex", "fixed_opex", false, 0.0, R::non_negative},
      {P::fixed_opex_growth, "opex", "fixed_opex_growth", false, 0.0, R::any},
  }};
  return table;
}

const ParamInfo& param_info(Param p) {
  return param_table()[static_cast<std::size_t>(p)];
}

double step_years(StepKind s) {
  switch (s) {
    case StepKind::month:
      return 1.0 / 12;
    case StepKind::week:
      return 1.0 / 52;
    case StepKind::quarter:
      return 1.0 / 4;
  }
  return 1.0 / 12;
}

const char* step_name(StepKind s) {
  switch (s) {
    case StepKind::month:
      return "month";
    case StepKind::week:
      return "week";
    case StepKind::quarter:
      return "quarter";
  }
  return "?";
}

const char* shock_name(Shock s) {
  static const char* names[] = {"pace", "cost", "arr", "growth"};
  return names[static_cast<int>(s)];
}

int Scenario::steps() const {
  const double n = std::round(horizon_years / dt());
  return n > max_steps ? max_steps + 1 : static_cast<int>(n);
}

std::string checkpoint_name(double year) {
  std::string s = format_double(year);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return "arr_at_" + s;
}

ScenarioError::ScenarioError(std::string file, int line, int column, std::string key,
                             std::string message)
    : std::runtime_error([&] {
        std::string w = file;
        if (line > 0) w += ":" + std::to_string(line) + ":" + std::to_string(column);
        w += ": ";
        if (!key.empty()) w += key + ": ";
        return w + message;
      }()),
      file_(std::move(file)),
      key_(std::move(key)),
      message_(std::move(message)),
      line_(line),
      column_(column) {}

// ---------------------------------------------------------------------------------------
// Validation (shared by the loader and by scenarios built in code)

namespace {

struct Location {
  int line = 0, column = 0;
};
using Locations = std::map<std::string, Location>;

class Checker {
 public:
  Checker(std::string file, const Locations* locs) : file_(std::move(file)), locs_(locs) {}

  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    Location loc = find(key);
    throw ScenarioError(file_, loc.line, loc.column, key, msg);
  }

  void check(const Scenario& s) const {
    if (s.name.empty()) fail("name", "expected a non-empty string");
    if (!std::isfinite(s.start_year)) fail("simulation.start", "expected a finite year");
    if (!(s.horizon_years > 0) || !std::isfinite(s.horizon_years))
      fail("simulation.horizon_years", "expected a number > 0, got " + num(s.horizon_years));
    const int n = s.steps();
    if (n < 1)
      fail("simulation.horizon_years", "expected a horizon of at least one " +
                                           std::string(step_name(s.step)) + ", got " +
                                           num(s.horizon_years) + " years");
    if (n > max_steps)
      fail("simulation.horizon_years",
           "expected at most " + std::to_string(max_steps) + " steps, got " + std::to_string(n));

    for (const ParamInfo& info : param_table()) {
      if (info.id == Param::plan_cap_gw && !s.has_plan_cap) continue;
      check_param(s[info.id], info);
    }
    if (s.has_plan_cap && s[Param::plan_cap_gw].lower() < s[Param::initial_gw].upper())
      fail("build.plan_cap_gw", "expected a plan cap >= build.initial_gw (" +
                                    num(s[Param::initial_gw].upper()) + "), got " +
                                    support(s[Param::plan_cap_gw]));

    for (std::size_t k = 0; k < s.contracts.size(); ++k) check_contract(s.contracts[k], k);
    for (std::size_t k = 0; k < s.vendors.size(); ++k) {
      const auto& v = s.vendors[k];
      const std::string base = "vendor_financing[" + std::to_string(k) + "].";
      non_negative(base + "per_gw", v.per_gw_bn);
      non_negative(base + "cap", v.cap_bn);
    }
    for (std::size_t k = 0; k < s.equity.size(); ++k) {
      const auto& e = s.equity[k];
      const std::string base = "equity[" + std::to_string(k) + "].";
      if (!std::isfinite(e.at_year) || e.at_year < s.start_year)
        fail(base + "at", "expected a year >= simulation.start (" + num(s.start_year) + "), got " +
                              num(e.at_year));
      non_negative(base + "amount", e.amount_bn);
    }
    check_correlation(s);
    check_input_correlation(s);
    check_thresholds(s);
    std::set<std::string> names;
    const double end = s.start_year + n * s.dt();
    for (std::size_t k = 0; k < s.checkpoints.size(); ++k) {
      const double y = s.checkpoints[k];
      const std::string key = "outputs.checkpoints[" + std::to_string(k) + "]";
      if (!std::isfinite(y) || y < s.start_year - 1e-9 ||
          std::ceil((y - s.start_year) / s.dt() - 1e-9) >= n)
        fail(key, "expected a year in [" + num(s.start_year) + ", " + num(end) +
                      ") (inside the simulated horizon), got " + num(y));
      if (!names.insert(checkpoint_name(y)).second)
        fail(key, "expected distinct checkpoints, got " + num(y) + " twice");
    }
  }

 private:
  Location find(std::string key) const {
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

  void non_negative(const std::string& key, double x) const {
    if (!std::isfinite(x) || x < 0) fail(key, "expected a finite number >= 0, got " + num(x));
  }

  void check_param(const Distribution& d, const ParamInfo& info) const {
    const std::string key = std::string(info.section) + "." + info.key;
    check_shape(d, key);
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
    non_negative(base + "total", c.total_bn);
    if (!std::isfinite(c.start_year)) fail(base + "start", "expected a finite year");
    if (!(c.years > 0) || !std::isfinite(c.years))
      fail(base + "years", "expected a positive term in years, got " + num(c.years));
    non_negative(base + "gw", c.gw);
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

  void check_thresholds(const Scenario& s) const {
    std::vector<std::string> known;
    for (std::size_t k = 0; k < base_output_count; ++k)
      known.push_back(output_name(static_cast<Output>(k)));
    for (double y : s.checkpoints) known.push_back(checkpoint_name(y));
    for (const auto& [name, values] : s.thresholds) {
      const std::string key = "outputs.thresholds." + name;
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        fail(key, "unknown output; expected one of: " + list);
      }
      for (std::size_t k = 0; k < values.size(); ++k)
        if (!std::isfinite(values[k]))
          fail(key + "[" + std::to_string(k) + "]", "expected a finite number");
    }
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
  const Locations* locs_;
};

// ---------------------------------------------------------------------------------------
// Loading

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
    toml::table root;
    try {
      root = toml::parse(text, file_);
    } catch (const toml::parse_error& e) {
      const auto& b = e.source().begin;
      throw ScenarioError(file_, static_cast<int>(b.line), static_cast<int>(b.column), "",
                          "invalid TOML: " + std::string(e.description()));
    }
    Scenario s;
    allowed(root, "",
            {"name", "simulation", "finance", "build", "cost", "revenue", "opex", "contract",
             "vendor_financing", "equity", "correlation", "input_correlation", "outputs"});

    if (auto* n = root.get("name")) {
      s.name = string(*n, "name");
    } else {
      s.name = default_name;
    }

    const toml::table* sim = table(root, "simulation", true);
    allowed(*sim, "simulation", {"start", "horizon_years", "step", "sampling"});
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

    for (const char* section : {"finance", "build", "cost", "revenue", "opex"}) {
      const toml::table* t = table(root, section, false);
      std::vector<std::string> keys;
      for (const ParamInfo& info : param_table())
        if (std::string(info.section) == section) keys.push_back(info.key);
      if (t) allowed(*t, section, keys);
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

    for_each_table(
        root, "contract", [&](const toml::table& t, const std::string& base, std::size_t k) {
          allowed(t, base, {"name", "total", "start", "years", "gw", "profile"});
          Contract c;
          c.name = t.get("name") ? string(*t.get("name"), base + ".name")
                                 : "contract-" + std::to_string(k + 1);
          c.total_bn = number(required(t, base, "total"), base + ".total");
          c.start_year = number(required(t, base, "start"), base + ".start");
          c.years = number(required(t, base, "years"), base + ".years");
          if (auto* n = t.get("gw")) c.gw = number(*n, base + ".gw");
          if (auto* n = t.get("profile")) {
            const std::string v = string(*n, base + ".profile");
            if (v == "flat")
              c.profile = Contract::Profile::flat;
            else if (v == "ramp")
              c.profile = Contract::Profile::ramp;
            else
              fail(*n, base + ".profile", "expected \"flat\" or \"ramp\", got \"" + v + "\"");
          }
          s.contracts.push_back(c);
        });
    for_each_table(root, "vendor_financing",
                   [&](const toml::table& t, const std::string& base, std::size_t k) {
                     allowed(t, base, {"name", "per_gw", "cap"});
                     VendorFinancing v;
                     v.name = t.get("name") ? string(*t.get("name"), base + ".name")
                                            : "vendor-" + std::to_string(k + 1);
                     v.per_gw_bn = number(required(t, base, "per_gw"), base + ".per_gw");
                     v.cap_bn = number(required(t, base, "cap"), base + ".cap");
                     s.vendors.push_back(v);
                   });
    for_each_table(root, "equity", [&](const toml::table& t, const std::string& base, std::size_t) {
      allowed(t, base, {"at", "amount"});
      EquityInjection e;
      e.at_year = number(required(t, base, "at"), base + ".at");
      e.amount_bn = number(required(t, base, "amount"), base + ".amount");
      s.equity.push_back(e);
    });

    if (const toml::table* c = table(root, "correlation", false)) correlation(*c, s);
    if (const toml::table* c = table(root, "input_correlation", false)) input_correlation(*c, s);

    if (const toml::table* o = table(root, "outputs", false)) {
      allowed(*o, "outputs", {"checkpoints", "thresholds"});
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
      if (auto* n = o->get("checkpoints")) {
        const toml::array& a = array(*n, "outputs.checkpoints");
        for (std::size_t k = 0; k < a.size(); ++k)
          s.checkpoints.push_back(
              number(*a.get(k), "outputs.checkpoints[" + std::to_string(k) + "]"));
      }
    }

    Checker(file_, &locs_).check(s);
    return s;
  }

 private:
  [[noreturn]] void fail(const toml::node& n, const std::string& key, const std::string& msg) {
    const auto& b = n.source().begin;
    throw ScenarioError(file_, static_cast<int>(b.line), static_cast<int>(b.column), key, msg);
  }

  void note(const toml::node& n, const std::string& key) {
    const auto& b = n.source().begin;
    if (b.line > 0) locs_[key] = {static_cast<int>(b.line), static_cast<int>(b.column)};
  }

  [[noreturn]] void missing(const toml::table* t, const std::string& key) {
    Location loc;
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
    allowed(c, "correlation", {"shocks", "matrix"});
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
    allowed(c, "input_correlation", {"inputs", "matrix"});
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
  Locations locs_;
};

std::string escape(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

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
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw ScenarioError(file.string(), 0, 0, "", "cannot read the scenario file");
  return parse_scenario(ss.str(), file.string());
}

void validate(const Scenario& scenario, std::string_view source_name) {
  Checker(std::string(source_name), nullptr).check(scenario);
}

std::string to_toml(const Scenario& s) {
  std::ostringstream o;
  o << "name = " << escape(s.name) << "\n\n[simulation]\n";
  o << "start = " << format_double(s.start_year) << "\n";
  o << "horizon_years = " << format_double(s.horizon_years) << "\n";
  o << "step = \"" << step_name(s.step) << "\"\n";
  if (s.sampling != Sampling::random) o << "sampling = \"" << sampling_name(s.sampling) << "\"\n";
  for (const char* section : {"finance", "build", "cost", "revenue", "opex"}) {
    o << "\n[" << section << "]\n";
    for (const ParamInfo& info : param_table()) {
      if (std::string(info.section) != section) continue;
      if (info.id == Param::plan_cap_gw && !s.has_plan_cap) continue;
      o << info.key << " = " << s[info.id].to_toml() << "\n";
    }
  }
  for (const Contract& c : s.contracts) {
    o << "\n[[contract]]\nname = " << escape(c.name) << "\ntotal = " << format_double(c.total_bn)
      << "\nstart = " << format_double(c.start_year) << "\nyears = " << format_double(c.years)
      << "\ngw = " << format_double(c.gw) << "\nprofile = \""
      << (c.profile == Contract::Profile::flat ? "flat" : "ramp") << "\"\n";
  }
  for (const VendorFinancing& v : s.vendors)
    o << "\n[[vendor_financing]]\nname = " << escape(v.name)
      << "\nper_gw = " << format_double(v.per_gw_bn) << "\ncap = " << format_double(v.cap_bn)
      << "\n";
  for (const EquityInjection& e : s.equity)
    o << "\n[[equity]]\nat = " << format_double(e.at_year)
      << "\namount = " << format_double(e.amount_bn) << "\n";
  if (!s.correlation_order.empty()) {
    o << "\n[correlation]\nshocks = [";
    for (std::size_t k = 0; k < s.correlation_order.size(); ++k)
      o << (k ? ", " : "") << '"' << shock_name(s.correlation_order[k]) << '"';
    o << "]\nmatrix = [";
    for (std::size_t i = 0; i < s.correlation_order.size(); ++i) {
      o << (i ? ",\n          [" : "[");
      for (std::size_t j = 0; j < s.correlation_order.size(); ++j)
        o << (j ? ", " : "")
          << format_double(s.correlation(static_cast<int>(s.correlation_order[i]),
                                         static_cast<int>(s.correlation_order[j])));
      o << "]";
    }
    o << "]\n";
  }
  if (const std::size_t k = s.input_correlation_inputs.size()) {
    o << "\n[input_correlation]\ninputs = [";
    for (std::size_t i = 0; i < k; ++i) {
      const ParamInfo& info = param_info(s.input_correlation_inputs[i]);
      o << (i ? ", " : "") << '"' << info.section << '.' << info.key << '"';
    }
    o << "]\nmatrix = [";
    for (std::size_t i = 0; i < k; ++i) {
      o << (i ? ",\n          [" : "[");
      for (std::size_t j = 0; j < k; ++j)
        o << (j ? ", " : "") << format_double(s.input_correlation[i * k + j]);
      o << "]";
    }
    o << "]\n";
  }
  if (!s.checkpoints.empty() || !s.thresholds.empty()) o << "\n[outputs]\n";
  if (!s.checkpoints.empty()) {
    o << "checkpoints = [";
    for (std::size_t k = 0; k < s.checkpoints.size(); ++k)
      o << (k ? ", " : "") << format_double(s.checkpoints[k]);
    o << "]\n";
  }
  if (!s.thresholds.empty()) {
    o << "thresholds = { ";
    for (std::size_t k = 0; k < s.thresholds.size(); ++k) {
      o << (k ? ", " : "") << s.thresholds[k].first << " = [";
      for (std::size_t j = 0; j < s.thresholds[k].second.size(); ++j)
        o << (j ? ", " : "") << format_double(s.thresholds[k].second[j]);
      o << "]";
    }
    o << " }\n";
  }
  return o.str();
}

std::string fingerprint(const Scenario& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : to_toml(s)) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace capexsim
