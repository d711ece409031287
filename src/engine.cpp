#include "capexsim/engine.hpp"

#include "capexsim/detail/block.hpp"
#include "capexsim/detail/format.hpp"
#include "capexsim/detail/kernel.hpp"
#include "capexsim/memory.hpp"
#include "capexsim/model.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
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
// "CAPXRES4" adds each band step's exact min and max (the bands are clamped to them).
constexpr std::uint64_t result_magic_v2 = 0x3253455258504143ull;  // "CAPXRES2"
constexpr std::uint64_t result_magic_v3 = 0x3353455258504143ull;  // "CAPXRES3"
constexpr std::uint64_t result_magic = 0x3453455258504143ull;     // "CAPXRES4"
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

namespace {
/// Parses a result's bytes. With `arrays` null the per-path values and inputs are read
/// into the result; otherwise they are left empty and `arrays` receives where their
/// bytes lie (column-major, as written), for merge_bytes to copy them once into place.
struct ArrayViews {
  std::string_view per_path, inputs;
  std::int64_t rows = 0, input_rows = 0;
};

Result parse_result(std::string_view bytes, ArrayViews* arrays) {
  detail::ByteReader r(bytes);
  const auto magic = r.get<std::uint64_t>();
  if (magic != result_magic && magic != result_magic_v3 && magic != result_magic_v2)
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
  // One copy of each array, straight from the bytes (no per-value reads).
  auto read_array = [&](Eigen::ArrayXXd& a, std::int64_t nrows, std::int64_t ncols,
                        std::string_view* view) {
    if (ncols > 0 && static_cast<std::uint64_t>(nrows) > std::numeric_limits<std::uint64_t>::max() /
                                                             8 / static_cast<std::uint64_t>(ncols))
      throw std::invalid_argument("result bytes: corrupt array shape");
    const std::size_t n =
        sizeof(double) * static_cast<std::size_t>(nrows) * static_cast<std::size_t>(ncols);
    if (view) {
      std::string_view rest = bytes.substr(bytes.size() - r.remaining());
      if (n > rest.size()) throw std::invalid_argument("result bytes: truncated or corrupt data");
      *view = rest.substr(0, n);
      r.skip(n);
      return;
    }
    a.resize(nrows, ncols);
    r.get_bytes(a.data(), n);
  };
  read_array(res.per_path, rows, cols, arrays ? &arrays->per_path : nullptr);
  if (arrays) arrays->rows = rows;
  res.stats.resize(k);
  for (std::size_t i = 0; i < k; ++i) {
    ScalarAccumulator& s = res.stats[i];
    s.read(r);
    if (s.paths() != res.paths) detail::ByteReader::corrupt("an output's path count");
    // With every path's value kept, the accumulator must be theirs: an edited value (or
    // sum) would otherwise merge silently.
    if (rows > 0 && !arrays) {
      ScalarAccumulator check;
      for (Eigen::Index p = 0; p < rows; ++p)
        check.add(res.per_path(p, static_cast<Eigen::Index>(i)));
      if (!(check == s))
        detail::ByteReader::corrupt("output " + res.output_names[i] +
                                    ": its statistics do not match its per-path values");
    }
  }
  res.bands.read(r, magic == result_magic);
  if (!res.bands.empty() && (res.bands.paths() != res.paths || res.bands.steps() != res.steps ||
                             res.bands.series() != res.series_names.size()))
    detail::ByteReader::corrupt("its bands do not match its paths, steps or series");
  if (magic != result_magic_v2) {
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
    read_array(res.inputs, irows, irows > 0 ? static_cast<std::int64_t>(ni) : 0,
               arrays ? &arrays->inputs : nullptr);
    if (arrays) arrays->input_rows = irows;
  }
  if (!r.done()) throw std::invalid_argument("result bytes: trailing data");
  return res;
}
}  // namespace

