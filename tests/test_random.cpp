// The generator layer: Random123 known answers through our adapter, uniform and normal
// transforms, and the counter layout's independence properties.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <set>

#include <boost/random/normal_distribution.hpp>
#include <boost/random/uniform_01.hpp>

#include "capexsim/random.hpp"

using namespace capexsim;
using rng::Words;

// Random123's tests/kat_vectors, the three "philox4x32 10" lines: CTR (4 words),
// KEY (2 words), EXPECTED (4 words).
struct Kat {
  Words ctr;
  std::uint32_t k0, k1;
  Words expected;
};
static const Kat kats[] = {
    {{0, 0, 0, 0}, 0, 0, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     0xffffffff,
     0xffffffff,
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     0xa4093822,
     0x299f31d0,
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
};

TEST_CASE("Philox4x32-10 reproduces Random123's known-answer vectors") {
  for (const Kat& k : kats) {
    CHECK(rng::philox(k.ctr, k.k0, k.k1) == k.expected);
    // ... and so does the URBG adapter, word by word.
    rng::CounterEngine eng(k.ctr, k.k0, k.k1);
    for (int w = 0; w < 4; ++w) CHECK(eng() == k.expected[w]);
  }
}

TEST_CASE("philox_lanes: every lane equals Random123's block for its own counter") {
  // The known answers in lanes 0-2, then arbitrary counters, with the key varied too.
  constexpr int W = 16;
  for (const Kat& k : kats) {
    std::uint32_t c[4][W];
    for (int l = 0; l < W; ++l) {
      const Words ctr = l == 0 ? k.ctr
                               : Words{k.ctr[0] + 977u * l, k.ctr[1] ^ (l << 7), k.ctr[2] - l,
                                       k.ctr[3] + 0x01000000u * (l & 3)};
      for (int w = 0; w < 4; ++w) c[w][l] = ctr[w];
    }
    std::uint32_t in[4][W];
    std::memcpy(in, c, sizeof c);
    rng::philox_lanes<W>(c, k.k0, k.k1);
    for (int w = 0; w < 4; ++w) CHECK(c[w][0] == k.expected[w]);
    for (int l = 0; l < W; ++l) {
      const Words out = rng::philox({in[0][l], in[1][l], in[2][l], in[3][l]}, k.k0, k.k1);
      for (int w = 0; w < 4; ++w) CHECK(c[w][l] == out[w]);
    }
  }
}

TEST_CASE("u01 through the exponent bits equals (x + 1/2) 2^-32 computed directly") {
  for (std::uint32_t x : {0u, 1u, 2u, 12345u, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu})
    CHECK(rng::u01(x) == (static_cast<double>(x) + 0.5) * 0x1p-32);
}

TEST_CASE("CounterEngine walks successive blocks within its stream") {
  const Words c0 = rng::counter(7, 3, rng::Stream::jumps, 0);
  rng::CounterEngine eng(c0, 11, 0);
  for (int w = 0; w < 4; ++w) eng();
  const Words next = rng::philox(rng::counter(7, 3, rng::Stream::jumps, 1), 11, 0);
  for (int w = 0; w < 4; ++w) CHECK(eng() == next[w]);
}

TEST_CASE("counter layout separates paths, steps, streams and seeds") {
  std::set<Words> seen;
  for (std::uint64_t path : {0ull, 1ull, (1ull << 32), (1ull << 32) + 1})
    for (std::uint32_t step : {0u, 1u})
      for (auto s : {rng::Stream::static_input, rng::Stream::shocks, rng::Stream::events,
                     rng::Stream::jumps})
        CHECK(seen.insert(rng::counter(path, step, s, 0)).second);
  // A path's variates depend on (seed, path) only.
  const rng::PathRng a(42, 5), b(42, 5), c(43, 5);
  CHECK(a.shocks(9) == b.shocks(9));
  CHECK(a.shocks(9) != c.shocks(9));
}

TEST_CASE("uniforms stay strictly inside (0, 1)") {
  CHECK(rng::u01(0u) > 0.0);
  CHECK(rng::u01(0xffffffffu) < 1.0);
  CHECK(rng::u01(0u, 0u) > 0.0);
  CHECK(rng::u01(0xffffffffu, 0xffffffffu) < 1.0);
}

TEST_CASE("Box-Muller shocks have mean 0, variance 1 and no correlation") {
  // n = 4e5 normals per coordinate. Standard errors: mean 1/sqrt(n) = 0.0016,
  // variance sqrt(2/n) = 0.0022, correlation 1/sqrt(n) = 0.0016. Tolerance 5 SE.
  const int n = 400000;
  double s[4] = {}, ss[4] = {}, cross = 0;
  const rng::PathRng r(2024, 0);
  for (int i = 0; i < n; ++i) {
    const auto z = r.shocks(static_cast<std::uint32_t>(i));
    for (int k = 0; k < 4; ++k) {
      s[k] += z[k];
      ss[k] += z[k] * z[k];
    }
    cross += z[0] * z[1];
  }
  for (int k = 0; k < 4; ++k) {
    CHECK(std::abs(s[k] / n) < 5 * 0.0016);
    CHECK(std::abs(ss[k] / n - 1) < 5 * 0.0022);
  }
  CHECK(std::abs(cross / n) < 5 * 0.0016);
}

TEST_CASE("Boost.Random distributions draw from the adapter") {
  // uniform_01: mean 1/2, SE = sqrt(1/12/n) = 0.00091 for n = 1e5; tolerance 5 SE.
  rng::CounterEngine eng(rng::counter(0, 0, rng::Stream::jumps, 0), 99, 0);
  boost::random::uniform_01<double> u;
  boost::random::normal_distribution<double> z(3.0, 2.0);
  double su = 0, sz = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    su += u(eng);
    sz += z(eng);
  }
  CHECK(std::abs(su / n - 0.5) < 5 * 0.00091);
  CHECK(std::abs(sz / n - 3.0) < 5 * 2.0 / std::sqrt(double(n)));
}
