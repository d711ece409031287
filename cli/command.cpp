// What the commands share (command.hpp): the run with a progress bar, the header line,
// and the mapping of a command's exceptions to messages and exit codes.

#include "command.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <new>

#include <capexsim/capexsim.hpp>
#include <capexsim/sensitivity.hpp>

#include "output.hpp"
#include "progress.hpp"

namespace capexsim::cli {

bool stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

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

std::string error_note(const std::string& sampling) {
  return "(±95%: Monte Carlo half-width of the mean; summary.json has *_ci95 for every statistic" +
         (sampling == "random" ? std::string(")\n")
                               : "; with " + sampling + " sampling these are upper bounds)\n");
}

void print_error(const std::string& what) {
  std::cerr << "capexsim: error: " << what << "\n";
}

int run_guarded(const std::function<int()>& command) {
  try {
    return command();
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

}  // namespace capexsim::cli
