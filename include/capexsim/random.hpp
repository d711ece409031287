#pragma once
// Counter-based randomness: Random123's Philox4x32-10 at the bottom, a documented counter
// layout in the middle, cheap per-path adapters on top.
//
// Counter layout. Every variate of a run is a pure function of (seed, path, step, purpose):
//
//   key     = { seed & 0xffffffff, seed >> 32 }
//   counter = { path & 0xffffffff, path >> 32, word2, (stream << 24) | block }
//
// Every counter of the library is built by rng::counter() below from a `Stream` of the
// enum below (the only place that shifts a stream into word 3), and every static-input
// id (stream 0, word 2) comes from the table `static_ids` below, whose ranges a
// static_assert proves disjoint. docs/statistics.md, "Counter layout", has the full table.
//
//   stream        word2              what the 4 x 32 output bits feed
//   ------------  -----------------  ---------------------------------------------------
//   0 static      static id          one uniform (52 bits from words 0,1) for the static
//                 (table static_ids) input of that id (Param ids, x0, deal terms, ...)
//   1 shocks      step i             4 standard normals (Box-Muller on word pairs), the
//                                    independent shocks of step i before correlation
//   2 events      step i             word 0: U_reg (disruption regime),
//                                    word 1: U for the Poisson jump count
//   3 jumps       step i             jump sizes: block b holds normals 4b .. 4b+3
//   4 warrant     step i             block w: the normal (words 0, 1) of warrant w's
//     price                          share price shock at step i
//   4 design      input id           words 0,1 = the design size n (> every path index,
//                                    so never a path's counter): blocks 0 and 2, the
//                                    Feistel round keys of a Latin-hypercube input
//   5 scramble    0                  words 0,1 = the Sobol dimension d: block 0, its
//                                    scramble key (stream 4 block 1 until issue 20, where
//                                    it shared warrant 1's counter at path d, step 0)
//   0x5A, 0x5B    factor             sensitivity designs (sobol.cpp), words 0,1 = row
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
#include <iterator>
#include <limits>

#include <Random123/philox.h>

#include "capexsim/vmath.hpp"

