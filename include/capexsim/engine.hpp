#pragma once
// The driver: run paths (serially or in parallel), collect per-path outputs, statistics
// and bands, and merge results of shards.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "capexsim/bands.hpp"
#include "capexsim/path_model.hpp"
#include "capexsim/scenario.hpp"
#include "capexsim/statistics.hpp"

namespace capexsim {

/// A joint run (docs/model.md §12.6): the provider's `[[revenue_contract]]` named `name`
/// is paid, path by path, what the lab scenario paid on its `[[contract]]` of that name
/// (its arrears included). Made by joint_run(), which checks that the two fit.
struct JointRun {
  std::string name;
  std::shared_ptr<const PathModel> lab;
  int lab_contract = -1;      // index in the lab's contracts
  int revenue_contract = -1;  // index in the provider's revenue contracts
  std::string lab_fingerprint;
};

/// Check that `lab` can be run jointly with `provider` on revenue contract `name` and
/// return the run's JointRun; std::invalid_argument naming the problem otherwise (no such
/// revenue contract or lab contract, different start, step or horizon, a sampling design
/// on the lab).
JointRun joint_run(const Scenario& provider, const Scenario& lab, const std::string& name);

struct RunOptions {
  std::uint64_t paths = 100000;
  std::uint64_t seed = 1;
  /// Index of the first path: a shard runs [first_path, first_path + paths).
  std::uint64_t first_path = 0;
  /// Design size N of lhs/sobol sampling (docs/statistics.md): the total path count of
  /// the run that this shard is part of. 0 = first_path + paths (the whole run). Path p's
  /// static inputs depend on (seed, p, N), so every shard of a run must pass the same N.
  std::uint64_t design_paths = 0;
  /// Worker threads; 0 = all cores.
  int threads = 0;
  /// Keep every path's outputs (paths x outputs doubles). Off: streaming statistics only,
  /// and summary quantiles come from the sketch.
  bool keep_paths = true;
  /// Accumulate per-time bands.
  bool bands = true;
  /// Keep every path's drawn static inputs (Result::inputs; docs/sensitivity.md). Only
  /// with keep_paths.
  bool keep_inputs = true;
  /// Keep every path's value of this band series at the scenario's checkpoint years
  /// (Result::trace; "" = none). Needs bands. Used by `sensitivity --over-time`.
  std::string trace_series;
  /// Refuse (MemoryLimitError, before allocating) a run whose estimated memory
  /// (estimate_memory in capexsim/memory.hpp) exceeds this many bytes; 0 = 80% of the
  /// memory available when the run starts.
  std::uint64_t memory_limit = 0;
  /// Called now and then with (paths done, paths total), from worker threads but never
  /// concurrently. Return false to cancel: the run then throws Cancelled.
  std::function<bool(std::uint64_t, std::uint64_t)> progress;
  /// Joint runs: the lab whose payments feed one of this scenario's revenue contracts (at
  /// most one today; docs/model.md §12.6). The result's fingerprint then names
  /// the provider's and each lab's scenario.
  std::vector<JointRun> counterparties;
};

/// Thrown by run() when the progress callback asked to stop.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("simulation cancelled") {}
};

/// The outcome of a run or of merged shards.
class Result {
 public:
  std::string scenario_name;
  std::string scenario_fingerprint;
  std::uint64_t seed = 0;
  std::uint64_t first_path = 0;
  std::uint64_t paths = 0;
  int steps = 0;
  double dt = 0;
  double start_year = 0;
  std::vector<std::string> output_names;
  /// The banded series, in band order (the base series, then those of optional features).
  std::vector<std::string> series_names;

  /// paths x outputs, column-major (each output's values are contiguous). Empty when
  /// the run did not keep per-path outputs.
  Eigen::ArrayXXd per_path;
  /// The drawn static inputs (docs/model.md §3, the inputs given as distributions):
  /// their names as "<section>.<key>", their Param ids, and paths x inputs values,
  /// column-major. Empty when the run kept no per-path outputs or draws no input.
  std::vector<std::string> input_names;
  std::vector<std::size_t> input_params;
  Eigen::ArrayXXd inputs;
  /// RunOptions::trace_series: its name, the checkpoint years, and paths x years values.
  /// Not part of to_bytes (a sensitivity run's scratch).
  std::string trace_series;
  std::vector<double> trace_years;
  Eigen::ArrayXXd trace;
  std::vector<ScalarAccumulator> stats;  // one per output
  BandAccumulator bands;

  bool has_per_path() const {
    return per_path.rows() == static_cast<Eigen::Index>(paths) && paths > 0;
  }
  std::size_t output_index(std::string_view name) const;  // throws std::out_of_range
  bool has_inputs() const {
    return inputs.rows() == static_cast<Eigen::Index>(paths) && paths > 0 && inputs.cols() > 0;
  }
  Summary summary(std::size_t output) const;
  Summary summary(std::string_view name) const { return summary(output_index(name)); }
  /// P(output > threshold) over all paths, with its 95% half-width (exact from per-path
  /// values, else from the sketch).
  Exceedance exceedance(std::size_t output, double threshold) const;
  std::vector<BandRow> band(Series series) const;
  std::vector<BandRow> band(std::string_view series) const;  // throws std::out_of_range

  /// A self-contained binary form (per-path values, accumulators, metadata), so results
  /// and shards can cross processes; from_bytes(to_bytes()) compares equal in every bit.
  std::string to_bytes() const;
  static Result from_bytes(std::string_view bytes);
};

/// Run in parallel on a oneTBB arena of `threads` workers. Bit-identical to run_serial
/// for any thread count.
Result run(const Scenario& scenario, const RunOptions& options);
Result run(const PathModel& model, const RunOptions& options);

/// The serial reference: a plain loop over paths, one thread. The oracle for run().
Result run_serial(const Scenario& scenario, const RunOptions& options);
Result run_serial(const PathModel& model, const RunOptions& options);

/// Combine results of adjacent path ranges of the same scenario and seed (in either
/// order). The merged result equals, bit for bit, a run over the union of the ranges.
Result merge(const Result& a, const Result& b);

/// Merge results given as their bytes (Result::to_bytes) of adjacent path ranges, in any
/// order: equal to merging them pairwise, but each per-path array is copied once, from the
/// bytes into the merged result, with no intermediate results (capexsim.distributed).
Result merge_bytes(std::span<const std::string_view> shards);

}  // namespace capexsim
