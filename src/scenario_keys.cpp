// The table of scenario keys: one line per key of the format. The loader, the checker,
// the writer and the reference table of docs/model.md are all driven by it.

#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "capexsim/detail/format.hpp"
#include "capexsim/scenario.hpp"
#include "scenario_internal.hpp"

namespace capexsim {

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double no = std::numeric_limits<double>::quiet_NaN();  // no numeric default
constexpr Param none = Param::count_;

// Plausibility limits (largest believable magnitude; see docs/model.md, "Plausibility"):
constexpr double money_stock = 1e5;     // $B: $100 trillion, about world GDP
constexpr double money_per_gw = 1e4;    // $B per GW (or per GW-year): 200x today's ~$50B
constexpr double arr_per_gw_max = 1e6;  // a huge value says "capacity never binds"
constexpr double gw = 1e5;              // GW: ~10x the world's generating capacity
constexpr double rate = 1e3;            // per year: an event or reversion every ~9 hours
constexpr double growth = 1e2;          // continuous growth/volatility per year: e^100
// Durations and calendar years have no limit: a huge lead time, life or term is a valid
// way to say "never", and a wrong time unit (months for years) is not a magnitude error.
constexpr double years = inf;

using K = KeyType;
using R = Range;

// The vary column: how a sensitivity method reaches a key's value (model inputs go
// through Param and need none).
VaryTarget target(Distribution& d) {
  return {&d, nullptr, nullptr};
}
VaryTarget target(double& x) {
  return {nullptr, &x, nullptr};
}
VaryTarget coverage(Scenario& s, std::size_t) {
  if (s.plan.kind != BuildPlan::Kind::demand)
    return {nullptr, nullptr, " applies only with [build] plan = \"demand\""};
  return target(s.plan.coverage);
}
template <auto M>
VaryTarget in_contract(Scenario& s, std::size_t i) {
  return target(s.contracts[i].*M);
}
template <auto M>
VaryTarget in_vendor(Scenario& s, std::size_t i) {
  return target(s.vendors[i].*M);
}
template <auto M>
VaryTarget in_debt(Scenario& s, std::size_t i) {
  return target(s.financing.debt[i].*M);
}
template <auto M>
VaryTarget in_valuation(Scenario& s, std::size_t) {
  if (!s.financing.valuation)
    return {nullptr, nullptr,
            ": the scenario has no [valuation] section, so there is nothing to vary"};
  return target(*s.financing.valuation.*M);
}
template <auto M>
VaryTarget in_policy(Scenario& s, std::size_t) {
  if (!s.financing.equity_policy)
    return {nullptr, nullptr,
            ": the scenario has no [equity_policy] section, so there is nothing to vary"};
  return target(*s.financing.equity_policy.*M);
}

// clang-format off
const std::vector<KeyInfo> keys{
  {"", "name", none, K::string, "", false, no, "the file's stem", R::any, inf, 0, "Name shown in reports", 1, nullptr},
  {"simulation", "start", none, K::number, "calendar year", true, no, "required", R::any, years, 2026, "Calendar year of t = 0", 1, nullptr},
  {"simulation", "horizon_years", none, K::number, "years", true, no, "required", R::positive, years, 10, "Length of the simulated period", 1, nullptr},
  {"simulation", "sampling", none, K::word, "", false, no, "\"random\"", R::any, inf, 0, "Sampling of the static inputs: \"random\", \"lhs\" (Latin hypercube) or \"sobol\" (scrambled Sobol); docs/statistics.md", 2, nullptr},
  {"simulation", "step", none, K::word, "", false, no, "\"month\"", R::any, inf, 0, "Time step: \"month\" (1/12), \"week\" (1/52) or \"quarter\" (1/4)", 1, nullptr},
  {"finance", "initial_cash", Param::initial_cash, K::distribution, "$B", false, 0.0, "0", R::non_negative, money_stock, 40, "Cash on hand at the start", 1, nullptr},
  {"build", "plan", none, K::word, "", false, no, "\"fixed\"", R::any, inf, 0, "\"fixed\" (the pace schedule, v1) or \"demand\" (start what projected demand needs)", 2, nullptr},
  {"build", "coverage", none, K::distribution, "ratio", false, 1.2, "1.2", R::any, 1e2, 1.2, "With plan = \"demand\": GW built per GW of projected demand (>= 1)", 2, coverage},
  {"build", "initial_gw", Param::initial_gw, K::distribution, "GW", true, no, "required", R::positive, gw, 2, "Owned capacity at the start", 1, nullptr},
  {"build", "plan_cap_gw", Param::plan_cap_gw, K::distribution, "GW", false, no, "none (no cap)", R::non_negative, gw, 30, "Owned capacity the plan stops at (>= initial_gw)", 1, nullptr},
  {"build", "max_pace_gw_per_week", Param::max_pace_gw_per_week, K::distribution, "GW/week", true, no, "required", R::non_negative, 1e3, 1, "Top of the build-pace S-curve", 1, nullptr},
  {"build", "ramp_midpoint_years", Param::ramp_midpoint_years, K::distribution, "years", true, no, "required", R::any, years, 3, "Time from start at which the pace reaches half its top", 1, nullptr},
  {"build", "ramp_width_years", Param::ramp_width_years, K::distribution, "years", true, no, "required", R::positive, years, 0.75, "Width (scale) of the pace S-curve", 1, nullptr},
  {"build", "lead_time_years", Param::lead_time_years, K::distribution, "years", true, no, "required", R::positive, years, 1.5, "Construction time from start to online", 1, nullptr},
  {"build", "pace_volatility", Param::pace_volatility, K::distribution, "1/sqrt(year)", false, 0.0, "0", R::non_negative, growth, 0.3, "Volatility of the log execution factor", 1, nullptr},
  {"build", "pace_reversion", Param::pace_reversion, K::distribution, "1/year", false, 1.0, "1", R::positive, rate, 2, "Mean-reversion speed of the execution factor", 1, nullptr},
  {"build", "disruption_rate", Param::disruption_rate, K::distribution, "1/year", false, 0.0, "0", R::non_negative, rate, 0.5, "Rate at which disruptions start", 1, nullptr},
  {"build", "disruption_mean_years", Param::disruption_mean_years, K::distribution, "years", false, 0.25, "0.25", R::positive, years, 0.25, "Mean length of a disruption", 1, nullptr},
  {"build", "disruption_multiplier", Param::disruption_multiplier, K::distribution, "share", false, 1.0, "1", R::unit, inf, 0.3, "Pace multiplier while disrupted", 1, nullptr},
  {"build", "rent_share", Param::rent_share, K::distribution, "share", false, 0.0, "0", R::unit, inf, 0.7, "Share of each step's started GW leased instead of built: no capex or refresh, not owned, serves demand, pays rent from online to the horizon", 3, nullptr},
  {"build", "rent_per_gw_year", Param::rent_per_gw_year, K::distribution, "$B per GW-year", false, 0.0, "0", R::non_negative, money_per_gw, 15, "All-in rent of a leased GW (power included)", 3, nullptr},
  {"cost", "cost_per_gw", Param::cost_per_gw, K::distribution, "$B/GW", true, no, "required", R::non_negative, money_per_gw, 50, "Capital cost of one GW at the start", 1, nullptr},
  {"cost", "cost_drift", Param::cost_drift, K::distribution, "1/year", false, 0.0, "0", R::any, growth, 0, "Drift of the log cost level", 1, nullptr},
  {"cost", "cost_volatility", Param::cost_volatility, K::distribution, "1/sqrt(year)", false, 0.0, "0", R::non_negative, growth, 0.1, "Volatility of the log cost level", 1, nullptr},
  {"cost", "learning_rate", Param::learning_rate, K::distribution, "share", false, 0.0, "0", R::unit_open_top, inf, 0.1, "Cost fall per doubling of cumulative GW started (Wright)", 1, nullptr},
  {"cost", "it_share", Param::it_share, K::distribution, "share", true, no, "required", R::unit, inf, 0.6, "Share of the cost that is IT equipment (refreshed)", 1, nullptr},
  {"cost", "useful_life_years", Param::useful_life_years, K::distribution, "years", true, no, "required", R::positive, years, 5, "Life of the IT equipment before refresh", 1, nullptr},
  {"revenue", "arr0", Param::arr0, K::distribution, "$B/year", true, no, "required", R::positive, money_stock, 20, "Demand (annual recurring revenue) at the start", 1, nullptr},
  {"revenue", "growth0", Param::growth0, K::distribution, "1/year", true, no, "required", R::any, growth, 0.8, "Initial growth rate of demand", 1, nullptr},
  {"revenue", "long_run_growth", Param::long_run_growth, K::distribution, "1/year", false, 0.0, "0", R::any, growth, 0.15, "Growth rate demand growth reverts to", 1, nullptr},
  {"revenue", "growth_reversion", Param::growth_reversion, K::distribution, "1/year", false, 1.0, "1", R::positive, rate, 0.35, "Mean-reversion speed of the growth rate", 1, nullptr},
  {"revenue", "growth_volatility", Param::growth_volatility, K::distribution, "1/year^1.5", false, 0.0, "0", R::non_negative, growth, 0.15, "Volatility of the growth rate", 1, nullptr},
  {"revenue", "arr_volatility", Param::arr_volatility, K::distribution, "1/sqrt(year)", false, 0.0, "0", R::non_negative, growth, 0.2, "Volatility of log demand", 1, nullptr},
  {"revenue", "jump_rate", Param::jump_rate, K::distribution, "1/year", false, 0.0, "0", R::non_negative, rate, 0.2, "Rate of demand jumps", 1, nullptr},
  {"revenue", "jump_mean", Param::jump_mean, K::distribution, "log", false, 0.0, "0", R::any, growth, -0.15, "Mean size of one jump of log demand", 1, nullptr},
  {"revenue", "jump_sd", Param::jump_sd, K::distribution, "log", false, 0.0, "0", R::non_negative, growth, 0.1, "Standard deviation of one jump of log demand", 1, nullptr},
  {"revenue", "arr_per_gw", Param::arr_per_gw, K::distribution, "$B/year per GW", true, no, "required", R::positive, arr_per_gw_max, 10, "Revenue one GW can serve", 1, nullptr},
  {"revenue", "resale_price_per_gw_year", Param::resale_price_per_gw_year, K::distribution, "$B per GW-year", false, 0.0, "0", R::non_negative, money_per_gw, 8, "Price of idle capacity sold as cloud", 1, nullptr},
  {"revenue", "resale_utilization", Param::resale_utilization, K::distribution, "share", false, 0.0, "0", R::unit, inf, 0.5, "Share of idle capacity that is sold", 1, nullptr},
  {"revenue", "arr_per_gw_growth", Param::arr_per_gw_growth, K::distribution, "1/year", false, 0.0, "0", R::any, growth, 0.1, "Continuous growth rate of the revenue one GW can serve: arr_per_gw e^{h t}", 3, nullptr},
  {"opex", "power_ops_per_gw_year", Param::power_ops_per_gw_year, K::distribution, "$B per GW-year", false, 0.0, "0", R::non_negative, money_per_gw, 1, "Power and operations cost of owned capacity", 1, nullptr},
  {"opex", "revenue_cost_share", Param::revenue_cost_share, K::distribution, "share", false, 0.0, "0", R::unit, inf, 0.3, "Cost that scales with revenue, as a share of it", 1, nullptr},
  {"opex", "fixed_opex", Param::fixed_opex, K::distribution, "$B/year", false, 0.0, "0", R::non_negative, money_stock, 10, "Fixed operating cost at the start", 1, nullptr},
  {"opex", "fixed_opex_growth", Param::fixed_opex_growth, K::distribution, "1/year", false, 0.0, "0", R::any, growth, 0.2, "Continuous growth rate of the fixed cost", 1, nullptr},
  {"opex", "fixed_opex_long_run_growth", none, K::number, "1/year", false, no, "opex.fixed_opex_growth", R::any, growth, 0.05, "Growth rate that the fixed cost's growth relaxes to", 3, nullptr},
  {"opex", "fixed_opex_growth_reversion", none, K::number, "1/year", false, 0.0, "0 (never relaxes)", R::non_negative, rate, 0.5, "Speed at which the fixed cost's growth relaxes from fixed_opex_growth to the long-run rate", 3, nullptr},
  {"contract", "name", none, K::string, "", false, no, "\"contract-N\"", R::any, inf, 0, "Label of the contract", 1, nullptr},
  {"contract", "total", none, K::distribution, "$B", true, no, "required", R::non_negative, money_stock, 250, "Payments over the term", 1, in_contract<&Contract::total_bn>},
  {"contract", "start", none, K::distribution, "calendar year", true, no, "required", R::any, years, 2026, "Calendar year the term starts", 1, in_contract<&Contract::start_year>},
  {"contract", "years", none, K::distribution, "years", true, no, "required", R::positive, years, 6, "Length of the term", 1, in_contract<&Contract::years>},
  {"contract", "gw", none, K::distribution, "GW", false, 0.0, "0", R::non_negative, gw, 3.5, "Capacity it provides while active", 1, in_contract<&Contract::gw>},
  {"contract", "profile", none, K::word, "", false, no, "\"flat\"", R::any, inf, 0, "\"flat\" (even payments), \"ramp\" (rising linearly) or \"delivery\" (gw delivered linearly over ramp_years; capacity and payments follow it)", 1, nullptr},
  {"contract", "cancel_probability", none, K::number, "share", false, 0.0, "0", R::unit, inf, 0.1, "Chance, per path, that the contract never starts (no payments, no capacity)", 2, in_contract<&Contract::cancel_probability>},
  {"contract", "renewals", none, K::number, "count", false, 0.0, "0", R::non_negative, 100, 2, "Whole number of renewals at the end of the term, each another `years` with the same gw, flat", 2, nullptr},
  {"contract", "renewal_price_factor", none, K::distribution, "ratio", false, 1.0, "1", R::non_negative, 1e2, 1.1, "A renewal's total as a multiple of `total` (drawn once per path)", 2, in_contract<&Contract::renewal_price_factor>},
  {"contract", "ramp_years", none, K::number, "years", false, no, "years / 2", R::non_negative, years, 3, "With profile = \"delivery\": time over which gw is delivered, linearly from start (<= years)", 3, nullptr},
  {"revenue_contract", "name", none, K::string, "", false, no, "\"revenue-N\"", R::any, inf, 0, "Label of the contract (an identifier: it names outputs)", 3, nullptr},
  {"revenue_contract", "total", none, K::number, "$B", true, no, "required", R::non_negative, money_stock, 55, "Payments received over the term", 3, nullptr},
  {"revenue_contract", "start", none, K::number, "calendar year", true, no, "required", R::any, years, 2026, "Calendar year the term starts", 3, nullptr},
  {"revenue_contract", "years", none, K::number, "years", true, no, "required", R::positive, years, 5, "Length of the term", 3, nullptr},
  {"revenue_contract", "gw", none, K::number, "GW", false, 0.0, "0", R::non_negative, gw, 1, "Capacity reserved for the buyer while active (taken out of what serves open demand)", 3, nullptr},
  {"revenue_contract", "profile", none, K::word, "", false, no, "\"flat\"", R::any, inf, 0, "\"flat\", \"ramp\" or \"delivery\" (as a [[contract]])", 3, nullptr},
  {"revenue_contract", "ramp_years", none, K::number, "years", false, no, "years / 2", R::non_negative, years, 2, "With profile = \"delivery\": time over which gw is delivered (<= years)", 3, nullptr},
  {"revenue_contract", "default_rate", none, K::distribution, "1/year", false, 0.0, "0", R::non_negative, rate, 0.05, "Rate of the buyer's default (exponential time, drawn once per path): the remaining payments stop, the GW return to open demand", 3, nullptr},
  {"vendor_financing", "name", none, K::string, "", false, no, "\"vendor-N\"", R::any, inf, 0, "Label of the vendor", 1, nullptr},
  {"vendor_financing", "per_gw", none, K::distribution, "$B/GW", true, no, "required", R::non_negative, money_per_gw, 10, "Inflow per owned GW coming online", 1, in_vendor<&VendorFinancing::per_gw_bn>},
  {"vendor_financing", "cap", none, K::distribution, "$B", true, no, "required", R::non_negative, money_stock, 100, "Total the vendor provides", 1, in_vendor<&VendorFinancing::cap_bn>},
  {"vendor_financing", "kind", none, K::word, "", false, no, "\"grant\"", R::any, inf, 0, "\"grant\" (free cash, v1) or \"equity\" (an investment at the pre-money value: it dilutes)", 2, nullptr},
  {"vendor_financing", "basis", none, K::word, "", false, no, "\"owned\"", R::any, inf, 0, "GW the money follows: \"owned\" (owned GW coming online, v1) or \"deployed\" (owned and leased)", 3, nullptr},
  {"equity", "at", none, K::distribution, "calendar year", true, no, "required", R::any, years, 2027, "When the money arrives (>= simulation.start)", 1, nullptr},
  {"equity", "amount", none, K::distribution, "$B", true, no, "required", R::non_negative, money_stock, 10, "Amount raised", 1, nullptr},
  {"correlation", "shocks", none, K::words, "", false, no, "[\"pace\", \"cost\", \"arr\", \"growth\"]", R::any, inf, 0, "Order of the matrix rows", 1, nullptr},
  {"correlation", "matrix", none, K::matrix, "", true, no, "required with [correlation]", R::any, inf, 0, "Correlation of the per-step shocks (identity without [correlation])", 1, nullptr},
  {"debt", "name", none, K::string, "", false, no, "\"debt-N\"", R::any, inf, 0, "Label of the facility", 2, nullptr},
  {"debt", "limit", none, K::number, "$B", true, no, "required", R::non_negative, money_stock, 100, "Most that can be outstanding", 2, in_debt<&DebtFacility::limit_bn>},
  {"debt", "rate", none, K::distribution, "1/year", false, 0.0, "0", R::non_negative, growth, 0.08, "Interest rate, on the balance at the start of each step", 2, in_debt<&DebtFacility::rate>},
  {"debt", "available_from", none, K::number, "calendar year", false, no, "simulation.start", R::any, 1e5, 2027, "First time it can be drawn", 2, nullptr},
  {"debt", "maturity", none, K::number, "calendar year", false, no, "none", R::any, 1e5, 2032, "When the balance is repaid in full and the facility closes", 2, nullptr},
  {"debt", "min_cash", none, K::number, "$B", false, 0.0, "0", R::non_negative, money_stock, 10, "Drawn to keep cash at this level", 2, in_debt<&DebtFacility::min_cash_bn>},
  {"debt", "sweep", none, K::number, "share", false, 0.0, "0", R::unit, inf, 0.25, "Share of cash above min_cash repaid each step", 2, in_debt<&DebtFacility::sweep>},
  {"debt", "refinance_years", none, K::number, "years", false, no, "none (repaid at maturity)", R::positive, years, 5, "At maturity, a lab with no arrears rolls the balance into a new term this long (same rate)", 3, nullptr},
  {"valuation", "arr_multiple", none, K::distribution, "x ARR", true, no, "required with [valuation]", R::non_negative, 1e3, 15, "Pre-money value as a multiple of ARR", 2, in_valuation<&Valuation::arr_multiple>},
  {"valuation", "min_pre_money", none, K::number, "$B", false, 0.0, "0", R::non_negative, money_stock, 300, "Floor of the pre-money value", 2, in_valuation<&Valuation::min_pre_money_bn>},
  {"valuation", "distress_factor", none, K::distribution, "share", false, 1.0, "1", R::unit, inf, 0.5, "While arrears are outstanding: rounds priced at this x arr_multiple x ARR (no floor), the year's budget scaled by it (0 halts rounds)", 3, nullptr},
  {"equity_policy", "trigger_cash", none, K::number, "$B", true, no, "required with [equity_policy]", R::any, money_stock, 10, "Raise a round when cash would fall below this", 2, in_policy<&EquityPolicy::trigger_cash_bn>},
  {"equity_policy", "target_cash", none, K::number, "$B", true, no, "required with [equity_policy]", R::any, money_stock, 50, "Cash a round aims to restore (>= trigger_cash)", 2, in_policy<&EquityPolicy::target_cash_bn>},
  {"equity_policy", "min_round", none, K::number, "$B", false, 0.0, "0", R::non_negative, money_stock, 5, "Smallest round", 2, in_policy<&EquityPolicy::min_round_bn>},
  {"equity_policy", "capacity_per_year", none, K::distribution, "$B/year", false, inf, "unlimited", R::non_negative, money_stock, 100, "Most the market funds per calendar year", 2, in_policy<&EquityPolicy::capacity_per_year>},
  {"equity_policy", "min_interval_years", none, K::number, "years", false, 0.0, "0", R::non_negative, years, 0.5, "Least time between rounds", 2, nullptr},
  {"warrant", "name", none, K::string, "", false, no, "\"warrant-N\"", R::any, inf, 0, "Label of the warrant", 2, nullptr},
  {"warrant", "shares_m", none, K::number, "million shares", true, no, "required", R::non_negative, 1e5, 160, "Shares the warrants cover", 2, nullptr},
  {"warrant", "strike", none, K::number, "$/share", true, no, "required", R::non_negative, 1e6, 0.01, "Exercise price", 2, nullptr},
  {"warrant", "price0", none, K::number, "$/share", true, no, "required", R::positive, 1e6, 200, "The vendor's share price at the start", 2, nullptr},
  {"warrant", "price_drift", none, K::number, "1/year", false, 0.0, "0", R::any, growth, 0.08, "Drift of the share price (GBM)", 2, nullptr},
  {"warrant", "price_volatility", none, K::number, "1/sqrt(year)", false, 0.0, "0", R::non_negative, growth, 0.5, "Volatility of the share price (GBM)", 2, nullptr},
  {"warrant", "tranches", none, K::tables, "", true, no, "required", R::any, inf, 0, "[{gw = GW online, share = of shares_m, price_hurdle = $/share}, ...]; shares sum to <= 1", 2, nullptr},
  {"warrant", "basis", none, K::word, "", false, no, "\"owned\"", R::any, inf, 0, "GW the tranches count: \"owned\" (owned GW coming online, v1) or \"deployed\" (owned and leased)", 3, nullptr},
  {"constraint", "brake_cash", none, K::number, "$B", false, no, "none (no brake)", R::any, money_stock, 5, "Start no GW when opening cash is below this, or while arrears are outstanding", 2, nullptr},
  {"constraint", "unpaid", none, K::boolean, "", false, no, "false", R::any, inf, 0, "Carry deficits as arrears (pro rata over the step's obligations, repaid from later surpluses) instead of letting cash go negative", 3, nullptr},
  {"constraint", "keep_cash", none, K::number, "$B", false, 0.0, "0", R::non_negative, money_stock, 10, "Arrears are repaid only from cash above this", 3, nullptr},
  {"constraint", "seniority", none, K::word, "", false, no, "\"pro_rata\"", R::any, inf, 0, "\"pro_rata\" (every obligation shares a deficit) or \"debt_first\" (interest and principal are paid before the others share it)", 3, nullptr},
  {"input_correlation", "inputs", none, K::words, "", true, no, "required with [input_correlation]", R::any, inf, 0, "Drawn inputs to correlate, as \"section.key\" (e.g. \"cost.cost_per_gw\")", 2, nullptr},
  {"input_correlation", "matrix", none, K::matrix, "", true, no, "required with [input_correlation]", R::any, inf, 0, "Spearman rank correlations of those inputs (Gaussian copula)", 2, nullptr},
  {"outputs", "thresholds", none, K::table, "", false, no, "none", R::any, inf, 0, "{ output = [v1, v2, ...] }: report P(output > v) for each value", 2, nullptr},
  {"outputs", "checkpoints", none, K::numbers, "calendar year", false, no, "[]", R::any, inf, 0, "Years at which to report `arr_at_<year>`", 1, nullptr},
  {"outputs", "yearly", none, K::words, "", false, no, "[]", R::any, inf, 0, "Calendar-year outputs per path, any of \"revenue\", \"fcf\", \"capex\", \"need\": `revenue_<Y>`, ... for each calendar year of the horizon", 3, nullptr},
  {"outputs", "headline", none, K::string, "", false, no, "\"funding_need\" when the run has it, else \"funding_gap\"", R::any, inf, 0, "Output the report's cards, histogram and \"what drives it\" use", 3, nullptr},
};
// clang-format on

const char* type_text(KeyType t) {
  switch (t) {
    case KeyType::distribution:
      return "number or distribution";
    case KeyType::number:
      return "number";
    case KeyType::string:
      return "string";
    case KeyType::word:
      return "string (one of a set)";
    case KeyType::numbers:
      return "array of numbers";
    case KeyType::words:
      return "array of strings";
    case KeyType::matrix:
      return "array of arrays of numbers";
    case KeyType::boolean:
      return "true or false";
    case KeyType::tables:
      return "array of inline tables";
    case KeyType::table:
      return "inline table of numbers or arrays of numbers";
  }
  return "?";
}

std::string plain(double x) {  // 1e6 -> "1000000" (the limits are whole numbers)
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", x);
  return buf;
}

const char* range_text(Range r) {
  switch (r) {
    case Range::any:
      return "any";
    case Range::non_negative:
      return ">= 0";
    case Range::positive:
      return "> 0";
    case Range::unit:
      return "[0, 1]";
    case Range::unit_open_top:
      return "[0, 1)";
  }
  return "?";
}

}  // namespace

