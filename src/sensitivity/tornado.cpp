// One-at-a-time tornado with common random numbers: inputs pinned at two quantiles,
// fixed keys moved over their --vary range (docs/sensitivity.md).

#include "internal.hpp"

#include <algorithm>
#include <cmath>

namespace capexsim {

using namespace sensitivity_detail;

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

}  // namespace capexsim
