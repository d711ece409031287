// capexsim: the command line over the engine.
//   capexsim run SCENARIO.toml [--paths N] [--seed S] [--threads T] [--out DIR] [--per-path]
//   [--memory-limit SIZE] [--quiet] capexsim check SCENARIO.toml capexsim compare A.toml B.toml
//   [--paths N] [--seed S]
//   [--threads T] [--quiet]
// Exit codes: 0 ok, 2 invalid input (or a run too large for memory, or an --out folder
// in use), 1 internal error, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <limits>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include <capexsim/capexsim.hpp>

#include "output.hpp"
#include "progress.hpp"

namespace {

using namespace capexsim;
using capexsim::cli::UsageError;

constexpr int exit_ok = 0, exit_internal = 1, exit_invalid = 2;

/// Paths run with per-path outputs kept (exact quantiles) up to this count unless
/// --per-path asks for them anyway; above it, statistics stream and quantiles come from
/// the sketch (0.39% relative accuracy) so memory stays bounded.
constexpr std::uint64_t keep_paths_limit = 10'000'000;

class Interrupted : public std::exception {};

std::uint64_t parse_count(const std::string& text, const char* option, double max) {
  std::size_t used = 0;
  double x = 0;
  try {
    x = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !std::isfinite(x) || x < 1 || x > max || x != std::floor(x))
    throw UsageError(std::string(option) + " " + text + ": expected a whole number from 1 to " +
                     cli::number(max) + " (1e6 is accepted)");
  return static_cast<std::uint64_t>(x);
}

std::uint64_t parse_seed(const std::string& text) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    if (!text.empty() && text[0] != '-') v = std::stoull(text, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError("--seed " + text + ": expected a whole number from 0 to 2^64-1");
  return v;
}

/// --memory-limit: bytes, with an optional suffix K, M, G or T (powers of 1024), or
/// "none" for no check.
std::uint64_t parse_memory_limit(const std::string& text) {
  if (text == "none") return std::numeric_limits<std::uint64_t>::max();
  std::size_t used = 0;
  double x = 0;
  try {
    x = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  double unit = 1;
  if (used > 0 && used + 1 == text.size()) {
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text.back())));
    unit = c == 'K' ? 0x1p10 : c == 'M' ? 0x1p20 : c == 'G' ? 0x1p30 : c == 'T' ? 0x1p40 : 0;
    if (unit > 0) ++used;
  }
  if (used == 0 || used != text.size() || unit == 0 || !std::isfinite(x) || x * unit < 1 ||
      x * unit >= 0x1p64)
    throw UsageError("--memory-limit " + text +
                     ": expected a size in bytes with an optional K, M, G or T suffix (e.g. 8G), "
                     "or none");
  return static_cast<std::uint64_t>(x * unit);
}

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
  int threads = 0;
  std::string out;
  bool per_path = false;
  std::string memory_limit;
  bool quiet = false;
};

int cmd_run(const RunArgs& a) {
  const Scenario scenario = load_scenario(a.scenario);
  RunOptions o;
  o.paths = parse_count(a.paths, "--paths", 1e12);
  o.seed = parse_seed(a.seed);
  o.threads = a.threads;
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

  const Timed t = simulate(scenario, o, !a.quiet && stderr_is_terminal(), "");
  if (cli::interrupted()) throw Interrupted();
  std::cout << header(t.result, a.scenario, t.seconds) << "\n" << cli::summary_table(t.result);
  if (!t.result.has_per_path())
    std::cout << "(quantiles from the streaming sketch: within 0.39% of the exact values)\n";

  if (set) {
    const std::filesystem::path dir(a.out);
    cli::RunInfo info{a.scenario, set->run_id(), a.threads, t.seconds};
    // Every file into the set's staging folder (summary.json, the manifest, last), then
    // one switch: a failure or interruption before it leaves the folder as it was.
    std::vector<std::pair<std::string, std::uint64_t>> files;
    files.emplace_back("bands.csv", set->write("bands.csv", cli::bands_csv(t.result)));
    if (a.per_path) {
      auto f = set->open("paths.csv");
      cli::write_paths_csv(t.result, *f);
      files.emplace_back("paths.csv", f->close());
    }
    set->write("summary.json", cli::summary_json(t.result, info, files));
    if (cli::interrupted()) throw Interrupted();
    set->commit();
    std::cout << "\nwrote " << (dir / "summary.json").string() << ", "
              << (dir / "bands.csv").string()
              << (a.per_path ? ", " + (dir / "paths.csv").string() : std::string()) << "\n";
  }
  return exit_ok;
}

int cmd_check(const std::string& file) {
  const Scenario scenario = load_scenario(file);
  std::cout << "# " << file << ": valid. The resolved scenario (every default filled in):\n"
            << to_toml(scenario);
  return exit_ok;
}

