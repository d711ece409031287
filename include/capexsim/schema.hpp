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
/// X(name, unit, kind, adverse tail, description): one line per output, read by the enum
/// below, the library's tables (output_info) and through them the CLI and Python. Only
/// ever append (the column order of paths.csv and Result::per_path).
#define CAPEXSIM_OUTPUTS(X)                                                                \
  X(funding_gap, "$B", amount, high,                                                       \
    "residual: money needed beyond the modelled sources, max(0, -min cash) (under "        \
    "[constraint] unpaid = true: the peak of arrears)")                                    \
  X(gap_time, "years", time, none,                                                         \
    "years from the start to the lowest cash (never when the gap is 0)")                   \
  X(runway, "years", time, low, "years until cash first goes below zero")                  \
  X(breakeven, "years", time, high,                                                        \
    "years until the trailing-year free cash flow first turns positive (at least 1)")      \
  X(terminal_cash, "$B", level, low, "cash at the horizon")                                \
  X(capex_total, "$B", amount, high, "construction plus refresh capex over the horizon")   \
  X(capacity_end, "GW", level, none, "owned capacity at the last step")                    \
  X(arr_end, "$B/yr", level, low, "realised annual recurring revenue at the last step")    \
  X(breakeven_sustained, "years", time, high,                                              \
    "years until the start of the last run of positive trailing-year free cash flow that " \
    "lasts to the horizon (never when the final trailing-year FCF is <= 0)")

/// Outputs of optional features (docs/model.md §10), present only in runs of scenarios that
/// configure the feature; their columns follow the outputs above, before the checkpoints.
#define CAPEXSIM_OPTIONAL_OUTPUTS(X)                                                           \
  X(debt_peak, "$B", amount, high, "largest total debt balance outstanding")                   \
  X(interest_total, "$B", amount, high, "interest paid on debt over the horizon")              \
  X(equity_raised, "$B", amount, none,                                                         \
    "equity raised in rounds and as vendor equity investments over the horizon")               \
  X(dilution, "share", amount, high, "share of the lab its owners gave up: 1 - ownership")     \
  X(rounds, "count", amount, high, "number of equity rounds raised")                           \
  X(warrant_proceeds, "$B", amount, low, "proceeds of vested warrants sold")                   \
  X(default_time, "years", time, low,                                                          \
    "years to the end of the first step with unpaid obligations (never if none)")              \
  X(unpaid_total, "$B", amount, high,                                                          \
    "arrears still outstanding at the horizon (the sum of the unpaid_* classes)")              \
  X(unpaid_capex, "$B", amount, high, "construction and refresh capex still in arrears")       \
  X(gw_not_started, "GW", amount, high,                                                        \
    "planned GW never started: plan cap - initial GW - GW started")                            \
  X(funding_need, "$B", amount, high,                                                          \
    "gross need: outside money the plan needs before any financing, max(0, -min shadow "       \
    "cash) where shadow cash is initial cash plus free cash flow")                             \
  X(need_time, "years", time, none,                                                            \
    "years from the start to the lowest shadow cash (never when the need is 0)")               \
  X(flow_revenue, "$B", amount, low, "ledger source: revenue (incl. resale)")                  \
  X(flow_vendor, "$B", amount, low, "ledger source: vendor financing received")                \
  X(flow_scheduled_equity, "$B", amount, low, "ledger source: scheduled equity raised")        \
  X(flow_warrants, "$B", amount, low, "ledger source: proceeds of vested warrants")            \
  X(flow_debt_drawn, "$B", amount, none, "ledger source: debt drawn")                          \
  X(flow_equity_rounds, "$B", amount, none, "ledger source: equity rounds raised")             \
  X(flow_arrears_added, "$B", amount, high,                                                    \
    "ledger source in effect: obligations deferred as arrears")                                \
  X(flow_capex, "$B", amount, high, "ledger use: construction and refresh capex")              \
  X(flow_contracts, "$B", amount, high, "ledger use: contract payments due")                   \
  X(flow_opex, "$B", amount, high, "ledger use: operating cost")                               \
  X(flow_interest, "$B", amount, high, "ledger use: interest due")                             \
  X(flow_debt_repaid, "$B", amount, none, "ledger use: debt principal due (maturity, sweep)")  \
  X(flow_arrears_paid, "$B", amount, none, "ledger use: arrears repaid")                       \
  X(unpaid_opex, "$B", amount, high, "operating cost still in arrears at the horizon")         \
  X(unpaid_debt, "$B", amount, high, "interest and principal still in arrears at the horizon") \
  X(deferred_total, "$B", amount, high, "deficits ever incurred (added to arrears)")           \
  X(recovered_total, "$B", amount, none,                                                       \
    "arrears repaid by the horizon: deferred_total - unpaid_total")                            \
  X(deferred_capex, "$B", amount, high, "capex ever deferred into arrears")                    \
  X(deferred_opex, "$B", amount, high, "operating cost ever deferred into arrears")            \
  X(deferred_debt, "$B", amount, high, "interest and principal ever deferred into arrears")    \
  X(flow_rent, "$B", amount, high, "ledger use: rent of leased capacity")                      \
  X(unpaid_rent, "$B", amount, high, "rent still in arrears at the horizon")                   \
  X(deferred_rent, "$B", amount, high, "rent ever deferred into arrears")                      \
  X(leased_gw_end, "GW", level, none, "leased capacity online at the last step")

