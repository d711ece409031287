#include "capexsim/engine.hpp"

#include "capexsim/detail/block.hpp"
#include "capexsim/detail/kernel.hpp"
#include "capexsim/memory.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

// ThreadSanitizer builds (GCC defines __SANITIZE_THREAD__; CMake's CAPEXSIM_SANITIZE=thread
// defines CAPEXSIM_THREAD_SANITIZER for any compiler) run chunks on plain threads: see run().
#if defined(__SANITIZE_THREAD__) || defined(CAPEXSIM_THREAD_SANITIZER)
#define CAPEXSIM_PLAIN_THREADS 1
#else
#define CAPEXSIM_PLAIN_THREADS 0
#endif

namespace capexsim {

// ---------------------------------------------------------------------------------------
// Result

namespace {
// "CAPXRES2": version 2 adds the banded series' names, and exact large-magnitude sums and
// min/max to the accumulators. "CAPXRES3" adds the drawn static inputs after the bands.
constexpr std::uint64_t result_magic_v2 = 0x3253455258504143ull;  // "CAPXRES2"
constexpr std::uint64_t result_magic = 0x3353455258504143ull;     // "CAPXRES3"
}  // namespace

std::string Result::to_bytes() const {
  std::string out;
  detail::ByteWriter w(out);
  w.put(result_magic);
  w.put_string(scenario_name);
  w.put_string(scenario_fingerprint);
  w.put(seed);
  w.put(first_path);
  w.put(paths);
  w.put(steps);
  w.put(dt);
  w.put(start_year);
  w.put<std::uint64_t>(output_names.size());
  for (const auto& n : output_names) w.put_string(n);
  w.put<std::uint64_t>(series_names.size());
  for (const auto& n : series_names) w.put_string(n);
  w.put<std::int64_t>(per_path.rows());
  w.put<std::int64_t>(per_path.cols());
  out.append(reinterpret_cast<const char*>(per_path.data()), sizeof(double) * per_path.size());
  for (const auto& s : stats) s.write(w);
  bands.write(w);
  w.put<std::uint64_t>(input_names.size());
  for (std::size_t k = 0; k < input_names.size(); ++k) {
    w.put_string(input_names[k]);
    w.put<std::uint64_t>(input_params[k]);
  }
  w.put<std::int64_t>(inputs.rows());
  out.append(reinterpret_cast<const char*>(inputs.data()), sizeof(double) * inputs.size());
  return out;
}

Result Result::from_bytes(std::string_view bytes) {
  detail::ByteReader r(bytes);
  const auto magic = r.get<std::uint64_t>();
  if (magic != result_magic && magic != result_magic_v2)
    throw std::invalid_argument("not a capexsim result (bad header)");
  Result res;
  res.scenario_name = r.get_string();
  res.scenario_fingerprint = r.get_string();
  res.seed = r.get<std::uint64_t>();
  res.first_path = r.get<std::uint64_t>();
  res.paths = r.get<std::uint64_t>();
  res.steps = r.get<int>();
  res.dt = r.get<double>();
  res.start_year = r.get<double>();
  if (res.steps < 0 || res.steps > 1'000'000 || !std::isfinite(res.dt) || !(res.dt >= 0) ||
      !std::isfinite(res.start_year))
    detail::ByteReader::corrupt("its steps, step length or start year");
  if (res.paths > (std::uint64_t{1} << 50) || res.first_path > (std::uint64_t{1} << 50))
    detail::ByteReader::corrupt("its path count or first path");
  // Every count is checked against the bytes left before anything is allocated for it: a
  // name takes at least 8 bytes, an output's accumulator at least 100.
  const auto k = r.get<std::uint64_t>();
  if (k > r.remaining() / 108) detail::ByteReader::corrupt("its output count");
  for (std::uint64_t i = 0; i < k; ++i) res.output_names.push_back(r.get_string());
  const auto ns = r.get<std::uint64_t>();
  if (ns > series_count) throw std::invalid_argument("result bytes: corrupt series count");
  for (std::uint64_t i = 0; i < ns; ++i) res.series_names.push_back(r.get_string());
  const auto rows = r.get<std::int64_t>(), cols = r.get<std::int64_t>();
  if (rows < 0 || cols < 0 || cols > static_cast<std::int64_t>(k) ||
      (rows > 0 && cols != static_cast<std::int64_t>(k)) ||
      (rows > 0 && static_cast<std::uint64_t>(rows) != res.paths) ||
      (cols > 0 &&
       static_cast<std::uint64_t>(rows) > r.remaining() / 8 / static_cast<std::uint64_t>(cols)))
    throw std::invalid_argument("result bytes: corrupt per-path shape");
  res.per_path.resize(rows, cols);
  for (Eigen::Index c = 0; c < cols; ++c)
    for (Eigen::Index p = 0; p < rows; ++p) res.per_path(p, c) = r.get<double>();
  res.stats.resize(k);
  for (std::size_t i = 0; i < k; ++i) {
    ScalarAccumulator& s = res.stats[i];
    s.read(r);
    if (s.paths() != res.paths) detail::ByteReader::corrupt("an output's path count");
    // With every path's value kept, the accumulator must be theirs: an edited value (or
    // sum) would otherwise merge silently.
    if (rows > 0) {
      ScalarAccumulator check;
      for (Eigen::Index p = 0; p < rows; ++p)
        check.add(res.per_path(p, static_cast<Eigen::Index>(i)));
      if (!(check == s))
        detail::ByteReader::corrupt("output " + res.output_names[i] +
                                    ": its statistics do not match its per-path values");
    }
  }
  res.bands.read(r);
  if (!res.bands.empty() && (res.bands.paths() != res.paths || res.bands.steps() != res.steps ||
                             res.bands.series() != res.series_names.size()))
    detail::ByteReader::corrupt("its bands do not match its paths, steps or series");
  if (magic == result_magic) {
    const auto ni = r.get<std::uint64_t>();
    if (ni > param_count) throw std::invalid_argument("result bytes: corrupt input count");
    for (std::uint64_t i = 0; i < ni; ++i) {
      res.input_names.push_back(r.get_string());
      res.input_params.push_back(r.get<std::uint64_t>());
      if (res.input_params.back() >= param_count)
        throw std::invalid_argument("result bytes: corrupt input id");
    }
    const auto irows = r.get<std::int64_t>();
    if (irows < 0 || (irows > 0 && irows != rows) ||
        (irows > 0 && ni > r.remaining() / 8 / static_cast<std::uint64_t>(irows)))
      throw std::invalid_argument("result bytes: corrupt input shape");
    res.inputs.resize(irows, irows > 0 ? static_cast<Eigen::Index>(ni) : 0);
    for (Eigen::Index c = 0; c < res.inputs.cols(); ++c)
      for (Eigen::Index p = 0; p < irows; ++p) res.inputs(p, c) = r.get<double>();
  }
  if (!r.done()) throw std::invalid_argument("result bytes: trailing data");
  return res;
}

std::size_t Result::output_index(std::string_view name) const {
  for (std::size_t k = 0; k < output_names.size(); ++k)
    if (output_names[k] == name) return k;
  throw std::out_of_range("no output named '" + std::string(name) + "'");
}

Summary Result::summary(std::size_t output) const {
  if (output >= stats.size()) throw std::out_of_range("output index out of range");
  if (has_per_path()) {
    const double* col = per_path.col(static_cast<Eigen::Index>(output)).data();
    return stats[output].summary(std::span<const double>(col, paths));
  }
  return stats[output].summary();
}

std::vector<BandRow> Result::band(Series series) const {
  return band(series_name(series));
}

std::vector<BandRow> Result::band(std::string_view name) const {
  if (bands.empty()) throw std::logic_error("this result has no bands (run with bands = true)");
  for (std::size_t k = 0; k < series_names.size(); ++k)
    if (series_names[k] == name) return bands.rows(k, start_year, dt);
  std::string known;
  for (const auto& n : series_names) known += (known.empty() ? "" : ", ") + n;
  throw std::out_of_range("no series named '" + std::string(name) +
                          "' in this result; expected one of: " + known);
}

// ---------------------------------------------------------------------------------------
// Driver

namespace {

Result empty_result(const PathModel& model, const RunOptions& o) {
  Result r;
  r.scenario_name = model.scenario().name;
  r.scenario_fingerprint = fingerprint(model.scenario());
  r.seed = o.seed;
  r.first_path = o.first_path;
  r.paths = o.paths;
  r.steps = model.steps();
  r.dt = model.dt();
  r.start_year = model.scenario().start_year;
  r.output_names = model.output_names();
  r.stats.resize(model.output_count());
  if (o.keep_paths)
    r.per_path.resize(static_cast<Eigen::Index>(o.paths),
                      static_cast<Eigen::Index>(model.output_count()));
  for (Series s : model.series()) r.series_names.push_back(series_name(s));
  if (o.bands) r.bands = BandAccumulator(model.steps(), model.series().size());
  const Scenario& sc = model.scenario();
  for (std::size_t k = 0; k < param_count; ++k)
    if (!sc.params[k].is_fixed()) {
      const ParamInfo& info = param_table()[k];
      r.input_names.push_back(std::string(info.section) + "." + info.key);
      r.input_params.push_back(k);
    }
  if (o.keep_paths && o.keep_inputs && !r.input_params.empty())
    r.inputs.resize(static_cast<Eigen::Index>(o.paths),
                    static_cast<Eigen::Index>(r.input_params.size()));
  if (!o.trace_series.empty()) {
    r.trace_series = o.trace_series;
    r.trace_years = sc.checkpoints;
    r.trace.resize(static_cast<Eigen::Index>(o.paths),
                   static_cast<Eigen::Index>(sc.checkpoints.size()));
  }
  return r;
}

/// Paths whose band values are buffered before they are added to the sketches. Each
/// (series, step) sketch then takes that many values in a row, so its buckets are pulled
/// into cache once per flush rather than once per value: the larger the flush, the fewer
/// cache misses (bands on a weekly grid hold megabytes of buckets). The buffer is capped
/// at about 16 MB per thread; a multiple of the block width, from 64 to 1024 paths.
std::uint64_t band_flush_paths(const PathModel& m) {
  constexpr std::uint64_t budget = std::uint64_t{16} << 20;
  const std::uint64_t per_path = m.series().size() * static_cast<std::uint64_t>(m.steps()) * 8;
  const std::uint64_t fit = budget / std::max<std::uint64_t>(per_path, 1);
  return std::clamp<std::uint64_t>(fit / 64 * 64, 64, 1024);
}

/// What one worker accumulates.
struct Local {
  std::uint64_t band_block;  // paths per band flush
  PathWorkspace ws;
  detail::BlockWorkspace block_ws;
  std::vector<ScalarAccumulator> stats;
  BandAccumulator bands;
  std::vector<double> block_out;  // [output][lane]
  std::vector<double> out;
  std::vector<double> band_buffer;  // [series][step][path in block]
  Local(const PathModel& m, bool with_bands)
      : band_block(band_flush_paths(m)),
        stats(m.output_count()),
        bands(with_bands ? BandAccumulator(m.steps(), m.series().size()) : BandAccumulator()),
        block_out(m.output_count() * detail::block_width),
        out(m.output_count()),
        band_buffer(
            with_bands ? m.series().size() * static_cast<std::size_t>(m.steps()) * band_block : 0) {
  }
};

/// Which kernel a range runs through: the block kernel (run) or the one-path reference
/// (run_serial). They agree bit for bit; the reference is the executable specification.
enum class Kernel { block, reference };

/// Paths [begin, end) of the run (relative to first_path) into `local` and `r.per_path`.
void run_range(const PathModel& model, const RunOptions& o, std::uint64_t begin, std::uint64_t end,
               Local& local, Result& r, Kernel kernel) {
  const std::size_t k_out = model.output_count();
  const std::size_t steps = static_cast<std::size_t>(model.steps());
  const std::uint64_t band_block = local.band_block;
  const bool inputs = r.inputs.size() > 0;
  if (inputs) local.ws.keep_params = local.block_ws.keep_params = r.input_params;
  auto keep = [&](std::uint64_t p, const double* out, std::size_t stride, const double* in) {
    for (std::size_t k = 0; k < k_out; ++k) local.stats[k].add(out[k * stride]);
    if (o.keep_paths)
      for (std::size_t k = 0; k < k_out; ++k)
        r.per_path(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(k)) = out[k * stride];
    if (inputs)
      for (std::size_t k = 0; k < r.input_params.size(); ++k)
        r.inputs(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(k)) = in[k * stride];
  };
  // Sensitivity over time: each path's value of one series at the checkpoints, read from
  // the band buffer before it is folded into the sketches.
  std::size_t trace_k = 0;
  std::vector<std::size_t> trace_steps;
  if (r.trace.size() > 0) {
    for (std::size_t k = 0; k < r.series_names.size(); ++k)
      if (r.series_names[k] == r.trace_series) trace_k = k;
    // A checkpoint beyond the horizon has no value: NaN (as its arr_at output).
    for (int cp : model.checkpoint_steps())
      trace_steps.push_back(cp < model.steps() ? static_cast<std::size_t>(cp) : SIZE_MAX);
  }
  for (std::uint64_t b0 = begin; b0 < end; b0 += band_block) {
    const std::uint64_t b1 = std::min(end, b0 + band_block);
    if (kernel == Kernel::block) {
      // Blocks of block_width paths; the lanes of a last, partial block run paths past
      // the range whose results are dropped (a path's bits never depend on its block).
      constexpr std::uint64_t w = detail::block_width;
      static_assert(64 % w == 0);  // band_block is a multiple of 64
      for (std::uint64_t p = b0; p < b1; p += w) {
        double* bands = o.bands ? local.band_buffer.data() + (p - b0) : nullptr;
        detail::simulate_block(model, o.seed, o.first_path + p, local.block_ws,
                               local.block_out.data(), bands, band_block);
        const std::uint64_t lanes = std::min(w, b1 - p);
        for (std::uint64_t l = 0; l < lanes; ++l)
          keep(p + l, local.block_out.data() + l, w, local.block_ws.lane_inputs.data() + l);
      }
    } else {
      for (std::uint64_t p = b0; p < b1; ++p) {
        double* out = local.out.data();
        if (o.bands) {
          double* buf = local.band_buffer.data() + (p - b0);
          detail::simulate_lanes<1>(model, o.seed, o.first_path + p, local.ws, out,
                                    detail::BandSink<1>{buf, steps, band_block, &model.series()});
        } else {
          simulate_path(model, o.seed, o.first_path + p, local.ws, out);
        }
        keep(p, out, 1, local.ws.lane_inputs.data());
      }
    }
    if (!trace_steps.empty())
      for (std::uint64_t p = b0; p < b1; ++p)
        for (std::size_t c = 0; c < trace_steps.size(); ++c)
          r.trace(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(c)) =
              trace_steps[c] == SIZE_MAX
                  ? std::numeric_limits<double>::quiet_NaN()
                  : local.band_buffer[(trace_k * steps + trace_steps[c]) * band_block + (p - b0)];
    if (o.bands) local.bands.add_block(local.band_buffer.data(), b1 - b0, band_block);
  }
}

void fold(Result& r, const Local& local) {
  for (std::size_t k = 0; k < r.stats.size(); ++k) r.stats[k] += local.stats[k];
  if (!local.bands.empty()) r.bands += local.bands;
}

void check_options(const RunOptions& o) {
  if (o.paths == 0) throw std::invalid_argument("paths must be at least 1");
  if (o.threads < 0) throw std::invalid_argument("threads must be >= 0 (0 = all cores)");
  if (!o.trace_series.empty() && !o.bands)
    throw std::invalid_argument("trace_series needs bands = true");
  if (o.first_path + o.paths < o.first_path)
    throw std::invalid_argument("first_path + paths overflows 64 bits");
}

/// The model with the run's sampling design (docs/statistics.md) when the scenario asks
/// for one; `model` itself otherwise (plain random draws keep their bits).
const PathModel& with_design(const PathModel& model, const RunOptions& o,
                             std::optional<PathModel>& holder) {
  const Scenario& s = model.scenario();
  if (s.sampling == Sampling::random && s.input_correlation_inputs.empty()) return model;
  const std::uint64_t n = o.design_paths ? o.design_paths : o.first_path + o.paths;
  if (s.sampling == Sampling::lhs && o.first_path + o.paths > n)
    throw std::invalid_argument("lhs sampling: paths [" + std::to_string(o.first_path) + ", " +
                                std::to_string(o.first_path + o.paths) +
                                ") reach beyond the design of " + std::to_string(n) + " paths");
  if (s.sampling == Sampling::sobol && o.first_path + o.paths > (std::uint64_t{1} << 32))
    throw std::invalid_argument("sobol sampling supports paths below 2^32");
  const StaticSampler& have = model.sampler();
  if (have.active() && have.method() == s.sampling && have.seed() == o.seed &&
      have.design_paths() == n)
    return model;
  holder.emplace(model);
  holder->set_sampler(StaticSampler(s, o.seed, n));
  return *holder;
}

}  // namespace

Result run_serial(const PathModel& model_in, const RunOptions& o) {
  check_options(o);
  std::optional<PathModel> holder;
  const PathModel& model = with_design(model_in, o, holder);
  check_memory(model, o);
  Result r = empty_result(model, o);
  Local local(model, o.bands);
  // Same chunking of progress reports as run(); the arithmetic does not depend on it.
  constexpr std::uint64_t chunk = 4096;
  for (std::uint64_t b = 0; b < o.paths; b += chunk) {
    const std::uint64_t e = std::min(o.paths, b + chunk);
    run_range(model, o, b, e, local, r, Kernel::reference);
    if (o.progress && !o.progress(e, o.paths)) throw Cancelled();
  }
  fold(r, local);
  return r;
}

Result run(const PathModel& model_in, const RunOptions& o) {
  check_options(o);
  std::optional<PathModel> holder;
  const PathModel& model = with_design(model_in, o, holder);
  check_memory(model, o);
  Result r = empty_result(model, o);
  // Every accumulator merges exactly (integer counts and fixed-point sums) and per-path
  // outputs land at their path's row, so the result is the same whichever thread ran
  // which chunk: no deterministic-reduction machinery is needed.
  // Chunks of at least one band flush, so that flushes stay full.
  const std::uint64_t grain = std::max<std::uint64_t>(256, o.bands ? band_flush_paths(model) : 0);
  const std::uint64_t chunks = (o.paths + grain - 1) / grain;
  std::atomic<bool> cancelled{false};
  std::atomic<std::uint64_t> done{0};
  std::mutex progress_mutex;
  // One chunk of paths on a worker's Local; false once the run is cancelled.
  auto run_chunk = [&](Local& local, std::uint64_t c) {
    if (cancelled.load(std::memory_order_relaxed)) return false;
    const std::uint64_t b = c * grain, e = std::min(o.paths, b + grain);
    run_range(model, o, b, e, local, r, Kernel::block);
    const std::uint64_t now = done.fetch_add(e - b) + (e - b);
    if (o.progress) {
      std::lock_guard<std::mutex> lock(progress_mutex);
      if (!o.progress(now, o.paths)) cancelled = true;
    }
    return true;
  };

#if !CAPEXSIM_PLAIN_THREADS
  tbb::enumerable_thread_specific<Local> locals([&] { return Local(model, o.bands); });
  tbb::task_arena arena(o.threads > 0 ? o.threads : tbb::task_arena::automatic);
  arena.execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::uint64_t>(0, chunks, 1),
        [&](const tbb::blocked_range<std::uint64_t>& range) {
          Local& local = locals.local();
          for (std::uint64_t c = range.begin(); c != range.end(); ++c)
            if (!run_chunk(local, c)) return;
        },
        tbb::simple_partitioner());
  });
