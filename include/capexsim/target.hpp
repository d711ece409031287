#pragma once
// Run to a target Monte Carlo error (docs/statistics.md): batches of paths over growing
// ranges [0, N1), [N1, N2), ... merged, until the 95% half-width of one statistic is
// within the target or a path cap is reached. The result equals a fixed run of the
// final N bit for bit.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "capexsim/engine.hpp"

namespace capexsim {

/// A statistic of an output and the 95% half-width wanted for it.
struct Target {
  std::string output;     // e.g. "funding_gap"
  std::string statistic;  // one of summary_statistics(): mean, p1 .. p99, prob_positive, ...
  double tolerance = 0;   // > 0
  bool relative = false;  // tolerance x |estimate| rather than an absolute half-width

  /// "funding_gap.p95:0.5%" (relative to the estimate) or "runway.nan_share:0.002"
  /// (absolute, in the statistic's unit).
  std::string to_string() const;
};

/// Parse OUTPUT.STAT:TOL with TOL a positive number, relative when it ends in '%'.
/// Throws std::invalid_argument naming what is wrong and what is expected. The output
/// name is checked by run_to_target (it depends on the scenario).
Target parse_target(std::string_view text);

/// One statistic of a Summary with its 95% half-width. summary_statistics() is the one
/// list of them: run --target's names, summary.json's fields and their *_ci95 are made
/// from it.
struct SummaryStatistic {
  std::string name;  // "mean", "p95", "prob_positive", "cvar95", "cvar05", "nan_share"
  double value = 0, ci95 = 0;
  bool v1 = true;  // among summary.json's first fields (cvar05 came with the half-widths)
};
/// Every statistic of `s` with a half-width, in summary.json's order: mean, p1 .. p99
/// (summary_levels), prob_positive, cvar95, cvar05, nan_share.
std::vector<SummaryStatistic> summary_statistics(const Summary& s);

/// The statistics a target may name: the names of summary_statistics(), in its order.
const std::vector<std::string>& target_statistics();

/// A statistic of a summary and its 95% half-width. Throws std::invalid_argument for a
/// name not in target_statistics().
std::pair<double, double> statistic_with_ci95(const Summary& s, std::string_view statistic);

/// The state after a batch.
struct TargetProgress {
  std::uint64_t paths = 0;  // paths run so far (the current N)
  double estimate = 0;
  double half_width = 0;  // 95%
  double wanted = 0;      // the half-width the target asks for at this estimate
};

struct TargetOptions {
  /// Paths of the first batch; 0 = 10,000 (8,192 for sobol).
  std::uint64_t first_paths = 0;
  /// Stop here even when the target is not reached (with sobol: at the largest power of
  /// two within it, unless the first batch is larger).
  std::uint64_t max_paths = 10'000'000;
  /// Called after each batch (from the calling thread). Return false to cancel: the run
  /// then throws Cancelled.
  std::function<bool(const TargetProgress&)> on_batch;
};

struct TargetResult {
  Result result;  // equals run() of `paths` paths from path 0, bit for bit
  bool reached = false;
  TargetProgress final;
  std::vector<TargetProgress> batches;
};

/// Run `scenario` with `options` (seed, threads, keep_paths, bands; its paths and
/// first_path are ignored) in growing batches until the target's 95% half-width is at
/// most the wanted one, or max_paths is run. The next N is the one the current
/// half-width predicts (half-widths shrink as 1/sqrt(N)) plus 10%, at least 1.5 and at
/// most 4 times the current N; with sobol sampling it is a power of two (at least
/// twice). Throws std::invalid_argument for lhs sampling (its design depends on the
/// final N), an unknown output or statistic, a non-positive tolerance, or
/// max_paths < first batch.
TargetResult run_to_target(const Scenario& scenario, const RunOptions& options,
                           const Target& target, const TargetOptions& target_options = {});

}  // namespace capexsim