const std::vector<KeyInfo>& scenario_keys() {
  return keys;
}

const KeyInfo* find_key(std::string_view section, std::string_view key) {
  for (const KeyInfo& k : keys)
    if (section == k.section && key == k.key) return &k;
  return nullptr;
}

const std::array<ParamInfo, param_count>& param_table() {
  static const std::array<ParamInfo, param_count> table = [] {
    std::array<ParamInfo, param_count> t{};
    std::array<bool, param_count> seen{};
    for (const KeyInfo& k : keys) {
      if (k.param == none) continue;
      const auto i = static_cast<std::size_t>(k.param);
      t[i] = {k.param, k.section,       k.key,     k.required,    k.default_value, k.range,
              k.unit,  k.plausible_max, k.example, k.description, k.since};
      seen[i] = true;
    }
    for (bool s : seen)
      if (!s) throw std::logic_error("capexsim: a Param has no line in the scenario key table");
    return t;
  }();
  return table;
}

const ParamInfo& param_info(Param p) {
  return param_table()[static_cast<std::size_t>(p)];
}

std::string scenario_keys_markdown() {
  std::string s =
      "| key | since | type | unit | default | range | plausible up to | meaning |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const KeyInfo& k : keys) {
    const bool numeric = k.type == KeyType::number || k.type == KeyType::distribution;
    std::string key = k.section;
    if (key == "contract" || key == "vendor_financing" || key == "equity")
      key = "[[" + key + "]] " + k.key;
    else
      key = key.empty() ? std::string(k.key) : key + "." + k.key;
    s += "| `" + key + "` | v" + std::to_string(k.since) + " | " + type_text(k.type) + " | " +
         k.unit + " | " + k.default_text + " | " +
         (numeric                                                ? range_text(k.range)
          : k.type == KeyType::string || k.type == KeyType::word ? "-"
                                                                 : "see below") +
         " | " + (std::isinf(k.plausible_max) ? std::string() : plain(k.plausible_max)) + " | " +
         k.description + " |\n";
  }
  return s;
}