#else
  // ThreadSanitizer build (CAPEXSIM_SANITIZE=thread): the system's oneTBB library is not
  // instrumented, so TSan cannot see its task hand-offs and reports them as races. The
  // same chunks run here on plain threads instead (any thread takes any chunk, as with
  // TBB), so that TSan checks all of this code: workers' Locals, per-path rows, progress
  // and cancellation.
  const unsigned workers = o.threads > 0 ? static_cast<unsigned>(o.threads)
                                         : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::optional<Local> > locals(workers);
  std::atomic<std::uint64_t> next{0};
  {
    std::vector<std::thread> pool;
    for (unsigned w = 0; w < workers; ++w)
      pool.emplace_back([&, w] {
        for (std::uint64_t c; (c = next.fetch_add(1)) < chunks;) {
          if (!locals[w]) locals[w].emplace(model, o.bands);
          if (!run_chunk(*locals[w], c)) return;
        }
      });
    for (auto& t : pool) t.join();
  }
#endif
  if (cancelled) throw Cancelled();
  for (const auto& local : locals) {
#if CAPEXSIM_PLAIN_THREADS
    if (local) fold(r, *local);
#else
    fold(r, local);
#endif
  }
  return r;
}

Result run(const Scenario& scenario, const RunOptions& o) {
  return run(PathModel(scenario), o);
}
Result run_serial(const Scenario& scenario, const RunOptions& o) {
  return run_serial(PathModel(scenario), o);
}

