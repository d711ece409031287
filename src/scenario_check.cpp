// The checker: every rule of a valid scenario, one function for files and for scenarios
// built in code (the loader only adds source locations). Ranges and plausibility limits
// come from the key table (scenario_keys.cpp).

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include <Eigen/Cholesky>

#include "capexsim/detail/format.hpp"
#include "capexsim/scenario.hpp"
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
      fail("simulation.horizon_years", "expected at most " + std::to_string(detail::max_steps) +
                                           " steps, got " + std::to_string(n));

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
      amount(base + "per_gw", v.per_gw_bn, "vendor_financing", "per_gw");
      amount(base + "cap", v.cap_bn, "vendor_financing", "cap");
    }
    for (std::size_t k = 0; k < s.equity.size(); ++k) {
      const auto& e = s.equity[k];
      const std::string base = "equity[" + std::to_string(k) + "].";
      if (!std::isfinite(e.at_year) || e.at_year < s.start_year ||
          std::abs(e.at_year) > find_key("equity", "at")->plausible_max)
        fail(base + "at", "expected a year >= simulation.start (" + num(s.start_year) + "), got " +
                              num(e.at_year));
      amount(base + "amount", e.amount_bn, "equity", "amount");
    }
    check_correlation(s);
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

  void plausible(const std::string& key, const KeyInfo& info, double magnitude) const {
    if (magnitude > info.plausible_max) fail(key, detail::implausible(info, magnitude));
  }

  void check_param(const Distribution& d, const ParamInfo& info) const {
    const std::string key = std::string(info.section) + "." + info.key;
    check_shape(d, key);
    // Every parameter of the distribution (its location and spread are in the key's unit).
    double magnitude = 0;
    for (double x : d.params()) magnitude = std::max(magnitude, std::abs(x));
    if (d.kind() == Distribution::Kind::normal)
      for (double x : {d.min(), d.max()})
        if (std::isfinite(x)) magnitude = std::max(magnitude, std::abs(x));
    if (magnitude > info.plausible_max)
      fail(key, detail::implausible(*find_key(info.section, info.key), magnitude));
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
    amount(base + "total", c.total_bn, "contract", "total");
    if (!std::isfinite(c.start_year)) fail(base + "start", "expected a finite year");
    plausible(base + "start", *find_key("contract", "start"), std::abs(c.start_year));
    if (!(c.years > 0) || !std::isfinite(c.years))
      fail(base + "years", "expected a positive term in years, got " + num(c.years));
    plausible(base + "years", *find_key("contract", "years"), c.years);
    amount(base + "gw", c.gw, "contract", "gw");
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

void detail::check_scenario(const Scenario& s, const std::string& file,
                            const Locations* locations) {
  Checker(file, locations).check(s);
}

void validate(const Scenario& scenario, std::string_view source_name) {
  Checker(std::string(source_name), nullptr).check(scenario);
}

}  // namespace capexsim
