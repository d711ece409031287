// Sobol indices on the model by pick-freeze: the factors (drawn inputs, process
// groups), the runs that switch each to a second seed, and the table from the samples.

#include "internal.hpp"

#include <algorithm>
#include <cmath>

namespace capexsim {

using namespace sensitivity_detail;

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

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

}  // namespace capexsim
