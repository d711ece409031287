// capexsim calibrate SCENARIO --vary KEY=LO:HI --target OUTPUT.STAT=VALUE [--write FILE]
// (docs/sensitivity.md): goal seek on ordinary runs.

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

#include <capexsim/sensitivity.hpp>
#include "args.hpp"
#include "command.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "sensitivity.hpp"
#include "shard.hpp"

#include "sensitivity_tables.hpp"

namespace capexsim::cli {

namespace {

using namespace args;

}  // namespace

int cmd_calibrate(const CalibrateArgs& a, bool progress) {
  const Scenario scenario = load_scenario(a.scenario);
  const VaryRange range = parse_vary(a.vary);
  // OUTPUT.STAT=VALUE
  const auto eq = a.target.rfind('=');
  const auto dot = a.target.substr(0, eq == std::string::npos ? 0 : eq).rfind('.');
  if (eq == std::string::npos || dot == std::string::npos || dot == 0)
    throw SensitivityError("--target '" + a.target +
                           "': expected OUTPUT.STAT=VALUE, e.g. arr_at_2030.p50=100");
  const std::string output = a.target.substr(0, dot);
  const Statistic stat = parse_statistic(a.target.substr(dot + 1, eq - dot - 1));
  std::size_t used = 0;
  const std::string value_text = a.target.substr(eq + 1);
  const double target = leading_number(value_text, used);
  if (used == 0 || used != value_text.size() || !std::isfinite(target))
    throw SensitivityError("--target '" + a.target + "': VALUE '" + value_text +
                           "' is not a number");
  with_key_value(scenario, range.key, range.lo);  // the key is checked before any run
  RunOptions o;
  o.paths = parse_count(a.paths, "--paths", 1e8);
  o.seed = parse_seed(a.seed);
  o.threads = parse_threads(a.threads);
  if (!a.write.empty()) {
    const auto dir = std::filesystem::absolute(a.write).parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      throw UsageError("--write " + a.write + ": the folder " + dir.string() + " does not exist");
    if (::access(dir.c_str(), W_OK) != 0)
      throw UsageError("--write " + a.write + ": the folder " + dir.string() + " is not writable");
  }
  const auto t0 = std::chrono::steady_clock::now();
  const CalibrateResult r = with_progress(o, progress, "calibrate ", [&] {
    return calibrate(scenario, range, output, stat, target, o);
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int d = stat_decimals(output, stat);
  // The value's Monte Carlo error needs a slope of the statistic near it; without one
  // (the statistic flat there) it is said so, not printed as "± -".
  std::cout << r.key << " = " << significant(r.value)
            << (std::isfinite(r.value_ci95)
                    ? " ± " + fixed(r.value_ci95, 6) + " (95%, Monte Carlo)\n"
                    : std::string(" (Monte Carlo error unknown: the statistic does not move "
                                  "with the key near this value)\n"))
            << "  puts " << output << "." << r.statistic << " at " << fixed(r.achieved, d) << " ± "
            << fixed(r.achieved_ci95, d) << " (target " << significant(target) << ")\n"
            << "  " << r.runs << " runs of " << grouped(o.paths) << " paths, seed " << o.seed
            << ", common random numbers, TOMS 748 on [" << number(range.lo) << ", "
            << number(range.hi) << "]";
  char tail[64];
  std::snprintf(tail, sizeof tail, ", %.1f s\n", seconds);
  std::cout << tail;
  if (!a.write.empty()) {
    write_atomically(a.write, "# " + scenario.name + " calibrated by capexsim: " + r.key + " = " +
                                  number(r.value) + " puts " + output + "." + r.statistic + " at " +
                                  number(r.achieved) + " (target " + number(target) + ")\n" +
                                  to_toml(r.scenario));
    std::cout << "Wrote the calibrated scenario to " << a.write << "\n";
  }
  return 0;
}

Command add_calibrate(CLI::App& app) {
  auto cal = std::make_shared<CalibrateArgs>();
  CLI::App* cal_cmd = app.add_subcommand(
      "calibrate", "Goal seek: the value of one input at which a statistic hits a target");
  cal_cmd->add_option("scenario", cal->scenario, "Scenario file (TOML)")->required();
  cal_cmd
      ->add_option("--vary", cal->vary,
                   "KEY=LO:HI: the input and the range searched (a fixed number, or the mean "
                   "of a distribution, which is shifted)")
      ->required();
  cal_cmd
      ->add_option("--target", cal->target,
                   "OUTPUT.STAT=VALUE, e.g. arr_at_2030.p50=100 (STAT: mean, pNN, "
                   "prob_positive)")
      ->required();
  cal_cmd->add_option("--paths,-n", cal->paths, "Paths per run [default: 20000]");
  cal_cmd->add_option("--seed,-s", cal->seed, "Random seed shared by every run [default: 1]");
  cal_cmd->add_option("--threads,-t", cal->threads, "Worker threads, 0 = all cores [default: 0]");
  cal_cmd->add_option("--write", cal->write, "Write the calibrated scenario (TOML) to FILE");
  cal_cmd->add_flag("--quiet,-q", cal->quiet, "No progress bar");

  return {cal_cmd, [cal] { return cmd_calibrate(*cal, !cal->quiet && stderr_is_terminal()); },
          [cal] { return cal->threads; }};
}

}  // namespace capexsim::cli
