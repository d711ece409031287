#pragma once
// The scenario value, its table of keys, and its loader (format: docs/model.md).

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
#include "capexsim/financing.hpp"

namespace capexsim {

/// Every scalar input of the model. Each may be a fixed number or a distribution (the
/// library accepts a distribution for every one of them; see docs/model.md, "Decisions").
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
  // v3 (docs/model.md §13): written by to_toml only when they differ from their default.
  arr_per_gw_growth,
  rent_share,
  rent_per_gw_year,
  count_
};
/// The first input introduced after v2: it and those after it are written only when they
/// differ from their default, so older scenarios keep their text and fingerprint (the
/// writer reads each input's `since` in the key table; a test checks that every input
/// from this one on has since >= 3).
inline constexpr Param first_v3_param = Param::arr_per_gw_growth;
inline constexpr std::size_t param_count = static_cast<std::size_t>(Param::count_);

/// Allowed values of an input (checked over a distribution's whole support).
enum class Range {
  any,           // any finite number
  non_negative,  // >= 0
  positive,      // > 0
  unit,          // [0, 1]
  unit_open_top  // [0, 1)
};

/// How a key's value is written in the file.
enum class KeyType {
  distribution,  // a number or a distribution inline table
  number,        // a plain number
  string,        // a string
  word,          // one of a fixed set of strings ("month", "flat", ...)
  numbers,       // an array of numbers
  words,         // an array of strings
  matrix,        // an array of arrays of numbers
  boolean,       // true or false
  tables,        // an array of inline tables (warrant tranches)
  table          // one inline table of output = number or array of numbers (thresholds)
};

/// One key of the scenario format. The table of these (scenario_keys()) is the single
/// list of the format: the loader's allowed keys, the defaults, the range and
/// plausibility checks, the TOML writer's order, and the reference table in
/// docs/model.md all come from it.
struct Scenario;

/// What a sensitivity method (`--vary`, tornado, rank, calibrate) moves for a key: its
/// distribution or plain number in a scenario. When there is nothing to move (no
/// [valuation] table, ...), `absent` says why, to follow the quoted key in an error.
struct VaryTarget {
  Distribution* dist = nullptr;
  double* number = nullptr;
  const char* absent = nullptr;
};
/// A key's VaryTarget in scenario `s`; `item` indexes its array of tables ([[debt]] etc.).
using VaryAccess = VaryTarget (*)(Scenario& s, std::size_t item);

struct KeyInfo {
  const char* section;  // TOML table; "" = top level; contract, vendor_financing and
                        // equity are arrays of tables ([[contract]])
  const char* key;
  Param param;  // the model input it sets; Param::count_ when it is not one
  KeyType type;
  const char* unit;  // "$B", "GW/week", "1/year", "share", ... ("" when it has none)
  bool required;
  double default_value;      // NaN when required or when the default is not a number
  const char* default_text;  // the default as documented ("0", "none: no cap", ...)
  Range range;
  /// Largest plausible magnitude of the value (every parameter of a distribution):
  /// above it the value is refused as a likely unit mistake. Infinity = no limit.
  double plausible_max;
  double example;  // a typical value, quoted in the plausibility error
  const char* description;
  /// The format version that introduced the key (1, 2 or 3). The writer leaves out a
  /// model input introduced after v2 while it is at its default, so a scenario that does
  /// not use it keeps its text and fingerprint (v1 and v2 inputs are always written: the
  /// published fingerprints of the shipped scenarios include them).
  int since;
  /// How `--vary` reaches the key's value (nullptr: it cannot be varied, or it is a model
  /// input, which every method reaches through Param). The sensitivity code names keys as
  /// section.key, or section.<table name>.key for arrays of tables.
  VaryAccess vary;
};

/// Every key of the scenario format, in the order of the file the writer produces.
const std::vector<KeyInfo>& scenario_keys();
/// The entry of `section`.`key`, or nullptr.
const KeyInfo* find_key(std::string_view section, std::string_view key);
/// The key table as the Markdown table of docs/model.md (between its
/// `<!-- keys:begin -->` and `<!-- keys:end -->` markers).
std::string scenario_keys_markdown();

