// capexsim sensitivity SCENARIO --method rank|tornado|sobol --output OUTPUT ...
// (docs/sensitivity.md, docs/cli.md). Bad input throws SensitivityError or UsageError
// (exit 2) before anything runs.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <capexsim/capexsim.hpp>
#include <capexsim/sampling.hpp>

#include <fstream>
#include <iterator>
#include <limits>
#include "args.hpp"
#include "command.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "sensitivity.hpp"
#include "shard.hpp"

#include <nlohmann/json.hpp>

#include <capexsim/sensitivity.hpp>

#include "sensitivity_tables.hpp"

namespace capexsim::cli {

namespace {

using namespace args;

RunOptions options_of(const SensitivityArgs& a, std::uint64_t default_paths) {
  RunOptions o;
  o.paths = a.paths.empty() ? default_paths : parse_count(a.paths, "--paths", 1e8);
  o.seed = parse_seed(a.seed);
  o.threads = parse_threads(a.threads);
  if (!a.memory_limit.empty()) o.memory_limit = parse_memory_limit(a.memory_limit);
  return o;
}

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}

/// Refuses (MemoryLimitError, exit 2) an analysis whose estimated peak is above the
/// memory limit, before anything runs. The peak: the model evaluations the method keeps
/// (`runs` runs x `o.paths` paths x `quantities` values x 8 bytes) `copies` times over (the
/// samples and the table's working copy; a shard's bytes as well), plus one run's own
/// estimate_memory and its kept values.
void check_analysis_memory(const Scenario& scenario, const std::string& method, const RunOptions& o,
                           std::uint64_t runs, std::uint64_t quantities, std::uint64_t copies,
                           bool bands) {
  const PathModel model(scenario);
  RunOptions one = o;
  one.keep_paths = true;
  one.keep_inputs = method == "rank";
  one.bands = bands;
  const MemoryEstimate run_estimate = estimate_memory(model, one);
  const std::uint64_t samples =
      saturating_mul(saturating_mul(saturating_mul(runs, o.paths), quantities), 8);
  std::uint64_t total = 0;
  for (const std::uint64_t part : {saturating_mul(samples, copies), run_estimate.total(),
                                   saturating_mul(saturating_mul(o.paths, quantities), 8)})
    if (__builtin_add_overflow(total, part, &total))
      total = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t limit = effective_memory_limit(o);
  if (total <= limit) return;
  std::string what =
      "sensitivity --method " + method + " needs about " +
      format_bytes(static_cast<double>(total)) + " of memory, more than the limit of " +
      format_bytes(static_cast<double>(limit)) +
      (o.memory_limit ? " (set by --memory-limit)" : " (80% of the memory available now)") + ". ";
  if (method == "rank")
    what += "It keeps every path's outputs and drawn inputs: " +
            format_bytes(static_cast<double>(run_estimate.total())) + " for " +
            std::to_string(o.paths) + " paths. Use fewer --paths.";
  else
    what += "It keeps every evaluation: " + std::to_string(runs) + " runs x " +
            std::to_string(o.paths) + " paths" +
            (quantities > 1 ? " x " + std::to_string(quantities) + " checkpoint years" : "") +
            " x 8 bytes = " + format_bytes(static_cast<double>(samples)) + ", held " +
            std::to_string(copies) + " times over" +
            (copies > 2 ? " (the samples and the shard's bytes)"
                        : " (the samples and the table's copy)") +
            ". Use fewer --paths" + (quantities > 1 ? " or fewer checkpoint years" : "") + ".";
  what += " A higher limit can be set with --memory-limit SIZE (or none).";
  throw MemoryLimitError(what, run_estimate, limit);
}

/// "20%" -> 0.2, "0.2" -> 0.2; SensitivityError for anything else.
double parse_share(const std::string& text, const std::string& option) {
  std::string t = text;
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  std::size_t used = 0;
  const double x = leading_number(t, used);
  if (used == 0 || used != t.size() || !std::isfinite(x))
    throw SensitivityError(option + " '" + text + "': expected a share such as 20% or 0.2");
  return percent ? x / 100 : x;
}

}  // namespace

