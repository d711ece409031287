// The block kernel: simulate_path() for block_width paths at once, structure of arrays.
//
// Rules that keep it bit-identical to the reference kernel (model.hpp):
//  - every per-lane expression is the reference's expression, operand for operand, in the
//    same order (IEEE arithmetic is then the same in a vector lane as in a scalar);
//  - transcendental functions come from vmath, never <cmath>, inside the step loop;
//  - contraction into fused multiply-adds is off for the whole library (CMakeLists.txt);
//  - branches of the reference become selects, and the rare branchy work (Poisson jumps)
//    falls back to the reference's own scalar code for the lanes that need it.

#include "capexsim/detail/block.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace capexsim::detail {

namespace {
constexpr int W = block_width;
using Lanes = double[W];

/// The per-step variates of a block, drawn exactly as the reference kernel draws them
/// path by path: one shocks block -> four Box-Muller normals (correlated by the Cholesky
/// factor), one events block -> the regime and Poisson uniforms, and the jump normals of
/// the lanes with jumps. Shared by the kernel and by the RNG-floor benchmark entry
/// point, so the floor is the same code.
class StepVariates {
 public:
  StepVariates(const PathModel& model, std::uint64_t seed, std::uint64_t first_path,
               const Lanes& shock_on, const Lanes& event_on, bool any_shock, bool any_event)
      : chol_(model.cholesky()),
        correlated_(model.correlated()),
        any_shock_(any_shock),
        any_event_(any_event),
        seed_(seed),
        first_path_(first_path),
        k0_(static_cast<std::uint32_t>(seed)),
        k1_(static_cast<std::uint32_t>(seed >> 32)),
        shock_on_(shock_on),
        event_on_(event_on) {
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
      if (correlated_) {
        const double c00 = chol_(0, 0), c10 = chol_(1, 0), c11 = chol_(1, 1), c20 = chol_(2, 0),
                     c21 = chol_(2, 1), c22 = chol_(2, 2), c30 = chol_(3, 0), c31 = chol_(3, 1),
                     c32 = chol_(3, 2), c33 = chol_(3, 3);
        for (int l = 0; l < W; ++l) {
          const double e0 = z0[l], e1 = z1[l], e2 = z2[l], e3 = z3[l];
          // acc = 0; acc += chol(r, k) e_k for k <= r, as the reference sums.
          z0[l] = 0.0 + c00 * e0;
          z1[l] = 0.0 + c10 * e0 + c11 * e1;
          z2[l] = 0.0 + c20 * e0 + c21 * e1 + c22 * e2;
          z3[l] = 0.0 + c30 * e0 + c31 * e1 + c32 * e2 + c33 * e3;
        }
      }
    } else {
      for (int l = 0; l < W; ++l) z0[l] = z1[l] = z2[l] = z3[l] = 0.0;
    }
    const double u_none = rng::u01(0u);  // the reference's uniform when no event block is drawn
    if (any_event_) {
      block(rng::Stream::events, step, ctr);
      for (int l = 0; l < W; ++l) {
        const bool on = event_on_[l] != 0;
        u_reg[l] = on ? rng::u01(ctr[0][l]) : u_none;
        u_jump[l] = on ? rng::u01(ctr[1][l]) : u_none;
      }
    } else {
      for (int l = 0; l < W; ++l) u_reg[l] = u_jump[l] = u_none;
    }
  }