/// A model input's entry of scenario_keys(), indexed by Param.
struct ParamInfo {
  Param id;
  const char* section;  // TOML table
  const char* key;
  bool required;
  double default_value;
  Range range;
  const char* unit = "";
  double plausible_max = 0;
  double example = 0;
  const char* description = "";
  int since = 1;  // as KeyInfo::since
};

/// Metadata of every input, indexed by Param (built from scenario_keys()).
const std::array<ParamInfo, param_count>& param_table();
const ParamInfo& param_info(Param p);

enum class StepKind { month, week, quarter };
double step_years(StepKind s);      // 1/12, 1/52, 1/4
const char* step_name(StepKind s);  // "month", ...

/// A cloud contract. Its terms may be distributions, drawn once per path (docs/model.md
/// §10, "Deal terms"); a fixed contract runs exactly as in v1.
struct Contract {
  /// flat: even payments; ramp: payments rising linearly, full gw from the start;
  /// delivery: gw delivered linearly over ramp_years, payments follow the GW delivered.
  enum class Profile { flat, ramp, delivery };
  std::string name;
  Distribution total_bn = Distribution::fixed(0);
  Distribution start_year = Distribution::fixed(0);
  Distribution years = Distribution::fixed(0);
  Distribution gw = Distribution::fixed(0);
  Profile profile = Profile::flat;
  double cancel_probability = 0;  // it never starts, with this probability per path
  int renewals = 0;               // further terms of `years` at the end, flat
  Distribution renewal_price_factor = Distribution::fixed(1);  // renewal total / total
  /// profile = delivery: years over which gw is delivered (absent: years / 2).
  std::optional<double> ramp_years;
  /// Any term drawn per path (a distribution, a cancellation or renewals)?
  bool uncertain() const {
    return !total_bn.is_fixed() || !start_year.is_fixed() || !years.is_fixed() || !gw.is_fixed() ||
           cancel_probability > 0 || renewals > 0;
  }
  friend bool operator==(const Contract&, const Contract&) = default;
};

/// `[[revenue_contract]]` (docs/model.md §12.6): the other side of a deal — payments the
/// lab (a provider) receives as revenue, for `gw` of its capacity reserved to the buyer.
/// A default (exponential time at `default_rate` per year, drawn on its own counter) stops
/// the remaining payments and returns the GW to open demand.
struct RevenueContract {
  std::string name;
  double total_bn = 0;
  double start_year = 0;
  double years = 0;
  double gw = 0;
  Contract::Profile profile = Contract::Profile::flat;
  Distribution default_rate = Distribution::fixed(0);  // per year, drawn once per path
  std::optional<double> ramp_years;                    // profile = delivery (absent: years / 2)
  friend bool operator==(const RevenueContract&, const RevenueContract&) = default;
};

struct VendorFinancing {
  std::string name;
  Distribution per_gw_bn = Distribution::fixed(0);
  Distribution cap_bn = Distribution::fixed(0);
  /// grant: free cash (v1); equity: an investment at the step's pre-money value, which
  /// dilutes (needs [valuation]).
  enum class Kind { grant, equity } kind = Kind::grant;
  /// GW the money follows: owned GW coming online (v1) or deployed GW, owned and leased.
  GwBasis basis = GwBasis::owned;
  friend bool operator==(const VendorFinancing&, const VendorFinancing&) = default;
};

struct EquityInjection {
  Distribution at_year = Distribution::fixed(0);
  Distribution amount_bn = Distribution::fixed(0);
  friend bool operator==(const EquityInjection&, const EquityInjection&) = default;
};