Result Result::from_bytes(std::string_view bytes) {
  return parse_result(bytes, nullptr);
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
  // A joint run is a different run: its fingerprint names each lab too (shards of it merge
  // only with shards of the same pair).
  for (const JointRun& j : o.counterparties)
    r.scenario_fingerprint += "+" + j.name + "=" + j.lab_fingerprint;
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

/// Paths whose band bucket codes are buffered before they are added to the sketches. Each
/// (series, step) sketch then takes that many values in a row, so its buckets are pulled
/// into cache once per flush rather than once per value: the larger the flush, the fewer
/// cache misses (bands on a weekly grid hold megabytes of buckets). The buffer (4 bytes a
/// value, detail::BandFlush) is capped at about 8 MB per thread; a multiple of 64 paths,
/// from 64 to 1024.
std::uint64_t band_flush_paths(const PathModel& m) {
  constexpr std::uint64_t budget = std::uint64_t{8} << 20;
  const std::uint64_t per_path = m.series().size() * static_cast<std::uint64_t>(m.steps()) * 4;
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
  detail::BandFlush flush;  // the band sink's state between flushes
  // Joint runs: each lab's workspace, outputs (discarded) and payments, [lab][step][lane].
  std::vector<PathWorkspace> lab_ws;
  std::vector<double> lab_out, paid;
  Local(const PathModel& m, bool with_bands, int trace_k, const std::vector<JointRun>& labs)
      : Local(m, with_bands, trace_k) {
    std::size_t most = 0;
    for (const JointRun& j : labs) most = std::max(most, j.lab->output_count());
    lab_ws.resize(labs.size());
    lab_out.assign(most * detail::block_width, 0.0);
    paid.assign(labs.size() * static_cast<std::size_t>(m.steps()) * detail::block_width, 0.0);
  }
  Local(const PathModel& m, bool with_bands, int trace_k)
      : band_block(band_flush_paths(m)),
        stats(m.output_count()),
        bands(with_bands ? BandAccumulator(m.steps(), m.series().size()) : BandAccumulator()),
        block_out(m.output_count() * detail::block_width),
        out(m.output_count()),
        flush(with_bands ? detail::BandFlush(m.series().size(), static_cast<std::size_t>(m.steps()),
                                             band_block, trace_k)
                         : detail::BandFlush()) {}
};

/// Joint runs: simulate each lab on the same paths (the same seed and path numbers, so
/// path p of both is one world) with the same lane width, recording what it paid on its
/// contract, and point the provider's workspace at those payments.
void run_labs(const RunOptions& o, Local& local, std::uint64_t first_path, std::uint64_t lanes,
              bool block) {
  if (o.counterparties.empty()) return;
  const std::size_t n = local.paid.size() / o.counterparties.size() / detail::block_width;
  for (std::size_t j = 0; j < o.counterparties.size(); ++j) {
    const JointRun& jr = o.counterparties[j];
    PathWorkspace& ws = local.lab_ws[j];
    double* paid = local.paid.data() + j * n * detail::block_width;
    ws.capture_contract = jr.lab_contract;
    ws.capture = paid;
    if (block)
      detail::simulate_block(*jr.lab, o.seed, first_path, ws, local.lab_out.data());
    else
      simulate_path(*jr.lab, o.seed, first_path, ws, local.lab_out.data());
    (void)lanes;
    // One revenue contract per lab (joint_run checked they differ); the kernel reads it.
    local.block_ws.override_contract = jr.revenue_contract;
    local.block_ws.revenue_override = paid;
    local.ws.override_contract = jr.revenue_contract;
    local.ws.revenue_override = paid;
  }
}

/// Which kernel a range runs through: the block kernel (run) or the one-path reference
/// (run_serial). They agree bit for bit; the reference is the executable specification.
enum class Kernel { block, reference };

/// Paths [begin, end) of the run (relative to first_path) into `local` and `r.per_path`.
void run_range(const PathModel& model, const RunOptions& o, std::uint64_t begin, std::uint64_t end,
               Local& local, Result& r, Kernel kernel) {
  const std::size_t k_out = model.output_count();
  const std::uint64_t band_block = local.band_block;
  const bool inputs = r.inputs.size() > 0;
  if (inputs) local.ws.keep_params = local.block_ws.keep_params = r.input_params;
  // Paths p .. p + lanes - 1: output k of lane l at out[k * stride + l] (input k at
  // in[k * stride + l]). The arrays are column-major, so each output's lanes are one copy.
  auto keep = [&](std::uint64_t p, const double* out, std::size_t stride, const double* in,
                  std::uint64_t lanes) {
    const auto row = static_cast<Eigen::Index>(p);
    const std::size_t bytes = sizeof(double) * lanes;
    for (std::size_t k = 0; k < k_out; ++k) {
      const double* v = out + k * stride;
      for (std::uint64_t l = 0; l < lanes; ++l) local.stats[k].add(v[l]);
      if (o.keep_paths) std::memcpy(&r.per_path(row, static_cast<Eigen::Index>(k)), v, bytes);
    }
    if (inputs)
      for (std::size_t k = 0; k < r.input_params.size(); ++k)
        std::memcpy(&r.inputs(row, static_cast<Eigen::Index>(k)), in + k * stride, bytes);
  };
  // Sensitivity over time: each path's value of one series at the checkpoints, read from
  // the band sink's trace before the flush.
  std::vector<std::size_t> trace_steps;
  if (r.trace.size() > 0) {
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
        const std::uint64_t lanes = std::min(w, b1 - p);
        run_labs(o, local, o.first_path + p, w, true);
        detail::simulate_block(model, o.seed, o.first_path + p, local.block_ws,
                               local.block_out.data(), o.bands ? &local.flush : nullptr, p - b0,
                               static_cast<int>(lanes));
        keep(p, local.block_out.data(), w, local.block_ws.lane_inputs.data(), lanes);
      }
    } else {
      for (std::uint64_t p = b0; p < b1; ++p) {
        double* out = local.out.data();
        run_labs(o, local, o.first_path + p, 1, false);
        if (o.bands) {
          detail::simulate_lanes<1>(model, o.seed, o.first_path + p, local.ws, out,
                                    detail::BandSink<1>{&local.flush, p - b0, 1, &model.series()});
        } else {
          simulate_path(model, o.seed, o.first_path + p, local.ws, out);
        }
        keep(p, out, 1, local.ws.lane_inputs.data(), 1);
      }
    }
    if (!trace_steps.empty())
      for (std::uint64_t p = b0; p < b1; ++p)
        for (std::size_t c = 0; c < trace_steps.size(); ++c)
          r.trace(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(c)) =
              trace_steps[c] == SIZE_MAX
                  ? std::numeric_limits<double>::quiet_NaN()
                  : local.flush.trace[trace_steps[c] * band_block + (p - b0)];
    if (o.bands) local.bands.add_flush(local.flush, b1 - b0);
  }
}

