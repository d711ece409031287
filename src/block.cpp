// The block kernel: detail::simulate_lanes (include/capexsim/detail/kernel.hpp) compiled at
// block_width lanes. The model itself lives in kernel.hpp, shared with the reference.

#include "capexsim/detail/block.hpp"

#include "capexsim/detail/kernel.hpp"

namespace capexsim::detail {

namespace {
constexpr int W = block_width;
using Lanes = double[W];
}  // namespace

// One build for every x86-64 CPU, with AVX2 and AVX-512 variants picked at load time.
// The variants differ only in vector width: the same IEEE operations, so the same bits.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(CAPEXSIM_NO_TARGET_CLONES)
#define CAPEXSIM_BLOCK_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CAPEXSIM_BLOCK_CLONES
#endif
CAPEXSIM_BLOCK_CLONES
void simulate_block(const PathModel& model, std::uint64_t seed, std::uint64_t first_path,
                    BlockWorkspace& ws, double* out, BandFlush* bands, std::size_t col, int lanes) {
  // One instantiation for both cases (with and without bands): the kernel is large, and a
  // second inlined copy would push GCC past its inlining budget for the vmath calls.
  const BandSink<W> band{bands, col, lanes, &model.series()};
  // The sink is inlined too, so that it runs in this clone's vector width.
  simulate_lanes<W>(
      model, seed, first_path, ws, out, [&](const StepLanes<W>& st) __attribute__((always_inline)) {
        if (bands) band(st);
      });
}

void simulate_block(const PathModel& model, std::uint64_t seed, std::uint64_t first_path,
                    BlockWorkspace& ws, double* out, double* series, std::size_t stride) {
  BandFlush flush(model.series().size(), static_cast<std::size_t>(model.steps()), W);
  flush.values = series;
  flush.values_stride = stride;
  simulate_block(model, seed, first_path, ws, out, &flush);
}

CAPEXSIM_BLOCK_CLONES
double draw_block_variates(const PathModel& model, std::uint64_t seed, std::uint64_t first_path,
                           BlockWorkspace& ws) {
  // Per path: the static inputs and x0 (inside path_constants, as the kernel draws them).
  PathConstants pc[W];
  alignas(64) Lanes shock_on, event_on, jump_lambda, jump_p0;
  bool any_shock = false, any_event = false, any_jump = false;
  double sum = 0;
  for (int l = 0; l < W; ++l) {
    pc[l] = path_constants(model, rng::PathRng(seed, first_path + l), ws.inputs);
    shock_on[l] = pc[l].any_shock ? 1.0 : 0.0;
    event_on[l] = pc[l].any_event ? 1.0 : 0.0;
    jump_lambda[l] = pc[l].jump_lambda;
    jump_p0[l] = pc[l].jump_p0;
    any_shock = any_shock || pc[l].any_shock;
    any_event = any_event || pc[l].any_event;
    any_jump = any_jump || pc[l].jump_lambda > 0;
    sum += pc[l].x0;
  }
  const StepVariates<W> rng_draw(model, seed, first_path, shock_on, event_on, any_shock, any_event);
  alignas(64) Lanes z0, z1, z2, z3, u_reg, u_jump, jump, acc;
  for (int l = 0; l < W; ++l) acc[l] = 0;
  for (int i = 0; i < model.steps(); ++i) {
    const std::uint32_t step = static_cast<std::uint32_t>(i);
    rng_draw.step(step, z0, z1, z2, z3, u_reg, u_jump);
    for (int l = 0; l < W; ++l) acc[l] += z0[l] + z1[l] + z2[l] + z3[l] + u_reg[l];
    if (any_jump) {  // the jump normals, on the rare steps with a jump (as the kernel)
      rng_draw.jumps(step, u_jump, jump_lambda, jump_p0, pc, jump);
      for (int l = 0; l < W; ++l) acc[l] += jump[l];
    }
  }
  for (int l = 0; l < W; ++l) sum += acc[l];
  return sum;
}

}  // namespace capexsim::detail
