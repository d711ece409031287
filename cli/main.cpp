// capexsim: the command line over the engine.
//   capexsim run SCENARIO.toml [--paths N] [--seed S] [--threads T] [--out DIR] [--per-path]
//   [--memory-limit SIZE] [--quiet] capexsim check SCENARIO.toml capexsim compare A.toml B.toml
//   [--paths N] [--seed S]
//   [--threads T] [--quiet] [--counterparty NAME=lab.toml] [--counterparty-a NAME=lab.toml]
//   [--counterparty-b NAME=lab.toml]
//   capexsim run SCENARIO.toml --shard K/N --out DIR ...   capexsim merge DIR... --out OUT
// Exit codes: 0 ok, 2 invalid input (or a run too large for memory, or an --out folder
// in use), 1 internal error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <oneapi/tbb/info.h>
#include <tbb/global_control.h>
#include <CLI/CLI.hpp>

#include <capexsim/capexsim.hpp>
#include <capexsim/sampling.hpp>

#include "args.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "sensitivity.hpp"
#include "shard.hpp"

namespace {

using namespace capexsim;
using capexsim::cli::UsageError;
using namespace capexsim::cli::args;

constexpr int exit_ok = 0, exit_internal = 1, exit_invalid = 2;

/// Paths run with per-path outputs kept (exact quantiles) up to this count unless
/// --per-path asks for them anyway; above it, statistics stream and quantiles come from
/// the sketch (0.39% relative accuracy) so memory stays bounded.
constexpr std::uint64_t keep_paths_limit = 10'000'000;

class Interrupted : public std::exception {};

bool stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

struct Timed {
  Result result;
  double seconds;
};

Timed simulate(const Scenario& scenario, RunOptions options, bool show_progress,
               const std::string& label) {
  cli::ProgressBar bar(show_progress, label);
  options.progress = [&](std::uint64_t done, std::uint64_t total) {
    return bar.update(done, total);
  };
  const auto t0 = std::chrono::steady_clock::now();
  try {
    Result r = run(scenario, options);
    bar.finish();
    return {std::move(r),
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
  } catch (const Cancelled&) {
    bar.finish();
    throw Interrupted();
  }
}

std::string header(const Result& r, const std::string& file, double seconds) {
  char buf[512];
  const char* step = std::abs(r.dt - 1.0 / 12) < 1e-12   ? "monthly"
                     : std::abs(r.dt - 1.0 / 52) < 1e-12 ? "weekly"
                                                         : "quarterly";
  std::snprintf(buf, sizeof buf, "%s (%s): %s paths, seed %llu, %d %s steps from %s, %.1f s\n",
                r.scenario_name.c_str(), file.c_str(), cli::grouped(r.paths).c_str(),
                static_cast<unsigned long long>(r.seed), r.steps, step,
                cli::number(r.start_year).c_str(), seconds);
  return buf;
}

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

/// The line under the table on the Monte Carlo error.
std::string error_note(const std::string& sampling) {
  return "(±95%: Monte Carlo half-width of the mean; summary.json has *_ci95 for every statistic" +
         (sampling == "random" ? std::string(")\n")
                               : "; with " + sampling + " sampling these are upper bounds)\n");
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

struct MergeArgs {
  std::vector<std::string> dirs;
  std::string out;
};

int cmd_merge(const MergeArgs& m) {
  // Shards of a sensitivity analysis (sensitivity --shard) hold sensitivity.bin.
  if (!m.dirs.empty() &&
      std::filesystem::exists(std::filesystem::path(m.dirs.front()) / cli::sensitivity_shard_file))
    return cli::cmd_merge_sensitivity(m.dirs, m.out);
  std::vector<cli::Shard> shards;
  for (const std::string& d : m.dirs) shards.push_back(cli::read_shard(d));
  if (cli::interrupted()) throw Interrupted();
  const Result r = cli::merge_shards(shards);
  const std::vector<Summary> stats = cli::summaries(r);
  std::cerr << cli::overflow_warning(cli::overflowed_outputs(r, stats));
  const cli::ShardHeader& h = shards.front().header;  // shard 1 after merge_shards
  double wall = 0;
  for (const cli::Shard& s : shards) wall += s.header.wall_seconds;
  std::cout << header(r, h.scenario_file, wall) << "merged from " << shards.size() << " shards\n\n"
            << cli::summary_table(r, stats) << error_note(h.design);
  const std::optional<Sampling> design = sampling_from_name(h.design);
  const std::string note = design ? sampling_note(*design, r.paths) : "";
  if (!note.empty()) std::cerr << "capexsim: note: " << note << "\n";
  if (!r.has_per_path())
    std::cout << "(quantiles from the streaming sketch: within 0.39% of the exact values)\n";
  if (!h.thresholds.empty()) std::cout << "\n" << cli::thresholds_table(r, h.thresholds);
  // The files of the single run, written as `run` writes them: one output set.
  const std::filesystem::path dir(m.out);
  cli::OutputSet set(dir);
  cli::RunInfo info;
  info.scenario_file = h.scenario_file;
  info.run_id = set.run_id();
  info.threads = h.threads;
  info.wall_seconds = wall;
  info.sampling = h.design;
  info.thresholds = h.thresholds;
  info.note = note;
  std::vector<std::pair<std::string, std::uint64_t>> files;
  files.emplace_back("bands.csv", set.write("bands.csv", cli::bands_csv(r)));
  if (h.per_path) {
    auto f = set.open("paths.csv");
    cli::write_paths_csv(r, *f);
    files.emplace_back("paths.csv", f->close());
  }
  set.write("summary.json", cli::summary_json(r, stats, info, files));
  if (cli::interrupted()) throw Interrupted();
  set.commit();
  std::cout << "\nwrote " << (dir / "summary.json").string() << ", " << (dir / "bands.csv").string()
            << (h.per_path ? ", " + (dir / "paths.csv").string() : std::string()) << "\n";
  return exit_ok;
}

int cmd_check(const std::string& file) {
  const Scenario scenario = load_scenario(file);
  std::cout << "# " << file << ": valid. The resolved scenario (every default filled in):\n"
            << to_toml(scenario);
  // docs/model.md §13.6: what a GW of each source earns against what it costs, as TOML
  // comments so the output stays a scenario file.
  const auto rows = unit_economics(scenario);
  std::size_t width = 6;
  for (const auto& r : rows) width = std::max(width, r.source.size());
  auto cell = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%10.2f", x);
    return std::string(buf);
  };
  std::cout << "\n# Unit economics at the start, $B per GW-year (means of the inputs):\n"
            << "#   " << std::string(width, ' ') << "  net revenue        cost      margin\n";
  bool any_gain = false;
  for (const auto& r : rows) {
    any_gain = any_gain || r.margin() > 0;
    std::cout << "#   " << r.source << std::string(width - r.source.size(), ' ') << "   "
              << cell(r.net_revenue_per_gw_year) << "  " << cell(r.cost_per_gw_year) << "  "
              << cell(r.margin()) << "\n";
  }
  std::cout << "#   net revenue = arr_per_gw (1 - revenue_cost_share); owned cost = "
               "power_ops_per_gw_year + cost_per_gw it_share / useful_life_years (IT refresh "
               "only); leased = rent_per_gw_year; contract = total / (gw years)\n";
  if (!any_gain)
    std::cout << "# Every capacity source loses money per GW at the start: no GW pays for itself "
                 "unless revenue per GW rises (revenue.arr_per_gw_growth) or costs fall.\n";
  return exit_ok;
}

struct CompareArgs {
  std::string a, b;
  std::string paths = "100000";
  std::string seed = "1";
  std::string threads = "0";
  bool quiet = false;
  // "NAME=lab.toml" (docs/model.md §12.6): on each side that has the revenue contract
  // NAME, and on A or B only.
  std::vector<std::string> counterparties, counterparties_a, counterparties_b;
};

/// The joint runs of one side of compare: its own --counterparty-a/-b, then each
/// --counterparty whose NAME the side has as a [[revenue_contract]] (its own option of
/// the same name wins). Returns a line naming them ("" without).
std::string compare_side(const Scenario& s, const std::string& side,
                         const std::vector<std::string>& shared,
                         const std::vector<std::string>& own, RunOptions& o) {
  std::vector<std::string> specs;
  std::vector<std::string> own_names;
  for (const std::string& spec : own)
    own_names.push_back(parse_counterparty(spec, "--counterparty-" + side).name);
  for (const std::string& spec : shared) {
    const Counterparty c = parse_counterparty(spec, "--counterparty");
    if (has_revenue_contract(s, c.name) &&
        std::find(own_names.begin(), own_names.end(), c.name) == own_names.end())
      specs.push_back(spec);
  }
  std::vector<Counterparty> used;
  if (!own.empty()) used = apply_counterparties(s, own, o, "--counterparty-" + side);
  if (!specs.empty()) {
    if (!used.empty())
      throw UsageError("--counterparty and --counterparty-" + side + " give " + side +
                       " two counterparty labs; one per run today");
    used = apply_counterparties(s, specs, o, "--counterparty");
  }
  std::string line;
  for (const Counterparty& c : used)
    line += (line.empty() ? "" : ", ") + c.name + " paid by " + c.file;
  return line.empty() ? ""
                      : std::string(side == "a" ? "A" : "B") + " joint run: revenue contract " +
                            line + " (same paths)\n";
}

std::string fmt(double x, int d) {
  if (std::isnan(x)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", d, x);
  return buf;
}

// Counterparties of A and B (each unpaid_<contract>, then the builders): P(paid in full)
// and the mean left unpaid in each, with the paired difference of that mean. Empty when
// neither run leaves anything unpaid (no [constraint] unpaid = true).
std::string compare_counterparties(const Result& ra, const Result& rb,
                                   const std::vector<PairedDifference>& diffs) {
  std::vector<std::string> names;
  for (const Result* r : {&ra, &rb})
    for (const std::string& n : r->output_names)
      if (n.rfind("unpaid_", 0) == 0 && n != "unpaid_total" && n != "unpaid_capex" &&
          std::find(names.begin(), names.end(), n) == names.end())
        names.push_back(n);
  if (names.empty()) return "";
  for (const Result* r : {&ra, &rb})
    if (std::find(r->output_names.begin(), r->output_names.end(), "unpaid_capex") !=
            r->output_names.end() &&
        std::find(names.begin(), names.end(), "unpaid_capex") == names.end())
      names.push_back("unpaid_capex");
  int w = 20;
  for (const std::string& n : names) w = std::max(w, static_cast<int>(n.size()) - 7);
  auto paid = [](const Result& r, const std::string& n) -> std::string {
    const auto it = std::find(r.output_names.begin(), r.output_names.end(), n);
    if (it == r.output_names.end()) return "-";
    return fmt(100 *
                   (1 -
                    r.summary(static_cast<std::size_t>(it - r.output_names.begin())).prob_positive),
               1) +
           "%";
  };
  auto mean = [](const Result& r, const std::string& n) -> std::string {
    const auto it = std::find(r.output_names.begin(), r.output_names.end(), n);
    if (it == r.output_names.end()) return "-";
    return fmt(r.summary(static_cast<std::size_t>(it - r.output_names.begin())).mean, 1);
  };
  std::ostringstream o;
  char line[600];
  std::snprintf(line, sizeof line, "\n%-*s %12s %12s %14s %14s %10s %8s\n", w, "counterparty",
                "P(paid) A", "P(paid) B", "unpaid mean A", "unpaid mean B", "B - A", "se");
  o << line;
  for (const std::string& n : names) {
    const std::string who = n == "unpaid_capex" ? "builders (capex)" : n.substr(7);
    std::string d = "-", se = "-", star;
    for (const PairedDifference& diff : diffs)
      if (diff.output == n) {
        d = fmt(diff.mean, 1);
        se = fmt(diff.se, 2);
        star = diff.significant ? " *" : "";
      }
    std::snprintf(line, sizeof line, "%-*s %12s %12s %14s %14s %10s %8s%s\n", w, who.c_str(),
                  paid(ra, n).c_str(), paid(rb, n).c_str(), mean(ra, n).c_str(),
                  mean(rb, n).c_str(), d.c_str(), se.c_str(), star.c_str());
    o << line;
  }
  return o.str();
}

int cmd_compare(const CompareArgs& c) {
  const Scenario sa = load_scenario(c.a), sb = load_scenario(c.b);
  RunOptions o;
  o.paths = parse_count(c.paths, "--paths", static_cast<double>(keep_paths_limit));
  o.seed = parse_seed(c.seed);
  o.threads = parse_threads(c.threads);
  o.bands = false;
  // Joint runs (docs/model.md §12.6): --counterparty on each side that has the contract.
  for (const std::string& spec : c.counterparties) {
    const Counterparty cp = parse_counterparty(spec, "--counterparty");
    if (!has_revenue_contract(sa, cp.name) && !has_revenue_contract(sb, cp.name)) {
      std::vector<std::string> names;
      for (const Scenario* s : {&sa, &sb})
        for (const auto& rc : s->revenue_contracts)
          if (std::find(names.begin(), names.end(), rc.name) == names.end())
            names.push_back(rc.name);
      std::string known;
      for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
      throw UsageError("--counterparty " + spec + ": neither A (" + sa.name + ") nor B (" +
                       sb.name + ") has a [[revenue_contract]] named \"" + cp.name +
                       "\" (they have: " + (known.empty() ? "none" : known) + ")");
    }
  }
  RunOptions oa = o, ob = o;
  const std::string joint_a = compare_side(sa, "a", c.counterparties, c.counterparties_a, oa);
  const std::string joint_b = compare_side(sb, "b", c.counterparties, c.counterparties_b, ob);
  const bool progress = !c.quiet && stderr_is_terminal();
  const Timed ta = simulate(sa, oa, progress, "A ");
  const Timed tb = simulate(sb, ob, progress, "B ");
  if (cli::interrupted()) throw Interrupted();
  const Result &ra = ta.result, &rb = tb.result;

  std::cout << "A = " << header(ra, c.a, ta.seconds) << "B = " << header(rb, c.b, tb.seconds)
            << joint_a << joint_b
            << "Common random numbers: path p of A and of B share every variate not tied to a "
               "changed input.\n"
            << "B - A is the mean paired difference over paths where both are defined; se is "
               "its standard error;\n* marks |B - A| > 3 se (a change that stands out from "
               "Monte Carlo noise).\n\n";
  const std::vector<PairedDifference> diffs = compare(ra, rb);
  // The name column is as wide as the longest name (funding_need_by_2030, unpaid_<contract>),
  // so long names never push the other columns out of line.
  int w = 14;
  for (const PairedDifference& diff : diffs) w = std::max(w, static_cast<int>(diff.output.size()));
  char line[600];
  std::snprintf(line, sizeof line, "%-*s %-6s %10s %10s %10s %8s %1s   %-26s %-26s %s\n", w,
                "output", "unit", "A mean", "B mean", "B - A", "se", "", "A p5 / p50 / p95",
                "B p5 / p50 / p95", "never A/B");
  std::cout << line;
  for (const PairedDifference& diff : diffs) {
    const std::string& name = diff.output;
    const double mean = diff.mean, se = diff.se;
    const bool stands_out = diff.significant;
    const std::size_t ka = diff.index_a, kb = diff.index_b;
    const Summary xa = ra.summary(ka), xb = rb.summary(kb);
    const std::string unit = cli::output_unit(name);
    const int d = cli::decimals_for(unit);
    auto three = [&](const Summary& x) {
      return fmt(x.quantile(0.05), d) + " / " + fmt(x.quantile(0.5), d) + " / " +
             fmt(x.quantile(0.95), d);
    };
    const std::string never = cli::is_event_time(name) ? fmt(100 * xa.nan_share, 1) + "%/" +
                                                             fmt(100 * xb.nan_share, 1) + "%"
                                                       : "";
    std::snprintf(line, sizeof line, "%-*s %-6s %10s %10s %10s %8s %1s   %-26s %-26s %s\n", w,
                  name.c_str(), unit.c_str(), fmt(xa.mean, d).c_str(), fmt(xb.mean, d).c_str(),
                  fmt(mean, d).c_str(), fmt(se, d + 1).c_str(), stands_out ? "*" : "",
                  three(xa).c_str(), three(xb).c_str(), never.c_str());
    std::cout << line;
  }
  std::cout << compare_counterparties(ra, rb, diffs);
  return exit_ok;
}

void print_error(const std::string& what) {
  std::cerr << "capexsim: error: " << what << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "capexsim: Monte Carlo of an AI lab's compute buildout - how much outside money it needs, "
      "when, and how likely it is to run out.\nMoney in $B, capacity in GW, time in years."};
  app.set_version_flag("--version", std::string("capexsim ") + version_string);
  app.require_subcommand(1);

  RunArgs ra;
  CLI::App* run_cmd =
      app.add_subcommand("run", "Simulate a scenario and print the distribution of every output");
  run_cmd->add_option("scenario", ra.scenario, "Scenario file (TOML, see scenarios/)")->required();
  run_cmd->add_option("--paths,-n", ra.paths, "Monte Carlo paths; accepts 1e6 [default: 100000]");
  run_cmd->add_option("--seed,-s", ra.seed, "Random seed, 0..2^64-1 [default: 1]");
  run_cmd->add_option("--threads,-t", ra.threads,
                      "Worker threads, 0 = all cores [default: 0]; results do not depend on it");
  run_cmd->add_option("--out,-o", ra.out,
                      "Write summary.json and bands.csv (and paths.csv with --per-path) into DIR, "
                      "created if missing; other files there are left alone");
  run_cmd->add_flag("--per-path", ra.per_path,
                    "Also write paths.csv: one row per path, every output");
  run_cmd->add_option("--memory-limit", ra.memory_limit,
                      "Refuse runs estimated to need more memory than SIZE (bytes, or with K, M, "
                      "G, T; none = no check) [default: 80% of available memory]");
  run_cmd->add_flag("--quiet,-q", ra.quiet, "No progress bar");
  run_cmd->add_option("--counterparty", ra.counterparties,
                      "NAME=lab.toml: pay the [[revenue_contract]] NAME what the lab scenario "
                      "paid on its [[contract]] NAME, path by path (a joint run)");
  run_cmd->add_option("--shard", ra.shard,
                      "Run only shard K/N of the paths and write DIR/result.bin (needs --out); "
                      "combine the shards with 'capexsim merge'");
  run_cmd->add_option("--sampling", ra.sampling,
                      "Sampling of the static inputs: random, lhs or sobol [default: the "
                      "scenario's simulation.sampling, else random]");
  run_cmd->add_option("--target", ra.target,
                      "Run batches of growing size until the 95% half-width of OUTPUT.STAT is "
                      "within TOL: e.g. funding_gap.p95:0.5% (relative) or "
                      "runway.nan_share:0.002 (absolute); --paths is then the first batch "
                      "[default: 10000, 8192 with sobol]");
  run_cmd->add_option("--max-paths", ra.max_paths,
                      "Cap of a --target run; accepts 1e6 [default: 1e7]");
  run_cmd->add_option("--threshold", ra.thresholds,
                      "Report P(OUTPUT > V) for each V, e.g. funding_gap=1000,2000 (repeatable; "
                      "added to the scenario's [outputs] thresholds)");

  std::string check_file;
  CLI::App* check_cmd = app.add_subcommand(
      "check", "Validate a scenario and print it resolved (every default filled in) as TOML");
  check_cmd->add_option("scenario", check_file, "Scenario file (TOML)")->required();

  CompareArgs ca;
  CLI::App* cmp_cmd = app.add_subcommand(
      "compare",
      "Run two scenarios with common random numbers and show per-output paired differences");
  cmp_cmd->add_option("a", ca.a, "Scenario A (TOML)")->required();
  cmp_cmd->add_option("b", ca.b, "Scenario B (TOML)")->required();
  cmp_cmd->add_option("--paths,-n", ca.paths,
                      "Monte Carlo paths per scenario; accepts 1e6 [default: 100000]");
  cmp_cmd->add_option("--seed,-s", ca.seed, "Random seed shared by both runs [default: 1]");
  cmp_cmd->add_option("--threads,-t", ca.threads, "Worker threads, 0 = all cores [default: 0]");
  cmp_cmd->add_flag("--quiet,-q", ca.quiet, "No progress bar");
  cmp_cmd->add_option("--counterparty", ca.counterparties,
                      "NAME=lab.toml: a joint run on each side whose scenario has the "
                      "[[revenue_contract]] NAME (docs/model.md 12.6)");
  cmp_cmd->add_option("--counterparty-a", ca.counterparties_a,
                      "NAME=lab.toml: a joint run of A only (wins over --counterparty of the "
                      "same NAME)");
  cmp_cmd->add_option("--counterparty-b", ca.counterparties_b,
                      "NAME=lab.toml: a joint run of B only (wins over --counterparty of the "
                      "same NAME)");

  MergeArgs ma;
  CLI::App* merge_cmd = app.add_subcommand(
      "merge", "Combine the shards of a run (run --shard K/N) into the files of the single run");
  merge_cmd
      ->add_option("dirs", ma.dirs,
                   "Shard folders (each holding result.bin from run --shard, or sensitivity.bin "
                   "from sensitivity --method sobol --shard)")
      ->required();
  merge_cmd
      ->add_option("--out,-o", ma.out,
                   "Write summary.json, bands.csv (and paths.csv) here; for Sobol shards "
                   "sensitivity.csv and sensitivity.json")
      ->required();

  cli::SensitivityArgs sa;
  CLI::App* sens_cmd = app.add_subcommand(
      "sensitivity",
      "What drives an output: rank measures, a tornado or Sobol indices (docs/sensitivity.md)");
  sens_cmd->add_option("scenario", sa.scenario, "Scenario file (TOML)")->required();
  sens_cmd->add_option("--method,-m", sa.method,
                       "rank (one run: Spearman, SRRC, contribution to variance), tornado "
                       "(one at a time, P10/P90) or sobol (variance shares of inputs and "
                       "processes) [default: rank]");
  sens_cmd->add_option("--output", sa.output, "The output analysed [default: funding_gap]");
  sens_cmd->add_option("--stat", sa.stat,
                       "Statistic: mean, pNN (e.g. p95) or prob_positive; sobol takes mean (the "
                       "output) or prob_positive (the indicator > 0) [default: mean]");
  sens_cmd->add_option("--paths,-n", sa.paths,
                       "Paths: rank 100000 in one run; tornado 50000 per run; sobol N = 65536 "
                       "base paths, N (k + 2) in all");
  sens_cmd->add_option("--seed,-s", sa.seed, "Random seed [default: 1]");
  sens_cmd->add_option("--threads,-t", sa.threads, "Worker threads, 0 = all cores [default: 0]");
  sens_cmd->add_option("--out,-o", sa.out,
                       "Write sensitivity.csv and sensitivity.json into DIR (a set of its own: "
                       "use a folder other than a run's)");
  sens_cmd->add_option("--vary", sa.vary,
                       "tornado: also vary KEY over LO:HI, e.g. build.plan_cap_gw=20:40 or "
                       "contract.oracle.total=200:300 (repeatable)");
  sens_cmd->add_option(
      "--assumptions", sa.assumptions,
      "tornado: also move every fixed numeric key tagged [assumption] in its "
      "line's comment by +-SHARE of its value (20% or 0.2), common random numbers");
  sens_cmd->add_flag("--assumptions-all", sa.assumptions_all,
                     "tornado: with --assumptions (default 20%), move every fixed numeric key, "
                     "tagged or not");
  sens_cmd->add_option("--low", sa.low, "tornado: low quantile of drawn inputs [default: 0.1]");
  sens_cmd->add_option("--high", sa.high, "tornado: high quantile [default: 0.9]");
  sens_cmd->add_option("--over-time", sa.over_time,
                       "sobol: indices of a band SERIES (e.g. cash) at each checkpoint year");
  sens_cmd->add_option("--bootstrap", sa.bootstrap,
                       "sobol: bootstrap resamples of the 95% intervals [default: 1000]");
  sens_cmd->add_option("--shard", sa.shard,
                       "sobol, tornado: run only shard K/N of the paths and write "
                       "DIR/sensitivity.bin (needs --out); combine with 'capexsim merge'");
  sens_cmd->add_option("--memory-limit", sa.memory_limit,
                       "Refuse analyses estimated to need more memory than SIZE (bytes, or with "
                       "K, M, G, T; none = no check) [default: 80% of available memory]");
  sens_cmd->add_option("--counterparty", sa.counterparties,
                       "NAME=lab.toml: every evaluation is a joint run, the lab on the same "
                       "paths paying the [[revenue_contract]] NAME (docs/model.md 12.6)");
  sens_cmd->add_flag("--quiet,-q", sa.quiet, "No progress bar");

  cli::CalibrateArgs cal;
  CLI::App* cal_cmd = app.add_subcommand(
      "calibrate", "Goal seek: the value of one input at which a statistic hits a target");
  cal_cmd->add_option("scenario", cal.scenario, "Scenario file (TOML)")->required();
  cal_cmd
      ->add_option("--vary", cal.vary,
                   "KEY=LO:HI: the input and the range searched (a fixed number, or the mean "
                   "of a distribution, which is shifted)")
      ->required();
  cal_cmd
      ->add_option("--target", cal.target,
                   "OUTPUT.STAT=VALUE, e.g. arr_at_2030.p50=100 (STAT: mean, pNN, "
                   "prob_positive)")
      ->required();
  cal_cmd->add_option("--paths,-n", cal.paths, "Paths per run [default: 20000]");
  cal_cmd->add_option("--seed,-s", cal.seed, "Random seed shared by every run [default: 1]");
  cal_cmd->add_option("--threads,-t", cal.threads, "Worker threads, 0 = all cores [default: 0]");
  cal_cmd->add_option("--write", cal.write, "Write the calibrated scenario (TOML) to FILE");
  cal_cmd->add_flag("--quiet,-q", cal.quiet, "No progress bar");

  // CLI11 reports a mistyped command as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string cmd = argv[1];
    if (cmd != "run" && cmd != "check" && cmd != "compare" && cmd != "merge" &&
        cmd != "sensitivity" && cmd != "calibrate") {
      print_error("unknown command '" + cmd +
                  "'; expected run, check, compare, merge, sensitivity or calibrate (see "
                  "'capexsim --help')");
      return exit_invalid;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    print_error(std::string(e.what()) +
                "\nRun 'capexsim --help' (or 'capexsim COMMAND --help') for usage.");
    return exit_invalid;
  }

  ra.paths_given = run_cmd->count("--paths") > 0;
  ra.max_paths_given = run_cmd->count("--max-paths") > 0;
  cli::install_interrupt_handler();
  // --threads caps every parallel part of the command, the summaries' selection included.
  std::optional<tbb::global_control> thread_cap;
  int threads = 0;
  try {  // an invalid count is reported by the command itself
    threads = parse_threads(*run_cmd    ? ra.threads
                            : *cmp_cmd  ? ca.threads
                            : *sens_cmd ? sa.threads
                            : *cal_cmd  ? cal.threads
                                        : "0");
  } catch (const UsageError&) {
  }
  if (threads > 0) thread_cap.emplace(tbb::global_control::max_allowed_parallelism, threads);
  try {
    if (*run_cmd) return cmd_run(ra);
    if (*check_cmd) return cmd_check(check_file);
    if (*cmp_cmd) return cmd_compare(ca);
    if (*merge_cmd) return cmd_merge(ma);
    if (*sens_cmd) return cli::cmd_sensitivity(sa, !sa.quiet && stderr_is_terminal());
    if (*cal_cmd) return cli::cmd_calibrate(cal, !cal.quiet && stderr_is_terminal());
  } catch (const SensitivityError& e) {
    print_error(std::string(e.what()) + "\nNothing was written. See docs/sensitivity.md.");
    return exit_invalid;
  } catch (const ScenarioError& e) {
    print_error(std::string(e.what()) +
                "\nNothing was run. The scenario format is in docs/model.md.");
    return exit_invalid;
  } catch (const UsageError& e) {
    print_error(e.what());
    return exit_invalid;
  } catch (const MemoryLimitError& e) {
    print_error(std::string(e.what()) + "\nNothing was run.");
    return exit_invalid;
  } catch (const Interrupted&) {
    std::cerr << "capexsim: interrupted; no output written\n";
    return cli::interrupt_exit_code();
  } catch (const Cancelled&) {
    std::cerr << "capexsim: interrupted; no output written\n";
    return cli::interrupt_exit_code();
  } catch (const std::bad_alloc&) {
    print_error(
        "out of memory despite the memory estimate; try --memory-limit below the memory you "
        "have, fewer --paths, or a coarser step");
    return exit_internal;
  } catch (const std::exception& e) {
    std::cerr << "capexsim: internal error: " << e.what() << "\n";
    return exit_internal;
  }
  return exit_internal;
}
