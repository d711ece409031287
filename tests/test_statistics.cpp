// Streaming statistics: exact merges, moments, quantile sketch accuracy.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "capexsim/random.hpp"
#include "capexsim/statistics.hpp"

using namespace capexsim;

namespace {
std::vector<double> sample(int n, std::uint64_t seed) {
  // A heavy-tailed, two-signed mix: lognormal-ish values minus an offset.
  std::vector<double> v;
  rng::CounterEngine eng(rng::counter(0, 0, rng::Stream::jumps, 0),
                         static_cast<std::uint32_t>(seed), 0);
  for (int i = 0; i < n; ++i) v.push_back(std::exp(1.5 * eng.normal()) * 100 - 120);
  return v;
}
}  // namespace

TEST_CASE("FixedPointSum is exact and order-free") {
  const auto v = sample(10000, 1);
  FixedPointSum forward, backward, halves_a, halves_b;
  for (double x : v) forward.add(x);
  for (auto it = v.rbegin(); it != v.rend(); ++it) backward.add(*it);
  for (std::size_t k = 0; k < v.size(); ++k) (k % 3 ? halves_a : halves_b).add(v[k]);
  halves_a += halves_b;
  CHECK(forward == backward);
  CHECK(forward == halves_a);
  // Within the 2^-33 per-value rounding of the exact sum.
  long double exact = 0;
  for (double x : v) exact += x;
  CHECK(std::abs(forward.value() - static_cast<double>(exact)) < v.size() * 0x1p-33 + 1e-9);
  FixedPointSum big;
  big.add(1e300);
  CHECK(big.saturated() == 0);
  CHECK(big.value() == 1e300);
}

TEST_CASE("FixedPointSum::add_many sums exactly what add() sums, slow path included") {
  auto v = sample(3000, 5);  // more than two 1024-value runs
  FixedPointSum one, many;
  for (double x : v) one.add(x);
  many.add_many(v.data(), v.size());
  CHECK(many == one);
  // Values off the fast path (above 2^19, huge, negative huge) in the middle of a run.
  v[1500] = 1e7;
  v[1501] = -3e15;
  v[1502] = 1e300;
  FixedPointSum one2, many2;
  for (double x : v) one2.add(x);
  many2.add_many(v.data(), v.size());
  CHECK(many2 == one2);
  CHECK(many2.has_big());
  CHECK(many2.saturated() == 0);
  CHECK(!(many2 == many));
}

TEST_CASE("ScalarAccumulator: moments, NaN share, prob_positive") {
  ScalarAccumulator acc;
  const double xs[] = {1, 2, 3, 4, NAN, -1};
  for (double x : xs) acc.add(x);
  const Summary s = acc.summary();
  CHECK(s.paths == 6);
  CHECK(s.count == 5);
  CHECK(s.mean == doctest::Approx(9.0 / 5));
  // sd of {1,2,3,4,-1}: mean 1.8, sum sq dev = .64+.04+1.44+4.84+7.84 = 14.8, /4 = 3.7
  CHECK(s.sd == doctest::Approx(std::sqrt(3.7)));
  CHECK(s.std_error == doctest::Approx(std::sqrt(3.7 / 5)));
  CHECK(s.nan_share == doctest::Approx(1.0 / 6));
  CHECK(s.prob_positive == doctest::Approx(4.0 / 6));
  const double stored[] = {1, 2, 3, 4, NAN, -1};
  const Summary e = acc.summary(stored);
  CHECK(e.exact_quantiles);
  CHECK(e.quantile(0.5) == 2.0);                     // sorted {-1,1,2,3,4}
  CHECK(e.quantile(0.25) == 1.0);                    // h = 1
  CHECK(e.quantile(0.99) == doctest::Approx(3.96));  // h = 3.96 -> 3 + .96
  CHECK(e.cvar95 == 4.0);                            // p95 = 3.8: values >= it are {4}
}

TEST_CASE("all-NaN output reports NaN moments and nan_share 1") {
  ScalarAccumulator acc;
  acc.add(NAN);
  acc.add(NAN);
  const Summary s = acc.summary();
  CHECK(s.nan_share == 1.0);
  CHECK(std::isnan(s.mean));
  CHECK(std::isnan(s.quantile(0.5)));
}

