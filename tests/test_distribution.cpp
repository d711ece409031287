// Static-input distributions: inverse CDFs against their exact moments and supports.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "capexsim/distribution.hpp"
#include "capexsim/random.hpp"

using namespace capexsim;

namespace {
struct Moments {
  double mean, var, lo, hi;
};
Moments draw(const Distribution& d, int n, std::uint64_t seed) {
  double s = 0, ss = 0, lo = INFINITY, hi = -INFINITY;
  for (int i = 0; i < n; ++i) {
    const rng::PathRng r(seed, static_cast<std::uint64_t>(i));
    const double x = d.sample(r.static_uniform(0));
    s += x;
    ss += x * x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  const double m = s / n;
  return {m, ss / n - m * m, lo, hi};
}
// |sample mean - exact mean| < 5 standard errors, SE = sd / sqrt(n).
void check_mean(const Distribution& d, double exact_mean, double exact_sd) {
  const int n = 200000;
  const Moments m = draw(d, n, 7);
  CHECK(std::abs(m.mean - exact_mean) < 5 * exact_sd / std::sqrt(double(n)));
  CHECK(m.lo >= d.lower());
  CHECK(m.hi <= d.upper());
}
}  // namespace

TEST_CASE("uniform, triangular and PERT match their exact means") {
  check_mean(Distribution::uniform(1.5, 4.0), 2.75, 2.5 / std::sqrt(12.0));
  // Triangular sd = sqrt((a^2+b^2+c^2-ab-ac-bc)/18).
  const double a = 40, m = 50, b = 60;
  check_mean(Distribution::triangular(a, m, b), 50,
             std::sqrt((a * a + m * m + b * b - a * m - a * b - m * b) / 18));
  check_mean(Distribution::triangular(0.25, 0.6, 1.0), (0.25 + 0.6 + 1.0) / 3, 0.2);
  // PERT mean (a + 4m + b)/6; sd bounded by (b - a)/6 * 1.2 (used as a loose SE bound).
  check_mean(Distribution::pert(0, 1, 10), 14.0 / 6, 1.2 * 10.0 / 6);
}

TEST_CASE("triangular inverse CDF hits the mode at F(mode)") {
  const Distribution d = Distribution::triangular(0, 2, 10);
  CHECK(d.sample(0.2) == doctest::Approx(2.0));  // F(mode) = (m - a)/(b - a) = 0.2
  CHECK(d.sample(0.5) == doctest::Approx(10 - std::sqrt(0.5 * 10 * 8)));
}

TEST_CASE("truncated normal stays inside its bounds and has the truncated mean") {
  const Distribution d = Distribution::normal(1.0, 2.0, 0.0, 3.0);
  check_mean(d, d.mean(), 2.0);
  // The truncated mean formula itself: symmetric truncation keeps the mean.
  CHECK(Distribution::normal(5, 1, 3, 7).mean() == doctest::Approx(5.0));
  // One-sided: mean = mu + sd phi(a)/(1 - Phi(a)) with a = 0 -> mu + sd sqrt(2/pi).
  CHECK(Distribution::normal(0, 1, 0, INFINITY).mean() == doctest::Approx(std::sqrt(2 / M_PI)));
}

TEST_CASE("lognormal is parameterised by the mean and sd of the value") {
  const int n = 200000;
  const Moments m = draw(Distribution::lognormal(5.0, 1.0), n, 11);
  CHECK(std::abs(m.mean - 5.0) < 5 * 1.0 / std::sqrt(double(n)));
  // Var of the sample variance for a lognormal with cv 0.2 is small: 5% is > 5 SE here.
  CHECK(std::abs(std::sqrt(m.var) - 1.0) < 0.05);
  CHECK(m.lo > 0);
}

TEST_CASE("choice picks values with probability proportional to their weights") {
  // P(2) = 0.75; SE of the share = sqrt(.75 .25 / n) = 0.00097 for n = 2e5; 5 SE.
  const Distribution d = Distribution::choice({1.0, 2.0}, {1.0, 3.0});
  const int n = 200000;
  int twos = 0;
  for (int i = 0; i < n; ++i) {
    const double x = d.sample(rng::PathRng(3, i).static_uniform(0));
    CHECK((x == 1.0 || x == 2.0));
    twos += x == 2.0;
  }
  CHECK(std::abs(twos / double(n) - 0.75) < 5 * 0.00097);
  CHECK(Distribution::choice({1, 2, 3}, {0, 1, 0}).sample(0.999999) == 2.0);
}

TEST_CASE("sampling is monotone in u, so inputs move smoothly between scenarios") {
  for (const Distribution& d : {Distribution::uniform(0, 1), Distribution::triangular(0, 0.3, 1),
                                Distribution::pert(0, 0.3, 1), Distribution::normal(0, 1, -1, 2),
                                Distribution::lognormal(2, 1)}) {
    double prev = -INFINITY;
    for (double u = 0.001; u < 1; u += 0.001) {
      const double x = d.sample(u);
      CHECK(x >= prev);
      prev = x;
    }
  }
}

TEST_CASE("TOML spelling of distributions") {
  CHECK(Distribution::fixed(50).to_toml() == "50.0");
  CHECK(Distribution::triangular(40, 50, 60).to_toml() == "{ triangular = [40.0, 50.0, 60.0] }");
  CHECK(Distribution::normal(1, 0.5, 0, INFINITY).to_toml() ==
        "{ normal = [1.0, 0.5], min = 0.0 }");
  CHECK(Distribution::choice({1, 2}, {1, 3}).to_toml() ==
        "{ choice = [1.0, 2.0], weights = [1.0, 3.0] }");
}
