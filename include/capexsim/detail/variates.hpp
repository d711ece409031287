#pragma once
// The random draws of the kernel: StepVariates hands each step's normals and uniforms to
// simulate_lanes from each path's own Philox counters (the counter layout is
// docs/statistics.md's; include/capexsim/random.hpp holds the generator).

#include <cstdint>

#include <Eigen/Core>

#include "capexsim/path_model.hpp"
#include "capexsim/random.hpp"

namespace capexsim::detail {

/// The per-step variates of W lanes, drawn from each path's own counters: one shocks
/// block -> four Box-Muller normals (correlated by the Cholesky factor), one events block
/// -> the regime and Poisson uniforms, and the jump normals of the lanes with jumps.
/// Shared by the kernel and by the RNG-floor benchmark, so the floor is the same code.
template <int W>
class StepVariates {
 public:
  using Lanes = double[W];
  StepVariates(const PathModel& model, std::uint64_t seed, std::uint64_t first_path,
               const Lanes& shock_on, const Lanes& event_on, bool any_shock, bool any_event)
      : chol_(model.cholesky()),
        correlated_(model.correlated()),
        any_shock_(any_shock),
        any_event_(any_event),
        first_path_(first_path),
        k0_(static_cast<std::uint32_t>(seed)),
        k1_(static_cast<std::uint32_t>(seed >> 32)),
        shock_on_(shock_on),
        event_on_(event_on) {
    // Pick-freeze (docs/sensitivity.md): groups whose variates come from a second seed.
    const Variation& v = model.variation();
    alt_k0_ = static_cast<std::uint32_t>(v.alt_seed);
    alt_k1_ = static_cast<std::uint32_t>(v.alt_seed >> 32);
    alt_shock_[0] = v.alt(ProcessGroup::pace);
    alt_shock_[1] = v.alt(ProcessGroup::cost);
    alt_shock_[2] = v.alt(ProcessGroup::demand);
    alt_shock_[3] = v.alt(ProcessGroup::growth);
    any_alt_shock_ = alt_shock_[0] || alt_shock_[1] || alt_shock_[2] || alt_shock_[3];
    alt_reg_ = v.alt(ProcessGroup::pace);
    alt_jump_ = v.alt(ProcessGroup::demand);
    jump_seed_ = v.seed_of(ProcessGroup::demand, seed);
    for (int l = 0; l < W; ++l) {
      const std::uint64_t path = first_path + static_cast<std::uint64_t>(l);
      lo_[l] = static_cast<std::uint32_t>(path);
      hi_[l] = static_cast<std::uint32_t>(path >> 32);
    }
  }

