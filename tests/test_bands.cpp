// Per-time bands: the streaming sketches against exact per-step quantiles.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "capexsim/bands.hpp"
#include "capexsim/engine.hpp"
#include "test_util.hpp"

using namespace capexsim;

TEST_CASE("band quantiles match exact per-step quantiles within the stated accuracy") {
  const Scenario s = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  const PathModel model(s);
  const int paths = 1500;
  RunOptions o;
  o.paths = paths;
  o.seed = 4;
  o.threads = 2;
  const Result r = run(model, o);

  // Exact: record every series of every path (fine at this size) and sort per step.
  const int n = model.steps();
  std::vector<std::vector<double>> values(base_series_count * n);
  for (int p = 0; p < paths; ++p) {
    const auto t = test::trace(model, o.seed, p);
    for (int i = 0; i < n; ++i)
      for (std::size_t k = 0; k < base_series_count; ++k)
        values[k * n + i].push_back(t.steps[i].series(static_cast<Series>(k)));
  }
  for (std::size_t k = 0; k < base_series_count; ++k) {
    const auto rows = r.band(static_cast<Series>(k));
    REQUIRE(rows.size() == static_cast<std::size_t>(n));
    for (int i = 0; i < n; i += 7) {
      auto v = values[k * n + i];
      std::sort(v.begin(), v.end());
      double mean = 0;
      for (double x : v) mean += x;
      mean /= paths;
      CAPTURE(series_name(static_cast<Series>(k)));
      CAPTURE(i);
      CHECK(rows[i].t == doctest::Approx(i * model.dt()));
      CHECK(rows[i].year == doctest::Approx(2026.0 + i * model.dt()));
      // Mean: fixed-point resolution 2^-32 per value, plus double rounding of the check.
      CHECK(std::abs(rows[i].mean - mean) <= 1e-9 * (1 + std::abs(mean)));
      for (std::size_t q = 0; q < band_levels.size(); ++q) {
        const double exact = sorted_quantile(v, band_levels[q]);
        const auto lo = static_cast<std::size_t>(std::floor(band_levels[q] * (paths - 1)));
        const double scale =
            std::max(std::abs(v[lo]), std::abs(v[std::min<std::size_t>(lo + 1, paths - 1)]));
        CHECK(std::abs(rows[i].quantiles[q] - exact) <=
              QuantileSketch::relative_accuracy * scale + QuantileSketch::zero_threshold);
        // Never outside the data; exact where the step's values are all equal.
        CHECK(rows[i].quantiles[q] >= v.front());
        CHECK(rows[i].quantiles[q] <= v.back());
        if (v.front() == v.back()) CHECK(rows[i].quantiles[q] == v.front());
      }
      CHECK(rows[i].mean >= v.front());
      CHECK(rows[i].mean <= v.back());
    }
  }
}

TEST_CASE("bands of a fixed-capacity series are exact where values coincide") {
  // capacity at step 0 is initial_gw = 2 on every path: its sketch bucket's midpoint is
  // 2.0078, but the band is clamped to the step's exact min = max = 2 (issue 24).
  const Scenario s = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  RunOptions o;
  o.paths = 300;
  o.threads = 1;
  const Result r = run(s, o);
  const auto rows = r.band(Series::capacity);
  CHECK(rows[0].mean == 2.0);
  for (double q : rows[0].quantiles) CHECK(q == 2.0);
  // The extremes travel with the bytes and merge exactly: shards give the same rows.
  o.paths = 120;
  const Result a = run(s, o);
  o.first_path = 120;
  o.paths = 180;
  const Result b = run(s, o);
  const Result ab = merge(Result::from_bytes(a.to_bytes()), Result::from_bytes(b.to_bytes()));
  for (std::size_t k = 0; k < r.series_names.size(); ++k) {
    const auto x = r.band(r.series_names[k]), y = ab.band(r.series_names[k]);
    for (std::size_t i = 0; i < x.size(); ++i) {
      CHECK(x[i].mean == y[i].mean);
      CHECK(x[i].quantiles == y[i].quantiles);
    }
  }
}

TEST_CASE("a step of equal values reads that value exactly; a band never leaves the data") {
  BandAccumulator acc(3, 1);
  // step 0: 20 on every path (a bucket midpoint would read 19.94 or 20.08); step 1: zeros,
  // some negative; step 2: values whose top quantiles share the largest value's bucket.
  std::vector<double> buf(3 * 4);
  const double s0[4] = {20, 20, 20, 20}, s1[4] = {0.0, -0.0, 0.0, -0.0},
               s2[4] = {1.0, 100.0, 100.1, 100.2};
  for (int p = 0; p < 4; ++p) {
    buf[0 * 4 + p] = s0[p];
    buf[1 * 4 + p] = s1[p];
    buf[2 * 4 + p] = s2[p];
  }
  acc.add_block(buf.data(), 4, 4);
  const auto rows = acc.rows(0, 2026, 1);
  for (double q : rows[0].quantiles) CHECK(q == 20.0);
  CHECK(rows[0].mean == 20.0);
  for (double q : rows[1].quantiles) CHECK(std::signbit(q) == false);
  for (double q : rows[1].quantiles) CHECK(q == 0.0);
  for (double q : rows[2].quantiles) {
    CHECK(q >= 1.0);
    CHECK(q <= 100.2);
  }
  CHECK(rows[2].quantiles.back() <= 100.2);
}

TEST_CASE("the band sink's flush gives the same bands as adding the values") {
  // Rows (one series, 3 steps) of 70 paths fed 32 lanes at a time (the last block
  // partial), as the kernel's sink does, against add_block of the same values: mixed
  // signs, zeros of both signs, values beyond the fixed-point fast path (2^19 and more),
  // infinities, NaN, and a row of equal values.
  constexpr int W = 32;
  constexpr std::size_t steps = 3, paths = 70, stride = 128;
  std::vector<double> values(steps * stride, 0.0);
  for (std::size_t p = 0; p < paths; ++p) {
    const double x = static_cast<double>(p);
    values[0 * stride + p] = (p % 3 == 0 ? -1 : 1) * (x * x * 0.37 + 1e-4 * x) +
                             (p == 5 ? 1e9 : 0) + (p == 6 ? -0.0 : 0);
    values[1 * stride + p] = 7.25;  // every path equal
    values[2 * stride + p] = p == 9    ? std::nan("")
                             : p == 10 ? std::numeric_limits<double>::infinity()
                             : p == 11 ? -3e12
                                       : std::sin(x) * 1e3;
  }
  BandAccumulator a(static_cast<int>(steps), 1), b(static_cast<int>(steps), 1);
  a.add_block(values.data(), paths, stride);
  detail::BandFlush f(1, steps, stride);
  for (std::size_t step = 0; step < steps; ++step)
    for (std::size_t p = 0; p < paths; p += W)
      f.add<W>(step, p, static_cast<int>(std::min<std::size_t>(W, paths - p)),
               values.data() + step * stride + p);
  b.add_flush(f, paths);
  CHECK(a == b);
  // A second flush after clear() adds to the same totals.
  a.add_block(values.data(), paths, stride);
  for (std::size_t step = 0; step < steps; ++step)
    for (std::size_t p = 0; p < paths; p += W)
      f.add<W>(step, p, static_cast<int>(std::min<std::size_t>(W, paths - p)),
               values.data() + step * stride + p);
  b.add_flush(f, paths);
  CHECK(a == b);
  CHECK(b.paths() == 2 * paths);
  const auto rows = b.rows(0, 2026, 1);
  for (double q : rows[1].quantiles) CHECK(q == 7.25);
}
