// vmath: accuracy against long double over the whole double range, the special values,
// and the property the block kernel relies on: a vectorised loop gives the scalar bits.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

#include "capexsim/vmath.hpp"

using namespace capexsim;

namespace {
/// |got - ref| in units of the last place of the correctly rounded result.
double ulps(double got, long double ref) {
  const double r = static_cast<double>(ref);
  const double ulp = r == 0 ? std::numeric_limits<double>::denorm_min()
                            : std::nextafter(std::abs(r), INFINITY) - std::abs(r);
  return static_cast<double>(std::fabs(static_cast<long double>(got) - ref)) / ulp;
}
constexpr double inf = std::numeric_limits<double>::infinity();
}  // namespace

TEST_CASE("exp is within 1 ulp on normal results and exact at 0") {
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> wide(-708.0, 709.0), narrow(-1.0, 1.0);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const double x = i % 2 ? wide(gen) : narrow(gen) * std::pow(10.0, -(i % 17));
    worst = std::max(worst, ulps(vmath::exp(x), std::exp(static_cast<long double>(x))));
  }
  CHECK(worst <= 1.0);
  CHECK(vmath::exp(0.0) == 1.0);
  CHECK(vmath::exp(-0.0) == 1.0);
}

TEST_CASE("exp: overflow, underflow, subnormals, infinities and NaN") {
  CHECK(vmath::exp(710.0) == inf);
  CHECK(vmath::exp(inf) == inf);
  CHECK(vmath::exp(-746.0) == 0.0);
  CHECK(vmath::exp(-inf) == 0.0);
  CHECK(std::isnan(vmath::exp(std::numeric_limits<double>::quiet_NaN())));
  // A subnormal result: within one subnormal step of the true value.
  const double x = -740.0;
  CHECK(std::fabs(vmath::exp(x) - static_cast<double>(std::exp(static_cast<long double>(x)))) <=
        std::numeric_limits<double>::denorm_min());
}

TEST_CASE("log is within 1 ulp over all positive doubles, exact at 1") {
  std::mt19937_64 gen(8);
  std::uniform_real_distribution<double> near1(0.5, 2.0);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    // Every exponent (random bit patterns) and the region near 1, where cancellation bites.
    double x = i % 2 ? std::bit_cast<double>(gen() & 0x7fefffffffffffffull) : near1(gen);
    if (x == 0) x = 1;
    worst = std::max(worst, ulps(vmath::log(x), std::log(static_cast<long double>(x))));
  }
  CHECK(worst <= 1.0);
  CHECK(vmath::log(1.0) == 0.0);
  CHECK(vmath::log(0.0) == -inf);
  CHECK(vmath::log(inf) == inf);
  CHECK(std::isnan(vmath::log(-1.0)));
  CHECK(std::isnan(vmath::log(std::numeric_limits<double>::quiet_NaN())));
  const double sub = std::numeric_limits<double>::denorm_min() * 12345;
  CHECK(ulps(vmath::log(sub), std::log(static_cast<long double>(sub))) <= 1.0);
}

TEST_CASE("sincos_2pi is within 2.5e-16 of sin and cos of 2 pi u on Box-Muller's grid") {
  // u = (k + 1/2) 2^-32 as rng::u01 makes it; plus the quadrant boundaries.
  std::mt19937 gen(9);
  const long double two_pi = 6.283185307179586476925286766559005768L;
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const double u = (static_cast<double>(gen()) + 0.5) * 0x1p-32;
    double s, c;
    vmath::sincos_2pi(u, s, c);
    const long double a = two_pi * u;
    worst = std::max({worst, static_cast<double>(std::fabs(s - std::sin(a))),
                      static_cast<double>(std::fabs(c - std::cos(a)))});
  }
  CHECK(worst <= 2.5e-16);
  for (double u : {0.0, 0.125, 0.25, 0.5, 0.75, 1.0}) {
    double s, c;
    vmath::sincos_2pi(u, s, c);
    CHECK(s * s + c * c == doctest::Approx(1.0).epsilon(1e-15));
  }
  double s, c;
  vmath::sincos_2pi(0.25, s, c);
  CHECK(s == 1.0);
  CHECK(c == 0.0);
}

TEST_CASE("a loop over lanes gives exactly the scalar bits") {
  // What the block kernel relies on: whether or not the compiler vectorises this loop,
  // each element equals the scalar call (contraction is off; the code has no branches).
  constexpr int n = 64;
  double x[n], e[n], l[n], s[n], c[n];
  for (int i = 0; i < n; ++i) x[i] = -30.0 + 0.937 * i + 1e-3 * (i % 7);
  for (int i = 0; i < n; ++i) {
    e[i] = vmath::exp(x[i]);
    l[i] = vmath::log(std::abs(x[i]) + 1e-300);
    vmath::sincos_2pi(std::abs(x[i]) / 61.0, s[i], c[i]);
  }
  for (int i = 0; i < n; ++i) {
    volatile double xi = x[i];  // keep the reference call scalar
    double si, ci;
    vmath::sincos_2pi(std::abs(xi) / 61.0, si, ci);
    CHECK(std::bit_cast<std::uint64_t>(e[i]) == std::bit_cast<std::uint64_t>(vmath::exp(xi)));
    CHECK(std::bit_cast<std::uint64_t>(l[i]) ==
          std::bit_cast<std::uint64_t>(vmath::log(std::abs(xi) + 1e-300)));
    CHECK(std::bit_cast<std::uint64_t>(s[i]) == std::bit_cast<std::uint64_t>(si));
    CHECK(std::bit_cast<std::uint64_t>(c[i]) == std::bit_cast<std::uint64_t>(ci));
  }
}
