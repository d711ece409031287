// Sensitivity analysis (docs/sensitivity.md): rank measures, tornado, Sobol pick-freeze
// on the model, goal seek. Every method is built from ordinary runs of the engine.

#include "capexsim/sensitivity.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <span>

#include <Eigen/Dense>
#include <boost/math/tools/roots.hpp>

#include "capexsim/detail/bytes.hpp"
#include "capexsim/detail/format.hpp"
#include "capexsim/detail/select.hpp"
#include "capexsim/path_model.hpp"
#include "capexsim/statistics.hpp"

namespace capexsim {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::string fmt(double x) {
  return detail::format_double(x);
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  for (;;) {
    const auto at = text.find(sep, from);
    parts.emplace_back(text.substr(from, at == std::string_view::npos ? at : at - from));
    if (at == std::string_view::npos) return parts;
    from = at + 1;
  }
}

/// A whole-string number, or nullopt.
std::optional<double> number(std::string_view text) {
  const std::string t(text);
  if (t.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const double x = std::stod(t, &used);
    if (used != t.size() || !std::isfinite(x)) return std::nullopt;
    return x;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// The index of `output` in `names`, or SensitivityError listing them.
std::size_t find_output(const std::vector<std::string>& names, std::string_view output) {
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k] == output) return k;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw SensitivityError("unknown output '" + std::string(output) +
                         "' for this scenario; expected one of: " + list);
}

/// The column of `output` in `r`.
std::size_t output_column(const Result& r, std::string_view output) {
  return find_output(r.output_names, output);
}

std::span<const double> column(const Result& r, std::size_t k) {
  return {r.per_path.col(static_cast<Eigen::Index>(k)).data(), r.paths};
}

/// Are the values (NaN skipped) the same up to rounding: a spread of at most 1e-12 of
/// their magnitude? Such an output (e.g. capacity_end when every path builds to the cap)
/// has no variance to explain, only floating-point noise.
bool nearly_constant(std::span<const double> a, std::span<const double> b = {}) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (auto v : {a, b})
    for (double x : v)
      if (!std::isnan(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  if (!(lo <= hi)) return true;
  return hi - lo <= 1e-12 * std::max(std::abs(lo), std::abs(hi));
}

/// Progress over several runs of `paths` each: the caller's callback sees the total.
RunOptions run_of(const RunOptions& o, std::uint64_t done, std::uint64_t total) {
  RunOptions r = o;
  if (o.progress)
    r.progress = [f = o.progress, done, total](std::uint64_t d, std::uint64_t) {
      return f(done + d, total);
    };
  return r;
}

/// The fingerprint of a run with `o` (as run() makes it): the scenario's, then
/// "+NAME=<lab>" for each counterparty of a joint run, so the samples of one pair merge
/// only with samples of the same pair.
std::string joint_fingerprint(const Scenario& scenario, const RunOptions& o) {
  std::string f = fingerprint(scenario);
  for (const JointRun& j : o.counterparties) f += "+" + j.name + "=" + j.lab_fingerprint;
  return f;
}

/// `o` with each counterparty lab given the provider's variation `v`: path p of the
/// provider and of its lab stay one world (they share every variate, docs/model.md
/// §12.6). An input or process group drawn from the second seed is so in both; a pinned
/// input is pinned in the lab at the same quantile `pin_quantile[k]` of the lab's own
/// distribution (a fixed lab input keeps its value).
RunOptions with_lab_variation(const RunOptions& o, const Variation& v,
                              const std::array<double, param_count>& pin_quantile) {
  RunOptions r = o;
  for (JointRun& j : r.counterparties) {
    auto lab = std::make_shared<PathModel>(*j.lab);
    Variation lv = v;
    for (std::size_t k = 0; k < param_count; ++k)
      if (lv.pinned[k]) lv.pin[k] = lab->scenario().params[k].sample(pin_quantile[k]);
    lab->set_variation(lv);
    j.lab = std::move(lab);
  }
  return r;
}

/// Average ranks (1-based) of v: ties share the mean of their ranks.
std::vector<double> ranks(std::span<const double> v) {
  const std::size_t n = v.size();
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> r(n);
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && v[idx[j]] == v[idx[i]]) ++j;
    const double avg = 0.5 * static_cast<double>(i + j - 1) + 1;
    for (std::size_t k = i; k < j; ++k) r[idx[k]] = avg;
    i = j;
  }
  return r;
}

/// Pearson correlation; NaN when either side is constant.
double correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const Eigen::VectorXd x = a.array() - a.mean(), y = b.array() - b.mean();
  const double sxx = x.squaredNorm(), syy = y.squaredNorm();
  if (sxx <= 0 || syy <= 0) return nan;
  return x.dot(y) / std::sqrt(sxx * syy);
}

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

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

/// Where a varied key lives in a scenario.
struct KeyRef {
  Distribution* dist = nullptr;  // a distribution-valued key
  double* number = nullptr;      // a plain number (cancel_probability)
  std::size_t param = param_count;
};

const char* vary_forms =
    "expected <section>.<key> of a model input (e.g. build.plan_cap_gw, revenue.growth0, "
    "finance.initial_cash), build.coverage, valuation.arr_multiple, valuation.min_pre_money, "
    "equity_policy.<capacity_per_year|trigger_cash|target_cash|min_round>, "
    "debt.<name>.<rate|limit|min_cash|sweep>, contract.<name>.<total|start|years|gw|"
    "renewal_price_factor|cancel_probability> or vendor_financing.<name>.<per_gw|cap>";

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

}  // namespace

void check_output(const Scenario& scenario, std::string_view output) {
  find_output(PathModel(scenario).output_names(), output);
}

// ---------------------------------------------------------------------------------------
// Statistics

std::string Statistic::name() const {
  switch (kind) {
    case Kind::mean:
      return "mean";
    case Kind::prob_positive:
      return "prob_positive";
    case Kind::nan_share:
      return "nan_share";
    case Kind::quantile: {
      const double pct = level * 100;
      return "p" + (pct == std::round(pct) ? std::to_string(static_cast<int>(pct)) : fmt(pct));
    }
  }
  return "?";
}

