// capexsim run SCENARIO.toml: one run (or a --target series of batches, or one --shard
// K/N of the paths) and its table and files.

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

#include "args.hpp"
#include "command.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "sensitivity.hpp"
#include "shard.hpp"

namespace capexsim::cli {

namespace {

using namespace args;

struct RunArgs {
  std::string scenario;
  std::string paths = "100000";
  std::string seed = "1";
  std::string threads = "0";
  std::string out;
  bool per_path = false;
  std::string memory_limit;
  bool quiet = false;
  std::string shard;                    // "K/N": run shard K of N (see cmd_run_shard)
  std::string sampling;                 // empty: the scenario's
  std::vector<std::string> thresholds;  // "output=v1,v2"
  std::string target;                   // OUTPUT.STAT:TOL
  std::string max_paths = "1e7";
  bool paths_given = false, max_paths_given = false;
  std::vector<std::string> counterparties;  // "NAME=lab.toml" (docs/model.md §12.6)
};

int cmd_run_shard(const RunArgs& a);

/// --target: batches until the half-width is within the target (docs/statistics.md).
Timed simulate_to_target(const Scenario& scenario, RunOptions o, const Target& target,
                         std::uint64_t first, std::uint64_t max_paths, bool quiet,
                         cli::RunInfo& info) {
  TargetOptions to;
  to.first_paths = first;
  to.max_paths = max_paths;
  o.progress = [](std::uint64_t, std::uint64_t) { return !cli::interrupted().load(); };
  const std::string label = target.output + "." + target.statistic;
  to.on_batch = [&](const TargetProgress& p) {
    if (!quiet) {
      const int d = cli::decimals_for(cli::output_unit(target.output)) + 2;
      char line[256];
      std::snprintf(line, sizeof line, "capexsim: %s paths: %s = %.*f ± %.*f (target ± %.*f)\n",
                    cli::grouped(p.paths).c_str(), label.c_str(), d, p.estimate, d, p.half_width, d,
                    p.wanted);
      std::cerr << line;
    }
    return !cli::interrupted().load();
  };
  const auto t0 = std::chrono::steady_clock::now();
  TargetResult t;
  try {
    t = run_to_target(scenario, o, target, to);
  } catch (const Cancelled&) {
    throw Interrupted();
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--target: ") + e.what());
  }
  info.target = target.to_string();
  info.target_reached = t.reached;
  info.target_estimate = t.final.estimate;
  info.target_half_width = t.final.half_width;
  info.target_wanted = t.final.wanted;
  return {std::move(t.result),
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

std::string target_line(const cli::RunInfo& info, std::uint64_t paths, std::uint64_t max_paths) {
  char buf[512];
  if (info.target_reached) {
    std::snprintf(buf, sizeof buf, "target %s reached with %s paths: %.6g ± %.3g (wanted ± %.3g)\n",
                  info.target.c_str(), cli::grouped(paths).c_str(), info.target_estimate,
                  info.target_half_width, info.target_wanted);
  } else {
    const double r = info.target_half_width / info.target_wanted;
    const double need = std::isfinite(r) ? static_cast<double>(paths) * r * r : NAN;
    std::snprintf(buf, sizeof buf,
                  "target %s NOT reached: the cap of %s paths (--max-paths %s) gives %.6g ± %.3g, "
                  "wanted ± %.3g; about %s paths would be needed\n",
                  info.target.c_str(), cli::grouped(paths).c_str(), cli::grouped(max_paths).c_str(),
                  info.target_estimate, info.target_half_width, info.target_wanted,
                  std::isfinite(need) ? cli::grouped(static_cast<std::uint64_t>(need)).c_str()
                                      : "an unknown number of");
  }
  return buf;
}

/// --threshold OUTPUT=V1,V2,... added to the scenario's [outputs] thresholds.
void add_threshold(cli::Thresholds& to, const std::string& text,
                   const std::vector<std::string>& outputs) {
  const auto eq = text.find('=');
  const std::string name = text.substr(0, eq);
  if (eq == std::string::npos || name.empty())
    throw UsageError("--threshold " + text +
                     ": expected OUTPUT=V1,V2,... (e.g. funding_gap=1000,2000)");
  if (std::find(outputs.begin(), outputs.end(), name) == outputs.end()) {
    std::string list;
    for (const auto& o : outputs) list += (list.empty() ? "" : ", ") + o;
    throw UsageError("--threshold " + text + ": no output named '" + name +
                     "'; expected one of: " + list);
  }
  std::vector<double> values;
  std::string rest = text.substr(eq + 1);
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = rest.find(',', start);
    const std::string item =
        rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    std::size_t used = 0;
    const double v = leading_number(item, used);
    if (item.empty() || used != item.size() || !std::isfinite(v))
      throw UsageError("--threshold " + text + ": '" + item + "' is not a finite number");
    values.push_back(v);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (auto& [n, vs] : to)
    if (n == name) {
      vs.insert(vs.end(), values.begin(), values.end());
      return;
    }
  to.emplace_back(name, std::move(values));
}

/// The thresholds a run reports: the scenario's [outputs] thresholds, then --threshold.
cli::Thresholds run_thresholds(const Scenario& scenario, const std::vector<std::string>& given) {
  cli::Thresholds thresholds = scenario.thresholds;
  if (!given.empty()) {
    const std::vector<std::string> outputs = PathModel(scenario).output_names();
    for (const auto& t : given) add_threshold(thresholds, t, outputs);
  }
  return thresholds;
}

/// --sampling: replaces the scenario's simulation.sampling when given.
void apply_sampling(Scenario& scenario, const std::string& sampling) {
  if (sampling.empty()) return;
  const auto m = sampling_from_name(sampling);
  if (!m) throw UsageError("--sampling " + sampling + ": expected random, lhs or sobol");
  scenario.sampling = *m;
}

int cmd_run(const RunArgs& a) {
  if (!a.shard.empty()) return cmd_run_shard(a);
  Scenario scenario = load_scenario(a.scenario);
  apply_sampling(scenario, a.sampling);
  RunOptions o;
  o.paths = parse_count(a.paths, "--paths", 1e12);
  apply_counterparties(scenario, a.counterparties, o);
  const cli::Thresholds thresholds = run_thresholds(scenario, a.thresholds);
  o.seed = parse_seed(a.seed);
  o.threads = parse_threads(a.threads);
  if (!a.memory_limit.empty()) o.memory_limit = parse_memory_limit(a.memory_limit);
  if (a.per_path && a.out.empty())
    throw UsageError("--per-path writes paths.csv and needs --out DIR");
  o.keep_paths = a.per_path || o.paths <= keep_paths_limit;
  o.bands = !a.out.empty();
  // The memory check before the folder is touched; run() checks again (the same estimate).
  check_memory(PathModel(scenario), o);
  // Takes the folder's lock for the whole run: a second run into it fails here, at once.
  std::optional<cli::OutputSet> set;
  if (!a.out.empty()) set.emplace(a.out);

  cli::RunInfo info;
  info.scenario_file = a.scenario;
  info.threads = threads_used(o.threads);
  info.sampling = sampling_name(scenario.sampling);
  info.thresholds = thresholds;
  std::uint64_t max_paths = 0;
  std::optional<Target> target;
  if (!a.target.empty()) {
    try {
      target = parse_target(a.target);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--target: ") + e.what());
    }
    if (scenario.sampling == Sampling::lhs)
      throw UsageError("--target " + a.target +
                       ": cannot be used with lhs sampling (a Latin hypercube's strata depend on "
                       "the final path count, which a target run grows); use --sampling sobol "
                       "or random");
    const std::vector<std::string> outputs = PathModel(scenario).output_names();
    if (std::find(outputs.begin(), outputs.end(), target->output) == outputs.end()) {
      std::string list;
      for (const auto& n : outputs) list += (list.empty() ? "" : ", ") + n;
      throw UsageError("--target " + a.target + ": no output named '" + target->output +
                       "'; expected one of: " + list);
    }
    max_paths = parse_count(a.max_paths, "--max-paths", 1e12);
    const std::uint64_t first = a.paths_given ? o.paths : 0;
    if (first > max_paths)
      throw UsageError("--paths " + a.paths +
                       " (the first batch of a target run) is above --max-paths " + a.max_paths);
    o.keep_paths = a.per_path || max_paths <= keep_paths_limit;
  } else if (a.max_paths_given) {
    throw UsageError("--max-paths is the cap of a --target run; without --target use --paths");
  }

  const Timed t = target ? simulate_to_target(scenario, o, *target, a.paths_given ? o.paths : 0,
                                              max_paths, a.quiet, info)
                         : simulate(scenario, o, !a.quiet && stderr_is_terminal(), "");
  if (cli::interrupted()) throw Interrupted();
  info.note = sampling_note(scenario.sampling, t.result.paths);
  if (!info.note.empty()) std::cerr << "capexsim: note: " << info.note << "\n";
  const std::vector<Summary> stats = cli::summaries(t.result);
  std::cerr << cli::overflow_warning(cli::overflowed_outputs(t.result, stats));
  std::cout << header(t.result, a.scenario, t.seconds) << "\n"
            << cli::summary_table(t.result, stats) << error_note(sampling_name(scenario.sampling));
  if (!t.result.has_per_path())
    std::cout << "(quantiles from the streaming sketch: within 0.39% of the exact values)\n";
  if (!thresholds.empty()) std::cout << "\n" << cli::thresholds_table(t.result, thresholds);
  if (target) std::cout << "\n" << target_line(info, t.result.paths, max_paths);

  if (set) {
    const std::filesystem::path dir(a.out);
    info.run_id = set->run_id();
    info.wall_seconds = t.seconds;
    // Every file into the set's staging folder (summary.json, the manifest, last), then
    // one switch: a failure or interruption before it leaves the folder as it was.
    std::vector<std::pair<std::string, std::uint64_t>> files;
    files.emplace_back("bands.csv", set->write("bands.csv", cli::bands_csv(t.result)));
    if (a.per_path) {
      auto f = set->open("paths.csv");
      cli::write_paths_csv(t.result, *f);
      files.emplace_back("paths.csv", f->close());
    }
    set->write("summary.json", cli::summary_json(t.result, stats, info, files));
    if (cli::interrupted()) throw Interrupted();
    set->commit();
    std::cout << "\nwrote " << (dir / "summary.json").string() << ", "
              << (dir / "bands.csv").string()
              << (a.per_path ? ", " + (dir / "paths.csv").string() : std::string()) << "\n";
  }
  return exit_ok;
}

// ---------------------------------------------------------------------------------------
// Shards: `run --shard K/N --out DIR` writes DIR/result.bin; `merge DIR... --out OUT`
// combines them into the files of the single run (cli/shard.hpp).

int cmd_run_shard(const RunArgs& a) {
  Scenario scenario = load_scenario(a.scenario);
  apply_sampling(scenario, a.sampling);
  if (!a.target.empty()) throw UsageError("--target runs batches itself; it cannot be sharded");
  const cli::ShardSpec spec = cli::parse_shard(a.shard);
  const std::uint64_t total = parse_count(a.paths, "--paths", 1e12);
  const std::uint64_t seed = parse_seed(a.seed);
  const cli::Thresholds thresholds = run_thresholds(scenario, a.thresholds);
  if (spec.n > total)
    throw UsageError("--shard " + a.shard + ": more shards than paths (--paths " + a.paths + ")");
  if (a.out.empty()) throw UsageError("--shard writes DIR/result.bin and needs --out DIR");
  const cli::PathRange range = cli::shard_range(spec, total);
  RunOptions o;
  o.paths = range.count;
  o.first_path = range.first;
  o.seed = seed;
  o.threads = parse_threads(a.threads);
  o.design_paths = total;  // a sampling design (lhs, sobol) spans the whole run
  apply_counterparties(scenario, a.counterparties, o);
  // As the single run would: per-path values (exact quantiles) unless it would stream.
  o.keep_paths = a.per_path || total <= keep_paths_limit;
  o.bands = true;
  if (!a.memory_limit.empty()) o.memory_limit = parse_memory_limit(a.memory_limit);
  check_memory(PathModel(scenario), o);  // before the folder is touched, as run does
  cli::prepare_out_dir(a.out);

  const Timed t = simulate(scenario, o, !a.quiet && stderr_is_terminal(), "");
  if (cli::interrupted()) throw Interrupted();
  const Result& r = t.result;
  // The note of the whole run (e.g. Sobol at a path count that is not a power of two).
  const std::string note = sampling_note(scenario.sampling, total);
  if (!note.empty()) std::cerr << "capexsim: note: " << note << "\n";
  std::cout << header(r, a.scenario, t.seconds) << "shard " << spec.k << "/" << spec.n << ": paths "
            << cli::grouped(range.first) << " to " << cli::grouped(range.first + range.count - 1)
            << " of " << cli::grouped(total) << "\n\n"
            << cli::summary_table(r, cli::summaries(r))
            << error_note(sampling_name(scenario.sampling));
  if (!r.has_per_path())
    std::cout << "(quantiles from the streaming sketch: within 0.39% of the exact values)\n";
  if (!thresholds.empty()) std::cout << "\n" << cli::thresholds_table(r, thresholds);
  cli::ShardHeader h;
  h.version = version_string;
  h.scenario_name = r.scenario_name;
  h.scenario_hash = r.scenario_fingerprint;
  h.scenario_file = a.scenario;
  h.seed = seed;
  h.k = spec.k;
  h.n = spec.n;
  h.first_path = range.first;
  h.paths = range.count;
  h.total_paths = total;
  h.design = sampling_name(scenario.sampling);
  h.per_path = a.per_path;
  h.threads = threads_used(o.threads);
  h.wall_seconds = t.seconds;
  h.thresholds = thresholds;
  const std::string bytes = cli::encode_shard(h, r);
  if (cli::interrupted()) throw Interrupted();
  const std::filesystem::path file = std::filesystem::path(a.out) / cli::shard_file_name;
  // A shard killed while writing leaves its temporary file (as large as the shard): the
  // next shard into the folder removes it.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(a.out, ec))
    if (entry.path().filename().string().rfind("." + std::string(cli::shard_file_name) + ".tmp-",
                                               0) == 0)
      std::filesystem::remove(entry.path(), ec);
  cli::write_atomically(file, bytes);
  std::cout << "\nwrote " << file.string() << "\n";
  return exit_ok;
}

}  // namespace

Command add_run(CLI::App& app) {
  auto a = std::make_shared<RunArgs>();
  CLI::App* run_cmd =
      app.add_subcommand("run", "Simulate a scenario and print the distribution of every output");
  run_cmd->add_option("scenario", a->scenario, "Scenario file (TOML, see scenarios/)")->required();
  run_cmd->add_option("--paths,-n", a->paths, "Monte Carlo paths; accepts 1e6 [default: 100000]");
  run_cmd->add_option("--seed,-s", a->seed, "Random seed, 0..2^64-1 [default: 1]");
  run_cmd->add_option("--threads,-t", a->threads,
                      "Worker threads, 0 = all cores [default: 0]; results do not depend on it");
  run_cmd->add_option("--out,-o", a->out,
                      "Write summary.json and bands.csv (and paths.csv with --per-path) into DIR, "
                      "created if missing; other files there are left alone");
  run_cmd->add_flag("--per-path", a->per_path,
                    "Also write paths.csv: one row per path, every output");
  run_cmd->add_option("--memory-limit", a->memory_limit,
                      "Refuse runs estimated to need more memory than SIZE (bytes, or with K, M, "
                      "G, T; none = no check) [default: 80% of available memory]");
  run_cmd->add_flag("--quiet,-q", a->quiet, "No progress bar");
  run_cmd->add_option("--counterparty", a->counterparties,
                      "NAME=lab.toml: pay the [[revenue_contract]] NAME what the lab scenario "
                      "paid on its [[contract]] NAME, path by path (a joint run)");
  run_cmd->add_option("--shard", a->shard,
                      "Run only shard K/N of the paths and write DIR/result.bin (needs --out); "
                      "combine the shards with 'capexsim merge'");
  run_cmd->add_option("--sampling", a->sampling,
                      "Sampling of the static inputs: random, lhs or sobol [default: the "
                      "scenario's simulation.sampling, else random]");
  run_cmd->add_option("--target", a->target,
                      "Run batches of growing size until the 95% half-width of OUTPUT.STAT is "
                      "within TOL: e.g. funding_gap.p95:0.5% (relative) or "
                      "runway.nan_share:0.002 (absolute); --paths is then the first batch "
                      "[default: 10000, 8192 with sobol]");
  run_cmd->add_option("--max-paths", a->max_paths,
                      "Cap of a --target run; accepts 1e6 [default: 1e7]");
  run_cmd->add_option("--threshold", a->thresholds,
                      "Report P(OUTPUT > V) for each V, e.g. funding_gap=1000,2000 (repeatable; "
                      "added to the scenario's [outputs] thresholds)");

  return {run_cmd,
          [a, run_cmd] {
            a->paths_given = run_cmd->count("--paths") > 0;
            a->max_paths_given = run_cmd->count("--max-paths") > 0;
            return cmd_run(*a);
          },
          [a] { return a->threads; }};
}

}  // namespace capexsim::cli
