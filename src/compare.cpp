// Paired differences of two runs over their common paths.

#include "capexsim/compare.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace capexsim {

std::vector<PairedDifference> compare(const Result& a, const Result& b) {
  if (!a.has_per_path() || !b.has_per_path())
    throw std::invalid_argument("compare needs per-path outputs of both runs (keep_paths)");
  if (a.paths != b.paths || a.first_path != b.first_path)
    throw std::invalid_argument("compare needs runs of the same paths (same count and range)");
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<PairedDifference> out;
  for (std::size_t ka = 0; ka < a.output_names.size(); ++ka) {
    PairedDifference d;
    d.output = a.output_names[ka];
    try {
      d.index_b = b.output_index(d.output);
    } catch (const std::out_of_range&) {
      continue;
    }
    d.index_a = ka;
    const auto x = a.per_path.col(static_cast<Eigen::Index>(ka));
    const auto y = b.per_path.col(static_cast<Eigen::Index>(d.index_b));
    double sum = 0;
    std::uint64_t m = 0;
    for (Eigen::Index p = 0; p < x.size(); ++p) {
      if (std::isnan(x[p]) || std::isnan(y[p])) continue;
      sum += y[p] - x[p];
      ++m;
    }
    d.count = m;
    d.mean = m ? sum / static_cast<double>(m) : nan;
    double ss = 0;
    for (Eigen::Index p = 0; p < x.size(); ++p) {
      if (std::isnan(x[p]) || std::isnan(y[p])) continue;
      const double e = (y[p] - x[p]) - d.mean;
      ss += e * e;
    }
    d.se = m > 1 ? std::sqrt(ss / static_cast<double>(m - 1)) / std::sqrt(static_cast<double>(m))
                 : nan;
    if (m < 2)
      d.z = nan;
    else if (d.se > 0)
      d.z = d.mean / d.se;
    else
      d.z = d.mean == 0 ? 0.0 : std::copysign(inf, d.mean);
    d.significant = !std::isnan(d.z) && std::abs(d.z) > 3;
    out.push_back(d);
  }
  return out;
}

}  // namespace capexsim