Statistic parse_statistic(std::string_view text) {
  Statistic s;
  if (text == "mean") return s;
  if (text == "prob_positive") {
    s.kind = Statistic::Kind::prob_positive;
    return s;
  }
  if (text == "nan_share") {
    s.kind = Statistic::Kind::nan_share;
    return s;
  }
  if (text == "median") text = "p50";
  if (text.size() > 1 && text[0] == 'p')
    if (const auto q = number(text.substr(1)); q && *q > 0 && *q < 100) {
      s.kind = Statistic::Kind::quantile;
      s.level = *q / 100;
      return s;
    }
  throw SensitivityError("unknown statistic '" + std::string(text) +
                         "'; expected mean, pNN with 0 < NN < 100 (e.g. p50, p95, p2.5), "
                         "prob_positive or nan_share");
}

StatisticValue evaluate_statistic(const Statistic& stat, std::span<const double> values) {
  StatisticValue out;
  std::uint64_t defined = 0, positive = 0;
  for (double v : values)
    if (!std::isnan(v)) {
      ++defined;
      positive += v > 0;
    }
  out.defined = defined;
  if (stat.kind == Statistic::Kind::nan_share) {  // over all paths, as run --target reads it
    const auto n = static_cast<std::uint64_t>(values.size());
    out.value = n ? static_cast<double>(n - defined) / static_cast<double>(n) : nan;
    out.ci95 = proportion_ci95(n - defined, n);
    return out;
  }
  if (stat.kind == Statistic::Kind::prob_positive) {
    // Over all paths: a path where the output is undefined is not above 0.
    const auto n = static_cast<std::uint64_t>(values.size());
    out.value = n ? static_cast<double>(positive) / static_cast<double>(n) : nan;
    out.ci95 = proportion_ci95(positive, n);
    return out;
  }
  if (defined == 0) return {nan, nan, 0};
  if (stat.kind == Statistic::Kind::mean) {
    // Through the run's own accumulator (exact sums), so the mean has the bits of the
    // summary of a plain run.
    ScalarAccumulator acc;
    for (double v : values) acc.add(v);
    const Summary sm = acc.summary();
    out.value = sm.mean;
    out.ci95 = sm.mean_ci95;
    return out;
  }
  // A quantile (type 7) and its order-statistic 95% interval.
  const auto [lo, hi] = quantile_ci_ranks(defined, stat.level);
  const double m1 = static_cast<double>(defined - 1);
  const std::vector<double> levels = {stat.level, m1 > 0 ? static_cast<double>(lo) / m1 : 0.0,
                                      m1 > 0 ? static_cast<double>(hi) / m1 : 0.0};
  const auto q = detail::exact_quantiles(values, levels, levels[0]);
  out.value = q.quantiles[0];
  out.ci95 = 0.5 * (q.quantiles[2] - q.quantiles[1]);
  return out;
}

// ---------------------------------------------------------------------------------------
// Keys

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

// ---------------------------------------------------------------------------------------
// Fixed assumptions (tornado --assumptions)

namespace {

/// (code, comment) of one TOML line: the first # outside a string starts the comment.
std::pair<std::string_view, std::string_view> split_comment(std::string_view line) {
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == '\\' && quote == '"')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {
      return {line.substr(0, i), line.substr(i + 1)};
    }
  }
  return {line, {}};
}

int bracket_depth(std::string_view code) {
  int d = 0;
  char quote = 0;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    if (quote) {
      if (c == '\\' && quote == '"')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++d;
    } else if (c == ']' || c == '}') {
      --d;
    }
  }
  return d;
}

std::string trimmed(std::string_view s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string_view::npos) return {};
  const auto b = s.find_last_not_of(" \t\r");
  return std::string(s.substr(a, b - a + 1));
}

/// Keys (as --vary names them) whose own line's comment carries `[assumption]`.
std::vector<std::string> tagged_assumptions(const Scenario& s, std::string_view text) {
  std::vector<std::string> keys;
  std::string section;
  std::map<std::string, int> counts;
  int depth = 0;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    const auto [code, comment] = split_comment(text.substr(at, end - at));
    at = end + 1;
    if (depth > 0) {  // inside a value spanning lines
      depth += bracket_depth(code);
      continue;
    }
    const std::string line = trimmed(code);
    if (line.rfind("[[", 0) == 0) {
      section = trimmed(line.substr(2, line.find("]]") - 2));
      ++counts.try_emplace(section, -1).first->second;
      continue;
    }
    if (line.rfind("[", 0) == 0) {
      section = trimmed(line.substr(1, line.find(']') - 1));
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = trimmed(line.substr(0, eq));
    depth = std::max(0, bracket_depth(line.substr(eq + 1)));
    if (comment.find("[assumption]") == std::string_view::npos) continue;
    auto named = [&](const auto& items) -> std::string {
      const int k = counts[section];
      return k >= 0 && static_cast<std::size_t>(k) < items.size() ? items[k].name : std::string();
    };
    std::string name;
    if (section == "contract") name = named(s.contracts);
    if (section == "vendor_financing") name = named(s.vendors);
    if (section == "debt") name = named(s.financing.debt);
    if (!name.empty())
      keys.push_back(section + "." + name + "." + key);
    else if (counts.count(section) == 0)
      keys.push_back(section.empty() ? key : section + "." + key);
  }
  return keys;
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

}  // namespace

