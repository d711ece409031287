#pragma once
// The block kernel behind run(): block_width paths advanced together, one step at a time,
// every state variable a lane array, so that each update is a loop over lanes that the
// compiler vectorises. It computes, lane by lane, exactly what simulate_path() computes
// for that path (same expressions in the same order, vmath instead of <cmath>), so a
// path's bits do not depend on the block it ran in. Not part of the public API.

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "capexsim/model.hpp"

namespace capexsim::detail {

/// Paths per block: 32 doubles are four AVX-512 (eight AVX2) registers per state
/// variable, enough independent work to hide the latency of the polynomial chains
/// (measured: 16 lanes ran at 0.75x the speed of 32; 64 gained nothing more).
inline constexpr int block_width = 32;

/// Scratch of one block, reused across blocks.
struct BlockWorkspace {
  std::vector<double> start_cost_ring, start_ring, vintage_ring, fcf_ring, vendor_paid;
  std::array<double, param_count> inputs{};
};

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
