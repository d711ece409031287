#pragma once
// What the commands of the command line share (cli/cmd_*.cpp): exit codes, the run with a
// progress bar, the header line of a run, and the Command each cmd_*.cpp registers with
// CLI11 so that main() only dispatches.

#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include <capexsim/engine.hpp>
#include <capexsim/scenario.hpp>

namespace capexsim::cli {

/// Exit codes: 0 ok, 2 invalid input (or a run too large for memory, or an --out folder
/// in use), 1 internal error; 130/143 interrupted (progress.hpp).
inline constexpr int exit_ok = 0, exit_internal = 1, exit_invalid = 2;

/// Paths run with per-path outputs kept (exact quantiles) up to this count unless
/// --per-path asks for them anyway; above it, statistics stream and quantiles come from
/// the sketch (0.39% relative accuracy) so memory stays bounded.
inline constexpr std::uint64_t keep_paths_limit = 10'000'000;

/// Ctrl-C or SIGTERM stopped a run: no output is written.
class Interrupted : public std::exception {};

bool stderr_is_terminal();

struct Timed {
  Result result;
  double seconds;
};

/// One run with a progress bar labelled `label`; Interrupted on Ctrl-C.
Timed simulate(const Scenario& scenario, RunOptions options, bool show_progress,
               const std::string& label);

/// "NAME (FILE): N paths, seed S, K monthly steps from Y, T s".
std::string header(const Result& r, const std::string& file, double seconds);

/// The line under the table on the Monte Carlo error.
std::string error_note(const std::string& sampling);

/// "capexsim: error: WHAT" on stderr.
void print_error(const std::string& what);

/// A command: its CLI11 subcommand, what runs it once the line is parsed, and its
/// --threads text ("0" for the commands without the option).
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
  std::function<std::string()> threads = [] { return std::string("0"); };
};

/// Each registers its subcommand, options and help text on `app` (cli/cmd_NAME.cpp).
Command add_run(CLI::App& app);
Command add_check(CLI::App& app);
Command add_compare(CLI::App& app);
Command add_merge(CLI::App& app);
Command add_sensitivity(CLI::App& app);
Command add_calibrate(CLI::App& app);

/// Runs a command, mapping its exceptions to a message on stderr and an exit code
/// (SensitivityError, ScenarioError, UsageError, MemoryLimitError: 2; interrupted:
/// 130/143; anything else: 1).
int run_guarded(const std::function<int()>& command);

}  // namespace capexsim::cli