namespace capexsim {

using Philox = r123::Philox4x32;  // 10 rounds: the Crush-resistant default

namespace rng {

/// Counter word 3's top byte: the purpose of a block. Never renumber (published bits).
enum class Stream : std::uint32_t {
  static_input = 0,
  shocks = 1,
  events = 2,
  jumps = 3,
  warrant_price = 4,
  /// Latin-hypercube round keys: stream 4 with words 0,1 = the design size n, which no
  /// path index reaches (paths run 0 .. n-1), so never a warrant's counter.
  design = warrant_price,
  sobol_scramble = 5,
  sensitivity_design = 0x5A,
  sensitivity_bootstrap = 0x5B,
};

/// Counter word 3: the stream in the top byte, the block in the low 24 bits. The only
/// place a stream id is shifted into a counter.
inline constexpr std::uint32_t stream_word(Stream stream, std::uint32_t block = 0) {
  return (static_cast<std::uint32_t>(stream) << 24) | (block & 0xffffffu);
}

/// Static-input ids (stream 0, word 2), one row per purpose: item k's word j is drawn at
/// id first + stride * k + j (j < stride), for at most `items` items. The checker refuses
/// a scenario with more tables of a kind than its row holds (scenario_check.cpp names the
/// first table over), and the static_assert below proves the rows disjoint, so no two
/// draws can share a counter.
struct StaticIds {
  std::uint32_t first, stride, items;
  const char* table;  // the scenario key whose tables are counted ("" for one-off ids)
  constexpr std::uint32_t id(std::size_t item, std::uint32_t word = 0) const {
    return first + stride * static_cast<std::uint32_t>(item) + word;
  }
  constexpr std::uint32_t end() const { return first + stride * items; }
};
enum class Ids : std::size_t {
  params,           // Param id k (scenario.hpp): at most 64 inputs
  x0,               // the initial execution factor
  debt_rate,        // [[debt]] f's rate
  arr_multiple,     // [valuation]'s ARR multiple
  equity_capacity,  // the equity market's capacity per year
  coverage,         // the demand-led plan's coverage
  distress_factor,  // the valuation's distress factor (docs/model.md §13.4)
  contract_terms,   // [[contract]] c: total, start, years, gw, cancellation, renewal factor
  vendor_terms,     // [[vendor_financing]] v: per_gw, cap
  equity_terms,     // [[equity]] e: amount, at
  revenue_default,  // [[revenue_contract]] k: default rate, uniform of the default time
  count_
};
inline constexpr StaticIds static_ids[] = {
    {0, 1, 64, ""},                      // params
    {64, 1, 1, ""},                      // x0
    {128, 1, 64, "debt"},                // debt_rate
    {192, 1, 1, ""},                     // arr_multiple
    {193, 1, 1, ""},                     // equity_capacity
    {194, 1, 1, ""},                     // coverage
    {195, 1, 1, ""},                     // distress_factor
    {256, 8, 96, "contract"},            // contract_terms (6 of 8 words used)
    {1024, 4, 256, "vendor_financing"},  // vendor_terms (2 of 4 used)
    {2048, 2, 512, "equity"},            // equity_terms
    {3072, 2, 256, "revenue_contract"},  // revenue_default
};
static_assert(std::size(static_ids) == static_cast<std::size_t>(Ids::count_));
inline constexpr const StaticIds& static_ids_of(Ids which) {
  return static_ids[static_cast<std::size_t>(which)];
}
/// True when no two rows of `static_ids` share an id.
inline constexpr bool static_ids_disjoint() {
  for (std::size_t a = 0; a < std::size(static_ids); ++a)
    for (std::size_t b = a + 1; b < std::size(static_ids); ++b)
      if (static_ids[a].first < static_ids[b].end() && static_ids[b].first < static_ids[a].end())
        return false;
  return true;
}
static_assert(static_ids_disjoint(), "two static-input purposes would share a counter");

/// The ids by name, as the kernel and the deal terms draw them. Input k (a Param id).
inline constexpr std::uint32_t param_id(std::size_t k) {
  return static_ids_of(Ids::params).id(k);
}
inline constexpr std::uint32_t x0_id = static_ids_of(Ids::x0).id(0);
inline constexpr std::uint32_t debt_rate_id(std::size_t f) {
  return static_ids_of(Ids::debt_rate).id(f);
}
inline constexpr std::uint32_t arr_multiple_id = static_ids_of(Ids::arr_multiple).id(0);
inline constexpr std::uint32_t equity_capacity_id = static_ids_of(Ids::equity_capacity).id(0);
inline constexpr std::uint32_t coverage_id = static_ids_of(Ids::coverage).id(0);
inline constexpr std::uint32_t distress_factor_id = static_ids_of(Ids::distress_factor).id(0);
/// Contract c's total, start, years, gw, cancellation and renewal factor (k = 0..5).
inline constexpr std::uint32_t contract_term_id(std::size_t c, int k) {
  return static_ids_of(Ids::contract_terms).id(c, static_cast<std::uint32_t>(k));
}
/// Vendor v's per_gw and cap (k = 0, 1).
inline constexpr std::uint32_t vendor_term_id(std::size_t v, int k) {
  return static_ids_of(Ids::vendor_terms).id(v, static_cast<std::uint32_t>(k));
}
/// Equity round e's amount and at (k = 0, 1).
inline constexpr std::uint32_t equity_term_id(std::size_t e, int k) {
  return static_ids_of(Ids::equity_terms).id(e, static_cast<std::uint32_t>(k));
}
/// Revenue contract k's default rate (word 0) and the uniform of its default time (word 1)
/// (docs/model.md §12.6).
inline constexpr std::uint32_t revenue_default_id(std::size_t k, int word) {
  return static_ids_of(Ids::revenue_default).id(k, static_cast<std::uint32_t>(word));
}
/// At most this many tables of each counted kind (the checker refuses more).
inline constexpr std::size_t max_debt_facilities = static_ids_of(Ids::debt_rate).items;
inline constexpr std::size_t max_contracts = static_ids_of(Ids::contract_terms).items;
inline constexpr std::size_t max_vendors = static_ids_of(Ids::vendor_terms).items;
inline constexpr std::size_t max_equity_rounds = static_ids_of(Ids::equity_terms).items;
inline constexpr std::size_t max_revenue_contracts = static_ids_of(Ids::revenue_default).items;

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

/// The counter of the layout above: words 0,1 = `path` (or a design's own index), word 2,
/// the stream and the block.
inline constexpr Words counter(std::uint64_t path, std::uint32_t word2, Stream stream,
                               std::uint32_t block) {
  return {static_cast<std::uint32_t>(path), static_cast<std::uint32_t>(path >> 32), word2,
          stream_word(stream, block)};
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
