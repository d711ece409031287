#pragma once
// The block kernel behind run(): detail::simulate_lanes at block_width lanes, compiled
// once in src/block.cpp with per-CPU vector variants. Not part of the public API.

#include <cstddef>
#include <cstdint>

#include "capexsim/path_model.hpp"

namespace capexsim::detail {

struct BandFlush;  // detail/band_sink.hpp

/// Paths per block: 32 doubles are four AVX-512 (eight AVX2) registers per state
/// variable, enough independent work to hide the latency of the polynomial chains
/// (measured: 16 lanes ran at 0.75x the speed of 32; 64 gained nothing more).
inline constexpr int block_width = 32;

using BlockWorkspace = PathWorkspace;

/// Simulate paths first_path .. first_path + block_width - 1. Writes output k of lane l
/// to out[k * block_width + l] (model.output_count() outputs). When `bands` is not null,
/// hands lanes [0, lanes) of every banded series to it as columns col .. col + lanes - 1
/// (detail::BandSink); the other lanes' paths are not banded.
void simulate_block(const PathModel& model, std::uint64_t seed, std::uint64_t first_path,
                    BlockWorkspace& ws, double* out, BandFlush* bands = nullptr,
                    std::size_t col = 0, int lanes = block_width);
/// The same, writing series s at step i of lane l to series[(s * steps + i) * stride + l]
/// (the band sink's values, detail::BandFlush::values): for tests and the fuzz target.
void simulate_block(const PathModel& model, std::uint64_t seed, std::uint64_t first_path,
                    BlockWorkspace& ws, double* out, double* series, std::size_t stride);

/// The RNG floor of the block kernel: draws exactly the variates simulate_block consumes
/// for the same block (static inputs, x0, every step's shocks and events, the jumps),
/// with the same code, and nothing else. Returns a checksum so none of it is optimised
/// away. For the benchmarks (bench/bench_engine.cpp).
double draw_block_variates(const PathModel& model, std::uint64_t seed, std::uint64_t first_path,
                           BlockWorkspace& ws);

}  // namespace capexsim::detail
