#pragma once
// The scenario value of MODEL.md §7 and its loader.

#include <array>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "capexsim/distribution.hpp"

namespace capexsim {

/// Every scalar input of the model. Each may be a fixed number or a distribution
/// (MODEL.md marks only some as *dist*, but its reference scenario draws others, so the
/// library accepts a distribution for every one of them; see docs/model-decisions.md).
/// The numeric value of each enumerator is also the id of its random stream: never
/// renumber, only append (common random numbers across library versions).
enum class Param : std::size_t {
  initial_cash,
  initial_gw,
  plan_cap_gw,
  max_pace_gw_per_week,
  ramp_midpoint_years,
  ramp_width_years,
  lead_time_years,
  pace_volatility,
  pace_reversion,
  disruption_rate,
  disruption_mean_years,
  disruption_multiplier,
  cost_per_gw,
  cost_drift,
  cost_volatility,
  learning_rate,
  it_share,
  useful_life_years,
  arr0,
  growth0,
  long_run_growth,
  growth_reversion,
  growth_volatility,
  arr_volatility,
  jump_rate,
  jump_mean,
  jump_sd,
  arr_per_gw,
  resale_price_per_gw_year,
  resale_utilization,
  power_ops_per_gw_year,
  revenue_cost_share,
  fixed_opex,
  fixed_opex_growth,
  count_
};
inline constexpr std::size_t param_count = static_cast<std::size_t>(Param::count_);

/// Allowed values of an input (checked over a distribution's whole support).
enum class Range {
  any,           // any finite number
  non_negative,  // >= 0
  positive,      // > 0
  unit,          // [0, 1]
  unit_open_top  // [0, 1)
};

struct ParamInfo {
  Param id;
  const char* section;  // TOML table
  const char* key;
  bool required;
  double default_value;
  Range range;
};

/// Metadata of every input, indexed by Param.
const std::array<ParamInfo, param_count>& param_table();
const ParamInfo& param_info(Param p);

enum class StepKind { month, week, quarter };
double step_years(StepKind s);      // 1/12, 1/52, 1/4
const char* step_name(StepKind s);  // "month", ...

struct Contract {
  enum class Profile { flat, ramp };
  std::string name;
  double total_bn = 0;
  double start_year = 0;
  double years = 0;
  double gw = 0;
  Profile profile = Profile::flat;
  friend bool operator==(const Contract&, const Contract&) = default;
};

struct VendorFinancing {
  std::string name;
  double per_gw_bn = 0;
  double cap_bn = 0;
  friend bool operator==(const VendorFinancing&, const VendorFinancing&) = default;
};

struct EquityInjection {
  double at_year = 0;
  double amount_bn = 0;
  friend bool operator==(const EquityInjection&, const EquityInjection&) = default;
};

/// The four per-step shocks, in the canonical order of MODEL.md §4.
enum class Shock { pace, cost, arr, growth };
inline constexpr std::size_t shock_count = 4;
const char* shock_name(Shock s);

/// How the static inputs of a path are sampled (MODEL.md §9.1; docs/statistics.md).
enum class Sampling { random, lhs, sobol };
const char* sampling_name(Sampling s);  // "random", "lhs", "sobol"
/// The method named `name`, or nullopt.
std::optional<Sampling> sampling_from_name(std::string_view name);

/// A complete, validated scenario (every default filled in).
struct Scenario {
  std::string name;
  double start_year = 0;
  double horizon_years = 0;
  StepKind step = StepKind::month;

  std::array<Distribution, param_count> params;
  bool has_plan_cap = false;  // plan_cap_gw absent = no cap

  std::vector<Contract> contracts;
  std::vector<VendorFinancing> vendors;
  std::vector<EquityInjection> equity;

  /// Correlation of the shocks in canonical order (identity when absent).
  Eigen::Matrix4d correlation = Eigen::Matrix4d::Identity();
  /// The shock names as listed in the file (empty when [correlation] is absent).
  std::vector<Shock> correlation_order;

  std::vector<double> checkpoints;  // calendar years for arr_at_<year>

  /// [simulation] sampling of the static inputs (random unless asked).
  Sampling sampling = Sampling::random;
  /// [input_correlation]: the correlated static inputs, in file order, and their Spearman
  /// rank correlations, row-major k x k (both empty when the table is absent).
  std::vector<Param> input_correlation_inputs;
  std::vector<double> input_correlation;
  /// [outputs] thresholds: output name -> values v whose P(output > v) is reported (the
  /// loader gives them in output-name order, as TOML tables have no order).
  std::vector<std::pair<std::string, std::vector<double>>> thresholds;

  const Distribution& operator[](Param p) const { return params[static_cast<std::size_t>(p)]; }
  Distribution& operator[](Param p) { return params[static_cast<std::size_t>(p)]; }

  double dt() const { return step_years(step); }
  int steps() const;

  friend bool operator==(const Scenario&, const Scenario&) = default;
};

/// An invalid scenario. `what()` reads `file:line:col: key.path: expected ..., got ...`.
class ScenarioError : public std::runtime_error {
 public:
  ScenarioError(std::string file, int line, int column, std::string key, std::string message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }  // 0 when the error has no single location
  int column() const { return column_; }
  const std::string& key() const { return key_; }
  const std::string& message() const { return message_; }

 private:
  std::string file_, key_, message_;
  int line_, column_;
};

/// Parse and validate a scenario file. Throws ScenarioError on any invalid input,
/// including an unreadable file.
Scenario load_scenario(const std::filesystem::path& file);

/// Parse and validate TOML text. `source_name` is used in messages and as the default
/// `name` (its stem).
Scenario parse_scenario(std::string_view toml_text, std::string_view source_name = "<string>");

/// Check a scenario built in code (the same rules as the loader; locations are empty).
void validate(const Scenario& scenario, std::string_view source_name = "<scenario>");

/// The resolved scenario as TOML: every default filled in, every distribution spelled
/// out. parse_scenario(to_toml(s)) == s.
std::string to_toml(const Scenario& scenario);

/// A 64-bit FNV-1a hash of to_toml(scenario), printed as 16 hex digits.
std::string fingerprint(const Scenario& scenario);

/// Calendar-year label of a checkpoint output: 2028.0 -> "arr_at_2028", 2028.5 -> "arr_at_2028.5".
std::string checkpoint_name(double year);

}  // namespace capexsim
