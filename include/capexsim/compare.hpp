#pragma once
// Paired comparison of two runs with common random numbers (the `compare` command and
// capexsim.compare in Python share this one implementation).

#include <cstdint>
#include <string>
#include <vector>

#include "capexsim/engine.hpp"

namespace capexsim {

/// Paired difference B - A of one output over the paths where both values are defined.
struct PairedDifference {
  std::string output;
  std::size_t index_a = 0, index_b = 0;  // the output's column in A and in B
  std::uint64_t count = 0;               // paths where both are defined (not NaN)
  double mean = 0;                       // mean of B - A (NaN when count = 0)
  double se = 0;                         // its standard error, sd / sqrt(count) (NaN if count < 2)
  /// mean / stderr; +-infinity when the difference is the same nonzero number on every
  /// path, 0 when it is 0 on every path, NaN when count < 2.
  double z = 0;
  /// |z| > 3: a difference that stands out from Monte Carlo noise.
  bool significant = false;
};

/// For every output of `a` that `b` also has (in `a`'s order; a checkpoint only one of
/// them has is skipped), the paired difference over paths. Both results need per-path
/// outputs of the same paths (the same seed, path range and count); throws
/// std::invalid_argument otherwise. Two-pass mean and variance, so the difference of two
/// large, nearly equal outputs keeps its precision.
std::vector<PairedDifference> compare(const Result& a, const Result& b);

}  // namespace capexsim