TEST_CASE("QuantileSketch: order statistics within 2^-8 relative + 1e-3 absolute") {
  auto v = sample(20000, 7);
  QuantileSketch sk;
  for (double x : v) sk.add(x);
  std::sort(v.begin(), v.end());
  for (std::size_t k = 0; k < v.size(); k += 37) {
    const double bound =
        QuantileSketch::relative_accuracy * std::abs(v[k]) + QuantileSketch::zero_threshold;
    CAPTURE(k);
    CHECK(std::abs(sk.order_statistic(k) - v[k]) <= bound);
  }
  for (double q : summary_levels) {
    const double exact = sorted_quantile(v, q);
    const auto lo = static_cast<std::size_t>(std::floor(q * (v.size() - 1)));
    const double scale = std::max(std::abs(v[lo]), std::abs(v[std::min(lo + 1, v.size() - 1)]));
    CHECK(std::abs(sk.quantile(q) - exact) <=
          QuantileSketch::relative_accuracy * scale + QuantileSketch::zero_threshold);
  }
}

TEST_CASE("QuantileSketch merges exactly, whatever the split") {
  const auto v = sample(5000, 3);
  QuantileSketch whole, a, b, c;
  for (double x : v) whole.add(x);
  for (std::size_t k = 0; k < v.size(); ++k) (k < 1234 ? a : k < 4000 ? b : c).add(v[k]);
  QuantileSketch abc = a;
  abc += b;
  abc += c;
  QuantileSketch cba = c;
  cba += b;
  cba += a;
  CHECK(abc == whole);
  CHECK(cba == whole);
  for (double q : band_levels) CHECK(abc.quantile(q) == whole.quantile(q));
}

TEST_CASE("QuantileSketch::add_many counts exactly what add() counts") {
  // Both signs, the zero bucket, values far apart (the bucket range grows both ways)
  // and more than one 256-value run.
  auto v = sample(1000, 11);
  v.insert(v.end(), {0.0, -0.0, 5e-4, -5e-4, 1e-3, -1e-3, 1e12, -1e12, 1e-2});
  QuantileSketch one, many, split;
  for (double x : v) one.add(x);
  many.add_many(v.data(), v.size());
  split.add_many(v.data(), 300);
  split.add_many(v.data() + 300, v.size() - 300);
  CHECK(many == one);
  CHECK(split == one);
  CHECK(many.count() == v.size());
  for (double q : band_levels) CHECK(many.quantile(q) == one.quantile(q));
}

TEST_CASE("tail mean from the sketch approximates the exact tail mean") {
  auto v = sample(20000, 11);
  QuantileSketch sk;
  for (double x : v) sk.add(x);
  std::sort(v.begin(), v.end());
  const std::size_t from = 19000;
  const double exact = std::accumulate(v.begin() + from, v.end(), 0.0) / (v.size() - from);
  // Every value in the tail is positive and within 2^-8 relative, so is their mean.
  CHECK(std::abs(sk.tail_mean_from(from) - exact) <=
        QuantileSketch::relative_accuracy * exact + 1e-3);
}

// ---------------------------------------------------------------------------------------
// Large magnitudes: exact sums beyond the 128-bit fixed point (issue 10).

namespace {
/// Mean and sd in long double, two-pass (the way NumPy's mean and std(ddof=1) compute).
void two_pass(const std::vector<double>& v, double& mean, double& sd) {
  long double s = 0;
  for (double x : v) s += x;
  const long double m = s / v.size();
  long double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  mean = static_cast<double>(m);
  sd = static_cast<double>(std::sqrt(ss / (v.size() - 1)));
}

/// n values centre * (1 + spread * u), u in about [-1, 1], deterministic.
std::vector<double> around(double centre, double spread, int n, std::uint64_t seed) {
  std::vector<double> v;
  rng::CounterEngine eng(rng::counter(0, 0, rng::Stream::jumps, 0),
                         static_cast<std::uint32_t>(seed), 0);
  for (int i = 0; i < n; ++i) v.push_back(centre * (1 + spread * std::tanh(eng.normal())));
  return v;
}
}  // namespace

TEST_CASE("moments are right at large magnitudes (no saturation)") {
  // Before: above 2^31 the squares saturated (sd exactly 0) and above 2^62 the values
  // did (means clamped to 4.6e18). Now: within 1e-12 relative of a long-double two-pass
  // computation (the exact totals are rounded once or twice: a few 2^-53 relative; the
  // reference's own error is below 1e-15 here).
  for (double centre : {5e7, 3e9, 1e15, 7e18, 1e100, 1e300}) {
    for (double spread : {0.5, 1e-4}) {
      const auto v = around(centre, spread, 5000, 3);
      ScalarAccumulator acc;
      for (double x : v) acc.add(x);
      double mean = 0, sd = 0;
      two_pass(v, mean, sd);
      const Summary s = acc.summary();
      CAPTURE(centre);
      CAPTURE(spread);
      CHECK(std::abs(s.mean - mean) <= 1e-12 * std::abs(mean));
      CHECK(s.sd > 0);
      CHECK(std::abs(s.sd - sd) <= 1e-12 * sd);
      CHECK(s.std_error == doctest::Approx(s.sd / std::sqrt(5000.0)).epsilon(1e-15));
    }
  }
}

