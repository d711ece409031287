#include "capexsim/schema.hpp"

#include <array>
#include <stdexcept>

namespace capexsim {

namespace {
using K = Kind;
using T = Tail;

const std::array<QuantityInfo, base_output_count> outputs = {{
    {"funding_gap", "$B", K::amount, T::high,
     "peak outside money needed: max(0, -min cash) over the horizon"},
    {"gap_time", "years", K::time, T::none,
     "years from the start to the lowest cash (never when the gap is 0)"},
    {"runway", "years", K::time, T::low, "years until cash first goes below zero"},
    {"breakeven", "years", K::time, T::high,
     "years until the trailing-year free cash flow first turns positive (at least 1)"},
    {"terminal_cash", "$B", K::level, T::low, "cash at the horizon"},
    {"capex_total", "$B", K::amount, T::high, "construction plus refresh capex over the horizon"},
    {"capacity_end", "GW", K::level, T::none, "owned capacity at the last step"},
    {"arr_end", "$B/yr", K::level, T::low, "realised annual recurring revenue at the last step"},
    {"breakeven_sustained", "years", K::time, T::high,
     "years until the start of the last run of positive trailing-year free cash flow that "
     "lasts to the horizon (never when the final trailing-year FCF is <= 0)"},
}};

const std::array<QuantityInfo, series_count> series = {{
    {"cash", "$B", K::level, T::low, "cash after the step"},
    {"capacity", "GW", K::level, T::none, "owned capacity online"},
    {"serving_capacity", "GW", K::level, T::none, "owned plus contracted capacity"},
    {"arr", "$B/yr", K::level, T::low, "realised annual recurring revenue"},
    {"demand", "$B/yr", K::level, T::low, "demand (revenue the lab could serve with capacity)"},
    {"capex_rate", "$B/yr", K::level, T::high, "construction plus refresh capex, annualised"},
    {"fcf_rate", "$B/yr", K::level, T::low, "free cash flow, annualised"},
    {"cost_per_gw", "$B per GW", K::level, T::high, "all-in cost of a GW started in the step"},
}};
}  // namespace

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::amount:
      return "amount";
    case Kind::time:
      return "time";
    case Kind::level:
      return "level";
  }
  return "?";
}

const char* tail_name(Tail t) {
  switch (t) {
    case Tail::high:
      return "high";
    case Tail::low:
      return "low";
    case Tail::none:
      return "none";
  }
  return "?";
}

const QuantityInfo& output_info(Output o) {
  return outputs.at(static_cast<std::size_t>(o));
}
const QuantityInfo& series_info(Series s) {
  return series.at(static_cast<std::size_t>(s));
}
const char* output_name(Output o) {
  return output_info(o).name.c_str();
}
const char* series_name(Series s) {
  return series_info(s).name.c_str();
}

QuantityInfo describe_output(std::string_view name) {
  for (const QuantityInfo& q : outputs)
    if (q.name == name) return q;
  if (name.rfind("arr_at_", 0) == 0)
    return {std::string(name), "$B/yr", Kind::level, Tail::low,
            "realised annual recurring revenue at the first step on or after " +
                std::string(name.substr(7))};
  throw std::out_of_range("no output named '" + std::string(name) + "'");
}

Series series_by_name(std::string_view name) {
  std::string known;
  for (std::size_t k = 0; k < series_count; ++k) {
    if (series[k].name == name) return static_cast<Series>(k);
    known += (k ? ", " : "") + series[k].name;
  }
  throw std::out_of_range("no series named '" + std::string(name) + "'; expected one of: " + known);
}

}  // namespace capexsim
