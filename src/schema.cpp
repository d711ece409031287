#include "capexsim/schema.hpp"

#include <algorithm>

#include <array>
#include <stdexcept>

namespace capexsim {

namespace {
using K = Kind;
using T = Tail;

#define CAPEXSIM_INFO_ENTRY(name, unit, kind, tail, description) \
  {#name, unit, K::kind, T::tail, description},
const std::array<QuantityInfo, output_kinds> outputs = {
    {CAPEXSIM_OUTPUTS(CAPEXSIM_INFO_ENTRY) CAPEXSIM_OPTIONAL_OUTPUTS(CAPEXSIM_INFO_ENTRY)}};
const std::array<QuantityInfo, series_count> series = {
    {CAPEXSIM_SERIES(CAPEXSIM_INFO_ENTRY) CAPEXSIM_OPTIONAL_SERIES(CAPEXSIM_INFO_ENTRY)}};
#undef CAPEXSIM_INFO_ENTRY
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
  if (name.rfind("funding_need_by_", 0) == 0)
    return {std::string(name), "$B", Kind::amount, Tail::high,
            "gross need through " + std::string(name.substr(16)) +
                ": the peak over the steps that end by then"};
  if (name.rfind("funding_gap_by_", 0) == 0)
    return {std::string(name), "$B", Kind::amount, Tail::high,
            "residual through " + std::string(name.substr(15)) +
                ": the peak over the steps that end by then"};
  // §13.10 calendar-year outputs: revenue_<Y>, fcf_<Y>, capex_<Y>, need_<Y>.
  for (const char* prefix : {"revenue_", "fcf_", "capex_", "need_"}) {
    const std::string_view p = prefix;
    if (name.size() > p.size() && name.substr(0, p.size()) == p &&
        name.find_first_not_of("0123456789", p.size()) == std::string_view::npos) {
      const std::string year(name.substr(p.size()));
      if (p == "revenue_")
        return {std::string(name), "$B", Kind::amount, Tail::low,
                "revenue (incl. resale) over calendar year " + year};
      if (p == "fcf_")
        return {std::string(name), "$B", Kind::amount, Tail::low,
                "free cash flow over calendar year " + year};
      if (p == "capex_")
        return {std::string(name), "$B", Kind::amount, Tail::high,
                "construction plus refresh capex over calendar year " + year};
      return {std::string(name), "$B", Kind::amount, Tail::high,
              "gross need (outside money before any financing) through the end of " + year};
    }
  }
  if (name.rfind("unpaid_", 0) == 0)
    return {
        std::string(name), "$B", Kind::amount, Tail::high,
        "payments to contract " + std::string(name.substr(7)) + " still in arrears at the horizon"};
  if (name.rfind("received_", 0) == 0)
    return {std::string(name), "$B", Kind::amount, Tail::low,
            "payments received on revenue contract " + std::string(name.substr(9))};
  if (name.rfind("defaulted_", 0) == 0)
    return {std::string(name), "years", Kind::time, Tail::low,
            "years to the end of the step in which the buyer of revenue contract " +
                std::string(name.substr(10)) + " defaults (never if it does not)"};
  if (name.rfind("deferred_", 0) == 0)
    return {std::string(name), "$B", Kind::amount, Tail::high,
            "payments to contract " + std::string(name.substr(9)) + " ever deferred into arrears"};
  throw std::out_of_range("no output named '" + std::string(name) + "'");
}

std::vector<std::size_t> display_order(const std::vector<std::string>& names) {
  auto starts = [](const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; };
  // Rank of a name in the waterfall order; everything else keeps its column order after.
  auto rank = [&](const std::string& n) -> int {
    if (n == "funding_need") return 0;
    if (n == "need_time") return 1;
    if (starts(n, "funding_need_by_")) return 2;
    if (starts(n, "need_")) return 3;  // need_<year> (calendar-year outputs)
    if (n == "funding_gap") return 4;
    if (starts(n, "funding_gap_by_")) return 5;
    if (n == "gap_time") return 6;
    if (n == "runway") return 7;
    if (starts(n, "flow_")) return 8;
    if (starts(n, "unpaid_") || starts(n, "deferred_") || n == "recovered_total" ||
        n == "default_time")
      return 9;
    return 10;
  };
  std::vector<std::size_t> order(names.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return rank(names[a]) < rank(names[b]); });
  return order;
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
