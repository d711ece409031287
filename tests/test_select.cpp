// Exact quantiles by selection: the same bits as sorting, on every path through the code.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <tbb/global_control.h>

#include "capexsim/detail/select.hpp"
#include "capexsim/random.hpp"
#include "capexsim/statistics.hpp"

using namespace capexsim;

namespace {

constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

/// The reference: sort the non-NaN values, read the quantiles off, sum the tail at or
/// above the tail level's quantile in ascending order (the code this replaced, with -0
/// sorted before +0: by `<` alone, which zero lands at a rank is the sort's choice).
detail::ExactQuantiles by_sort(const std::vector<double>& values, std::span<const double> levels,
                               double tail_level) {
  std::vector<double> v;
  for (double x : values)
    if (!std::isnan(x)) v.push_back(x);
  std::sort(v.begin(), v.end(), [](double a, double b) {
    return a < b || (a == b && std::signbit(a) && !std::signbit(b));
  });
  detail::ExactQuantiles out;
  out.count = v.size();
  for (double q : levels) out.quantiles.push_back(sorted_quantile(v, q));
  if (v.empty()) {
    out.tail_mean = not_a_number;
    return out;
  }
  const double t = sorted_quantile(v, tail_level);
  double sum = 0;
  const auto first = std::lower_bound(v.begin(), v.end(), t);
  for (auto it = first; it != v.end(); ++it) sum += *it;
  out.tail_mean = sum / static_cast<double>(v.end() - first);
  return out;
}

std::uint64_t bits(double x) {
  return std::bit_cast<std::uint64_t>(x);
}

void check_same(const detail::ExactQuantiles& got, const detail::ExactQuantiles& want) {
  REQUIRE(got.quantiles.size() == want.quantiles.size());
  CHECK(got.count == want.count);
  for (std::size_t i = 0; i < got.quantiles.size(); ++i) {
    if (std::isnan(want.quantiles[i]))
      CHECK(std::isnan(got.quantiles[i]));
    else
      CHECK(bits(got.quantiles[i]) == bits(want.quantiles[i]));
  }
  if (std::isnan(want.tail_mean))
    CHECK(std::isnan(got.tail_mean));
  else
    CHECK(bits(got.tail_mean) == bits(want.tail_mean));
}

/// Values of several shapes: heavy-tailed two-signed, heavily tied, with NaN and
/// infinities sprinkled in.
std::vector<double> data(std::size_t n, int shape, std::uint64_t seed) {
  rng::CounterEngine eng(rng::counter(0, 0, rng::Stream::jumps, 0),
                         static_cast<std::uint32_t>(seed), 0);
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double z = eng.normal();
    switch (shape) {
      case 0:
        v[i] = std::exp(1.5 * z) * 100 - 120;
        break;
      case 1:
        v[i] = std::round(z * 3) / 4;
        break;  // ~25 distinct values
      case 2:
        v[i] = 30.0;
        break;  // all equal
      case 3:
        v[i] = z > 1 ? not_a_number : (z < -2.5 ? -inf : (z > 0.99 ? inf : z));
        break;
      default:
        v[i] = static_cast<double>(n - i);  // sorted descending
    }
  }
  return v;
}

}  // namespace

TEST_CASE("selection gives the bits of sorting, for every shape, size and thread count") {
  const std::vector<std::size_t> sizes{1, 2, 3, 20, 1000, 70000, 300001};
  for (int threads : {1, 2}) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads);
    for (std::size_t n : sizes)
      for (int shape = 0; shape < 5; ++shape) {
        CAPTURE(threads);
        CAPTURE(n);
        CAPTURE(shape);
        const std::vector<double> v = data(n, shape, 7 + n);
        const auto got = detail::exact_quantiles(v, summary_levels, 0.95);
        check_same(got, by_sort(v, summary_levels, 0.95));
        // Large inputs take the sampled path, and its intervals should not miss.
        if (n >= 70000) CHECK_FALSE(got.fell_back);
      }
  }
}

TEST_CASE("a sample that misses falls back to an exact selection") {
  const std::vector<double> v = data(100000, 0, 3);
  // Zero-width intervals around each wanted rank: the counts miss, which is detected.
  detail::SelectOptions narrow;
  narrow.sigmas = 0;
  narrow.sample = 64;
  const auto got = detail::exact_quantiles(v, summary_levels, 0.95, narrow);
  CHECK(got.fell_back);
  check_same(got, by_sort(v, summary_levels, 0.95));
}

TEST_CASE("all NaN, and levels at the ends") {
  const std::vector<double> all_nan(100000, not_a_number);
  const auto e = detail::exact_quantiles(all_nan, summary_levels, 0.95);
  CHECK(e.count == 0);
  CHECK(std::isnan(e.quantiles[0]));
  CHECK(std::isnan(e.tail_mean));
  const std::vector<double> v = data(80000, 0, 11);
  const std::vector<double> ends{0.0, 1.0, 0.5};
  check_same(detail::exact_quantiles(v, ends, 1.0), by_sort(v, ends, 1.0));
  check_same(detail::exact_quantiles(v, ends, 0.0), by_sort(v, ends, 0.0));
}