struct CompareArgs {
  std::string a, b;
  std::string paths = "100000";
  std::string seed = "1";
  int threads = 0;
  bool quiet = false;
};

std::string fmt(double x, int d) {
  if (std::isnan(x)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", d, x);
  return buf;
}

int cmd_compare(const CompareArgs& c) {
  const Scenario sa = load_scenario(c.a), sb = load_scenario(c.b);
  RunOptions o;
  o.paths = parse_count(c.paths, "--paths", static_cast<double>(keep_paths_limit));
  o.seed = parse_seed(c.seed);
  o.threads = c.threads;
  o.bands = false;
  const bool progress = !c.quiet && stderr_is_terminal();
  const Timed ta = simulate(sa, o, progress, "A ");
  const Timed tb = simulate(sb, o, progress, "B ");
  if (cli::interrupted()) throw Interrupted();
  const Result &ra = ta.result, &rb = tb.result;

  std::cout << "A = " << header(ra, c.a, ta.seconds) << "B = " << header(rb, c.b, tb.seconds)
            << "Common random numbers: path p of A and of B share every variate not tied to a "
               "changed input.\n"
            << "B - A is the mean paired difference over paths where both are defined; se is "
               "its standard error;\n* marks |B - A| > 3 se (a change that stands out from "
               "Monte Carlo noise).\n\n";
  char line[400];
  std::snprintf(line, sizeof line, "%-14s %-6s %10s %10s %10s %8s %1s   %-26s %-26s %s\n", "output",
                "unit", "A mean", "B mean", "B - A", "se", "", "A p5 / p50 / p95",
                "B p5 / p50 / p95", "never A/B");
  std::cout << line;
  for (std::size_t ka = 0; ka < ra.output_names.size(); ++ka) {
    const std::string& name = ra.output_names[ka];
    std::size_t kb;
    try {
      kb = rb.output_index(name);
    } catch (const std::out_of_range&) {
      continue;  // a checkpoint only one scenario has
    }
    double s = 0, ss = 0;
    std::uint64_t m = 0;
    for (std::uint64_t p = 0; p < ra.paths; ++p) {
      const double x = ra.per_path(p, ka), y = rb.per_path(p, kb);
      if (std::isnan(x) || std::isnan(y)) continue;
      s += y - x;
      ss += (y - x) * (y - x);
      ++m;
    }
    const double mean = m ? s / m : NAN;
    const double se = m > 1 ? std::sqrt(std::max(0.0, (ss - s * mean) / (m - 1)) / m) : NAN;
    const bool stands_out = m > 1 && std::abs(mean) > 3 * se && std::abs(mean) > 0;
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
    std::snprintf(line, sizeof line, "%-14s %-6s %10s %10s %10s %8s %1s   %-26s %-26s %s\n",
                  name.c_str(), unit.c_str(), fmt(xa.mean, d).c_str(), fmt(xb.mean, d).c_str(),
                  fmt(mean, d).c_str(), fmt(se, d + 1).c_str(), stands_out ? "*" : "",
                  three(xa).c_str(), three(xb).c_str(), never.c_str());
    std::cout << line;
  }
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
  run_cmd
      ->add_option("--threads,-t", ra.threads,
                   "Worker threads, 0 = all cores [default: 0]; results do not depend on it")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--out,-o", ra.out,
                      "Write summary.json and bands.csv (and paths.csv with --per-path) into DIR, "
                      "created if missing; other files there are left alone");
  run_cmd->add_flag("--per-path", ra.per_path,
                    "Also write paths.csv: one row per path, every output");
  run_cmd->add_option("--memory-limit", ra.memory_limit,
                      "Refuse runs estimated to need more memory than SIZE (bytes, or with K, M, "
                      "G, T; none = no check) [default: 80% of available memory]");
  run_cmd->add_flag("--quiet,-q", ra.quiet, "No progress bar");

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
  cmp_cmd->add_option("--threads,-t", ca.threads, "Worker threads, 0 = all cores [default: 0]")
      ->check(CLI::NonNegativeNumber);
  cmp_cmd->add_flag("--quiet,-q", ca.quiet, "No progress bar");

  // CLI11 reports a mistyped command as "A subcommand is required"; name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string cmd = argv[1];
    if (cmd != "run" && cmd != "check" && cmd != "compare") {
      print_error("unknown command '" + cmd +
                  "'; expected run, check or compare (see 'capexsim --help')");
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

  cli::install_interrupt_handler();
  try {
    if (*run_cmd) return cmd_run(ra);
    if (*check_cmd) return cmd_check(check_file);
    if (*cmp_cmd) return cmd_compare(ca);
  } catch (const ScenarioError& e) {
    print_error(std::string(e.what()) +
                "\nNothing was run. See MODEL.md section 7 for the scenario format.");
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