AssumptionRanges assumption_ranges(const Scenario& scenario, std::string_view toml_text,
                                   double share, bool all) {
  if (!(share > 0 && share < 1))
    throw SensitivityError("--assumptions " + fmt(share) +
                           ": expected a share between 0 and 1 (e.g. 20% or 0.2)");
  AssumptionRanges out;
  const std::vector<std::string> tagged =
      all ? std::vector<std::string>{} : tagged_assumptions(scenario, toml_text);
  for (const std::string& key : varyable_keys(scenario)) {
    if (!all && std::find(tagged.begin(), tagged.end(), key) == tagged.end()) continue;
    Scenario s = scenario;
    KeyRef ref;
    try {
      ref = find_ref(s, key);
    } catch (const SensitivityError&) {
      continue;  // not in this scenario (a plan cap it does not set, ...)
    }
    if (ref.dist && !ref.dist->is_fixed()) continue;  // drawn: the tornado pins it already
    if (ref.param == static_cast<std::size_t>(Param::plan_cap_gw) && !s.has_plan_cap) continue;
    const auto parts = split(key, '.');
    const KeyInfo* info = find_key(parts[0], parts.back());
    if (info && std::string_view(info->unit) == "calendar year") continue;  // a date, not a size
    const double value = ref.number ? *ref.number : ref.dist->value();
    if (!std::isfinite(value) || value == 0) continue;
    const double a = value * (1 - share), b = value * (1 + share);
    VaryRange r{key, std::min(a, b), std::max(a, b)};
    try {
      (void)with_key_value(scenario, key, r.lo);
      (void)with_key_value(scenario, key, r.hi);
    } catch (const SensitivityError& e) {
      out.skipped.push_back(key + ": " + e.what());
      continue;
    }
    out.ranges.push_back(std::move(r));
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Rank measures

RankTable rank_sensitivity(const Result& r, std::string_view output) {
  const std::size_t col = output_column(r, output);
  if (!r.has_per_path())
    throw SensitivityError("rank measures need per-path outputs (run with keep_paths)");
  RankTable t;
  t.output = std::string(output);
  t.paths = r.paths;
  if (r.input_names.empty())
    throw SensitivityError(
        "the scenario draws no input (every input is a fixed number), so "
        "there is nothing to rank; use tornado with --vary");
  if (!r.has_inputs())
    throw SensitivityError("rank measures need the per-path inputs (run with keep_inputs)");
  const auto y = column(r, col);
  std::vector<std::size_t> rows;
  for (std::size_t p = 0; p < r.paths; ++p)
    if (!std::isnan(y[p])) rows.push_back(p);
  t.defined = rows.size();
  t.nan_share = 1 - static_cast<double>(t.defined) / static_cast<double>(r.paths);
  const std::size_t k = r.input_names.size(), m = rows.size();
  if (m < 3)
    throw SensitivityError("output '" + t.output + "' is defined on " + std::to_string(m) + " of " +
                           std::to_string(r.paths) + " paths; rank measures need at least 3");
  // Ranks over the defined paths.
  std::vector<double> buf(m);
  for (std::size_t i = 0; i < m; ++i) buf[i] = y[rows[i]];
  // Checked on the output's values (buf is reused for each input below).
  if (nearly_constant(buf))
    throw SensitivityError("output '" + t.output +
                           "' is the same on every path where it is defined (" + fmt(y[rows[0]]) +
                           ", up to rounding), so no input can explain it");
  const auto ry = ranks(buf);
  const Eigen::VectorXd Ry =
      Eigen::Map<const Eigen::VectorXd>(ry.data(), static_cast<Eigen::Index>(m));
  Eigen::MatrixXd X(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(k));
  for (std::size_t j = 0; j < k; ++j) {
    const double* x = r.inputs.col(static_cast<Eigen::Index>(j)).data();
    for (std::size_t i = 0; i < m; ++i) buf[i] = x[rows[i]];
    const auto rx = ranks(buf);
    for (std::size_t i = 0; i < m; ++i)
      X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rx[i];
  }
  t.rows.resize(k);
  std::vector<Eigen::Index> varying;
  for (std::size_t j = 0; j < k; ++j) {
    t.rows[j].factor = r.input_names[j];
    t.rows[j].spearman = correlation(X.col(static_cast<Eigen::Index>(j)), Ry);
    t.rows[j].srrc = 0;
    if (!std::isnan(t.rows[j].spearman)) varying.push_back(static_cast<Eigen::Index>(j));
  }
  // Standardised rank regression: b = Rxx^-1 rxy over the inputs that vary, R^2 = b.rxy.
  const Eigen::Index v = static_cast<Eigen::Index>(varying.size());
  if (v > 0) {
    Eigen::MatrixXd Z(static_cast<Eigen::Index>(m), v);
    for (Eigen::Index j = 0; j < v; ++j) {
      const Eigen::VectorXd c = X.col(varying[static_cast<std::size_t>(j)]);
      const Eigen::VectorXd d = c.array() - c.mean();
      Z.col(j) = d / d.norm();
    }
    const Eigen::VectorXd yc = Ry.array() - Ry.mean();
    const double yn = yc.norm();
    if (yn > 0) {
      const Eigen::VectorXd zy = yc / yn;
      const Eigen::MatrixXd Rxx = Z.transpose() * Z;
      const Eigen::VectorXd rxy = Z.transpose() * zy;
      const Eigen::VectorXd b = Rxx.colPivHouseholderQr().solve(rxy);
      t.r2 = b.dot(rxy);
      const double sum_b2 = b.squaredNorm();
      for (Eigen::Index j = 0; j < v; ++j) {
        RankRow& row = t.rows[static_cast<std::size_t>(varying[static_cast<std::size_t>(j)])];
        row.srrc = b(j);
        row.contribution = sum_b2 > 0 ? b(j) * b(j) / sum_b2 * t.r2 : 0;
      }
    } else {
      t.r2 = nan;  // a constant output: nothing to explain
    }
  }
  // The event: does the output happen at all, against each input over every path.
  for (std::size_t j = 0; j < k; ++j) t.rows[j].event_spearman = nan;
  if (m < r.paths) {
    std::vector<double> ev(r.paths);
    for (std::size_t p = 0; p < r.paths; ++p) ev[p] = std::isnan(y[p]) ? 0.0 : 1.0;
    const auto re = ranks(ev);
    const Eigen::VectorXd Re =
        Eigen::Map<const Eigen::VectorXd>(re.data(), static_cast<Eigen::Index>(r.paths));
    for (std::size_t j = 0; j < k; ++j) {
      const auto rx = ranks(
          std::span<const double>(r.inputs.col(static_cast<Eigen::Index>(j)).data(), r.paths));
      t.rows[j].event_spearman = correlation(
          Eigen::Map<const Eigen::VectorXd>(rx.data(), static_cast<Eigen::Index>(r.paths)), Re);
    }
  }
  std::stable_sort(t.rows.begin(), t.rows.end(), [](const RankRow& a, const RankRow& b) {
    const double x = std::isnan(a.srrc) ? -1 : std::abs(a.srrc);
    const double y = std::isnan(b.srrc) ? -1 : std::abs(b.srrc);
    return x > y;
  });
  return t;
}

// ---------------------------------------------------------------------------------------
// Tornado

TornadoSamples tornado_samples(const Scenario& scenario, std::string_view output,
                               const RunOptions& options, const TornadoOptions& opt) {
  if (!(opt.low > 0 && opt.low < opt.high && opt.high < 1))
    throw SensitivityError("tornado quantiles: expected 0 < low < high < 1, got low = " +
                           fmt(opt.low) + ", high = " + fmt(opt.high));
  check_output(scenario, output);
  for (const auto& v : opt.vary) {
    if (!(v.lo < v.hi))
      throw SensitivityError("--vary " + v.key + ": LO (" + fmt(v.lo) + ") must be below HI (" +
                             fmt(v.hi) + ")");
    with_key_value(scenario, v.key, v.lo);  // validates the key and both ends up front
    with_key_value(scenario, v.key, v.hi);
  }
  RunOptions o = options;
  o.keep_paths = true;
  o.keep_inputs = false;
  o.bands = false;
  o.trace_series.clear();
  const PathModel base_model(scenario);
  std::vector<std::size_t> drawn;
  for (std::size_t k = 0; k < param_count; ++k)
    if (!scenario.params[k].is_fixed()) drawn.push_back(k);
  for (std::size_t i = 0; i < opt.vary.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j)
      if (opt.vary[i].key == opt.vary[j].key)
        throw SensitivityError("--vary " + opt.vary[i].key + " is given twice");
    for (std::size_t k : drawn)
      if (opt.vary[i].key == std::string(param_table()[k].section) + "." + param_table()[k].key)
        throw SensitivityError(
            "--vary " + opt.vary[i].key +
            ": a drawn input, which the tornado already pins at its own quantiles (--low, "
            "--high); --vary is for fixed keys (to move a distribution's mean, use calibrate "
            "or a scenario copy)");
  }
  // Drawn inputs outside the model's input table (the demand plan's coverage, debt rates,
  // the valuation's multiple, equity capacity, contract terms, ...): pinned the same way, at
  // their own quantiles, by a copy of the scenario where that one distribution is the fixed
  // number. Each draws on its own counters, so every other random number of the path is
  // unchanged (common random numbers); a joint run pins it in the provider only.
  struct Extra {
    std::string key;
    double lo, hi;
  };
  std::vector<Extra> extras;
  for (const std::string& key : varyable_keys(scenario)) {
    bool in_table = false;
    for (std::size_t k = 0; k < param_count; ++k)
      in_table |= key == std::string(param_table()[k].section) + "." + param_table()[k].key;
    if (in_table) continue;
    Scenario copy = scenario;
    KeyRef ref;
    try {
      ref = find_ref(copy, key);
    } catch (const SensitivityError&) {
      continue;
    }
    if (!ref.dist || ref.dist->is_fixed()) continue;
    for (const auto& v : opt.vary)
      if (v.key == key)
        throw SensitivityError("--vary " + key +
                               ": a drawn input, which the tornado already pins at its own "
                               "quantiles (--low, --high); --vary is for fixed keys");
    extras.push_back({key, ref.dist->sample(opt.low), ref.dist->sample(opt.high)});
  }
  if (drawn.empty() && extras.empty() && opt.vary.empty())
    throw SensitivityError(
        "the scenario draws no input (every input is a fixed number) and "
        "no --vary was given: there is nothing to pin; add --vary KEY=LO:HI");
  auto pinned_copy = [&](const std::string& key, double value) {
    Scenario copy = scenario;
    *find_ref(copy, key).dist = Distribution::fixed(value);
    return copy;
  };
  TornadoSamples out;
  out.scenario_fingerprint = joint_fingerprint(scenario, o);
  out.output = std::string(output);
  out.seed = o.seed;
  out.first_path = o.first_path;
  out.paths = o.paths;
  out.low = opt.low;
  out.high = opt.high;
  const std::uint64_t runs = 1 + 2 * (drawn.size() + extras.size() + opt.vary.size());
  std::uint64_t done = 0;
  auto values_of = [&](const PathModel& model, const RunOptions& ro) {
    const Result r = run(model, run_of(ro, done, runs * o.paths));
    done += o.paths;
    const auto c = column(r, output_column(r, output));
    out.values.emplace_back(c.begin(), c.end());
  };
  values_of(base_model, o);
  for (std::size_t k : drawn) {
    TornadoRow row;
    const ParamInfo& info = param_table()[k];
    row.factor = std::string(info.section) + "." + info.key;
    row.low_input = scenario.params[k].sample(opt.low);
    row.high_input = scenario.params[k].sample(opt.high);
    for (int side = 0; side < 2; ++side) {
      PathModel m = base_model;
      Variation v;
      v.pinned[k] = true;
      v.pin[k] = side == 0 ? row.low_input : row.high_input;
      m.set_variation(v);
      std::array<double, param_count> q{};
      q[k] = side == 0 ? opt.low : opt.high;
      values_of(m, o.counterparties.empty() ? o : with_lab_variation(o, v, q));
    }
    out.rows.push_back(row);
  }
  for (const Extra& e : extras) {
    TornadoRow row;
    row.factor = e.key;
    row.low_input = e.lo;
    row.high_input = e.hi;
    values_of(PathModel(pinned_copy(e.key, e.lo)), o);
    values_of(PathModel(pinned_copy(e.key, e.hi)), o);
    out.rows.push_back(row);
  }
  for (const auto& vr : opt.vary) {
    TornadoRow row;
    row.factor = vr.key;
    row.varied = true;
    row.low_input = vr.lo;
    row.high_input = vr.hi;
    values_of(PathModel(with_key_value(scenario, vr.key, vr.lo)), o);
    values_of(PathModel(with_key_value(scenario, vr.key, vr.hi)), o);
    out.rows.push_back(row);
  }
  return out;
}

TornadoTable tornado_table(const TornadoSamples& s, const Statistic& stat) {
  TornadoTable t;
  t.output = s.output;
  t.statistic = stat.name();
  const auto b = evaluate_statistic(stat, s.values.at(0));
  if (b.defined == 0 && !stat.is_share())
    throw SensitivityError("output '" + s.output +
                           "' is undefined (the event never happens) on every path of the "
                           "base run; use --stat prob_positive");
  t.base = b.value;
  t.base_ci95 = b.ci95;
  t.base_nan_share = 1 - static_cast<double>(b.defined) / static_cast<double>(s.paths);
  for (std::size_t i = 0; i < s.rows.size(); ++i) {
    TornadoRow row = s.rows[i];
    row.stat_low = evaluate_statistic(stat, s.values.at(1 + 2 * i)).value;
    row.stat_high = evaluate_statistic(stat, s.values.at(2 + 2 * i)).value;
    row.stat_base = t.base;
    row.swing = std::abs(row.stat_high - row.stat_low);
    t.rows.push_back(row);
  }
  std::stable_sort(t.rows.begin(), t.rows.end(), [](const TornadoRow& a, const TornadoRow& b) {
    const double x = std::isnan(a.swing) ? -1 : a.swing, y = std::isnan(b.swing) ? -1 : b.swing;
    return x > y;
  });
  return t;
}

TornadoTable tornado(const Scenario& scenario, std::string_view output, const Statistic& stat,
                     const RunOptions& options, const TornadoOptions& opt) {
  RunOptions o = options;
  o.first_path = 0;
  return tornado_table(tornado_samples(scenario, output, o, opt), stat);
}

namespace {
constexpr std::uint64_t tornado_magic = 0x31444e524f4e5254ull;  // "TRNORND1"
}

std::string TornadoSamples::to_bytes() const {
  std::string out;
  detail::ByteWriter w(out);
  w.put(tornado_magic);
  w.put_string(scenario_fingerprint);
  w.put_string(output);
  w.put(seed);
  w.put(first_path);
  w.put(paths);
  w.put(low);
  w.put(high);
  w.put<std::uint64_t>(rows.size());
  for (const auto& r : rows) {
    w.put_string(r.factor);
    w.put(r.low_input);
    w.put(r.high_input);
    w.put<std::uint8_t>(r.varied ? 1 : 0);
  }
  w.put<std::uint64_t>(values.size());
  for (const auto& v : values) w.put_vector(v);
  return out;
}

TornadoSamples TornadoSamples::from_bytes(std::string_view bytes) {
  detail::ByteReader r(bytes);
  if (r.get<std::uint64_t>() != tornado_magic)
    throw std::invalid_argument("not capexsim tornado samples (bad header)");
  TornadoSamples s;
  s.scenario_fingerprint = r.get_string();
  s.output = r.get_string();
  s.seed = r.get<std::uint64_t>();
  s.first_path = r.get<std::uint64_t>();
  s.paths = r.get<std::uint64_t>();
  s.low = r.get<double>();
  s.high = r.get<double>();
  const auto k = r.get<std::uint64_t>();
  if (k > 4096) throw std::invalid_argument("tornado samples: corrupt row count");
  for (std::uint64_t i = 0; i < k; ++i) {
    TornadoRow row;
    row.factor = r.get_string();
    row.low_input = r.get<double>();
    row.high_input = r.get<double>();
    row.varied = r.get<std::uint8_t>() != 0;
    s.rows.push_back(row);
  }
  const auto runs = r.get<std::uint64_t>();
  if (runs != 1 + 2 * k) throw std::invalid_argument("tornado samples: corrupt run count");
  for (std::uint64_t i = 0; i < runs; ++i) {
    s.values.push_back(r.get_vector<double>());
    if (s.values.back().size() != s.paths)
      throw std::invalid_argument("tornado samples: corrupt path count");
  }
  if (!r.done()) throw std::invalid_argument("tornado samples: trailing data");
  return s;
}

namespace {

/// Samples of adjacent path ranges of one analysis (either order), merged in path order:
/// `same(a, b)` says whether they are of one analysis (else SensitivityError saying
/// `differ`), `append(m, b)` appends b's per-path values to m.
template <class Samples, class Same, class Append>
Samples merge_ranges(const Samples& a_in, const Samples& b_in, const char* kind, const char* differ,
                     Same same, Append append) {
  const bool swap = b_in.first_path + b_in.paths == a_in.first_path;
  const Samples& a = swap ? b_in : a_in;
  const Samples& b = swap ? a_in : b_in;
  const std::string what = std::string("merge: the ") + kind + " samples";
  if (a.scenario_fingerprint != b.scenario_fingerprint || a.output != b.output || !same(a, b))
    throw SensitivityError(what + " come from different analyses (" + differ + " differ)");
  if (a.seed != b.seed) throw SensitivityError(what + " have different seeds");
  if (a.first_path + a.paths != b.first_path)
    throw SensitivityError(
        what + "' path ranges are not adjacent ([" + std::to_string(a.first_path) + ", " +
        std::to_string(a.first_path + a.paths) + ") and [" + std::to_string(b.first_path) + ", " +
        std::to_string(b.first_path + b.paths) + "))");
  Samples m = a;
  m.paths = a.paths + b.paths;
  append(m, b);
  return m;
}

template <class T>
void append_to(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

}  // namespace

TornadoSamples merge(const TornadoSamples& a, const TornadoSamples& b) {
  const auto same = [](const TornadoSamples& x, const TornadoSamples& y) {
    if (x.low != y.low || x.high != y.high || x.rows.size() != y.rows.size()) return false;
    for (std::size_t i = 0; i < x.rows.size(); ++i)
      if (x.rows[i].factor != y.rows[i].factor || x.rows[i].low_input != y.rows[i].low_input ||
          x.rows[i].high_input != y.rows[i].high_input || x.rows[i].varied != y.rows[i].varied)
        return false;
    return true;
  };
  return merge_ranges(a, b, "tornado", "scenario, output, quantiles or --vary ranges", same,
                      [](TornadoSamples& m, const TornadoSamples& y) {
                        for (std::size_t r = 0; r < m.values.size(); ++r)
                          append_to(m.values[r], y.values[r]);
                      });
}

// ---------------------------------------------------------------------------------------
// Sobol on the model

namespace {

/// Whether the scenario draws anything from financing group `g` (docs/sensitivity.md):
/// a group that draws nothing is no factor. `labs`: the counterparties of a joint run, whose
/// revenue contracts default with the lab instead of on their own draw.
bool draws(const Scenario& s, ProcessGroup g, std::span<const JointRun> labs = {}) {
  const Financing& f = s.financing;
  switch (g) {
    case ProcessGroup::debt_rates:
      return std::any_of(f.debt.begin(), f.debt.end(),
                         [](const DebtFacility& d) { return !d.rate.is_fixed(); });
    case ProcessGroup::valuation:
      return f.valuation &&
             (!f.valuation->arr_multiple.is_fixed() || !f.valuation->distress_factor.is_fixed());
    case ProcessGroup::equity_capacity:
      return f.equity_policy && !f.equity_policy->capacity_per_year.is_fixed();
    case ProcessGroup::warrant_price:
      return std::any_of(f.warrants.begin(), f.warrants.end(),
                         [](const Warrant& w) { return w.price_volatility > 0; });
    case ProcessGroup::deal_terms:
      return PathModel(s).per_path_terms();
    case ProcessGroup::plan_coverage:
      return s.plan.kind == BuildPlan::Kind::demand && !s.plan.coverage.is_fixed();
    case ProcessGroup::revenue_defaults:
      for (std::size_t k = 0; k < s.revenue_contracts.size(); ++k) {
        const RevenueContract& c = s.revenue_contracts[k];
        // A contract paid by a counterparty lab defaults with the lab (no draw of its own).
        const bool joint = std::any_of(labs.begin(), labs.end(), [&](const JointRun& j) {
          return j.revenue_contract == static_cast<int>(k);
        });
        if (!joint && (!c.default_rate.is_fixed() || c.default_rate.value() > 0)) return true;
      }
      return false;
    default:
      return true;  // the four processes are always factors
  }
}

/// Is input k drawn by the scenario or by any counterparty lab (they share its variate)?
bool drawn_in(const Scenario& scenario, std::span<const JointRun> labs, std::size_t k) {
  if (!scenario.params[k].is_fixed()) return true;
  for (const JointRun& j : labs)
    if (!j.lab->scenario().params[k].is_fixed()) return true;
  return false;
}
/// The process groups that are factors: those the scenario or any counterparty lab draws
/// (a lab's financing draws switch with the scenario's, as its inputs do), in group order.
std::vector<ProcessGroup> sobol_groups(const Scenario& scenario, std::span<const JointRun> labs) {
  std::vector<ProcessGroup> groups;
  for (std::size_t i = 0; i < process_group_count; ++i) {
    const auto g = static_cast<ProcessGroup>(i);
    bool drawn = draws(scenario, g, labs);
    for (const JointRun& j : labs) drawn = drawn || draws(j.lab->scenario(), g);
    if (drawn) groups.push_back(g);
  }
  return groups;
}
}  // namespace

std::vector<std::string> sobol_factors(const Scenario& scenario,
                                       std::span<const JointRun> counterparties) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < param_count; ++k)
    if (drawn_in(scenario, counterparties, k))
      names.push_back(std::string(param_table()[k].section) + "." + param_table()[k].key);
  for (ProcessGroup g : sobol_groups(scenario, counterparties))
    names.push_back(process_group_name(g));
  return names;
}