  /// The sum of the jumps of `step` per lane (0 on most lanes): which lanes have one is
  /// a vectorised test (N > 0 iff u > P(N = 0)); those lanes run the reference's scalar
  /// jump_sum, with the path's own constants.
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
        jump[l] = jump_sum(pc[l], rng::PathRng(seed_, first_path_ + l), step, u_jump[l]);
  }

 private:
  /// Every lane's Philox block of (stream, step), into ctr[word][lane].
  __attribute__((always_inline)) void block(rng::Stream stream, std::uint32_t step,
                                            std::uint32_t (&ctr)[4][W]) const {
    for (int l = 0; l < W; ++l) {
      ctr[0][l] = lo_[l];
      ctr[1][l] = hi_[l];
      ctr[2][l] = step;
      ctr[3][l] = static_cast<std::uint32_t>(stream) << 24;
    }
    rng::philox_lanes<W>(ctr, k0_, k1_);
  }

  const Eigen::Matrix4d& chol_;
  bool correlated_, any_shock_, any_event_;
  std::uint64_t seed_, first_path_;
  std::uint32_t k0_, k1_;
  const Lanes& shock_on_;
  const Lanes& event_on_;
  alignas(64) std::uint32_t lo_[W], hi_[W];
};
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
                    BlockWorkspace& ws, double* out, double* bands, std::size_t band_stride) {
  const Scenario& sc = model.scenario();
  const int n = model.steps();
  const double dt = model.dt();
  const double weeks_per_step = 52 * dt;
  const double nan = std::numeric_limits<double>::quiet_NaN();

  // Per-lane constants, from the same function as the reference.
  PathConstants pc[W];
  for (int l = 0; l < W; ++l)
    pc[l] = path_constants(model, rng::PathRng(seed, first_path + l), ws.inputs);

  alignas(64) Lanes initial_gw, plan_room, max_pace, ramp_mid, inv_width, half_var_x, decay_x,
      vol_x, dis_on, p_on, p_off, dis_mult, cost0, drift_c, vol_c, beta, inv_lead, inv_initial,
      inv_apg, life, refresh0, it_share, g_inf, decay_g, vol_g, half_var_d, vol_d, jump_lambda,
      jump_p0, arr_per_gw, resale_rate, power_ops, rev_cost, fixed_opex, fixed_growth, shock_on,
      event_on;
  alignas(64) std::int32_t lead_ring[W], life_ring[W];
  int lead_max = 1, life_max = 1;
  bool any_shock = false, any_event = false, any_jump = false;
  for (int l = 0; l < W; ++l) {
    const PathConstants& c = pc[l];
    initial_gw[l] = c.initial_gw;
    plan_room[l] = c.plan_room;
    max_pace[l] = c.max_pace;
    ramp_mid[l] = c.ramp_mid;
    inv_width[l] = c.inv_ramp_width;
    half_var_x[l] = 0.5 * c.var_x;
    decay_x[l] = c.decay_x;
    vol_x[l] = c.vol_x;
    dis_on[l] = c.disruption_rate > 0 ? 1.0 : 0.0;
    p_on[l] = c.p_on;
    p_off[l] = c.p_off;
    dis_mult[l] = c.disruption_mult;
    cost0[l] = c.cost0;
    drift_c[l] = c.drift_c;
    vol_c[l] = c.vol_c;
    beta[l] = c.beta;
    inv_lead[l] = c.inv_lead;
    inv_initial[l] = c.inv_initial_gw;
    inv_apg[l] = c.inv_arr_per_gw;
    life[l] = c.life;
    refresh0[l] = c.initial_gw / c.life;
    it_share[l] = c.it_share;
    g_inf[l] = c.g_inf;
    decay_g[l] = c.decay_g;
    vol_g[l] = c.vol_g;
    half_var_d[l] = 0.5 * c.sigma_d * c.sigma_d;
    vol_d[l] = c.vol_d;
    jump_lambda[l] = c.jump_lambda;
    jump_p0[l] = c.jump_p0;
    arr_per_gw[l] = c.arr_per_gw;
    resale_rate[l] = c.resale_per_gw_step;
    power_ops[l] = c.power_ops;
    rev_cost[l] = c.rev_cost;
    fixed_opex[l] = c.fixed_opex;
    fixed_growth[l] = c.fixed_growth;
    shock_on[l] = c.any_shock ? 1.0 : 0.0;
    event_on[l] = c.any_event ? 1.0 : 0.0;
    lead_ring[l] = c.lead_ring;
    life_ring[l] = c.life_ring;
    lead_max = std::max(lead_max, c.lead_ring);
    life_max = std::max(life_max, c.life_ring);
    any_shock = any_shock || c.any_shock;
    any_event = any_event || c.any_event;
    any_jump = any_jump || c.jump_lambda > 0;
  }

  // Rings, lane-minor: slot j of lane l at [j * W + l]. One write position for all
  // lanes (step i mod ring size); each lane reads its own lag back from it. A lane whose
  // lag is shorter than the ring reads the value written lag steps ago, or an unwritten
  // 0 before that, which is what the reference's own ring of size lag returns.
  const int year_steps = model.year_steps();
  const std::size_t vendors = sc.vendors.size();
  ws.start_cost_ring.assign(static_cast<std::size_t>(lead_max) * W, 0.0);
  ws.start_ring.assign(static_cast<std::size_t>(lead_max) * W, 0.0);
  ws.vintage_ring.assign(static_cast<std::size_t>(life_max) * W, 0.0);
  ws.fcf_ring.assign(static_cast<std::size_t>(year_steps) * W, 0.0);
  ws.vendor_paid.assign(vendors * W, 0.0);
  double* __restrict sk_ring = ws.start_cost_ring.data();
  double* __restrict s_ring = ws.start_ring.data();
  double* __restrict v_ring = ws.vintage_ring.data();
  double* __restrict f_ring = ws.fcf_ring.data();
  double* __restrict paid = ws.vendor_paid.data();

  const auto& checkpoints = model.checkpoint_steps();
  std::size_t next_checkpoint = 0;
  const double* contract_pay = model.contract_payment().data();
  const double* contract_gw = model.contract_gw().data();
  const double* equity = model.equity().data();
  const double* opex_factor =
      model.fixed_opex_growth_factor().empty() ? nullptr : model.fixed_opex_growth_factor().data();

  // State.
  alignas(64) Lanes x, y, g, log_demand, regime, started, window, capacity, cash, trailing,
      min_cash, min_step, runway_step, breakeven_step, capex_total, arr_last;
  for (int l = 0; l < W; ++l) {
    x[l] = pc[l].x0;
    y[l] = 0;
    g[l] = pc[l].g0;
    log_demand[l] = pc[l].log_demand0;
    regime[l] = 0;
    started[l] = 0;
    window[l] = 0;
    capacity[l] = pc[l].initial_gw;
    cash[l] = pc[l].initial_cash;
    trailing[l] = 0;
    min_cash[l] = std::numeric_limits<double>::infinity();
    min_step[l] = -1;
    runway_step[l] = -1;
    breakeven_step[l] = -1;
    capex_total[l] = 0;
    arr_last[l] = 0;
  }

  // Per-step temporaries.
  const StepVariates rng_draw(model, seed, first_path, shock_on, event_on, any_shock, any_event);
  alignas(64) Lanes z0, z1, z2, z3, u_reg, u_jump, s, K, capex, online, refresh, refresh_capex,
      demand, serving, arr, fcf, jump, old_cost, old_vintage, opex_growth, vendor, capex_rate,
      fcf_rate;
  alignas(64) std::int32_t rd_lead[W], rd_life[W];
  int wpos = 0, vpos = 0, fpos = 0;
  int moved = 1;  // did any lane start GW in the previous step? (B_i changed)
  alignas(64) Lanes log_w;
  for (int i = 0; i < n; ++i) {
    const double t = i * dt;
    const std::uint32_t step = static_cast<std::uint32_t>(i);

    // Variates: one shocks block and one events block per lane.
    rng_draw.step(step, z0, z1, z2, z3, u_reg, u_jump);

    // Ring read positions: the slot written lag steps ago.
    for (int l = 0; l < W; ++l) {
      const std::int32_t a = wpos - lead_ring[l], b = vpos - life_ring[l];
      rd_lead[l] = a < 0 ? a + lead_max : a;
      rd_life[l] = b < 0 ? b + life_max : b;
    }
    for (int l = 0; l < W; ++l) {
      old_cost[l] = sk_ring[rd_lead[l] * W + l];
      online[l] = s_ring[rd_lead[l] * W + l];
      old_vintage[l] = v_ring[rd_life[l] * W + l];
    }

    // 4.1 regime, execution factor, pace, starts; 4.2 cost per GW
    int open = 0;  // any lane still below its plan cap? (OR reduction)
    for (int l = 0; l < W; ++l) {
      // Selects straight on comparisons (0/1 doubles, no bool masks), which vectorise.
      const double switch_on = u_reg[l] < p_on[l] ? dis_on[l] : 0.0;
      const double stay_on = u_reg[l] < p_off[l] ? 0.0 : 1.0;
      regime[l] = regime[l] == 0 ? switch_on : stay_on;
      open |= plan_room[l] - started[l] > 0;
    }
    if (open) {
      for (int l = 0; l < W; ++l) {
        const double f = vmath::exp(x[l] - half_var_x[l]);
        const double pace = max_pace[l] / (1 + vmath::exp((ramp_mid[l] - t) * inv_width[l]));
        const double sv = pace * weeks_per_step * f * (regime[l] != 0 ? dis_mult[l] : 1.0);
        const double room = plan_room[l] - started[l];
        const double m = room < sv ? room : sv;  // std::min(sv, room)
        s[l] = room > 0 ? m : 0.0;
      }
    } else {
      // Every lane has reached its plan cap: no starts, and no need for f or the pace.
      for (int l = 0; l < W; ++l) s[l] = 0.0;
    }
    if (moved) {  // B changed on some lane last step: recompute ln of Wright's factor
      for (int l = 0; l < W; ++l)
        log_w[l] = log_wright(initial_gw[l] + started[l], inv_initial[l], beta[l]);
    }
    moved = 0;
    for (int l = 0; l < W; ++l) {
      K[l] = cost0[l] * vmath::exp(y[l] + log_w[l]);
      moved |= s[l] != 0;
    }

    // 4.3 construction, 4.4 refresh
    for (int l = 0; l < W; ++l) {
      const double sk = s[l] * K[l];
      window[l] += sk - old_cost[l];
      capex[l] = window[l] * inv_lead[l];
      capacity[l] += online[l];
      started[l] += s[l];
      const double r = old_vintage[l];
      refresh[l] = i < life[l] ? r + refresh0[l] : r;
      refresh_capex[l] = it_share[l] * K[l] * refresh[l];
    }
    for (int l = 0; l < W; ++l) {
      sk_ring[wpos * W + l] = s[l] * K[l];
      s_ring[wpos * W + l] = s[l];
      v_ring[vpos * W + l] = online[l] + refresh[l];
    }

    // 4.5 revenue, 4.6 costs, 4.7 vendor financing, 4.8 cash, outputs
    const double cpay = contract_pay[i], cgw = contract_gw[i], eq = equity[i];
    const bool after_year = i + 1 >= year_steps;
    const double di = static_cast<double>(i);
    if (opex_factor) {
      for (int l = 0; l < W; ++l) opex_growth[l] = opex_factor[i];
    } else {
      for (int l = 0; l < W; ++l) opex_growth[l] = vmath::exp(fixed_growth[l] * t);
    }
    for (int l = 0; l < W; ++l) {
      demand[l] = vmath::exp(log_demand[l]);
      serving[l] = capacity[l] + cgw;
      const double cap_arr = arr_per_gw[l] * serving[l];
      arr[l] = cap_arr < demand[l] ? cap_arr : demand[l];  // std::min(demand, cap_arr)
      const double idle = serving[l] - arr[l] * inv_apg[l];
      const double resale = idle * resale_rate[l];
      const double opex =
          (power_ops[l] * capacity[l] + rev_cost[l] * arr[l] + fixed_opex[l] * opex_growth[l]) * dt;
      fcf[l] = arr[l] * dt + resale - capex[l] - refresh_capex[l] - cpay - opex;
    }
    for (int l = 0; l < W; ++l) vendor[l] = 0;
    for (std::size_t k = 0; k < vendors; ++k) {
      const double per_gw = sc.vendors[k].per_gw_bn, cap = sc.vendors[k].cap_bn;
      double* __restrict vpaid = paid + k * W;
      for (int l = 0; l < W; ++l) {
        const double due = per_gw * online[l];
        const double left = cap - vpaid[l];
        const double inflow = left < due ? left : due;  // std::min(due, left)
        vpaid[l] += inflow;
        vendor[l] += inflow;
      }
    }
    for (int l = 0; l < W; ++l) cash[l] += fcf[l] + vendor[l] + eq;
    for (int l = 0; l < W; ++l) {
      const double w = cash[l];
      const bool lower = w < min_cash[l];
      min_cash[l] = lower ? w : min_cash[l];
      min_step[l] = lower ? di : min_step[l];
      runway_step[l] = runway_step[l] < 0 && w < 0 ? di : runway_step[l];
      trailing[l] += fcf[l] - f_ring[fpos * W + l];
      f_ring[fpos * W + l] = fcf[l];
      breakeven_step[l] =
          breakeven_step[l] < 0 && after_year && trailing[l] > 0 ? di : breakeven_step[l];
      capex_total[l] += capex[l] + refresh_capex[l];
      arr_last[l] = arr[l];
    }
    while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint] == i) {
      double* col = out + (base_output_count + next_checkpoint++) * W;
      for (int l = 0; l < W; ++l) col[l] = arr[l];
    }
    if (bands) {
      // Row (series, i) of the buffer takes the series' lane array (MODEL.md §5).
      for (int l = 0; l < W; ++l) {
        capex_rate[l] = (capex[l] + refresh_capex[l]) / dt;
        fcf_rate[l] = fcf[l] / dt;
      }
      const double* source[series_count];
      source[static_cast<int>(Series::cash)] = cash;
      source[static_cast<int>(Series::capacity)] = capacity;
      source[static_cast<int>(Series::serving_capacity)] = serving;
      source[static_cast<int>(Series::arr)] = arr;
      source[static_cast<int>(Series::demand)] = demand;
      source[static_cast<int>(Series::capex_rate)] = capex_rate;
      source[static_cast<int>(Series::fcf_rate)] = fcf_rate;
      source[static_cast<int>(Series::cost_per_gw)] = K;
      for (std::size_t k = 0; k < series_count; ++k)
        std::memcpy(
            bands + (k * static_cast<std::size_t>(n) + static_cast<std::size_t>(i)) * band_stride,
            source[k], sizeof(Lanes));
    }
    if (++wpos == lead_max) wpos = 0;
    if (++vpos == life_max) vpos = 0;
    if (++fpos == year_steps) fpos = 0;

    // Advance the processes to step i+1.
    if (any_jump)
      rng_draw.jumps(step, u_jump, jump_lambda, jump_p0, pc, jump);
    else
      for (int l = 0; l < W; ++l) jump[l] = 0;
    for (int l = 0; l < W; ++l) {
      x[l] = x[l] * decay_x[l] + vol_x[l] * z0[l];
      y[l] += drift_c[l] + vol_c[l] * z1[l];
      log_demand[l] += (g[l] - half_var_d[l]) * dt + vol_d[l] * z2[l] + jump[l];
      g[l] = g_inf[l] + (g[l] - g_inf[l]) * decay_g[l] + vol_g[l] * z3[l];
    }
  }

  for (int l = 0; l < W; ++l) {
    const double gap = 0.0 < -min_cash[l] ? -min_cash[l] : 0.0;  // std::max(0.0, -min_cash)
    out[static_cast<int>(Output::funding_gap) * W + l] = gap;
    out[static_cast<int>(Output::gap_time) * W + l] = gap > 0 ? (min_step[l] + 1) * dt : nan;
    out[static_cast<int>(Output::runway) * W + l] =
        runway_step[l] >= 0 ? (runway_step[l] + 1) * dt : nan;
    out[static_cast<int>(Output::breakeven) * W + l] =
        breakeven_step[l] >= 0 ? (breakeven_step[l] + 1) * dt : nan;
    out[static_cast<int>(Output::terminal_cash) * W + l] = cash[l];
    out[static_cast<int>(Output::capex_total) * W + l] = capex_total[l];
    out[static_cast<int>(Output::capacity_end) * W + l] = capacity[l];
    out[static_cast<int>(Output::arr_end) * W + l] = arr_last[l];
  }
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
  const StepVariates rng_draw(model, seed, first_path, shock_on, event_on, any_shock, any_event);
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
