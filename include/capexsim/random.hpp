#pragma once
// Counter-based randomness: Random123's Philox4x32-10 at the bottom, a documented counter
// layout in the middle, cheap per-path adapters on top.
//
// Counter layout. Every variate of a run is a pure function of (seed, path, step, purpose):
//
//   key     = { seed & 0xffffffff, seed >> 32 }
//   counter = { path & 0xffffffff, path >> 32, word2, (stream << 24) | block }
//
//   stream        word2              what the 4 x 32 output bits feed
//   ------------  -----------------  ---------------------------------------------------
//   0 static      Param id (0..63),  one uniform (52 bits from words 0,1) for the static
//                 64 = x0            input of that id; x0 = initial execution factor
//   1 shocks      step i             4 standard normals (Box-Muller on word pairs), the
//                                    independent shocks of step i before correlation
//   2 events      step i             word 0: U_reg (disruption regime),
//                                    word 1: U for the Poisson jump count
//   3 jumps       step i             jump sizes: block b holds normals 4b .. 4b+3
//   4 warrant     step i             block w: the normal (words 0, 1) of warrant w's
//     price                          share price shock at step i
//   static ids 128 + f: debt facility f's rate; 192: the ARR multiple of [valuation];
//   193: the equity market's capacity per year; 194: the build plan's coverage
//   (docs/model.md §10)
//
// So no two purposes share a counter, a path's variates never depend on other paths
// (docs/model.md §7), and each input's stream is fixed by its id, which gives common random
// numbers: changing cost_per_gw leaves every revenue variate untouched.
// Blocks count up to 2^24 per (path, word2, stream): far beyond any jump count.

#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include <Random123/philox.h>

#include "capexsim/vmath.hpp"

namespace capexsim {

using Philox = r123::Philox4x32;  // 10 rounds: the Crush-resistant default

namespace rng {

enum class Stream : std::uint32_t {
  static_input = 0,
  shocks = 1,
  events = 2,
  jumps = 3,
  warrant_price = 4
};
/// Static-input ids (stream 0, word 2) of the financing draws: debt facility f's rate,
/// the valuation's ARR multiple, the equity market's capacity per year.
inline constexpr std::uint32_t debt_rate_id0 = 128;
inline constexpr std::uint32_t arr_multiple_id = 192;
/// Facilities 0..63 draw at 128..191: the checker refuses more (they would share ids).
inline constexpr std::size_t max_debt_facilities = arr_multiple_id - debt_rate_id0;
inline constexpr std::uint32_t equity_capacity_id = 193;
/// Static-input id of the demand-led plan's coverage.
inline constexpr std::uint32_t coverage_id = 194;
/// Static-input id of the valuation's distress factor (docs/model.md §13.4).
inline constexpr std::uint32_t distress_factor_id = 195;
/// Static-input ids of revenue contract k (docs/model.md §12.6): its default rate at
/// 3072 + 2k, the uniform of its default time at 3073 + 2k (at most 256 contracts, so
/// below 4096).
inline constexpr std::uint32_t revenue_default_id(std::size_t k, int word) {
  return 3072 + 2 * static_cast<std::uint32_t>(k) + static_cast<std::uint32_t>(word);
}
inline constexpr std::uint32_t x0_id = 64;

using Words = std::array<std::uint32_t, 4>;

/// One Philox4x32-10 block for an explicit (counter, key).
inline Words philox(const Words& ctr, std::uint32_t k0, std::uint32_t k1) {
  Philox gen;
  const Philox::ctr_type c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
  const Philox::key_type k = {{k0, k1}};
  const Philox::ctr_type r = gen(c, k);
  return {r[0], r[1], r[2], r[3]};
}

/// Philox4x32-10 on W counters at once, in place, laid out structure of arrays
/// (c[word][lane]): Random123's rounds written as plain lane loops that the compiler
/// vectorises (32 x 32 -> 64-bit multiplies). Integer arithmetic, so every lane is
/// bit-identical to philox() on its own counter (tests/test_random.cpp).
template <int W>
inline void philox_lanes(std::uint32_t (&c)[4][W], std::uint32_t k0, std::uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    // Kept a loop: fully unrolled, GCC 12 turns the lanes back into scalar multiplies.
#pragma GCC unroll 1
    for (int l = 0; l < W; ++l) {
      const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * c[0][l];
      const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * c[2][l];
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c[1][l] ^ k0;
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c[3][l] ^ k1;
      c[0][l] = n0;
      c[1][l] = static_cast<std::uint32_t>(p1);
      c[2][l] = n2;
      c[3][l] = static_cast<std::uint32_t>(p0);
    }
    k0 += 0x9E3779B9u;  // the Weyl key schedule
    k1 += 0xBB67AE85u;
  }
}

/// The counter of the layout above.
inline Words counter(std::uint64_t path, std::uint32_t word2, Stream stream, std::uint32_t block) {
  return {static_cast<std::uint32_t>(path), static_cast<std::uint32_t>(path >> 32), word2,
          (static_cast<std::uint32_t>(stream) << 24) | (block & 0xffffffu)};
}

/// Uniform on (0, 1) from 32 bits: (x + 1/2) 2^-32, never 0 or 1. The integer is
/// converted through the exponent bits of 2^52 (exact, and it vectorises where a
/// uint32 -> double conversion instruction is missing).
inline double u01(std::uint32_t x) {
  return (std::bit_cast<double>(0x4330000000000000ull | x) - 0x1p52 + 0.5) * 0x1p-32;
}

/// Uniform on (0, 1) from 64 bits: the top 52 as (m + 1/2) 2^-52, so the largest value
/// 1 - 2^-53 is still a double below 1 (53 bits would round up to exactly 1).
inline double u01(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t m = ((static_cast<std::uint64_t>(hi) << 32) | lo) >> 12;
  return (static_cast<double>(m) + 0.5) * 0x1p-52;
}

/// Box-Muller: two independent standard normals from two 32-bit words,
/// z0 = sqrt(-2 ln u_a) cos(2 pi u_b), z1 = sqrt(-2 ln u_a) sin(2 pi u_b).
/// Branch-free vmath functions, so the block kernel computes the same bits lane by lane;
/// the 32-bit uniforms bound |z| below 6.66.
__attribute__((always_inline)) inline void box_muller(std::uint32_t a, std::uint32_t b, double& z0,
                                                      double& z1) {
  const double r = std::sqrt(-2.0 * vmath::log(u01(a)));
  double s, c;
  vmath::sincos_2pi(u01(b), s, c);
  z0 = r * c;
  z1 = r * s;
}

/// Poisson count by inversion of its CDF from one uniform: the smallest k with
/// u <= P(N <= k), N ~ Poisson(lambda); `p0` = e^-lambda. Capped at 1000.
inline int poisson_by_inversion(double u, double lambda, double p0) {
  int count = 0;
  double p = p0, cdf = p0;
  while (u > cdf && count < 1000) {
    ++count;
    p *= lambda / count;
    cdf += p;
  }
  return count;
}

/// Per-path view of the generator: the seed's key and the path's counter prefix.
class PathRng {
 public:
  PathRng(std::uint64_t seed, std::uint64_t path)
      : k0_(static_cast<std::uint32_t>(seed)),
        k1_(static_cast<std::uint32_t>(seed >> 32)),
        path_(path) {}

