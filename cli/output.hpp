#pragma once
// Files and tables the command line writes: summary.json, bands.csv, paths.csv, and the
// terminal summary table. Files are written atomically.

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
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

/// Write `content` to `file` atomically: a temporary file in the same folder, flushed,
/// then renamed over the target. On failure the target is untouched and the temporary
/// removed; throws UsageError.
void write_atomically(const std::filesystem::path& file, const std::string& content);

std::string summary_json(const Result& r, const RunInfo& info);
std::string bands_csv(const Result& r);
std::string paths_csv(const Result& r);

/// The readable summary table (rows = outputs).
std::string summary_table(const Result& r);
/// Per counterparty (contracts, then builders): P(paid in full), mean and p95 unpaid;
/// empty unless the run has unpaid_<contract> outputs ([constraint] unpaid = true).
std::string counterparty_table(const Result& r);
/// Lines "P(funding_gap > 1000) = 72.30% ± 0.28%" for each threshold ("" when none).
std::string thresholds_table(const Result& r, const Thresholds& thresholds);

/// Units of an output for display: "$B", "years", "GW", "$B/yr".
std::string output_unit(const std::string& name);  // from the schema (schema.hpp)
bool is_event_time(const std::string& name);       // outputs of kind time
/// Decimals shown for a unit: 2 for years and GW, 1 for $B amounts.
int decimals_for(const std::string& unit);

/// 1234567 -> "1,234,567".
std::string grouped(std::uint64_t n);

/// Shortest round-trip text of a double ("nan" for NaN).
std::string number(double x);

}  // namespace capexsim::cli
