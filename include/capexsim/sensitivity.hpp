#pragma once
// Sensitivity analysis (docs/sensitivity.md): what drives an output. Rank measures on
// one run's kept inputs, a one-at-a-time tornado with common random numbers, Sobol
// indices of the drawn inputs and of the processes by pick-freeze, and goal seek.
// Every method is a set of ordinary runs (same seed, other switches), so it is as
// reproducible and as parallel as run().

#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "capexsim/engine.hpp"
#include "capexsim/scenario.hpp"
#include "capexsim/sobol.hpp"

namespace capexsim {

/// Bad input to a sensitivity method (unknown output, key, statistic, an empty range):
/// the CLI maps it to exit code 2.
class SensitivityError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Refuse (SensitivityError listing the scenario's outputs) an output `scenario` does not
/// report: every method checks it before running.
void check_output(const Scenario& scenario, std::string_view output);

/// The statistic of an output that a tornado or a goal seek looks at.
struct Statistic {
  enum class Kind { mean, quantile, prob_positive, nan_share } kind = Kind::mean;
  double level = 0.5;        // quantile level in (0, 1)
  std::string name() const;  // "mean", "p90", "p2.5", "prob_positive", "nan_share"
  /// A share of all paths (prob_positive: output > 0; nan_share: the event never happens).
  bool is_share() const { return kind == Kind::prob_positive || kind == Kind::nan_share; }
};
/// "mean", "pNN" with 0 < NN < 100 (p50 = median; decimals allowed), "prob_positive",
/// "nan_share" (as `run --target` accepts it).
/// Throws SensitivityError naming the text and the accepted forms.
Statistic parse_statistic(std::string_view text);

/// The statistic over every path's value (NaN = the event never happens): the mean and
/// quantiles over the defined values, the share of all paths above 0; with its 95%
/// half-width (docs/statistics.md). {NaN, NaN} when no value is defined.
struct StatisticValue {
  double value = 0, ci95 = 0;
  std::uint64_t defined = 0;  // non-NaN values
};
StatisticValue evaluate_statistic(const Statistic& stat, std::span<const double> values);

// --- Scenario keys that may be varied (tornado --vary, calibrate) ------------------------

/// One `--vary KEY=LO:HI`.
struct VaryRange {
  std::string key;
  double lo = 0, hi = 0;
};
/// Parse KEY=LO:HI; throws SensitivityError unless LO < HI, both finite.
VaryRange parse_vary(std::string_view text);

/// The keys that can be varied: model inputs as `<section>.<key>` (build.plan_cap_gw,
/// revenue.growth0, ...), contract terms as `contract.<name>.<term>` (total, start,
/// years, gw, renewal_price_factor, cancel_probability), vendor terms as
/// `vendor_financing.<name>.<term>` (per_gw, cap).
/// The value of `key` in `scenario`: a fixed number, or the mean of its distribution.
/// Throws SensitivityError for an unknown key (listing the forms above).
double key_value(const Scenario& scenario, std::string_view key);
/// `scenario` with `key` set to `value`: a fixed number stays a fixed number; a
/// distribution is shifted so that its mean is `value` (normal, uniform, triangular,
/// pert, choice; a lognormal has no shift and is refused). The result is validated like
/// a loaded scenario; an invalid value throws SensitivityError naming the key.
Scenario with_key_value(const Scenario& scenario, std::string_view key, double value);

/// Fixed assumptions moved by a share of their value (tornado --assumptions 20%).
struct AssumptionRanges {
  std::vector<VaryRange> ranges;     // KEY = value (1 - share) : value (1 + share), in file order
  std::vector<std::string> skipped;  // "<key>: why" (a move that makes the scenario invalid)
};
/// The fixed numeric keys of `scenario` that can be varied (as `--vary` names them; not
/// calendar years, not 0), each moved by ±`share` of its value. With `all` false only
/// those whose own line in `toml_text` (the scenario file) carries an `[assumption]` tag
/// in its comment; with `all` true every such key. A key whose moved value is not a valid
/// scenario (a share above 1) is listed in `skipped`. Throws SensitivityError unless
/// 0 < share < 1.
AssumptionRanges assumption_ranges(const Scenario& scenario, std::string_view toml_text,
                                   double share, bool all);

// --- Rank measures --------------------------------------------------------------------

struct RankRow {
  std::string factor;       // "<section>.<key>"
  double spearman = 0;      // rank correlation with the output (paths where it is defined)
  double srrc = 0;          // standardised rank-regression coefficient
  double contribution = 0;  // srrc^2 / sum srrc^2 x R^2: the share of the rank variance
  /// Rank correlation with "the output is defined" (the event happens), over all paths;
  /// NaN when the output is defined on every path or on none.
  double event_spearman = 0;
};
struct RankTable {
  std::string output;
  std::uint64_t paths = 0, defined = 0;
  double nan_share = 0;       // share of paths where the output is NaN (the event never happens)
  double r2 = 0;              // R^2 of the rank regression
  std::vector<RankRow> rows;  // sorted by |srrc|, largest first
};
/// Rank measures of `output` against the drawn inputs kept in `result` (run with
/// keep_paths and keep_inputs). Paths where the output is NaN are left out of the
/// spearman/srrc/R^2 figures and counted in nan_share and event_spearman. Throws
/// SensitivityError when the result has no inputs or fewer than 3 defined values.
RankTable rank_sensitivity(const Result& result, std::string_view output);

// --- Tornado --------------------------------------------------------------------------

struct TornadoRow {
  std::string factor;
  double low_input = 0, high_input = 0;
  double stat_low = 0, stat_base = 0, stat_high = 0, swing = 0;  // swing = |high - low|
  bool varied = false;  // a --vary key (its scenario value set), not a pinned drawn input
};
struct TornadoOptions {
  double low = 0.1, high = 0.9;  // quantiles at which each drawn input is pinned
  std::vector<VaryRange> vary;   // fixed (or shifted) inputs with explicit ranges
};
struct TornadoTable {
  std::string output, statistic;
  double base = 0, base_ci95 = 0;
  double base_nan_share = 0;     // paths of the base run where the output is undefined
  std::vector<TornadoRow> rows;  // sorted by swing, largest first
};
/// The evaluations of a tornado over a path range: the output of every path of the base
/// run, then of the low and high run of each row (rows in the order drawn inputs, then
/// --vary keys; their stats unset). Ranges merge into the whole, so a tornado shards like
/// a run, and the statistic is chosen when the table is made.
struct TornadoSamples {
  std::string scenario_fingerprint, output;
  std::uint64_t seed = 0, first_path = 0, paths = 0;
  double low = 0.1, high = 0.9;
  std::vector<TornadoRow> rows;
  std::vector<std::vector<double>> values;  // [0] base, [1 + 2i] row i low, [2 + 2i] high

  std::string to_bytes() const;
  static TornadoSamples from_bytes(std::string_view bytes);  // throws std::invalid_argument
};
TornadoSamples tornado_samples(const Scenario& scenario, std::string_view output,
                               const RunOptions& options, const TornadoOptions& tornado = {});
/// Adjacent ranges of one tornado (either order); SensitivityError otherwise.
TornadoSamples merge(const TornadoSamples& a, const TornadoSamples& b);
/// The table of `stat` from samples of the whole tornado.
TornadoTable tornado_table(const TornadoSamples& samples, const Statistic& stat);

/// One-at-a-time: every drawn input pinned at its low and high quantile in turn, every
/// --vary key at LO and HI, each run with the same seed and paths as the base run
/// (common random numbers). `options` gives paths, seed, threads and progress.
TornadoTable tornado(const Scenario& scenario, std::string_view output, const Statistic& stat,
                     const RunOptions& options, const TornadoOptions& tornado = {});

// --- Sobol indices of the model ----------------------------------------------------------

struct SobolModelOptions {
  SobolOptions estimator;  // bootstrap, level (its seed is set from the run's seed)
  std::string over_time;   // a band series: indices at each checkpoint year
};
struct SobolTable {
  std::string output;     // the output, or the series with over_time
  std::string statistic;  // "value" or "prob_positive" (the indicator output > 0)
  std::uint64_t base_paths = 0, total_paths = 0;  // N and N (k + 2)
  double mean = 0, variance = 0;
  std::vector<SobolIndex> rows;  // inputs, then the process groups
  /// With over_time: the checkpoint years and the indices at each (rows stays empty).
  std::vector<double> years;
  std::vector<std::vector<SobolIndex>> over_time;
  std::vector<double> year_means, year_variances;  // with over_time (mean, variance: NaN)
};
/// The model evaluations of a Sobol analysis over a path range: per analysed quantity
/// (the output, or the series at each checkpoint year), per run (A, B, then A_B^(i) for
/// each factor), every path's value. Ranges of one analysis merge (in path order) into
/// the samples of the whole, bit for bit, so the analysis shards like a run.
struct SobolSamples {
  std::string scenario_fingerprint, output, statistic, over_time;
  std::uint64_t seed = 0, first_path = 0, paths = 0;
  std::vector<std::string> factors;
  std::vector<double> years;  // with over_time: the checkpoint years analysed
  /// values[q][r][p]: quantity q (one without over_time, else one per year), run r
  /// (0 = A, 1 = B, 2 + i = A_B^(i)), path first_path + p.
  std::vector<std::vector<std::vector<double>>> values;

  std::string to_bytes() const;
  static SobolSamples from_bytes(std::string_view bytes);  // throws std::invalid_argument
};
/// The evaluations of sobol_sensitivity for paths [options.first_path, + options.paths).
SobolSamples sobol_samples(const Scenario& scenario, std::string_view output, const Statistic& stat,
                           const RunOptions& options, const std::string& over_time = "");
/// Samples of adjacent path ranges of one analysis (either order); throws
/// SensitivityError when they are of different analyses or not adjacent.
SobolSamples merge(const SobolSamples& a, const SobolSamples& b);
/// The indices from samples (the whole analysis: bootstrap resamples every path).
SobolTable sobol_table(const SobolSamples& samples, const SobolOptions& estimator = {});

/// The factors of `scenario` for Sobol analysis: its drawn inputs ("<section>.<key>"),
/// then the groups pace, cost, demand, growth, and financing when it draws any deal
/// term, financing rate or warrant price.
/// With counterparties (a joint run, docs/model.md §12.6) an input drawn by a lab but
/// fixed in `scenario` is a factor too (the two share its variate), and so is financing
/// when a lab draws it.
std::vector<std::string> sobol_factors(const Scenario& scenario,
                                       std::span<const JointRun> counterparties = {});
/// Saltelli/Jansen pick-freeze on the model: A = the run with seed a = options.seed, B =
/// the run with a second seed b, A_B^(i) = seed a with factor i drawn from b's counters;
/// N = options.paths base paths each, N (k + 2) paths in all. `stat` is mean (the
/// output itself, which must be defined on every path) or prob_positive (the indicator
/// output > 0). Static inputs are drawn plainly (lhs/sobol designs are not used);
/// [input_correlation] is refused since the indices assume independent inputs.
SobolTable sobol_sensitivity(const Scenario& scenario, std::string_view output,
                             const Statistic& stat, const RunOptions& options,
                             const SobolModelOptions& sobol = {});

// --- Goal seek ------------------------------------------------------------------------------

struct CalibrateResult {
  std::string key, output, statistic;
  double target = 0;
  double value = 0;                        // the key's value that hits the target
  double value_ci95 = 0;                   // Monte Carlo error of that value: stat ci95 / |slope|
  double achieved = 0, achieved_ci95 = 0;  // the statistic at `value`, its half-width
  int runs = 0;
  std::vector<std::pair<double, double>> evaluations;  // (key value, statistic), in order
  Scenario scenario;                                   // the calibrated scenario
};
/// The value of `range.key` in [lo, hi] at which `stat` of `output` equals `target`:
/// TOMS 748 bracketing on runs with common random numbers (same seed and paths), so the
/// statistic is a deterministic function of the key. Throws SensitivityError when the
/// target is outside what [lo, hi] reaches (quoting the statistic at both ends).
CalibrateResult calibrate(const Scenario& scenario, const VaryRange& range, std::string_view output,
                          const Statistic& stat, double target, const RunOptions& options);

}  // namespace capexsim