SobolSamples sobol_samples(const Scenario& scenario_in, std::string_view output,
                           const Statistic& stat, const RunOptions& options,
                           const std::string& over_time_series) {
  if (stat.kind == Statistic::Kind::quantile || stat.kind == Statistic::Kind::nan_share)
    throw SensitivityError("--stat " + stat.name() +
                           " does not apply to sobol: Sobol indices split the variance of the "
                           "per-path output; use --stat mean (the output) or prob_positive "
                           "(the indicator output > 0)");
  if (!scenario_in.input_correlation_inputs.empty())
    throw SensitivityError(
        "sobol: the scenario's [input_correlation] makes its inputs dependent, and Sobol "
        "indices assume independent inputs; use --method rank or tornado, or remove "
        "[input_correlation] for this analysis");
  if (options.paths < 1) throw SensitivityError("sobol needs at least 1 path per range");
  Scenario scenario = scenario_in;
  scenario.sampling = Sampling::random;  // A and B are plain, independent draws
  const PathModel model(scenario);
  const bool over_time = !over_time_series.empty();
  if (over_time) {
    bool found = false;
    std::string list;
    for (Series s : model.series()) {
      found = found || over_time_series == series_name(s);
      list += (list.empty() ? "" : ", ") + std::string(series_name(s));
    }
    if (!found)
      throw SensitivityError("unknown series '" + over_time_series +
                             "' for --over-time; expected one of: " + list);
    if (scenario.checkpoints.empty())
      throw SensitivityError("--over-time needs checkpoint years ([outputs] checkpoints)");
  } else {
    check_output(scenario, output);
  }

  // Factors: the drawn inputs, then the process groups.
  std::vector<Variation> switches;
  SobolSamples out;
  out.factors = sobol_factors(scenario, options.counterparties);
  const std::uint64_t a = options.seed;
  std::uint64_t b = splitmix64(a ^ 0x736f626f6c2d6246ull);  // "sobol-bF"
  if (b == a) ++b;
  for (std::size_t k = 0; k < param_count; ++k)
    if (drawn_in(scenario, options.counterparties, k)) {
      Variation v;
      v.alt_seed = b;
      v.alt_input[k] = true;
      switches.push_back(v);
    }
  for (ProcessGroup g : sobol_groups(scenario, options.counterparties)) {
    Variation v;
    v.alt_seed = b;
    v.alt_group[static_cast<std::size_t>(g)] = true;
    switches.push_back(v);
  }

  RunOptions o = options;
  o.keep_paths = true;
  o.keep_inputs = false;
  o.bands = over_time;
  o.trace_series = over_time_series;
  o.design_paths = 0;
  const std::uint64_t n = o.paths, runs = switches.size() + 2, total = runs * n;
  out.scenario_fingerprint = joint_fingerprint(scenario_in, o);
  out.output = over_time ? over_time_series : std::string(output);
  out.over_time = over_time_series;
  out.statistic = stat.kind == Statistic::Kind::prob_positive ? "prob_positive" : "value";
  out.seed = a;
  out.first_path = o.first_path;
  out.paths = n;
  std::vector<std::size_t> quantities;  // the trace columns analysed (over time)
  if (over_time) {
    for (std::size_t c = 0; c < scenario.checkpoints.size(); ++c)
      if (model.checkpoint_steps()[c] < model.steps()) {  // within the horizon
        quantities.push_back(c);
        out.years.push_back(scenario.checkpoints[c]);
      }
    out.values.resize(quantities.size());
  } else {
    out.values.resize(1);
  }
  for (auto& q : out.values) q.resize(runs);

  std::uint64_t done = 0;
  auto go = [&](const PathModel& m, std::uint64_t seed, std::size_t r) {
    RunOptions ro = run_of(o, done, total);
    ro.seed = seed;
    const Result res = run(m, ro);
    done += n;
    auto keep = [&](std::vector<double>& y) {
      if (stat.kind == Statistic::Kind::prob_positive)
        for (double& v : y) v = v > 0 ? 1.0 : 0.0;
    };
    if (over_time) {
      for (std::size_t q = 0; q < quantities.size(); ++q) {
        const auto col = res.trace.col(static_cast<Eigen::Index>(quantities[q]));
        out.values[q][r].assign(col.data(), col.data() + n);
        keep(out.values[q][r]);
      }
    } else {
      const auto c = column(res, output_column(res, output));
      out.values[0][r].assign(c.begin(), c.end());
      keep(out.values[0][r]);
    }
  };
  go(model, a, 0);
  go(model, b, 1);
  for (std::size_t i = 0; i < switches.size(); ++i) {
    PathModel m = model;
    m.set_variation(switches[i]);
    // A joint run's lab switches the same variates (one world, path by path).
    if (!o.counterparties.empty()) {
      const RunOptions base = o;
      o = with_lab_variation(base, switches[i], {});
      go(m, a, i + 2);
      o = base;
      continue;
    }
    go(m, a, i + 2);
  }
  return out;
}