Result merge(const Result& a_in, const Result& b_in) {
  const bool swap = b_in.first_path + b_in.paths == a_in.first_path && b_in.paths > 0;
  const Result& a = swap ? b_in : a_in;
  const Result& b = swap ? a_in : b_in;
  if (a.scenario_fingerprint != b.scenario_fingerprint)
    throw std::invalid_argument("merge: the results come from different scenarios");
  if (a.seed != b.seed) throw std::invalid_argument("merge: the results have different seeds");
  if (a.first_path + a.paths != b.first_path)
    throw std::invalid_argument(
        "merge: the path ranges are not adjacent ([" + std::to_string(a.first_path) + ", " +
        std::to_string(a.first_path + a.paths) + ") and [" + std::to_string(b.first_path) + ", " +
        std::to_string(b.first_path + b.paths) + "))");
  if (a.bands.empty() != b.bands.empty())
    throw std::invalid_argument("merge: one result has bands and the other does not");
  if (a.output_names != b.output_names || a.stats.size() != b.stats.size() ||
      a.series_names != b.series_names || a.steps != b.steps)
    throw std::invalid_argument("merge: the results have different outputs, series or steps");
  Result r = a;
  r.paths = a.paths + b.paths;
  for (std::size_t k = 0; k < r.stats.size(); ++k) r.stats[k] += b.stats[k];
  r.bands += b.bands;
  if (a.has_per_path() && b.has_per_path()) {
    r.per_path.resize(static_cast<Eigen::Index>(r.paths), a.per_path.cols());
    r.per_path.topRows(static_cast<Eigen::Index>(a.paths)) = a.per_path;
    r.per_path.bottomRows(static_cast<Eigen::Index>(b.paths)) = b.per_path;
  } else {
    r.per_path.resize(0, 0);
  }
  if (a.has_inputs() && b.has_inputs() && a.input_names == b.input_names) {
    r.inputs.resize(static_cast<Eigen::Index>(r.paths), a.inputs.cols());
    r.inputs.topRows(static_cast<Eigen::Index>(a.paths)) = a.inputs;
    r.inputs.bottomRows(static_cast<Eigen::Index>(b.paths)) = b.inputs;
  } else {
    r.inputs.resize(0, 0);
  }
  r.trace.resize(0, 0);
  r.trace_series.clear();
  r.trace_years.clear();
  return r;
}

}  // namespace capexsim
