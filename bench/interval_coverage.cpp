// Coverage of the 95% half-widths on the model itself: a large run (seed 0) gives the
// reference value of each statistic; R runs of N paths (seeds 1..R) each give an
// estimate and a half-width; the table counts how often the interval holds the
// reference value (docs/statistics.md).
//
//   capexsim_interval_coverage [N=2000] [R=400] [REFERENCE_PATHS=2000000] [SCENARIO]
//
// A coverage over R = 400 runs has a standard error of sqrt(0.95 * 0.05 / 400) = 1.1%.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <capexsim/capexsim.hpp>

using namespace capexsim;

int main(int argc, char** argv) {
  const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 400;
  const std::uint64_t big = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 2000000;
  const std::string file =
      argc > 4 ? argv[4] : std::string(CAPEXSIM_SOURCE_DIR) + "/scenarios/ai-lab-2025.toml";
  struct Stat {
    const char* output;
    const char* statistic;
  };
  const std::vector<Stat> stats{{"funding_gap", "mean"},   {"funding_gap", "p5"},
                                {"funding_gap", "p50"},    {"funding_gap", "p95"},
                                {"funding_gap", "cvar95"}, {"terminal_cash", "cvar05"},
                                {"terminal_cash", "p99"},  {"breakeven", "nan_share"},
                                {"runway", "mean"},        {"arr_at_2030", "p95"}};
  const PathModel model(load_scenario(file));
  RunOptions o;
  o.paths = big;
  o.seed = 0;
  o.bands = false;
  const Result ref = run(model, o);
  std::vector<double> truth;
  for (const Stat& s : stats)
    truth.push_back(statistic_with_ci95(ref.summary(s.output), s.statistic).first);
  // Exceedance P(funding_gap > 2000) too.
  const std::size_t gap = ref.output_index("funding_gap");
  const double truth_exceed = ref.exceedance(gap, 2000).prob;

  std::vector<int> hits(stats.size() + 1, 0);
  std::vector<double> width(stats.size() + 1, 0);
  for (int r = 1; r <= reps; ++r) {
    o.paths = n;
    o.seed = static_cast<std::uint64_t>(r);
    const Result res = run(model, o);
    for (std::size_t k = 0; k < stats.size(); ++k) {
      const auto [x, h] = statistic_with_ci95(res.summary(stats[k].output), stats[k].statistic);
      hits[k] += std::abs(x - truth[k]) <= h;
      width[k] += h / reps;
    }
    const Exceedance e = res.exceedance(gap, 2000);
    hits.back() += std::abs(e.prob - truth_exceed) <= e.ci95;
    width.back() += e.ci95 / reps;
  }
  std::printf("%s: %d runs of %llu paths against a %llu-path run (seed 0)\n\n", file.c_str(), reps,
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(big));
  std::printf(
      "| statistic | reference value | mean half-width | coverage |\n|---|---:|---:|---:|\n");
  for (std::size_t k = 0; k < stats.size(); ++k)
    std::printf("| %s.%s | %.4g | %.3g | %.1f%% |\n", stats[k].output, stats[k].statistic, truth[k],
                width[k], 100.0 * hits[k] / reps);
  std::printf("| P(funding_gap > 2000) | %.4g | %.3g | %.1f%% |\n", truth_exceed, width.back(),
              100.0 * hits.back() / reps);
  return 0;
}
