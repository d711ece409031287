// Engine throughput in path-steps per second (items_per_second), against the RNG floor.
#include <benchmark/benchmark.h>

#include <thread>

#include <capexsim/capexsim.hpp>
#include <capexsim/detail/block.hpp>

using namespace capexsim;

namespace {

const PathModel& model(StepKind step) {
  static const Scenario base = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  static const PathModel monthly(base);
  static const PathModel weekly([] {
    Scenario s = base;
    s.step = StepKind::week;
    return s;
  }());
  return step == StepKind::week ? weekly : monthly;
}

/// The v3 reference, scenarios/ai-lab-2026.toml (monthly as shipped; weekly variant).
const PathModel& model_v3(StepKind step) {
  static const Scenario base = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2026.toml");
  static const PathModel monthly(base);
  static const PathModel weekly([] {
    Scenario s = base;
    s.step = StepKind::week;
    return s;
  }());
  return step == StepKind::week ? weekly : monthly;
}

int cores() {
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

/// The engine on the reference scenario (`v3`: on ai-lab-2026). range(0) = threads. `full`:
/// per-path outputs and bands as the CLI's `run --out` does; otherwise streaming statistics only.
void engine(benchmark::State& state, StepKind step, bool full, bool v3 = false) {
  const PathModel& m = v3 ? model_v3(step) : model(step);
  RunOptions o;
  o.paths = step == StepKind::week ? 4000 : 16000;
  o.threads = static_cast<int>(state.range(0));
  o.keep_paths = full;
  o.bands = full;
  for (auto _ : state) benchmark::DoNotOptimize(run(m, o));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * o.paths * m.steps()));
  state.counters["paths/s"] = benchmark::Counter(static_cast<double>(state.iterations() * o.paths),
                                                 benchmark::Counter::kIsRate);
}

/// The RNG floor: exactly the variates the model draws, with the same generator, the same
/// transforms and the same vectorised block code (detail::draw_block_variates shares it
/// with the kernel), and nothing else. Per path: its static inputs (inverse CDFs) and x0;
/// per step: one Philox block -> 4 Box-Muller normals (correlated by the Cholesky factor,
/// as the model uses them), one Philox block -> the regime and Poisson uniforms, and the
/// jump normals on the (rare) steps with jumps. One thread, like the engine's 1-thread
/// figure it is compared with.
void rng_floor(benchmark::State& state, StepKind step) {
  const PathModel& m = model(step);
  const std::uint64_t paths = step == StepKind::week ? 4000 : 16000;
  constexpr std::uint64_t w = detail::block_width;
  detail::BlockWorkspace ws;
  for (auto _ : state) {
    double sink = 0;
    for (std::uint64_t p = 0; p < paths; p += w) sink += detail::draw_block_variates(m, 1, p, ws);
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * paths * m.steps()));
}

/// The same floor drawn one path at a time through the scalar reference code (PathRng),
/// for comparison: what the block layout buys on the generator alone.
void rng_floor_scalar(benchmark::State& state, StepKind step) {
  const PathModel& m = model(step);
  const std::uint64_t paths = step == StepKind::week ? 1000 : 4000;
  const int n = m.steps();
  const Eigen::Matrix4d& chol = m.cholesky();
  PathWorkspace ws;
  for (auto _ : state) {
    double sink = 0;
    for (std::uint64_t p = 0; p < paths; ++p) {
      const rng::PathRng r(1, p);
      const PathConstants c = path_constants(m, r, ws.inputs);
      sink += c.x0;
      for (int i = 0; i < n; ++i) {
        const auto e = r.shocks(static_cast<std::uint32_t>(i));
        for (int a = 0; a < 4; ++a) {
          double z = 0;
          for (int b = 0; b <= a; ++b) z += chol(a, b) * e[b];
          sink += z;
        }
        const auto ev = r.block(static_cast<std::uint32_t>(i), rng::Stream::events);
        sink += rng::u01(ev[0]);
        const double u = rng::u01(ev[1]);
        if (u > c.jump_p0) sink += jump_sum(c, r, static_cast<std::uint32_t>(i), u);
      }
    }
    benchmark::DoNotOptimize(sink);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * paths * n));
}

void thread_args(benchmark::internal::Benchmark* b) {
  for (int t = 1; t <= cores(); ++t) b->Arg(t);
}
void one_and_all(benchmark::internal::Benchmark* b) {
  b->Arg(1);
  if (cores() > 1) b->Arg(cores());
}

}  // namespace

BENCHMARK_CAPTURE(rng_floor, monthly, StepKind::month)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(rng_floor, weekly, StepKind::week)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(rng_floor_scalar, monthly, StepKind::month)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(engine, monthly_stream, StepKind::month, false)
    ->Apply(thread_args)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(engine, monthly_full, StepKind::month, true)
    ->Apply(one_and_all)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(engine, weekly_stream, StepKind::week, false)
    ->Apply(one_and_all)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(engine, weekly_full, StepKind::week, true)
    ->Apply(one_and_all)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

// The v3 reference (ai-lab-2026): stream and full, 1 thread (bench/ratios.py).
BENCHMARK_CAPTURE(engine, v3_monthly_stream, StepKind::month, false, true)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(engine, v3_monthly_full, StepKind::month, true, true)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(engine, v3_weekly_stream, StepKind::week, false, true)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(engine, v3_weekly_full, StepKind::week, true, true)
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
