// Number formatting of the command line's tables and files (output.hpp): shortest
// round-trip text, thousands separators, fixed decimals with an alignment guard, units.

#include "output.hpp"

#include <cmath>
#include <cstdio>

#include <capexsim/detail/format.hpp>
#include <capexsim/schema.hpp>

namespace capexsim::cli {

std::string number(double x) {
  if (std::isnan(x)) return "nan";
  return detail::format_double(x);
}

std::string grouped(std::uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

std::string output_unit(const std::string& name) {
  return describe_output(name).unit;
}

bool is_event_time(const std::string& name) {
  return describe_output(name).kind == Kind::time;
}

int decimals_for(const std::string& unit) {
  if (unit == "share") return 3;
  return unit == "years" || unit == "GW" ? 2 : 1;
}

std::string fixed(double x, int decimals) {
  if (std::isnan(x)) return "-";
  char buf[64];
  // Beyond 10 digits before the point, scientific notation keeps the columns aligned.
  if (std::abs(x) >= 1e9)
    std::snprintf(buf, sizeof buf, "%.3e", x);
  else
    std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

std::string significant(double x) {
  if (std::isnan(x)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

}  // namespace capexsim::cli
