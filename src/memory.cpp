#include "capexsim/memory.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include <tbb/task_arena.h>

namespace capexsim {

namespace {
/// Saturating arithmetic: a product beyond 2^64 bytes is "more than anything".
std::uint64_t mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}
std::uint64_t add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}
}  // namespace

MemoryEstimate estimate_memory(const PathModel& model, const RunOptions& o) {
  MemoryEstimate e;
  const std::uint64_t outputs = model.output_count();
  const std::uint64_t steps = static_cast<std::uint64_t>(std::max(model.steps(), 0));
  const std::uint64_t cells = model.series().size() * steps;  // band (series, step) pairs
  // Workers that get work: as run() splits paths into chunks of at least 256 paths.
  const int arena = o.threads > 0 ? o.threads : tbb::this_task_arena::max_concurrency();
  const std::uint64_t chunks = (o.paths + 255) / 256;
  e.workers = static_cast<int>(std::min<std::uint64_t>(static_cast<std::uint64_t>(arena), chunks));
  const std::uint64_t workers = static_cast<std::uint64_t>(e.workers);
  // Per-path outputs, their quantile scratch, and the drawn inputs (Result::inputs).
  std::uint64_t drawn = 0;
  if (o.keep_inputs)
    for (const auto& d : model.scenario().params) drawn += d.is_fixed() ? 0 : 1;
  if (o.keep_paths) e.per_path = add(mul(mul(o.paths, outputs + drawn), 8), mul(o.paths, 8));
  if (o.bands) {
    const std::uint64_t cell = sizeof(FixedPointSum) + sizeof(QuantileSketch) + band_sketch_bytes;
    e.bands = mul(mul(cells, cell), workers + 1);
    // run()'s flush buffer (detail::BandFlush), per worker: series x steps x (64 to 1024
    // paths) 4-byte bucket codes, and per (series, step) a sum, a min, a max and a flag;
    // with a trace, one series' steps x paths doubles.
    const std::uint64_t per_path = mul(cells, 4);
    const std::uint64_t fit = (std::uint64_t{8} << 20) / std::max<std::uint64_t>(per_path, 1);
    const std::uint64_t flush = std::clamp<std::uint64_t>(fit / 64 * 64, 64, 1024);
    std::uint64_t buffer = add(mul(per_path, flush), mul(cells, 25));
    if (!o.trace_series.empty()) buffer = add(buffer, mul(mul(steps, flush), 8));
    e.band_buffers = mul(buffer, workers);
  }
  // Path state (rings over lead time, refresh and the trailing year) per worker, and
  // the model's own tables: small next to the rest; a generous flat allowance.
  e.workspaces = add(mul(mul(steps, 64), workers + 1), std::uint64_t{16} << 20);
  return e;
}

std::uint64_t available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream s(line.substr(13));
      std::uint64_t kb = 0;
      if (s >> kb) return mul(kb, 1024);
    }
  }
  return 0;
}

std::uint64_t effective_memory_limit(const RunOptions& o) {
  if (o.memory_limit > 0) return o.memory_limit;
  const std::uint64_t avail = available_memory();
  return avail ? avail / 5 * 4 : std::numeric_limits<std::uint64_t>::max();
}

std::string format_bytes(double b) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  int u = 0;
  while (b >= 1000 && u < 6) {
    b /= 1000;
    ++u;
  }
  char buf[64];
  if (u == 6 && b >= 1000)
    std::snprintf(buf, sizeof buf, "more than 1000 EB");
  else
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

void check_memory(const PathModel& model, const RunOptions& o) {
  const MemoryEstimate e = estimate_memory(model, o);
  const std::uint64_t limit = effective_memory_limit(o);
  if (e.total() <= limit) return;
  std::string what = "the run needs about " + format_bytes(static_cast<double>(e.total())) +
                     " of memory, more than the limit of " +
                     format_bytes(static_cast<double>(limit)) +
                     (o.memory_limit ? " (set by the memory limit option)"
                                     : " (80% of the memory available now)") +
                     ". ";
  const std::uint64_t bands = add(e.bands, e.band_buffers);
  if (e.per_path >= bands) {
    what += "Most of it is per-path outputs: " + format_bytes(static_cast<double>(e.per_path)) +
            " for " + std::to_string(o.paths) + " paths x " + std::to_string(model.output_count()) +
            " outputs x 8 bytes. Run fewer paths, or do not keep per-path outputs (CLI: no "
            "--per-path, at most 10 million paths; Python: keep_paths=False), or shard the "
            "paths and merge.";
  } else {
    what += "Most of it is the per-time bands: " + format_bytes(static_cast<double>(bands)) +
            " for " + std::to_string(model.series().size()) + " series x " +
            std::to_string(model.steps()) + " steps x " + std::to_string(e.workers + 1) +
            " accumulators (one per worker thread and the result). Use a coarser step or a "
            "shorter horizon, fewer threads, or no bands (CLI: no --out; Python: "
            "bands=False).";
  }
  what += " A higher limit can be set (CLI: --memory-limit; Python: memory_limit=).";
  throw MemoryLimitError(what, e, limit);
}

}  // namespace capexsim