void fold(Result& r, Local& local) {
  for (std::size_t k = 0; k < r.stats.size(); ++k) r.stats[k] += local.stats[k];
  if (!local.bands.empty()) r.bands += std::move(local.bands);
}

/// Band index of the traced series (RunOptions::trace_series); -1 without a trace.
int trace_index(const PathModel& model, const RunOptions& o) {
  if (o.trace_series.empty()) return -1;
  for (std::size_t k = 0; k < model.series().size(); ++k)
    if (series_name(model.series()[k]) == o.trace_series) return static_cast<int>(k);
  return 0;
}

void check_options(const RunOptions& o) {
  if (o.paths == 0) throw std::invalid_argument("paths must be at least 1");
  if (o.threads < 0) throw std::invalid_argument("threads must be >= 0 (0 = all cores)");
  if (!o.trace_series.empty() && !o.bands)
    throw std::invalid_argument("trace_series needs bands = true");
  if (o.first_path + o.paths < o.first_path)
    throw std::invalid_argument("first_path + paths overflows 64 bits");
  if (o.counterparties.size() > 1)
    throw std::invalid_argument("a joint run takes one counterparty lab today, got " +
                                std::to_string(o.counterparties.size()));
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
  Local local(model, o.bands, trace_index(model, o), o.counterparties);
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
  tbb::enumerable_thread_specific<Local> locals(
      [&] { return Local(model, o.bands, trace_index(model, o), o.counterparties); });
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
          if (!locals[w])
            locals[w].emplace(model, o.bands, trace_index(model, o), o.counterparties);
          if (!run_chunk(*locals[w], c)) return;
        }
      });
    for (auto& t : pool) t.join();
  }
#endif
  if (cancelled) throw Cancelled();
  for (auto& local : locals) {
#if CAPEXSIM_PLAIN_THREADS
    if (local) fold(r, *local);
#else
    fold(r, local);
#endif
  }
  return r;
}