  __attribute__((always_inline)) void step(std::uint32_t step, Lanes& z0, Lanes& z1, Lanes& z2,
                                           Lanes& z3, Lanes& u_reg, Lanes& u_jump) const {
    alignas(64) std::uint32_t ctr[4][W];
    if (any_shock_) {
      block(rng::Stream::shocks, step, ctr);
      for (int l = 0; l < W; ++l) {
        double e0, e1, e2, e3;
        rng::box_muller(ctr[0][l], ctr[1][l], e0, e1);
        rng::box_muller(ctr[2][l], ctr[3][l], e2, e3);
        const bool on = shock_on_[l] != 0;
        z0[l] = on ? e0 : 0.0;
        z1[l] = on ? e1 : 0.0;
        z2[l] = on ? e2 : 0.0;
        z3[l] = on ? e3 : 0.0;
      }
      if (any_alt_shock_) {
        // The groups switched to the second seed take their independent normals from
        // its block; the others keep theirs. Then the Cholesky factor as always.
        block(rng::Stream::shocks, step, ctr, alt_k0_, alt_k1_);
        for (int l = 0; l < W; ++l) {
          double e[4];
          rng::box_muller(ctr[0][l], ctr[1][l], e[0], e[1]);
          rng::box_muller(ctr[2][l], ctr[3][l], e[2], e[3]);
          const bool on = shock_on_[l] != 0;
          if (alt_shock_[0]) z0[l] = on ? e[0] : 0.0;
          if (alt_shock_[1]) z1[l] = on ? e[1] : 0.0;
          if (alt_shock_[2]) z2[l] = on ? e[2] : 0.0;
          if (alt_shock_[3]) z3[l] = on ? e[3] : 0.0;
        }
      }
      if (correlated_) {
        const double c00 = chol_(0, 0), c10 = chol_(1, 0), c11 = chol_(1, 1), c20 = chol_(2, 0),
                     c21 = chol_(2, 1), c22 = chol_(2, 2), c30 = chol_(3, 0), c31 = chol_(3, 1),
                     c32 = chol_(3, 2), c33 = chol_(3, 3);
        for (int l = 0; l < W; ++l) {
          const double e0 = z0[l], e1 = z1[l], e2 = z2[l], e3 = z3[l];
          // z_r = sum_{k <= r} chol(r, k) e_k, summed from 0 in k order.
          z0[l] = 0.0 + c00 * e0;
          z1[l] = 0.0 + c10 * e0 + c11 * e1;
          z2[l] = 0.0 + c20 * e0 + c21 * e1 + c22 * e2;
          z3[l] = 0.0 + c30 * e0 + c31 * e1 + c32 * e2 + c33 * e3;
        }
      }
    } else {
      for (int l = 0; l < W; ++l) z0[l] = z1[l] = z2[l] = z3[l] = 0.0;
    }
    const double u_none = rng::u01(0u);  // a lane without events never uses its uniforms
    if (any_event_) {
      block(rng::Stream::events, step, ctr);
      for (int l = 0; l < W; ++l) {
        const bool on = event_on_[l] != 0;
        u_reg[l] = on ? rng::u01(ctr[0][l]) : u_none;
        u_jump[l] = on ? rng::u01(ctr[1][l]) : u_none;
      }
      if (alt_reg_ || alt_jump_) {  // pick-freeze: the regime (pace), the jump count (demand)
        block(rng::Stream::events, step, ctr, alt_k0_, alt_k1_);
        for (int l = 0; l < W; ++l) {
          const bool on = event_on_[l] != 0;
          if (alt_reg_) u_reg[l] = on ? rng::u01(ctr[0][l]) : u_none;
          if (alt_jump_) u_jump[l] = on ? rng::u01(ctr[1][l]) : u_none;
        }
      }
    } else {
      for (int l = 0; l < W; ++l) u_reg[l] = u_jump[l] = u_none;
    }
  }

  /// The sum of the jumps of `step` per lane (0 on most lanes): which lanes have one is
  /// a vectorised test (N > 0 iff u > P(N = 0)); those lanes run jump_sum.
  __attribute__((always_inline)) void jumps(std::uint32_t step, const Lanes& u_jump,
                                            const Lanes& lambda, const Lanes& p0,
                                            const PathConstants (&pc)[W], Lanes& jump) const {
    int any = 0;  // an OR reduction, no branches
    for (int l = 0; l < W; ++l) {
      jump[l] = 0;
      any |= (u_jump[l] > p0[l]) & (lambda[l] > 0);
    }
    if (!any) return;
    for (int l = 0; l < W; ++l)
      if (lambda[l] > 0 && u_jump[l] > p0[l])
        jump[l] = jump_sum(pc[l], rng::PathRng(jump_seed_, first_path_ + l), step, u_jump[l]);
  }

 private:
  /// Every lane's Philox block of (stream, step), into ctr[word][lane].
  __attribute__((always_inline)) void block(rng::Stream stream, std::uint32_t step,
                                            std::uint32_t (&ctr)[4][W]) const {
    block(stream, step, ctr, k0_, k1_);
  }
  __attribute__((always_inline)) void block(rng::Stream stream, std::uint32_t step,
                                            std::uint32_t (&ctr)[4][W], std::uint32_t k0,
                                            std::uint32_t k1) const {
    for (int l = 0; l < W; ++l) {
      ctr[0][l] = lo_[l];
      ctr[1][l] = hi_[l];
      ctr[2][l] = step;
      ctr[3][l] = rng::stream_word(stream);
    }
    rng::philox_lanes<W>(ctr, k0, k1);
  }

  const Eigen::Matrix4d& chol_;
  bool correlated_, any_shock_, any_event_;
  std::uint64_t first_path_;
  std::uint32_t k0_, k1_;
  std::uint32_t alt_k0_ = 0, alt_k1_ = 0;
  bool alt_shock_[4] = {false, false, false, false};
  bool any_alt_shock_ = false, alt_reg_ = false, alt_jump_ = false;
  std::uint64_t jump_seed_ = 0;
  const Lanes& shock_on_;
  const Lanes& event_on_;
  alignas(64) std::uint32_t lo_[W], hi_[W];
};

}  // namespace capexsim::detail
