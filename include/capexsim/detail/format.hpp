#pragma once
// Number formatting shared by the TOML writer and output files.

#include <charconv>
#include <cmath>
#include <string>

namespace capexsim::detail {

/// Shortest decimal text that round-trips the double, always with a '.' or exponent so
/// TOML reads it back as a float ("50.0", "0.1", "1e-07"). nan/inf as TOML spells them.
inline std::string format_double(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, x);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

}  // namespace capexsim::detail
