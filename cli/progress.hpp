#pragma once
// A progress bar on stderr for long runs, and Ctrl-C handling.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace capexsim::cli {

/// Set by SIGINT or SIGTERM; the run's progress callback turns it into a cancellation.
std::atomic<bool>& interrupted();
/// Handles SIGINT and SIGTERM (they set interrupted()), and ignores SIGXFSZ so that a
/// file-size limit fails the write (EFBIG, reported) instead of killing the process.
void install_interrupt_handler();
/// 128 + the signal that interrupted: 130 for SIGINT (Ctrl-C), 143 for SIGTERM.
int interrupt_exit_code();

/// Draws `[#####     ]  45%  45,000/100,000 paths  52.1k paths/s  ETA 1s` on stderr,
/// only when enabled (stderr is a terminal and not --quiet) and only once the run has
/// taken more than `delay` (short runs stay silent).
class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string label, double delay_seconds = 1.0);
  /// Returns false when the user pressed Ctrl-C.
  bool update(std::uint64_t done, std::uint64_t total);
  void finish();

 private:
  bool enabled_;
  std::string label_;
  double delay_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace capexsim::cli