int cmd_sensitivity(const SensitivityArgs& a, bool progress) {
  const Scenario scenario = load_scenario(a.scenario);
  const std::string method = a.method;
  if (method != "rank" && method != "tornado" && method != "sobol")
    throw SensitivityError("unknown method '" + method + "'; expected rank, tornado or sobol");
  const Statistic stat = parse_statistic(a.stat);
  std::vector<VaryRange> vary;
  for (const auto& v : a.vary) vary.push_back(parse_vary(v));
  if (!vary.empty() && method != "tornado")
    throw SensitivityError("--vary applies to --method tornado (and to calibrate), not " + method);
  for (const auto& v : vary) with_key_value(scenario, v.key, v.lo);  // checks the key now
  // --assumptions: fixed keys tagged [assumption] (or all, --assumptions-all) as more --vary
  // rows, each at value x (1 -/+ share).
  AssumptionRanges assumed;
  if (!a.assumptions.empty() || a.assumptions_all) {
    if (method != "tornado")
      throw SensitivityError("--assumptions applies to --method tornado, not " + method);
    const double share = a.assumptions.empty() ? 0.2 : parse_share(a.assumptions, "--assumptions");
    std::ifstream in(a.scenario, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    assumed = assumption_ranges(scenario, text, share, a.assumptions_all);
    for (const VaryRange& r : assumed.ranges)
      if (std::none_of(vary.begin(), vary.end(),
                       [&](const VaryRange& v) { return v.key == r.key; }))
        vary.push_back(r);  // an explicit --vary of the same key wins
    if (assumed.ranges.empty())
      throw SensitivityError(
          a.assumptions_all ? "--assumptions-all: the scenario has no fixed numeric key to move"
                            : "--assumptions: no fixed numeric key of " + a.scenario +
                                  " is tagged [assumption] in its line's comment "
                                  "(--assumptions-all moves every fixed numeric key)");
  }
  if (!a.over_time.empty() && method != "sobol")
    throw SensitivityError("--over-time applies to --method sobol, not " + method);
  if (method == "rank" && stat.kind != Statistic::Kind::mean)
    throw SensitivityError("--stat " + stat.name() +
                           " does not apply to rank: rank measures correlate every path's "
                           "output with its inputs; use tornado or sobol for a statistic");
  // An unknown output is refused before anything runs.
  if (a.over_time.empty()) check_output(scenario, a.output);
  // The method's runs: paths (rank: one run; tornado: per run; sobol: base paths N), seed.
  RunOptions run_options = options_of(a, method == "rank"      ? 100'000
                                         : method == "tornado" ? 50'000
                                                               : 65'536);
  // Joint runs: every evaluation runs the lab on the same paths (docs/sensitivity.md).
  const std::vector<args::Counterparty> labs =
      args::apply_counterparties(scenario, a.counterparties, run_options);
  if (!a.shard.empty() && method == "rank")
    throw SensitivityError(
        "--shard applies to --method sobol and tornado; for rank, shard 'run --per-path' and "
        "merge, then rank the merged paths (Python: Result.rank())");
  if (!a.shard.empty() && a.out.empty())
    throw UsageError("--shard " + a.shard +
                     " needs --out DIR (the shard's sensitivity.bin goes there)");
  if (!a.over_time.empty() && a.output != "funding_gap")
    throw SensitivityError("--over-time " + a.over_time + " analyses that series; --output " +
                           a.output + " would be ignored: give one or the other");
  if (method == "sobol") {
    const std::uint64_t b = parse_count(a.bootstrap, "--bootstrap", 1e5);
    if (b < 100)
      throw UsageError("--bootstrap " + a.bootstrap +
                       ": at least 100 resamples are needed for 95% percentile intervals");
    if (run_options.paths < 64)
      throw UsageError("--paths " + a.paths +
                       ": a Sobol analysis needs at least 64 base paths (the indices of fewer "
                       "are noise)");
  }
  // Everything that can be checked is checked before the --out folder is touched.
  std::optional<ShardSpec> spec;
  std::optional<PathRange> range;
  if (!a.shard.empty()) {
    spec = parse_shard(a.shard);
    const std::uint64_t total = run_options.paths;
    range = shard_range(*spec, total);
    if (range->count < 1)
      throw UsageError("--shard " + a.shard + ": " + std::to_string(total) +
                       " paths leave this shard empty; use fewer shards");
  }
  {
    // The memory the analysis keeps, checked before the folder is touched.
    RunOptions o = run_options;
    if (range) o.paths = range->count;
    std::uint64_t drawn = 0;
    for (const auto& d : scenario.params) drawn += d.is_fixed() ? 0 : 1;
    const std::uint64_t copies = spec ? 3 : 2;
    if (method == "rank")
      check_analysis_memory(scenario, method, o, drawn + 1, 1, 3, false);
    else if (method == "tornado")
      check_analysis_memory(scenario, method, o, 1 + 2 * (drawn + vary.size()), 1, copies, false);
    else
      check_analysis_memory(
          scenario, method, o, sobol_factors(scenario, o.counterparties).size() + 2,
          a.over_time.empty() ? 1 : std::max<std::size_t>(scenario.checkpoints.size(), 1), copies,
          !a.over_time.empty());
  }
  std::optional<OutputSet> set;
  if (!a.out.empty()) set.emplace(a.out);  // takes the folder's lock before the runs
  if (spec) {
    RunOptions o = run_options;
    MethodShard sh;
    sh.method = method;
    sh.k = spec->k;
    sh.n = spec->n;
    sh.total = o.paths;
    sh.bootstrap = method == "sobol" ? parse_count(a.bootstrap, "--bootstrap", 1e5) : 0;
    sh.statistic = stat.name();
    sh.scenario_file = a.scenario;
    sh.scenario_name = scenario.name;
    o.first_path = range->first;
    o.paths = range->count;
    sh.vary = method == "tornado" ? a.vary : std::vector<std::string>{};
    const auto t0 = std::chrono::steady_clock::now();
    sh.samples = with_progress(o, progress, method + " shard ", [&] {
      if (method == "sobol")
        return sobol_samples(scenario, a.output, stat, o, a.over_time).to_bytes();
      TornadoOptions to;
      to.low = a.low;
      to.high = a.high;
      to.vary = vary;
      return tornado_samples(scenario, a.output, o, to).to_bytes();
    });
    sh.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    set->write(sensitivity_shard_file, encode_method_shard(sh));
    set->commit();
    std::cout << (method == "sobol" ? "Sobol" : "Tornado") << " shard " << spec->k << "/" << spec->n
              << " of " << scenario.name << ": paths [" << range->first << ", "
              << range->first + range->count << ") of " << grouped(sh.total) << ", written to "
              << (set->dir() / sensitivity_shard_file).string()
              << "\nCombine every shard with: capexsim merge DIR1 DIR2 ... --out OUT\n";
    return 0;
  }

  std::ostringstream table, csv;
  nlohmann::ordered_json meta;
  meta["capexsim_version"] = version_string;
  meta["scenario"] = scenario.name;
  meta["scenario_file"] = a.scenario;
  meta["method"] = method;
  meta["output"] = a.over_time.empty() ? a.output : a.over_time;
  // As summary.json of `run --counterparty`: the joint hash "<provider>+NAME=<lab>".
  std::string hash = fingerprint(scenario);
  for (const JointRun& j : run_options.counterparties)
    hash += "+" + j.name + "=" + j.lab_fingerprint;
  meta["scenario_hash"] = hash;
  counterparty_meta(hash, meta, labs);
  const auto t0 = std::chrono::steady_clock::now();

  if (method == "rank") {
    RunOptions o = run_options;
    o.bands = false;
    const Result r = with_progress(o, progress, "rank ", [&] { return run(scenario, o); });
    const RankTable t = rank_sensitivity(r, a.output);
    meta["paths"] = t.paths;
    meta["seed"] = o.seed;
    meta["r2"] = num(t.r2);
    meta["nan_share"] = t.nan_share;
    render_rank(t, o.seed, scenario.name, table, csv);
  } else if (method == "tornado") {
    RunOptions o = run_options;
    TornadoOptions to;
    to.low = a.low;
    to.high = a.high;
    to.vary = vary;
    const TornadoTable t = with_progress(o, progress, "tornado ",
                                         [&] { return tornado(scenario, a.output, stat, o, to); });
    render_tornado(t, o.paths, o.seed, a.low, a.high, stat, scenario.name, table, csv, meta);
    meta["vary"] = a.vary;
    if (!assumed.ranges.empty()) {
      nlohmann::ordered_json keys = nlohmann::ordered_json::array();
      for (const VaryRange& r : assumed.ranges) keys.push_back(r.key);
      meta["assumptions"] = keys;
      meta["assumptions_share"] =
          a.assumptions.empty() ? 0.2 : parse_share(a.assumptions, "--assumptions");
      table << "\n"
            << assumed.ranges.size() << " fixed "
            << (a.assumptions_all ? "numeric keys" : "keys tagged [assumption]")
            << " moved by their share as (vary) rows.\n";
    }
    for (const std::string& why : assumed.skipped) table << "not moved: " << why << "\n";
  } else {
    RunOptions o = run_options;
    SobolModelOptions so;
    so.over_time = a.over_time;
    so.estimator.bootstrap = static_cast<int>(parse_count(a.bootstrap, "--bootstrap", 1e5));
    const SobolTable t = with_progress(
        o, progress, "sobol ", [&] { return sobol_sensitivity(scenario, a.output, stat, o, so); });
    meta["seed"] = o.seed;
    sobol_meta(t, meta);
    meta["bootstrap"] = so.estimator.bootstrap;
    render_sobol(t, o.seed, scenario.name, table, csv);
  }
  for (const args::Counterparty& c : labs)
    table << "\nJoint run: every evaluation ran " << c.file << " on the same paths, paying "
          << scenario.name << "'s revenue contract " << c.name << ".\n";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  meta["wall_seconds"] = seconds;
  std::cout << table.str();
  char tail[128];
  std::snprintf(tail, sizeof tail, "\n(%.1f s)\n", seconds);
  std::cout << tail;
  if (set) {
    set->write("sensitivity.csv", csv.str());
    meta["run_id"] = set->run_id();
    set->write("sensitivity.json", meta.dump(2) + "\n");
    set->commit();
    std::cout << "Wrote " << (set->dir() / "sensitivity.csv").string() << " and sensitivity.json\n";
  }
  return 0;
}

Command add_sensitivity(CLI::App& app) {
  auto sa = std::make_shared<SensitivityArgs>();
  CLI::App* sens_cmd = app.add_subcommand(
      "sensitivity",
      "What drives an output: rank measures, a tornado or Sobol indices (docs/sensitivity.md)");
  sens_cmd->add_option("scenario", sa->scenario, "Scenario file (TOML)")->required();
  sens_cmd->add_option("--method,-m", sa->method,
                       "rank (one run: Spearman, SRRC, contribution to variance), tornado "
                       "(one at a time, P10/P90) or sobol (variance shares of inputs and "
                       "processes) [default: rank]");
  sens_cmd->add_option("--output", sa->output, "The output analysed [default: funding_gap]");
  sens_cmd->add_option("--stat", sa->stat,
                       "Statistic: mean, pNN (e.g. p95) or prob_positive; sobol takes mean (the "
                       "output) or prob_positive (the indicator > 0) [default: mean]");
  sens_cmd->add_option("--paths,-n", sa->paths,
                       "Paths: rank 100000 in one run; tornado 50000 per run; sobol N = 65536 "
                       "base paths, N (k + 2) in all");
  sens_cmd->add_option("--seed,-s", sa->seed, "Random seed [default: 1]");
  sens_cmd->add_option("--threads,-t", sa->threads, "Worker threads, 0 = all cores [default: 0]");
  sens_cmd->add_option("--out,-o", sa->out,
                       "Write sensitivity.csv and sensitivity.json into DIR (a set of its own: "
                       "use a folder other than a run's)");
  sens_cmd->add_option("--vary", sa->vary,
                       "tornado: also vary KEY over LO:HI, e.g. build.plan_cap_gw=20:40 or "
                       "contract.oracle.total=200:300 (repeatable)");
  sens_cmd->add_option(
      "--assumptions", sa->assumptions,
      "tornado: also move every fixed numeric key tagged [assumption] in its "
      "line's comment by +-SHARE of its value (20% or 0.2), common random numbers");
  sens_cmd->add_flag("--assumptions-all", sa->assumptions_all,
                     "tornado: with --assumptions (default 20%), move every fixed numeric key, "
                     "tagged or not");
  sens_cmd->add_option("--low", sa->low, "tornado: low quantile of drawn inputs [default: 0.1]");
  sens_cmd->add_option("--high", sa->high, "tornado: high quantile [default: 0.9]");
  sens_cmd->add_option("--over-time", sa->over_time,
                       "sobol: indices of a band SERIES (e.g. cash) at each checkpoint year");
  sens_cmd->add_option("--bootstrap", sa->bootstrap,
                       "sobol: bootstrap resamples of the 95% intervals [default: 1000]");
  sens_cmd->add_option("--shard", sa->shard,
                       "sobol, tornado: run only shard K/N of the paths and write "
                       "DIR/sensitivity.bin (needs --out); combine with 'capexsim merge'");
  sens_cmd->add_option("--memory-limit", sa->memory_limit,
                       "Refuse analyses estimated to need more memory than SIZE (bytes, or with "
                       "K, M, G, T; none = no check) [default: 80% of available memory]");
  sens_cmd->add_option("--counterparty", sa->counterparties,
                       "NAME=lab.toml: every evaluation is a joint run, the lab on the same "
                       "paths paying the [[revenue_contract]] NAME (docs/model.md 12.6)");
  sens_cmd->add_flag("--quiet,-q", sa->quiet, "No progress bar");

  return {sens_cmd, [sa] { return cmd_sensitivity(*sa, !sa->quiet && stderr_is_terminal()); },
          [sa] { return sa->threads; }};
}

}  // namespace capexsim::cli
