#pragma once
// The block kernel behind run(): detail::simulate_lanes at block_width lanes, compiled
// once in src/block.cpp with per-CPU vector variants. Not part of the public API.

#include <cstddef>
#include <cstdint>

#include "capexsim/path_model.hpp"

namespace capexsim::detail {

/// Paths per block: 32 doubles are four AVX-512 (eight AVX2) registers per state
/// variable, enough independent work to hide the latency of the polynomial chains
/// (measured: 16 lanes ran at 0.75x the speed of 32; 64 gained nothing more).
inline constexpr int block_width = 32;

using BlockWorkspace = PathWorkspace;

/// Simulate paths first_path .. first_path + block_width - 1. Writes output k of lane l
/// to out[k * block_width + l] (model.output_count() outputs). When `bands` is not null,
/// writes series s at step i of lane l to bands[(s * steps + i) * band_stride + l].
void simulate_block(const PathModel& model, std::uint64_t seed, std::uint64_t first_path,
                    BlockWorkspace& ws, double* out, double* bands, std::size_t band_stride);

/// The RNG floor of the block kernel: draws exactly the variates simulate_block consumes
/// for the same block (static inputs, x0, every step's shocks and events, the jumps),
/// with the same code, and nothing else. Returns a checksum so none of it is optimised
/// away. For the benchmarks (bench/bench_engine.cpp).
double draw_block_variates(const PathModel& model, std::uint64_t seed, std::uint64_t first_path,
                           BlockWorkspace& ws);

}  // namespace capexsim::detail