namespace {
constexpr std::uint64_t samples_magic = 0x3153454c504d4153ull;  // "SAMPLES1"
}

std::string SobolSamples::to_bytes() const {
  std::string out;
  detail::ByteWriter w(out);
  w.put(samples_magic);
  w.put_string(scenario_fingerprint);
  w.put_string(output);
  w.put_string(statistic);
  w.put_string(over_time);
  w.put(seed);
  w.put(first_path);
  w.put(paths);
  w.put<std::uint64_t>(factors.size());
  for (const auto& f : factors) w.put_string(f);
  w.put_vector(years);
  w.put<std::uint64_t>(values.size());
  for (const auto& q : values) {
    w.put<std::uint64_t>(q.size());
    for (const auto& r : q) w.put_vector(r);
  }
  return out;
}

SobolSamples SobolSamples::from_bytes(std::string_view bytes) {
  detail::ByteReader r(bytes);
  if (r.get<std::uint64_t>() != samples_magic)
    throw std::invalid_argument("not capexsim Sobol samples (bad header)");
  SobolSamples s;
  s.scenario_fingerprint = r.get_string();
  s.output = r.get_string();
  s.statistic = r.get_string();
  s.over_time = r.get_string();
  s.seed = r.get<std::uint64_t>();
  s.first_path = r.get<std::uint64_t>();
  s.paths = r.get<std::uint64_t>();
  const auto k = r.get<std::uint64_t>();
  if (k > 4096) throw std::invalid_argument("Sobol samples: corrupt factor count");
  for (std::uint64_t i = 0; i < k; ++i) s.factors.push_back(r.get_string());
  s.years = r.get_vector<double>();
  const auto nq = r.get<std::uint64_t>();
  if (nq > 4096) throw std::invalid_argument("Sobol samples: corrupt quantity count");
  s.values.resize(nq);
  for (auto& q : s.values) {
    const auto runs = r.get<std::uint64_t>();
    if (runs != k + 2) throw std::invalid_argument("Sobol samples: corrupt run count");
    q.resize(runs);
    for (auto& v : q) {
      v = r.get_vector<double>();
      if (v.size() != s.paths) throw std::invalid_argument("Sobol samples: corrupt path count");
    }
  }
  if (!r.done()) throw std::invalid_argument("Sobol samples: trailing data");
  return s;
}