TEST_CASE("negative and mixed large values: exact mean, both signs cancelling") {
  std::vector<double> v = around(-2e20, 0.3, 3000, 9);
  for (int i = 0; i < 3000; ++i) v.push_back(-v[static_cast<std::size_t>(i)]);
  v.push_back(12.5);  // the exact sum is 12.5: a floating-point sum would lose it
  ScalarAccumulator acc;
  for (double x : v) acc.add(x);
  const Summary s = acc.summary();
  CHECK(s.mean == 12.5 / static_cast<double>(v.size()));
  double mean = 0, sd = 0;
  two_pass(v, mean, sd);
  CHECK(std::abs(s.sd - sd) <= 1e-12 * sd);
}

TEST_CASE("large-magnitude sums merge to the same bits in any order") {
  auto v = around(1e200, 0.9, 4000, 5);
  const auto w = sample(4000, 6);
  v.insert(v.end(), w.begin(), w.end());
  for (std::size_t k = 0; k < v.size(); k += 7) v[k] = -v[k];
  ScalarAccumulator forward, backward, split_a, split_b, split_c;
  for (double x : v) forward.add(x);
  for (auto it = v.rbegin(); it != v.rend(); ++it) backward.add(*it);
  for (std::size_t k = 0; k < v.size(); ++k)
    (k % 3 == 0 ? split_a : k % 3 == 1 ? split_b : split_c).add(v[k]);
  ScalarAccumulator cba = split_c;
  cba += split_b;
  cba += split_a;
  CHECK(forward == backward);
  CHECK(forward == cba);
  const Summary a = forward.summary(), b = cba.summary();
  CHECK(a.mean == b.mean);
  CHECK(a.sd == b.sd);
  // Survives a round trip through bytes.
  std::string bytes;
  detail::ByteWriter wr(bytes);
  forward.write(wr);
  detail::ByteReader rd(bytes);
  ScalarAccumulator back;
  back.read(rd);
  CHECK(back == forward);
  CHECK(back.summary().sd == a.sd);
}

TEST_CASE("values in the old fixed-point range sum to the same bits as before") {
  // The old sum: every value rounded to 2^-32 in one 128-bit integer, converted once.
  // Values from 2^40 to 2^62 now go to the exact part; the total must round the same.
  auto v = around(3e13, 0.9, 3000, 8);
  const auto w = sample(3000, 2);
  v.insert(v.end(), w.begin(), w.end());
  FixedPointSum sum;
  detail::int128 old = 0;
  for (double x : v) {
    sum.add(x);
    old += static_cast<detail::int128>(std::nearbyint(x * FixedPointSum::scale));
  }
  CHECK(sum.has_big());
  CHECK(sum.value() == static_cast<double>(old) / FixedPointSum::scale);
}

TEST_CASE("an infinite value makes the moments NaN, never a clamped number") {
  ScalarAccumulator acc;
  acc.add(1);
  acc.add(std::numeric_limits<double>::infinity());
  acc.add(2);
  const Summary s = acc.summary();
  CHECK(std::isnan(s.mean));
  CHECK(std::isnan(s.sd));
  FixedPointSum f;
  f.add(-std::numeric_limits<double>::infinity());
  CHECK(f.saturated() == 1);
  CHECK(std::isnan(f.value()));
}

TEST_CASE("a constant output has sd exactly 0") {
  // Before: 30.000001 rounded to 2^-32 in both sums left sd ~ 1e-4 (7.2e-5 was reported
  // for a one-step horizon).
  for (double c : {30.000001, -1234.5678901, 7e25}) {
    ScalarAccumulator a, b;
    for (int i = 0; i < 1000; ++i) (i % 2 ? a : b).add(c);
    a.add(NAN);
    a += b;
    const Summary s = a.summary();
    CAPTURE(c);
    CHECK(s.sd == 0);
    CHECK(s.std_error == 0);
    CHECK(std::abs(s.mean - c) <= 0x1p-32 + 1e-15 * std::abs(c));
  }
  ScalarAccumulator one;
  one.add(5);
  CHECK(std::isnan(one.summary().sd));  // undefined for one value, as before
}