/// The over-time series, banded into fan charts; one value per step, in band order.
/// X(name, unit, kind, adverse tail, description); their values are defined once, in
/// detail::series_lanes (detail/kernel.hpp).
#define CAPEXSIM_SERIES(X)                                                                     \
  X(cash, "$B", level, low, "cash after the step")                                             \
  X(capacity, "GW", level, none, "owned capacity online")                                      \
  X(serving_capacity, "GW", level, none, "owned plus contracted capacity")                     \
  X(arr, "$B/yr", level, low, "realised annual recurring revenue")                             \
  X(demand, "$B/yr", level, low, "demand: the revenue the lab could earn with ample capacity") \
  X(capex_rate, "$B/yr", level, high, "construction plus refresh capex, annualised")           \
  X(fcf_rate, "$B/yr", level, low, "free cash flow, annualised")                               \
  X(cost_per_gw, "$B per GW", level, high, "all-in cost of a GW started in the step")

/// Series of optional features, present only when the feature is configured.
#define CAPEXSIM_OPTIONAL_SERIES(X)                                                                \
  X(debt, "$B", level, high, "total debt balance after the step")                                  \
  X(ownership, "share", level, low, "share of the lab its original owners still hold")             \
  X(contracted_revenue, "$B/yr", level, low, "payments received on revenue contracts, annualised") \
  X(leased, "GW", level, none, "leased capacity online")                                           \
  X(arrears, "$B", level, high, "arrears outstanding after the step (unpaid = true)")

#define CAPEXSIM_ENUM_ENTRY(name, ...) name,
enum class Output {
  CAPEXSIM_OUTPUTS(CAPEXSIM_ENUM_ENTRY) CAPEXSIM_OPTIONAL_OUTPUTS(CAPEXSIM_ENUM_ENTRY) count_
};
enum class Series {
  CAPEXSIM_SERIES(CAPEXSIM_ENUM_ENTRY) CAPEXSIM_OPTIONAL_SERIES(CAPEXSIM_ENUM_ENTRY) count_
};
#undef CAPEXSIM_ENUM_ENTRY
/// The funding waterfall, ledger and counterparty order of the CLI table, summary.json and
/// Python (docs/model.md §13.1): positions of `names` in display order — the gross need
/// (funding_need, need_time, funding_need_by_*), the residual (funding_gap, funding_gap_by_*,
/// gap_time, runway), the ledger (flow_*), the counterparties (unpaid_*, deferred_*,
/// recovered_total, default_time), then every other output in column order.
std::vector<std::size_t> display_order(const std::vector<std::string>& names);

/// Outputs every run reports (the first ones of the enum).
inline constexpr std::size_t base_output_count = static_cast<std::size_t>(Output::debt_peak);
inline constexpr std::size_t output_kinds = static_cast<std::size_t>(Output::count_);
/// Series every run reports, and all series.
inline constexpr std::size_t base_series_count = static_cast<std::size_t>(Series::debt);
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
