#pragma once
// Sampling of the static inputs (docs/statistics.md): Latin hypercube and scrambled Sobol
// designs over a run's paths, and the Gaussian copula of [input_correlation]. Every
// design value of path p is computed from (seed, p, design size) alone, in O(1) memory,
// so threads and shards need no shared table and any split gives the same bits.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "capexsim/random.hpp"
#include "capexsim/scenario.hpp"

namespace capexsim {

namespace sampling {

/// A keyed pseudo-random permutation of 0..n-1, computable for one index at a time: a
/// balanced 4-round Feistel network on the smallest even number of bits that covers n,
/// with cycle-walking (re-encrypting until the value falls below n; fewer than 4 rounds
/// of walking on average since 2^bits < 4n). The round keys come from Philox on
/// (seed, id, n), so each (seed, input, design size) has its own permutation.
class FeistelPermutation {
 public:
  FeistelPermutation() = default;
  FeistelPermutation(std::uint64_t n, std::uint64_t seed, std::uint32_t id);
  std::uint64_t size() const { return n_; }
  /// pi(p) for p in [0, n).
  std::uint64_t operator()(std::uint64_t p) const;

 private:
  std::uint64_t encrypt(std::uint64_t x) const;
  std::uint64_t n_ = 0;
  unsigned half_bits_ = 1;
  std::uint64_t half_mask_ = 1;
  std::array<std::uint64_t, 4> keys_{};
};

/// Number of Sobol dimensions available (Joe & Kuo's new-joe-kuo-6 table as Boost.Random
/// ships it).
unsigned sobol_max_dimension();

/// The 32 direction numbers of Sobol dimension `d` (0-based; d = 0 is van der Corput),
/// left-aligned in 32 bits, built from Boost.Random's primitive polynomials and initial
/// numbers exactly as boost::random::sobol does.
std::array<std::uint32_t, 32> sobol_directions(unsigned d);

/// Point `p` (< 2^32) of one Sobol dimension in Gray-code order, the order of
/// boost::random::sobol: XOR of the direction numbers at the set bits of p ^ (p >> 1).
inline std::uint32_t sobol_point(const std::array<std::uint32_t, 32>& v, std::uint64_t p) {
  std::uint32_t g = static_cast<std::uint32_t>(p ^ (p >> 1)), x = 0;
  for (int b = 0; g; ++b, g >>= 1)
    if (g & 1u) x ^= v[b];
  return x;
}

/// Owen-style nested uniform scrambling of a 32-bit binary fraction (Burley 2020,
/// after Laine and Karras 2011): reverse the bits, apply a hash in which each bit is
/// flipped by a function of the key and the lower bits only, reverse back. Every digit
/// of the result depends on the key and the digits above it, as in Owen's scrambling.
std::uint32_t owen_scramble(std::uint32_t x, std::uint32_t key);

}  // namespace sampling

/// The sampling design of one run: method, design size N and seed, plus the copula of
/// [input_correlation]. Default-constructed, or for plain random sampling without a
/// copula, it is inactive and the kernel draws exactly as it always has.
class StaticSampler {
 public:
  StaticSampler() = default;
  /// Throws std::invalid_argument when the design cannot be built (Sobol beyond 2^32
  /// paths or beyond its dimensions, a design size of 0 for lhs).
  StaticSampler(const Scenario& scenario, std::uint64_t seed, std::uint64_t design_paths);

  bool active() const { return active_; }
  Sampling method() const { return method_; }
  std::uint64_t design_paths() const { return n_; }
  std::uint64_t seed() const { return seed_; }

  /// The static inputs of the path of `rng` (docs/model.md §2), through the design.
  void draw(const Scenario& s, const rng::PathRng& rng, std::array<double, param_count>& in) const;
  /// The uniform of x_0, the initial execution factor, through the design.
  double x0_uniform(const rng::PathRng& rng) const;

 private:
  double design_uniform(int dim, std::uint32_t id, const rng::PathRng& rng) const;

  bool active_ = false;
  Sampling method_ = Sampling::random;
  std::uint64_t n_ = 0, seed_ = 0;
  std::array<int, param_count + 1> dim_{};  // design dimension of each input (and x0), -1 none
  std::vector<sampling::FeistelPermutation> perm_;         // lhs, per dimension
  std::vector<std::array<std::uint32_t, 32>> directions_;  // sobol, per dimension
  std::vector<std::uint32_t> scramble_;                    // sobol, per dimension
  // Copula: the inputs and the lower Cholesky factor of the normal-scale correlation.
  std::vector<std::size_t> copula_inputs_;
  std::vector<double> copula_chol_;  // k x k, row-major
};

/// The Pearson correlation of the normals that gives Spearman rank correlation `rho_s`
/// under a Gaussian copula: 2 sin(pi rho_s / 6).
double spearman_to_pearson(double rho_s);

/// A note for the user about a design, or "" when there is nothing to say (Sobol with a
/// design size that is not a power of two).
std::string sampling_note(Sampling method, std::uint64_t design_paths);

}  // namespace capexsim
