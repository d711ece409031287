#pragma once
// One table of what the model reports: every per-path output and every over-time series,
// with its unit, kind, adverse tail and a description (docs/model.md §5). The CLI's
// table and summary.json, the Python labels and plots all read it from here.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace capexsim {

/// What a number is, which decides how it is summarised and shown.
enum class Kind {
  amount,  // a total or a peak over the run ($B)
  time,    // years from the start to an event; NaN when the event never happens
  level    // a level at a point in time (capacity, ARR, cash)
};
/// The tail that is bad news for the lab (the one an analyst's risk measure looks at).
enum class Tail { high, low, none };

struct QuantityInfo {
  std::string name;
  std::string unit;  // "$B", "$B/yr", "GW", "years", "$B per GW"
  Kind kind = Kind::amount;
  Tail adverse = Tail::none;
  std::string description;
};
const char* kind_name(Kind k);  // "amount", "time", "level"
const char* tail_name(Tail t);  // "high", "low", "none"

/// The scalar per-path outputs, in column order; `arr_at_<year>` checkpoints follow them.
/// Only ever append (the column order of paths.csv and Result::per_path).
enum class Output {
  funding_gap,          // max(0, -min_i W_{i+1}), $B
  gap_time,             // years to the minimum of W (NaN when funding_gap = 0)
  runway,               // years to the first W < 0 (NaN if never)
  breakeven,            // years to the first trailing-year FCF > 0, >= 1 (NaN if never)
  terminal_cash,        // W_n, $B
  capex_total,          // sum of capex + refresh, $B
  capacity_end,         // G_{n-1}, GW
  arr_end,              // R_{n-1}, $B/yr
  breakeven_sustained,  // start of the last run of positive trailing-year FCF (NaN if none)
  count_
};
inline constexpr std::size_t base_output_count = static_cast<std::size_t>(Output::count_);

/// The per-time series, banded into fan charts; one value per step.
enum class Series {
  cash,              // W after the step, $B
  capacity,          // owned GW, G_i
  serving_capacity,  // owned + contracted GW, C_i
  arr,               // realised ARR R_i, $B/yr
  demand,            // demand ARR D_i, $B/yr
  capex_rate,        // (capex_i + refresh_i) / dt, $B/yr
  fcf_rate,          // FCF_i / dt, $B/yr
  cost_per_gw,       // K_i, $B per GW
  count_
};
inline constexpr std::size_t series_count = static_cast<std::size_t>(Series::count_);

const QuantityInfo& output_info(Output o);
const QuantityInfo& series_info(Series s);
const char* output_name(Output o);
const char* series_name(Series s);

/// The description of an output by name, including the generated `arr_at_<year>`
/// checkpoints. Throws std::out_of_range for an unknown name.
QuantityInfo describe_output(std::string_view name);
/// The series of that name. Throws std::out_of_range (listing the known names).
Series series_by_name(std::string_view name);

}  // namespace capexsim
