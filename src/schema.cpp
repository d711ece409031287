#include "capexsim/schema.hpp"

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
  // §12.5 calendar-year outputs: revenue_<Y>, fcf_<Y>, capex_<Y>, need_<Y>.
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
        "payments to contract " + std::string(name.substr(7)) + " left unpaid over the horizon"};
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