  Words block(std::uint32_t word2, Stream stream, std::uint32_t b = 0) const {
    return philox(counter(path_, word2, stream, b), k0_, k1_);
  }

  /// The uniform feeding static input `id` (a Param id, or x0_id).
  double static_uniform(std::uint32_t id) const {
    const Words w = block(id, Stream::static_input);
    return u01(w[0], w[1]);
  }

  /// The four independent shocks of step `i`.
  std::array<double, 4> shocks(std::uint32_t i) const {
    const Words w = block(i, Stream::shocks);
    std::array<double, 4> z;
    box_muller(w[0], w[1], z[0], z[1]);
    box_muller(w[2], w[3], z[2], z[3]);
    return z;
  }

  std::uint64_t path() const { return path_; }
  std::uint32_t key0() const { return k0_; }
  std::uint32_t key1() const { return k1_; }

 private:
  std::uint32_t k0_, k1_;
  std::uint64_t path_;
};

/// A UniformRandomBitGenerator over one (key, counter) stream: successive calls return the
/// words of blocks ctr, ctr+1, ... (the low 24 bits of counter word 3 count the block).
/// Boost.Random and <random> distributions can draw from it.
class CounterEngine {
 public:
  using result_type = std::uint32_t;
  CounterEngine(const Words& ctr, std::uint32_t k0, std::uint32_t k1)
      : ctr_(ctr), k0_(k0), k1_(k1) {}

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  result_type operator()() {
    if (used_ == 4) {
      buf_ = philox(ctr_, k0_, k1_);
      ctr_[3] = (ctr_[3] & 0xff000000u) | ((ctr_[3] + 1) & 0xffffffu);
      used_ = 0;
    }
    return buf_[used_++];
  }

  /// The next standard normal (Box-Muller on word pairs; the pair's partner is cached).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const std::uint32_t a = (*this)(), b = (*this)();
    double z0;
    box_muller(a, b, z0, spare_);
    has_spare_ = true;
    return z0;
  }

 private:
  Words ctr_;
  std::uint32_t k0_, k1_;
  Words buf_{};
  int used_ = 4;
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace rng
}  // namespace capexsim
