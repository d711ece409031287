#pragma once
// Variance-based (Sobol) sensitivity indices of any function of independent inputs, by the
// pick-freeze design of Saltelli et al. (2010), "Variance based sensitivity analysis of
// model output", Computer Physics Communications 181, Table 2:
//
//   A, B          two independent N x k sample matrices of the inputs
//   A_B^(i)       A with column (or group) i taken from B
//   V             variance of the 2N outputs f(A) and f(B), divided by 2N (not 2N - 1,
//                 the form of the paper and of SALib)
//   S_i  = (1/N)  sum_j f(B)_j (f(A_B^(i))_j - f(A)_j) / V        (Saltelli 2010, first order)
//   ST_i = (1/2N) sum_j (f(A)_j - f(A_B^(i))_j)^2 / V             (Jansen 1999, total)
//
// Numerics. Every y is centred by the mean m of the 2N values f(A), f(B) before the sums.
// For ST and V this changes nothing mathematically (differences and a variance are
// shift-free); it only removes the cancellation of large means. For S, replacing f(B)_j
// by f(B)_j - m changes the estimate by m (1/N) sum_j (f(A_B^(i))_j - f(A)_j), a term of
// mean zero whose variance grows with m^2: the centred form is the standard improvement of
// the estimator (the same expectation, a smaller variance, and invariance to a shift of f).
//
// Intervals. A nonparametric bootstrap over the rows j: each replicate resamples N row
// indices with replacement and uses the same rows for f(A), f(B) and every f(A_B^(i)),
// so the correlations the estimators rely on are kept; V, S and ST are recomputed and the
// percentile interval at the requested level is read off the sorted replicates (linear
// interpolation between order statistics, Hyndman-Fan type 7). Replicate r draws its
// indices from Philox on a counter that contains r, so the result is a pure function of
// the data and the seed, whatever the thread count.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace capexsim {

/// One factor's first-order and total Sobol indices with bootstrap percentile intervals.
struct SobolIndex {
  std::string name;
  double S = 0, S_lo = 0, S_hi = 0;     // first order (Saltelli 2010) and its interval
  double ST = 0, ST_lo = 0, ST_hi = 0;  // total (Jansen 1999) and its interval
};

struct SobolOptions {
  int bootstrap = 1000;    // resamples for the intervals (0: intervals = point value)
  double level = 0.95;     // confidence level of the percentile intervals, in (0, 1)
  std::uint64_t seed = 1;  // seed of the bootstrap resampling (and of the design in
                           // sobol_indices)
};

/// The estimator from pick-freeze evaluations: yA[j] = f(A_j), yB[j] = f(B_j),
/// yAB[i][j] = f(A_B^(i)_j) (row j of A with column/group i taken from B), j < N.
/// Returns one SobolIndex per entry of yAB, named by `names` (names.size() == yAB.size()).
///
/// A constant output (V = 0, every value equal) has no variance to apportion: every factor
/// gets S = ST = 0 with intervals [0, 0] rather than NaN. A bootstrap replicate whose
/// resampled rows happen to have V = 0 likewise counts as S = ST = 0.
///
/// Throws std::invalid_argument on a size mismatch (yB or a yAB[i] not of N values, names
/// not one per factor), N < 2, options.bootstrap < 0, options.level outside (0, 1), or a
/// non-finite value (the message names the matrix, the factor for yAB, and the row).
std::vector<SobolIndex> sobol_from_samples(std::span<const double> yA, std::span<const double> yB,
                                           const std::vector<std::span<const double>>& yAB,
                                           const std::vector<std::string>& names,
                                           const SobolOptions& options = {});

/// f evaluates m points at once: u is m x dims row-major uniforms in [0,1), y receives m
/// outputs. Called from the calling thread; f may parallelise internally.
using SobolBatch = std::function<void(const double* u, std::size_t m, std::size_t dims, double* y)>;

/// Sobol indices of f over `dims` independent U[0,1) inputs with base sample size n:
/// builds A and B (n x dims each, from Philox keyed by options.seed), the dims matrices
/// A_B^(i), calls f ONCE on all n*(dims+2) rows stacked [A; B; A_B^(0); ...; A_B^(dims-1)],
/// then sobol_from_samples. Names are "x1".."x<dims>" unless `names` is given (then its
/// size must be dims). Cost: n*(dims+2) evaluations of f.
///
/// Uniform (row j, column c) of matrix M (0 = A, 1 = B) is u01 of the first two words of
/// Philox on the counter {j lo, j hi, c, 0x5A << 24 | M} with key {seed lo, seed hi}: a pure
/// function of (seed, j, c, M), independent of threads. The bootstrap's counters carry
/// another tag in word 3, so reusing the seed for both never reuses a block.
///
/// Throws std::invalid_argument for dims = 0, n < 2, a names size other than dims, a
/// design too large to address, and whatever sobol_from_samples throws (a non-finite
/// output of f included); exceptions from f propagate.
std::vector<SobolIndex> sobol_indices(const SobolBatch& f, std::size_t dims, std::uint64_t n,
                                      const SobolOptions& options = {},
                                      std::vector<std::string> names = {});

}  // namespace capexsim
