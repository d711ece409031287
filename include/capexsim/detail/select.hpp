#pragma once
// Exact sample quantiles by selection rather than by sorting: O(n), in parallel.

#include <cstdint>
#include <span>
#include <vector>

namespace capexsim::detail {

/// Tuning of exact_quantiles(); the results never depend on it, only the speed.
struct SelectOptions {
  /// Values sampled (by stride) to place a narrow interval around each wanted rank.
  std::size_t sample = 8192;
  /// Half-width of each interval, in standard deviations of the sampled rank.
  double sigmas = 5;
  /// Below this many values, select on a plain copy (one thread).
  std::size_t parallel_from = std::size_t{1} << 16;
};

/// Exact type-7 quantiles (NumPy's default: interpolation between the order statistics
/// floor(q (m - 1)) and the next one) of the non-NaN values, at each of `levels`, and the
/// mean of the non-NaN values at or above the quantile at `tail_level` (one of `levels`),
/// summed in ascending order. The same bits as sorting the values (with -0 before +0)
/// and reading them off, whatever the order of `values`, the options or the thread
/// count. (A sort by `<` alone leaves the sign of a zero quantile to the sort's
/// internals when both zeros occur; here it is fixed.)
struct ExactQuantiles {
  std::vector<double> quantiles;  // one per level; NaN when there is no non-NaN value
  double tail_mean = 0;           // NaN when there is no non-NaN value
  std::uint64_t count = 0;        // non-NaN values
  bool fell_back = false;         // the sampled intervals missed a rank (for tests)
};

/// How it works: a sorted strided sample places, for every order statistic needed, an
/// interval of values that contains it with overwhelming probability; one parallel pass
/// counts the values below each interval and gathers those inside; each order statistic
/// is then selected (std::nth_element) within its interval's few values. The tail above
/// the tail level is one interval open to +infinity, sorted before it is summed. When the
/// counts show an interval missed its rank (a freak sample), every order statistic is
/// selected on a full copy instead, so the result is exact either way.
ExactQuantiles exact_quantiles(std::span<const double> values, std::span<const double> levels,
                               double tail_level, const SelectOptions& options = {});

}  // namespace capexsim::detail
