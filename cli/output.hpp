#pragma once
// Files and tables the command line writes: summary.json, bands.csv, paths.csv, and the
// terminal summary table. The files of a run are switched in as one set (OutputSet).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <capexsim/engine.hpp>

namespace capexsim::cli {

/// Invalid input from the user (exit code 2): bad option value, unwritable folder.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Output name -> thresholds v of P(output > v).
using Thresholds = std::vector<std::pair<std::string, std::vector<double>>>;

/// Run metadata recorded in summary.json.
struct RunInfo {
  std::string scenario_file;
  std::string run_id;  // the output set's id (OutputSet::run_id)
  int threads = 0;
  double wall_seconds = 0;
  std::string sampling = "random";
  Thresholds thresholds;
  std::string note;  // e.g. Sobol at a path count that is not a power of two
  // --target: the target as written, whether it was reached, the estimate and half-widths.
  std::string target;
  bool target_reached = false;
  double target_estimate = 0, target_half_width = 0, target_wanted = 0;
};

/// Make sure `dir` exists and is writable (before a long run); throws UsageError.
void prepare_out_dir(const std::filesystem::path& dir);

/// A buffered file being written in an output set's staging folder. Errors (full disk,
/// file-size limit) throw UsageError; the OutputSet then removes the staging folder.
class OutFile {
 public:
  OutFile(std::filesystem::path path, std::string shown);
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;
  ~OutFile();
  void write(std::string_view text);
  /// Flush, fsync and close; returns the file's size in bytes.
  std::uint64_t close();

 private:
  void flush();
  [[noreturn]] void fail(const char* what);
  std::filesystem::path path_;
  std::string shown_;  // the name in messages: DIR/NAME
  int fd_ = -1;
  std::string buffer_;
  std::uint64_t size_ = 0;
};

/// The files of one run in an --out folder, switched in all at once.
///
/// Layout: DIR/.capexsim/RUN_ID/ holds one run's files; DIR/.capexsim/current is a
/// symbolic link to the live run's folder, and DIR/summary.json (and the other names) are
/// symbolic links through it (.capexsim/current/summary.json). A run writes its files
/// into a new DIR/.capexsim/RUN_ID/, fsyncs them, then replaces `current` with one
/// rename(2): every name switches to the new set at the same instant, so at any moment
/// (a kill included) the names show the whole previous set or the whole new one.
/// DIR/.capexsim/lock (flock) keeps a second run out while the first holds the folder.
/// Leftovers of a killed run (its staging folder) are removed by the next run.
class OutputSet {
 public:
  /// The names an --out folder may hold; a set without one of them removes it.
  static const std::vector<std::string>& known_names();

  /// Creates DIR if needed, takes the lock (UsageError naming the other run's pid when it
  /// is taken) and cleans up after killed runs. Call before the simulation starts.
  explicit OutputSet(const std::filesystem::path& dir);
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;
  /// Without commit(), removes the staging folder: the folder is as it was.
  ~OutputSet();

  const std::string& run_id() const { return run_id_; }
  const std::filesystem::path& dir() const { return dir_; }
  /// Start a file of the set (in the staging folder).
  std::unique_ptr<OutFile> open(const std::string& name);
  /// Write a whole file of the set.
  std::uint64_t write(const std::string& name, std::string_view content);
  /// Switch the folder to this set (the files written so far).
  void commit();

 private:
  void open_folder();
  void repair();
  void adopt(const std::vector<std::string>& loose);
  std::filesystem::path dir_, meta_, staging_;
  std::string run_id_;
  std::string live_;  // the run folder `current` points at ("" when none)
  std::vector<std::string> names_;
  int dir_fd_ = -1, meta_fd_ = -1, lock_fd_ = -1;
  bool committed_ = false;
};

/// Write `content` to `file` atomically: a temporary file in the same folder, flushed,
/// then renamed over the target. On failure the target is untouched and the temporary
/// removed; throws UsageError.
void write_atomically(const std::filesystem::path& file, const std::string& content);

/// Every output's Summary, in column order: computed once per run (each costs a selection
/// over all paths) and shared by the table and summary.json.
std::vector<Summary> summaries(const Result& r);

/// Outputs of amounts and levels (not event times, where NaN means "never happens") that
/// are NaN, infinite or beyond 1e300 in magnitude on some path: a value overflowed a
/// double (an extreme growth rate or drift over the horizon). Listed in summary.json as
/// "overflowed" and in a warning by the commands that run.
std::vector<std::string> overflowed_outputs(const Result& r, const std::vector<Summary>& stats);
/// The warning line for overflowed_outputs ("" when none).
std::string overflow_warning(const std::vector<std::string>& overflowed);

std::string bands_csv(const Result& r);
/// summary.json; `files` (name -> bytes) lists the set's other files (the manifest).
std::string summary_json(const Result& r, const std::vector<Summary>& stats, const RunInfo& info,
                         const std::vector<std::pair<std::string, std::uint64_t>>& files);
/// Stream paths.csv into `out`, row by row; Ctrl-C (interrupted()) is checked every 1024
/// rows and throws capexsim::Cancelled.
void write_paths_csv(const Result& r, OutFile& out);

/// The readable summary table (rows = outputs).
std::string summary_table(const Result& r, const std::vector<Summary>& stats);
/// Per class of obligation (contracts, builders, opex, lenders, landlords, total):
/// P(never in arrears), P(paid in full by the horizon), mean and p95 still unpaid, mean
/// recovered; empty unless the run carries arrears ([constraint] unpaid = true).
std::string counterparty_table(const Result& r, const std::vector<Summary>& stats);
/// Sources and uses (docs/model.md §13.2): each flow_* output's mean, p5, p50, p95 and the
/// cash they leave; empty for a run without the ledger.
std::string ledger_table(const Result& r, const std::vector<Summary>& stats);
/// Lines "P(funding_gap > 1000) = 72.30% ± 0.28%" for each threshold ("" when none).
std::string thresholds_table(const Result& r, const Thresholds& thresholds);

/// Units of an output for display: "$B", "years", "GW", "$B/yr".
std::string output_unit(const std::string& name);  // from the schema (schema.hpp)
bool is_event_time(const std::string& name);       // outputs of kind time
/// Decimals shown for a unit: 2 for years and GW, 1 for $B amounts.
int decimals_for(const std::string& unit);

/// `x` with `decimals` decimals, "-" for NaN; from 1e9 in magnitude "%.3e", which keeps
/// a table's columns aligned.
std::string fixed(double x, int decimals);
/// Six significant digits ("%.6g"; an input value, a target), "-" for NaN.
std::string significant(double x);

/// 1234567 -> "1,234,567".
std::string grouped(std::uint64_t n);

/// Shortest round-trip text of a double ("nan" for NaN).
std::string number(double x);

}  // namespace capexsim::cli
