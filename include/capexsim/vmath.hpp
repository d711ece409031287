#pragma once
// Branch-free exp, log and sin/cos of 2*pi*u, written once and used by both the one-path
// reference kernel and the block kernel.
//
// Why not <cmath>: a loop over paths that calls std::exp cannot be vectorised without
// glibc's libmvec, whose vector results differ from the scalar ones in the last bits, and
// the reproducibility contract (docs/model.md §7) needs a path's bits not to depend on whether
// it ran alone or in a block. These functions are plain IEEE arithmetic, integer bit
// manipulation and selects, with no branches and no table look-ups, so the compiler
// vectorises them inside lane loops and every lane gets exactly the bits the scalar call
// gives. That needs floating-point contraction off (-ffp-contract=off, set on the
// capexsim target and passed to its users), or a fused multiply-add could round a lane
// differently from the scalar code.
//
// Accuracy (tests/test_vmath.cpp checks it against long double): exp and log within 1
// ulp, sincos_2pi within 2e-16 absolute, over the whole double range for exp and log.

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

// Always inlined: inside the block kernel's lane loops a call would stop vectorisation
// (and GCC's inliner gives up on them in a function as large as the kernel).
#define CAPEXSIM_VMATH_INLINE __attribute__((always_inline)) inline

namespace capexsim::vmath {

namespace detail {
inline constexpr double round_magic = 0x1.8p52;  // x + 1.5*2^52 - 1.5*2^52 rounds |x| < 2^51

/// 2^k for integer k in [-1022, 1023], from the exponent bits.
CAPEXSIM_VMATH_INLINE double pow2i(std::int64_t k) {
  return std::bit_cast<double>(static_cast<std::uint64_t>(k + 1023) << 52);
}
}  // namespace detail

/// e^x. exp(-inf) = 0, exp(+inf) = +inf, NaN stays NaN; results below the smallest
/// subnormal are 0, above DBL_MAX +inf.
CAPEXSIM_VMATH_INLINE double exp(double x) {
  constexpr double hi = 709.782712893383973096;  // ln(DBL_MAX)
  constexpr double lo = -745.2;                  // below ln(smallest subnormal / 2)
  constexpr double log2e = 1.44269504088896338700;
  constexpr double ln2_hi = 6.93147180369123816490e-01;  // 32 bits: k * ln2_hi is exact
  constexpr double ln2_lo = 1.90821492927058770002e-10;
  const double xc = x < lo ? lo : (x > hi ? hi : x);
  // k = round(x / ln 2), r = x - k ln 2 in [-0.35, 0.35]
  const double t = xc * log2e + detail::round_magic;
  const double kf = t - detail::round_magic;
  // The low mantissa bits of t hold k as a two's complement integer (|k| <= 1076).
  const std::int64_t k =
      static_cast<std::int64_t>((std::bit_cast<std::uint64_t>(t) + 0x80000u) & 0xfffffu) - 0x80000;
  const double r = (xc - kf * ln2_hi) - kf * ln2_lo;
  // Taylor series to r^13: the first omitted term is below 4e-18 of the result.
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = std::fma(p, r, 1.0 / 479001600.0);
  p = std::fma(p, r, 1.0 / 39916800.0);
  p = std::fma(p, r, 1.0 / 3628800.0);
  p = std::fma(p, r, 1.0 / 362880.0);
  p = std::fma(p, r, 1.0 / 40320.0);
  p = std::fma(p, r, 1.0 / 5040.0);
  p = std::fma(p, r, 1.0 / 720.0);
  p = std::fma(p, r, 1.0 / 120.0);
  p = std::fma(p, r, 1.0 / 24.0);
  p = std::fma(p, r, 1.0 / 6.0);
  p = std::fma(p, r, 0.5);
  p = p * (r * r) + r;  // r + r^2/2 + ..., then 1 + that keeps the small part's bits
  p = 1.0 + p;
  // Scale by 2^k in two halves so that subnormal results and k = 1024 need no branch.
  const std::int64_t k1 = ((k + 2048) >> 1) - 1024;
  const std::int64_t k2 = k - k1;
  const double y = p * detail::pow2i(k1) * detail::pow2i(k2);
  return x > hi ? std::numeric_limits<double>::infinity() : (x < lo ? 0.0 : y);
}

/// Natural logarithm, fdlibm's method (reduce to [sqrt(2)/2, sqrt(2)), then a minimax
/// series in s = f/(2+f)). log(0) = -inf, log(x < 0) = NaN, log(inf) = inf.
CAPEXSIM_VMATH_INLINE double log(double x) {
  constexpr double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  constexpr double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                   Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                   Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                   Lg7 = 1.479819860511658591e-01;
  // Subnormals: scale by 2^54 first.
  const bool sub = x < 0x1p-1022;
  const double xs = sub ? x * 0x1p54 : x;
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(xs);
  // Shift the high word so that a mantissa at or above sqrt(2) carries into the exponent
  // (musl's fdlibm-derived reduction), then rebuild m from the remaining bits.
  const std::uint64_t hx = (bits >> 32) + (0x3ff00000u - 0x3fe6a09eu);
  const std::int64_t k = static_cast<std::int64_t>(hx >> 20) - (sub ? 0x3ff + 54 : 0x3ff);
  const std::uint64_t mbits = (((hx & 0x000fffffu) + 0x3fe6a09eu) << 32) | (bits & 0xffffffffu);
  const double m = std::bit_cast<double>(mbits);  // in [sqrt(2)/2, sqrt(2))
  const double f = m - 1.0;
  // k as a double through the exponent bits of 1.5 * 2^52 (exact for |k| < 2^51), since
  // AVX2 has no 64-bit integer -> double conversion to vectorise with.
  const double dk = std::bit_cast<double>(std::bit_cast<std::uint64_t>(detail::round_magic) +
                                          static_cast<std::uint64_t>(k)) -
                    detail::round_magic;
  const double hfsq = 0.5 * f * f;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
  const double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
  const double R = t2 + t1;
  const double y = s * (hfsq + R) + dk * ln2_lo - hfsq + f + dk * ln2_hi;
  constexpr double inf = std::numeric_limits<double>::infinity();
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  const double special = x == 0 ? -inf : (x < 0 ? nan : x);  // NaN and +inf map to x
  return x > 0 && x < inf ? y : special;
}

/// sin(2 pi u) and cos(2 pi u) for u in [0, 1] (Box-Muller's angle). The reduction is
/// exact: 4u = q + r with integer q and |r| <= 1/2, so the angle is (q + r) pi/2 and the
/// series below only ever sees |a| <= pi/4.
CAPEXSIM_VMATH_INLINE void sincos_2pi(double u, double& s, double& c) {
  constexpr double pio2 = 1.57079632679489661923;
  const double w = 4.0 * u;
  const double t = w + detail::round_magic;
  const double q = t - detail::round_magic;
  const std::uint64_t quadrant = std::bit_cast<std::uint64_t>(t) & 3u;
  const double a = (w - q) * pio2;
  const double a2 = a * a;
  // Taylor series: sin to a^17, cos to a^18; first omitted terms below 1e-19.
  double ps = 1.0 / 355687428096000.0;  // 1/17!, then down to a^3's -1/3!
  ps = std::fma(ps, a2, -1.0 / 1307674368000.0);
  ps = std::fma(ps, a2, 1.0 / 6227020800.0);
  ps = std::fma(ps, a2, -1.0 / 39916800.0);
  ps = std::fma(ps, a2, 1.0 / 362880.0);
  ps = std::fma(ps, a2, -1.0 / 5040.0);
  ps = std::fma(ps, a2, 1.0 / 120.0);
  ps = std::fma(ps, a2, -1.0 / 6.0);
  const double sa = a + a * a2 * ps;
  double pc = -1.0 / 6402373705728000.0;  // -1/18!, then down to a^4's 1/4!
  pc = std::fma(pc, a2, 1.0 / 20922789888000.0);
  pc = std::fma(pc, a2, -1.0 / 87178291200.0);
  pc = std::fma(pc, a2, 1.0 / 479001600.0);
  pc = std::fma(pc, a2, -1.0 / 3628800.0);
  pc = std::fma(pc, a2, 1.0 / 40320.0);
  pc = std::fma(pc, a2, -1.0 / 720.0);
  pc = std::fma(pc, a2, 1.0 / 24.0);
  const double ca = 1.0 - 0.5 * a2 + a2 * a2 * pc;
  // Quadrant q: sin(a + q pi/2), cos(a + q pi/2).
  const bool swap = (quadrant & 1u) != 0;
  const double sv = swap ? ca : sa, cv = swap ? sa : ca;
  s = (quadrant & 2u) ? -sv : sv;
  c = ((quadrant + 1) & 2u) ? -cv : cv;
}

}  // namespace capexsim::vmath
