// The memory estimate and limit: refused before anything is allocated (issue 10).
#include <doctest/doctest.h>

#include <string>

#include "capexsim/memory.hpp"

using namespace capexsim;

namespace {
const PathModel& reference() {
  static const PathModel m(load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml"));
  return m;
}
}  // namespace

TEST_CASE("estimate: per-path outputs and bands as documented") {
  RunOptions o;
  o.paths = 1'000'000;
  o.threads = 2;
  o.bands = false;
  const MemoryEstimate e = estimate_memory(reference(), o);
  // 23 outputs (9 base, the gross need and its time, 6 ledger flows, and per each of the 2
  // checkpoints arr_at, funding_need_by and funding_gap_by) and the 7 inputs the reference
  // draws (Result::inputs) x 8 bytes per path, plus one sorted column.
  REQUIRE(reference().output_count() == 23);
  CHECK(e.per_path == 1'000'000ull * ((23 + 7) * 8 + 8));
  o.keep_inputs = false;
  CHECK(estimate_memory(reference(), o).per_path == 1'000'000ull * (23 * 8 + 8));
  o.keep_inputs = true;
  CHECK(e.bands == 0);
  CHECK(e.workers == 2);
  o.bands = true;
  o.keep_paths = false;
  const MemoryEstimate b = estimate_memory(reference(), o);
  CHECK(b.per_path == 0);
  const std::uint64_t cells = base_series_count * 120;  // the v1 reference bands 8 series
  CHECK(b.bands ==
        cells * (sizeof(FixedPointSum) + sizeof(QuantileSketch) + band_sketch_bytes) * 3);
  // Per worker: 4-byte bucket codes of 1,024 paths, and 25 bytes per (series, step).
  CHECK(b.band_buffers == (cells * 4 * 1024 + cells * 25) * 2);
  // Few paths: only the workers that get a chunk count.
  o.paths = 100;
  CHECK(estimate_memory(reference(), o).workers == 1);
}

TEST_CASE("run() refuses a run above the limit before allocating, naming the cause") {
  RunOptions o;
  o.paths = 10'000'000'000'000ull;  // 800 TB of per-path outputs: once std::bad_alloc
  try {
    run(reference(), o);
    FAIL("expected MemoryLimitError");
  } catch (const MemoryLimitError& e) {
    const std::string what = e.what();
    CHECK(what.find("per-path outputs") != std::string::npos);
    CHECK(what.find("fewer paths") != std::string::npos);
    CHECK(e.estimate().total() > e.limit());
  }
  // An explicit limit, both ways; the bands named when they dominate.
  o.paths = 1000;
  o.memory_limit = 1000;
  CHECK_THROWS_AS(run_serial(reference(), o), MemoryLimitError);
  try {
    run(reference(), o);
  } catch (const MemoryLimitError& e) {
    CHECK(std::string(e.what()).find("per-time bands") != std::string::npos);
    CHECK(std::string(e.what()).find("set by the memory limit option") != std::string::npos);
  }
  o.memory_limit = std::uint64_t{1} << 40;
  CHECK(run(reference(), o).paths == 1000);
}

TEST_CASE("format_bytes and the available memory") {
  CHECK(format_bytes(999) == "999 B");
  CHECK(format_bytes(1536) == "1.5 kB");
  CHECK(format_bytes(2.5e9) == "2.5 GB");
  CHECK(format_bytes(8.8e14) == "880.0 TB");
  // On Linux MemAvailable is readable and positive.
  CHECK(available_memory() > 0);
}
