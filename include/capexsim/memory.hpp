#pragma once
// Memory a run will take, estimated before it allocates, and the limit it is checked
// against: a run that would not fit is refused with a message naming what is large and
// how to shrink it, instead of being killed by the system (or ending in std::bad_alloc).

#include <cstdint>
#include <stdexcept>
#include <string>

#include "capexsim/engine.hpp"

namespace capexsim {

/// Peak memory of a run, in bytes, by part.
struct MemoryEstimate {
  std::uint64_t per_path = 0;      // kept per-path outputs: paths x outputs x 8, plus one
                                   // output's sorted copy for exact quantiles
  std::uint64_t bands = 0;         // band accumulators: series x steps x (sum + sketch), one
                                   // per worker plus the result's
  std::uint64_t band_buffers = 0;  // per-worker band flush buffers
  std::uint64_t workspaces = 0;    // per-worker path state and the model
  int workers = 0;                 // workers the estimate assumes
  std::uint64_t total() const { return per_path + bands + band_buffers + workspaces; }
};

/// Bytes of bucket counts assumed per (series, step) band sketch and copy: measured at
/// about 9.4 kB on the reference scenario with weekly steps (40 years, 2,000 paths), with
/// a margin. Values spread over more octaves take more.
inline constexpr std::uint64_t band_sketch_bytes = 12 * 1024;

/// Estimate of the peak memory of run(model, options).
MemoryEstimate estimate_memory(const PathModel& model, const RunOptions& options);

/// MemAvailable from /proc/meminfo, in bytes; 0 when it cannot be read.
std::uint64_t available_memory();

/// The limit run() checks against: options.memory_limit when set, else 80% of
/// available_memory() (no limit when that is unknown).
std::uint64_t effective_memory_limit(const RunOptions& options);

/// Thrown by run() (before it allocates) when the estimate exceeds the limit.
class MemoryLimitError : public std::runtime_error {
 public:
  MemoryLimitError(const std::string& what, MemoryEstimate estimate, std::uint64_t limit)
      : std::runtime_error(what), estimate_(estimate), limit_(limit) {}
  const MemoryEstimate& estimate() const { return estimate_; }
  std::uint64_t limit() const { return limit_; }

 private:
  MemoryEstimate estimate_;
  std::uint64_t limit_;
};

/// Throws MemoryLimitError when estimate_memory() exceeds effective_memory_limit().
void check_memory(const PathModel& model, const RunOptions& options);

/// 1536 -> "1.5 kB", 2.5e9 -> "2.5 GB" (decimal units).
std::string format_bytes(double bytes);

}  // namespace capexsim
