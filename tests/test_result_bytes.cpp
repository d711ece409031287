// Result::to_bytes / from_bytes (include/capexsim/engine.hpp) as a shard reader sees them:
// the same run gives the same bytes at any thread count, and bytes no run can write are
// refused before anything is allocated for them.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "capexsim/engine.hpp"

using namespace capexsim;

namespace {
const Scenario& reference() {
  static const Scenario s = load_scenario(CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml");
  return s;
}

Result run_with(int threads, bool keep_paths) {
  RunOptions o;
  o.paths = 4'000;  // enough chunks for 4 threads to interleave; cheap under ASan
  o.seed = 3;
  o.threads = threads;
  o.keep_paths = keep_paths;
  o.bands = true;
  return run(reference(), o);
}
}  // namespace

TEST_CASE("the same run gives the same bytes at any thread count") {
  // The sketches' allocated bucket ranges depend on the order values arrive in; the
  // bytes are trimmed to the non-empty buckets (docs/distributed.md: identical bytes).
  for (const bool keep : {true, false}) {
    const std::string one = run_with(1, keep).to_bytes();
    const std::string four = run_with(4, keep).to_bytes();
    CHECK(one.size() == four.size());
    CHECK(one == four);
    CHECK(Result::from_bytes(one).to_bytes() == one);
  }
}

TEST_CASE("bytes no run can write are refused") {
  const Result r = run_with(2, true);
  const std::string good = r.to_bytes();
  // Any cut is refused (never read past the end, never a crash).
  for (std::size_t n = 0; n < good.size(); n += 997)
    CHECK_THROWS_AS(Result::from_bytes(std::string_view(good).substr(0, n)), std::invalid_argument);
  // Every 8-byte word set to a huge count in turn: refused or harmless, never an
  // allocation beyond the bytes (this would take terabytes) or a crash.
  int refused = 0;
  for (std::size_t at = 8; at + 8 <= good.size() && at < 40'000; at += 8) {
    std::string bad = good;
    const std::uint64_t huge = std::uint64_t{1} << 40;
    std::memcpy(bad.data() + at, &huge, sizeof huge);
    try {
      (void)Result::from_bytes(bad);
    } catch (const std::invalid_argument&) {
      ++refused;
    }
  }
  CHECK(refused > 1000);
}

TEST_CASE("an edited per-path value is refused") {
  Result r = run_with(1, true);
  r.per_path(5, 0) += 1;
  CHECK_THROWS_WITH_AS(Result::from_bytes(r.to_bytes()),
                       doctest::Contains("do not match its per-path values"),
                       std::invalid_argument);
}

TEST_CASE("merge refuses results of different outputs") {
  RunOptions o;
  o.paths = 100;
  const Result a = run(reference(), o);
  Result b = a;
  b.first_path = 100;
  b.output_names.pop_back();
  b.stats.pop_back();
  CHECK_THROWS_AS(merge(a, b), std::invalid_argument);
}