JointRun joint_run(const Scenario& provider, const Scenario& lab, const std::string& name) {
  JointRun j;
  j.name = name;
  for (std::size_t k = 0; k < provider.revenue_contracts.size(); ++k)
    if (provider.revenue_contracts[k].name == name) j.revenue_contract = static_cast<int>(k);
  if (j.revenue_contract < 0) {
    std::string known;
    for (const auto& c : provider.revenue_contracts) known += (known.empty() ? "" : ", ") + c.name;
    throw std::invalid_argument("counterparty " + name + ": scenario " + provider.name +
                                " has no [[revenue_contract]] named \"" + name +
                                "\" (it has: " + (known.empty() ? "none" : known) + ")");
  }
  for (std::size_t k = 0; k < lab.contracts.size(); ++k)
    if (lab.contracts[k].name == name) j.lab_contract = static_cast<int>(k);
  if (j.lab_contract < 0) {
    std::string known;
    for (const auto& c : lab.contracts) known += (known.empty() ? "" : ", ") + c.name;
    throw std::invalid_argument("counterparty " + name + ": the lab scenario " + lab.name +
                                " has no [[contract]] named \"" + name +
                                "\" (it has: " + (known.empty() ? "none" : known) + ")");
  }
  auto same = [&](const char* what, double a, double b) {
    if (a != b)
      throw std::invalid_argument("counterparty " + name + ": the lab scenario " + lab.name +
                                  " has a different " + what + " (" + detail::format_double(b) +
                                  ") from " + provider.name + " (" + detail::format_double(a) +
                                  "): a joint run needs one time grid");
  };
  same("simulation.start", provider.start_year, lab.start_year);
  same("step length in years", provider.dt(), lab.dt());
  same("number of steps", provider.steps(), lab.steps());
  if (lab.sampling != Sampling::random || !lab.input_correlation_inputs.empty())
    throw std::invalid_argument("counterparty " + name + ": the lab scenario " + lab.name +
                                " uses a sampling design or [input_correlation]; a joint run "
                                "needs plain random sampling on the lab");
  j.lab = std::make_shared<const PathModel>(lab);
  j.lab_fingerprint = fingerprint(lab);
  return j;
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

Result merge_bytes(std::span<const std::string_view> shards) {
  if (shards.empty()) throw std::invalid_argument("merge: no results to merge");
  std::vector<Result> parts;
  std::vector<ArrayViews> views(shards.size());
  parts.reserve(shards.size());
  for (std::size_t i = 0; i < shards.size(); ++i)
    parts.push_back(parse_result(shards[i], &views[i]));
  std::vector<std::size_t> order(parts.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return parts[a].first_path < parts[b].first_path;
  });
  std::vector<std::uint64_t> counts(parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) counts[i] = parts[i].paths;
  // The metadata and accumulators: the pairwise merge's checks and sums, in path order,
  // on results without their arrays (accumulators merge exactly: any order, same bits).
  bool per_path = true, inputs = true;
  for (std::size_t j : order) {
    per_path =
        per_path && views[j].rows > 0 && views[j].rows == static_cast<std::int64_t>(counts[j]);
    inputs =
        inputs && views[j].input_rows > 0 && parts[j].input_names == parts[order[0]].input_names;
  }
  Result r = std::move(parts[order[0]]);
  for (std::size_t j = 1; j < order.size(); ++j) {
    const Result& b = parts[order[j]];
    if (b.scenario_fingerprint != r.scenario_fingerprint)
      throw std::invalid_argument("merge: the results come from different scenarios");
    if (b.seed != r.seed) throw std::invalid_argument("merge: the results have different seeds");
    if (r.first_path + r.paths != b.first_path)
      throw std::invalid_argument(
          "merge: the path ranges are not adjacent ([" + std::to_string(r.first_path) + ", " +
          std::to_string(r.first_path + r.paths) + ") and [" + std::to_string(b.first_path) + ", " +
          std::to_string(b.first_path + b.paths) + "))");
    if (r.bands.empty() != b.bands.empty())
      throw std::invalid_argument("merge: one result has bands and the other does not");
    r.paths += b.paths;
    for (std::size_t k = 0; k < r.stats.size(); ++k) r.stats[k] += b.stats[k];
    r.bands += b.bands;
  }
  // Each array copied once, column by column, from the shards' bytes into place.
  auto place = [&](Eigen::ArrayXXd& dst, std::size_t cols, bool input_array) {
    dst.resize(static_cast<Eigen::Index>(r.paths), static_cast<Eigen::Index>(cols));
    std::uint64_t row = 0;
    for (std::size_t j : order) {
      const std::string_view src = input_array ? views[j].inputs : views[j].per_path;
      const std::uint64_t n = counts[j];
      for (std::size_t c = 0; c < cols; ++c)
        std::memcpy(dst.data() + c * r.paths + row, src.data() + sizeof(double) * c * n,
                    sizeof(double) * n);
      row += n;
    }
  };
  if (per_path)
    place(r.per_path, r.output_names.size(), false);
  else
    r.per_path.resize(0, 0);
  if (inputs && per_path && !r.input_names.empty())
    place(r.inputs, r.input_names.size(), true);
  else
    r.inputs.resize(0, 0);
  return r;
}

}  // namespace capexsim