SobolSamples merge(const SobolSamples& a, const SobolSamples& b) {
  const auto same = [](const SobolSamples& x, const SobolSamples& y) {
    return x.statistic == y.statistic && x.over_time == y.over_time && x.factors == y.factors &&
           x.years == y.years;
  };
  return merge_ranges(a, b, "Sobol", "scenario, output, statistic or factors", same,
                      [](SobolSamples& m, const SobolSamples& y) {
                        for (std::size_t q = 0; q < m.values.size(); ++q)
                          for (std::size_t r = 0; r < m.values[q].size(); ++r)
                            append_to(m.values[q][r], y.values[q][r]);
                      });
}

SobolTable sobol_table(const SobolSamples& s, const SobolOptions& estimator) {
  if (s.paths < 2) throw SensitivityError("sobol needs at least 2 base paths");
  SobolOptions est = estimator;
  est.seed = splitmix64(s.seed);
  const std::uint64_t n = s.paths;
  auto indices = [&](std::size_t q, SobolTable& t) {
    const auto& ys = s.values[q];
    const std::string what =
        s.over_time.empty() ? s.output : s.over_time + " in " + fmt(s.years[q]);
    for (const auto& y : ys) {
      const auto bad = std::count_if(y.begin(), y.end(), [](double v) { return std::isnan(v); });
      if (bad > 0)
        throw SensitivityError(
            what + " is NaN (the event never happens) on " + std::to_string(bad) + " of " +
            std::to_string(y.size()) +
            " paths; Sobol indices need a value on every path: use --stat prob_positive (the "
            "chance it is positive) or --method rank, which reports the NaN share");
    }
    if (nearly_constant(ys[0], ys[1]))
      throw SensitivityError(what + " is " + fmt(ys[0][0]) +
                             " on every path (up to rounding): it has no variance for any "
                             "factor to explain");
    std::vector<std::span<const double>> ab;
    for (std::size_t i = 2; i < ys.size(); ++i) ab.emplace_back(ys[i]);
    double mean = 0, m2 = 0;
    for (std::size_t i = 0; i < 2; ++i)
      for (double v : ys[i]) mean += v;
    mean /= static_cast<double>(2 * n);
    for (std::size_t i = 0; i < 2; ++i)
      for (double v : ys[i]) m2 += (v - mean) * (v - mean);
    t.mean = mean;
    t.variance = m2 / static_cast<double>(2 * n - 1);
    return sobol_from_samples(ys[0], ys[1], ab, s.factors, est);
  };
  SobolTable t;
  t.output = s.output;
  t.statistic = s.statistic;
  t.base_paths = n;
  t.total_paths = n * (s.factors.size() + 2);
  if (s.over_time.empty()) {
    t.rows = indices(0, t);
  } else {
    t.years = s.years;
    for (std::size_t q = 0; q < s.values.size(); ++q) {
      t.over_time.push_back(indices(q, t));
      t.year_means.push_back(t.mean);
      t.year_variances.push_back(t.variance);
    }
    t.mean = t.variance = nan;
  }
  return t;
}

