// Per-time bands: the streaming sketches against exact per-step quantiles.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
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
      }
    }
  }
}

TEST_CASE("bands of a fixed-capacity series are exact where values coincide") {
  // capacity at step 0 is initial_gw = 2 on every path: every quantile is 2 +- 2^-8.
  const Scenario s = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  RunOptions o;
  o.paths = 300;
  o.threads = 1;
  const auto rows = run(s, o).band(Series::capacity);
  CHECK(rows[0].mean == 2.0);
  for (double q : rows[0].quantiles)
    CHECK(std::abs(q - 2.0) <= 2.0 * QuantileSketch::relative_accuracy);
}