/// Calendar-year outputs of [outputs] yearly, in column order: revenue_<Y>, fcf_<Y>,
/// capex_<Y>, need_<Y> (docs/model.md §13.5).
enum class YearlyKind { revenue, fcf, capex, need };
inline constexpr std::size_t yearly_kind_count = 4;
const char* yearly_kind_name(YearlyKind k);  // "revenue", "fcf", "capex", "need"

/// The four per-step shocks, in their canonical order (docs/model.md, "Shocks").
enum class Shock { pace, cost, arr, growth };
inline constexpr std::size_t shock_count = 4;
const char* shock_name(Shock s);

/// How the static inputs of a path are sampled (docs/statistics.md).
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
  std::vector<RevenueContract> revenue_contracts;
  std::vector<VendorFinancing> vendors;
  std::vector<EquityInjection> equity;
  /// Debt, valuation and equity rounds, warrants, the funding constraint (all absent
  /// unless configured).
  Financing financing;
  /// How starts are decided: the v1 schedule (default) or demand-led.
  BuildPlan plan;

  /// Correlation of the shocks in canonical order (identity when absent).
  Eigen::Matrix4d correlation = Eigen::Matrix4d::Identity();
  /// The shock names as listed in the file (empty when [correlation] is absent).
  std::vector<Shock> correlation_order;

  std::vector<double> checkpoints;  // calendar years for arr_at_<year>
  /// [outputs] yearly: the calendar-year sums reported per path (docs/model.md §13.5).
  std::vector<YearlyKind> yearly;

  /// [opex] fixed_opex_long_run_growth (absent: fixed_opex_growth, per path) and
  /// fixed_opex_growth_reversion (lambda; 0: the growth never relaxes, the v1 formula).
  std::optional<double> fixed_opex_long_run_growth;
  double fixed_opex_growth_reversion = 0;
  /// [outputs] headline: the output the report leads with; empty = its default
  /// (funding_need when the run has it, else funding_gap). Checked against the run's outputs.
  std::string headline;

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

/// Limits checked on the raw text before it is parsed (deeply nested or very long dotted
/// keys would exhaust the TOML parser's stack).
inline constexpr std::size_t max_scenario_bytes = 16u << 20;  // 16 MiB
inline constexpr int max_key_segments = 64;                   // dotted parts of one key
inline constexpr int max_nesting = 64;                        // nested arrays / inline tables

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

/// One capacity source's economics at the start (docs/model.md §13.6), in $B per
/// GW-year, from the means of the inputs: what a GW earns net of revenue-linked costs,
/// `arr_per_gw (1 - revenue_cost_share)`, against what it costs: owned
/// `power_ops_per_gw_year + cost_per_gw it_share / useful_life_years`, leased
/// `rent_per_gw_year`, a contract its price `total / (gw years)` (delivery:
/// `total / (gw (years - ramp_years / 2))`).
struct UnitEconomics {
  std::string source;  // "owned", "leased", "contract NAME"
  double net_revenue_per_gw_year = 0;
  double cost_per_gw_year = 0;
  double margin() const { return net_revenue_per_gw_year - cost_per_gw_year; }
};
/// The sources of a scenario: owned, leased (with rent_share), each contract with GW.
std::vector<UnitEconomics> unit_economics(const Scenario& scenario);

/// The calendar years that the steps of the horizon start in, in order (the years of the
/// `revenue_<Y>`, ... outputs; the first and last may be partial).
std::vector<int> calendar_years(const Scenario& scenario);
/// The calendar year that step i starts in.
int calendar_year_of_step(const Scenario& scenario, int i);

/// Name of a calendar-year output: (fcf, 2027) -> "fcf_2027".
std::string yearly_name(YearlyKind kind, int year);

/// Calendar-year label of a checkpoint output: 2028.0 -> "arr_at_2028", 2028.5 -> "arr_at_2028.5".
/// The name of a checkpoint output: `arr_at_2030`, or with another prefix
/// (`funding_need_by_`, `funding_gap_by_`, docs/model.md §13.1).
std::string checkpoint_name(double year, std::string_view prefix = "arr_at_");

}  // namespace capexsim
