// Cost of the sensitivity methods (docs/sensitivity.md) on ai-lab-2025 at their default
// sizes, against the plain run of the same number of paths: how much the analysis adds
// on top of simulating. The CPU column is the whole process's CPU time (every thread),
// the robust figure on a shared machine. Run: build/bench/capexsim_bench_sensitivity (figures in
// bench/README.md).
#include <benchmark/benchmark.h>

#include <capexsim/capexsim.hpp>

namespace {

const capexsim::Scenario& reference() {
  static const capexsim::Scenario s =
      capexsim::load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  return s;
}

capexsim::RunOptions options(std::uint64_t paths) {
  capexsim::RunOptions o;
  o.paths = paths;
  o.seed = 1;
  o.bands = false;
  return o;
}

// The Done-when command of the issue: sobol, funding_gap, N = 65,536 (N (k + 2) paths).
void sobol_default(benchmark::State& state) {
  for (auto _ : state) {
    const auto t = capexsim::sobol_sensitivity(reference(), "funding_gap",
                                               capexsim::parse_statistic("mean"), options(65'536));
    benchmark::DoNotOptimize(t.rows.data());
  }
}

// The same paths as one plain run with per-path outputs kept: the floor of sobol_default.
void plain_run_of_sobol_paths(benchmark::State& state) {
  const std::uint64_t paths = 65'536 * (capexsim::sobol_factors(reference()).size() + 2);
  for (auto _ : state) {
    const auto r = capexsim::run(reference(), options(paths));
    benchmark::DoNotOptimize(r.per_path.data());
  }
}

// The estimator alone: 1,000 bootstrap resamples of 65,536 rows and 11 factors.
void sobol_estimator(benchmark::State& state) {
  const std::size_t n = 65'536, k = 11;
  std::vector<std::vector<double>> y(k + 2, std::vector<double>(n));
  for (std::size_t r = 0; r < y.size(); ++r)
    for (std::size_t j = 0; j < n; ++j) y[r][j] = static_cast<double>((j * 2654435761u + r) % 1000);
  std::vector<std::span<const double>> ab;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < k; ++i) {
    ab.emplace_back(y[i + 2]);
    names.push_back("x" + std::to_string(i));
  }
  for (auto _ : state) {
    const auto t = capexsim::sobol_from_samples(y[0], y[1], ab, names);
    benchmark::DoNotOptimize(t.data());
  }
}

void tornado_default(benchmark::State& state) {
  for (auto _ : state) {
    const auto t = capexsim::tornado(reference(), "funding_gap", capexsim::parse_statistic("mean"),
                                     options(50'000));
    benchmark::DoNotOptimize(t.rows.data());
  }
}

// The tornado's runs (the base, then each drawn input pinned low and high) as one plain run
// of the same paths: the floor of tornado_default.
void plain_run_of_tornado_paths(benchmark::State& state) {
  std::uint64_t drawn = 0;
  for (const auto& p : reference().params) drawn += !p.is_fixed();
  const std::uint64_t paths = 50'000 * (1 + 2 * drawn);
  for (auto _ : state) {
    const auto r = capexsim::run(reference(), options(paths));
    benchmark::DoNotOptimize(r.per_path.data());
  }
}

}  // namespace

BENCHMARK(sobol_default)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Iterations(3);
BENCHMARK(plain_run_of_sobol_paths)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Iterations(3);
BENCHMARK(sobol_estimator)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Iterations(3);
BENCHMARK(tornado_default)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Iterations(3);
BENCHMARK(plain_run_of_tornado_paths)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime()
    ->Iterations(3);
BENCHMARK_MAIN();