double step_years(StepKind s) {
  switch (s) {
    case StepKind::month:
      return 1.0 / 12;
    case StepKind::week:
      return 1.0 / 52;
    case StepKind::quarter:
      return 1.0 / 4;
  }
  return 1.0 / 12;
}

const char* step_name(StepKind s) {
  switch (s) {
    case StepKind::month:
      return "month";
    case StepKind::week:
      return "week";
    case StepKind::quarter:
      return "quarter";
  }
  return "?";
}

const char* shock_name(Shock s) {
  static const char* names[] = {"pace", "cost", "arr", "growth"};
  return names[static_cast<int>(s)];
}

int Scenario::steps() const {
  const double n = std::round(horizon_years / dt());
  return n > detail::max_steps ? detail::max_steps + 1 : static_cast<int>(n);
}

const char* yearly_kind_name(YearlyKind k) {
  static const char* names[] = {"revenue", "fcf", "capex", "need"};
  return names[static_cast<int>(k)];
}

std::string yearly_name(YearlyKind kind, int year) {
  return std::string(yearly_kind_name(kind)) + "_" + std::to_string(year);
}

int calendar_year_of_step(const Scenario& s, int i) {
  // As PathModel's new_year: a step belongs to the year its start falls in, with a
  // tolerance so that 2026 + 12/12 lands in 2027.
  return static_cast<int>(std::floor(s.start_year + i * s.dt() + 1e-9 * s.dt()));
}

std::vector<int> calendar_years(const Scenario& s) {
  std::vector<int> years;
  const int n = s.steps();
  for (int i = 0; i < n; ++i) {
    const int y = calendar_year_of_step(s, i);
    if (years.empty() || years.back() != y) years.push_back(y);
  }
  return years;
}

std::string checkpoint_name(double year, std::string_view prefix) {
  std::string s = detail::format_double(year);
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
  return std::string(prefix) + s;
}

ScenarioError::ScenarioError(std::string file, int line, int column, std::string key,
                             std::string message)
    : std::runtime_error([&] {
        std::string w = file;
        if (line > 0) w += ":" + std::to_string(line) + ":" + std::to_string(column);
        w += ": ";
        if (!key.empty()) w += key + ": ";
        return w + message;
      }()),
      file_(std::move(file)),
      key_(std::move(key)),
      message_(std::move(message)),
      line_(line),
      column_(column) {}

}  // namespace capexsim