SobolTable sobol_sensitivity(const Scenario& scenario, std::string_view output,
                             const Statistic& stat, const RunOptions& options,
                             const SobolModelOptions& sobol) {
  if (options.paths < 2) throw SensitivityError("sobol needs at least 2 base paths");
  RunOptions o = options;
  o.first_path = 0;
  return sobol_table(sobol_samples(scenario, output, stat, o, sobol.over_time), sobol.estimator);
}

// ---------------------------------------------------------------------------------------
// Goal seek

CalibrateResult calibrate(const Scenario& scenario, const VaryRange& range, std::string_view output,
                          const Statistic& stat, double target, const RunOptions& options) {
  if (!(range.lo < range.hi))
    throw SensitivityError("--vary " + range.key + ": LO (" + fmt(range.lo) +
                           ") must be below HI (" + fmt(range.hi) + ")");
  if (!std::isfinite(target)) throw SensitivityError("the target must be a finite number");
  check_output(scenario, output);
  with_key_value(scenario, range.key, range.lo);
  with_key_value(scenario, range.key, range.hi);
  RunOptions o = options;
  o.keep_paths = true;
  o.keep_inputs = false;
  o.bands = false;
  o.trace_series.clear();
  CalibrateResult res;
  res.key = range.key;
  res.output = std::string(output);
  res.statistic = stat.name();
  res.target = target;
  constexpr int max_runs = 40;
  auto eval = [&](double x) {
    const Result r = run(with_key_value(scenario, range.key, x),
                         run_of(o, static_cast<std::uint64_t>(res.runs) * o.paths,
                                static_cast<std::uint64_t>(max_runs) * o.paths));
    ++res.runs;
    const auto v = evaluate_statistic(stat, column(r, output_column(r, output)));
    res.evaluations.emplace_back(x, v.value);
    return v;
  };
  const auto at_lo = eval(range.lo), at_hi = eval(range.hi);
  const double f_lo = at_lo.value - target, f_hi = at_hi.value - target;
  if (std::isnan(f_lo) || std::isnan(f_hi))
    throw SensitivityError("the " + stat.name() + " of " + res.output +
                           " is undefined (no path has a value) at " + range.key + " = " +
                           fmt(std::isnan(f_lo) ? range.lo : range.hi));
  auto pick = [&](double x, const StatisticValue& v) {
    res.value = x;
    res.achieved = v.value;
    res.achieved_ci95 = v.ci95;
  };
  // A statistic that does not move over the range (up to rounding) and sits on the
  // target: any value hits it, and the root would be rounding noise.
  const double scale = std::max({std::abs(at_lo.value), std::abs(at_hi.value), std::abs(target)});
  if (std::abs(at_lo.value - at_hi.value) <= 1e-12 * scale && std::abs(f_lo) <= 1e-12 * scale)
    throw SensitivityError("the " + res.statistic + " of " + res.output + " is " +
                           fmt(at_lo.value) + " at both ends of " + range.key + " in [" +
                           fmt(range.lo) + ", " + fmt(range.hi) + "]: it does not move with " +
                           range.key +
                           ", so every value in the range hits the target and there is nothing "
                           "to calibrate; vary an input it depends on");
  if (f_lo == 0 || f_hi == 0) {
    pick(f_lo == 0 ? range.lo : range.hi, f_lo == 0 ? at_lo : at_hi);
  } else if ((f_lo > 0) == (f_hi > 0)) {
    throw SensitivityError("the target " + res.output + "." + res.statistic + " = " + fmt(target) +
                           " is outside what " + range.key + " in [" + fmt(range.lo) + ", " +
                           fmt(range.hi) + "] reaches: " + res.statistic + " is " +
                           fmt(at_lo.value) + " at " + fmt(range.lo) + " and " + fmt(at_hi.value) +
                           " at " + fmt(range.hi) + "; widen the range or check the direction");
  } else {
    // The statistic of a finite sample is a step function of the key at the finest
    // scale; stop when the bracket is 1e-6 of the range (far below Monte Carlo error).
    const double width = (range.hi - range.lo) * 1e-6;
    auto tol = [width](double l, double h) { return h - l <= width; };
    std::uintmax_t iters = max_runs - 3;
    StatisticValue last{};
    double last_x = 0;
    const auto f = [&](double x) {
      last = eval(x);
      last_x = x;
      return last.value - target;
    };
    const auto [l, h] =
        boost::math::tools::toms748_solve(f, range.lo, range.hi, f_lo, f_hi, tol, iters);
    const double x = 0.5 * (l + h);
    pick(x, eval(x));
    (void)last_x;
  }
  // Monte Carlo error of the value: the statistic's half-width over its slope, measured
  // at the scale of that half-width. Close to the root a finite sample's statistic is
  // jagged (paths cross thresholds one by one), so the slope between the nearest
  // evaluations can be far steeper or flatter than the trend: on each side the nearest
  // evaluation whose statistic differs from the target by at least the half-width is
  // used (else the farthest, LO or HI).
  std::vector<std::pair<double, double>> evals = res.evaluations;
  std::sort(evals.begin(), evals.end());
  const double h = std::isfinite(res.achieved_ci95) ? res.achieved_ci95 : 0.0;
  auto side = [&](bool left) {
    std::optional<std::pair<double, double>> pick, farthest;
    for (const auto& e : evals) {
      if (left ? !(e.first < res.value) : !(e.first > res.value)) continue;
      if (!farthest || (left ? e.first < farthest->first : e.first > farthest->first)) farthest = e;
      if (std::abs(e.second - target) >= h &&
          (!pick || (left ? e.first > pick->first : e.first < pick->first)))
        pick = e;
    }
    return pick ? pick : farthest;
  };
  const auto l = side(true), r = side(false);
  double slope = nan;
  if (l && r)
    slope = (r->second - l->second) / (r->first - l->first);
  else if (l)
    slope = (res.achieved - l->second) / (res.value - l->first);
  else if (r)
    slope = (r->second - res.achieved) / (r->first - res.value);
  res.value_ci95 = slope != 0 && std::isfinite(slope) ? std::abs(res.achieved_ci95 / slope) : nan;
  res.scenario = with_key_value(scenario, range.key, res.value);
  return res;
}

}  // namespace capexsim
