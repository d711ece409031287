#pragma once
// The model's step loop, written once over a lane width W (docs/architecture.md).
//
// simulate_lanes<W> advances W paths together, one step at a time; every state variable
// is a lane array, so each update is a loop over lanes that the compiler vectorises.
// W = 1 is the reference kernel (simulate_path, run_serial); W = block_width is the fast
// kernel behind run() (src/block.cpp). Both are this one function, so they cannot drift.
//
// Rules that make a path's bits independent of W and of its block:
//  - every lane computes the same expression, operand for operand, whatever W is;
//  - transcendental functions come from vmath, never <cmath>, inside the step loop;
//  - contraction into fused multiply-adds is off for the whole library (CMakeLists.txt);
//  - branches become selects on comparisons; the only data-dependent branches skip work
//    whose result every lane would discard (a block whose lanes have all reached their
//    plan cap starts nothing; Wright's factor is recomputed only when some lane started
//    GW), and the rare Poisson jumps run scalar code for the lanes that have one.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "capexsim/detail/band_sink.hpp"
#include "capexsim/detail/financing_lanes.hpp"
#include "capexsim/detail/step_lanes.hpp"
#include "capexsim/detail/terms_lanes.hpp"
#include "capexsim/detail/variates.hpp"
#include "capexsim/path_model.hpp"
#include "capexsim/schema.hpp"

namespace capexsim::detail {

/// Simulate paths first_path .. first_path + W - 1 (docs/model.md §4): writes output k of
/// lane l to out[k * W + l] (model.output_count() outputs) and calls sink(step) with
/// the StepLanes of every step.
/// Always inlined, so that src/block.cpp's per-CPU clones compile it at their own vector
/// width (a call would run the generic x86-64 build).
template <int W, class Sink>
__attribute__((always_inline)) inline void simulate_lanes(const PathModel& model,
                                                          std::uint64_t seed,
                                                          std::uint64_t first_path,
                                                          PathWorkspace& ws, double* out,
                                                          Sink&& sink) {
  using Lanes = double[W];
  const Scenario& sc = model.scenario();
  const int n = model.steps();
  const double dt = model.dt();
  const double weeks_per_step = 52 * dt;
  const double nan = std::numeric_limits<double>::quiet_NaN();

  // §3 static inputs and the per-path constants derived from them, lane by lane.
  PathConstants pc[W];
  const std::size_t kept = ws.keep_params.size();
  if (kept) ws.lane_inputs.resize(kept * W);
  for (int l = 0; l < W; ++l) {
    pc[l] = path_constants(model, rng::PathRng(seed, first_path + l), ws.inputs);
    for (std::size_t j = 0; j < kept; ++j) ws.lane_inputs[j * W + l] = ws.inputs[ws.keep_params[j]];
  }

  alignas(64) Lanes initial_gw, plan_room, max_pace, ramp_mid, inv_width, half_var_x, decay_x,
      vol_x, dis_on, p_on, p_off, dis_mult, cost0, drift_c, vol_c, beta, inv_lead, inv_initial,
      inv_apg, life, refresh0, it_share, g_inf, decay_g, vol_g, half_var_d, vol_d, jump_lambda,
      jump_p0, arr_per_gw, resale_rate, power_ops, rev_cost, fixed_opex, fixed_growth, shock_on,
      event_on, apg_growth, own_share, rent_share, rent_rate, opex_h_inf;
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
    apg_growth[l] = c.arr_per_gw_growth;
    own_share[l] = 1 - c.rent_share;
    rent_share[l] = c.rent_share;
    rent_rate[l] = c.rent_per_gw_step;
    opex_h_inf[l] = sc.fixed_opex_long_run_growth.value_or(c.fixed_growth);
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

  // Rings, lane-minor. One write position for all lanes (step i mod ring size); each lane
  // reads its own lag back from it. A lane whose lag is shorter than the ring reads the
  // value written lag steps ago, or an unwritten 0 before that: s_{i-L} = 0 for i < L.
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
  // §13.7 opex growth relaxing to a long-run rate, for a growth drawn per path.
  const double* opex_relax = model.fixed_opex_reversion_term().empty()
                                 ? nullptr
                                 : model.fixed_opex_reversion_term().data();
  // §13.6 revenue per GW rising (else arr_per_gw and its inverse stay the constants).
  const bool apg_rises = model.has_arr_per_gw_growth();
  // §13.10 calendar-year sums, accumulated into their output columns.
  const int yearly_revenue = model.yearly_column(YearlyKind::revenue),
            yearly_fcf = model.yearly_column(YearlyKind::fcf),
            yearly_capex = model.yearly_column(YearlyKind::capex),
            yearly_need = model.yearly_column(YearlyKind::need);
  const std::size_t years_n = model.yearly_years().size();
  for (int c : {yearly_revenue, yearly_fcf, yearly_capex, yearly_need})
    if (c >= 0)
      for (std::size_t y = 0; y < years_n; ++y)
        for (int l = 0; l < W; ++l) out[(static_cast<std::size_t>(c) + y) * W + l] = 0;

  // State carried from step to step.
  alignas(64) Lanes x, y, log_demand, started, built, window, trailing, min_cash, min_step,
      runway_step, breakeven_step, sustained_step, capex_total;
  // §13.1 the gross need: shadow cash V (initial cash plus FCF, no financing) and its
  // minimum; §13.2 the ledger's flows that the kernel sees (financing keeps the others).
  alignas(64) Lanes shadow, min_shadow, min_shadow_step, flow_revenue, flow_contracts, flow_opex,
      flow_vendor, flow_equity, flow_rent;
  StepLanes<W> st;
  st.dt = dt;
  for (int l = 0; l < W; ++l) {
    x[l] = pc[l].x0;
    y[l] = 0;
    st.growth[l] = pc[l].g0;
    log_demand[l] = pc[l].log_demand0;
    st.regime[l] = 0;
    started[l] = 0;
    built[l] = 0;
    window[l] = 0;
    st.leased_gw[l] = 0;
    st.rent[l] = 0;
    st.capacity_gw[l] = pc[l].initial_gw;
    st.cash[l] = pc[l].initial_cash;
    trailing[l] = 0;
    min_cash[l] = std::numeric_limits<double>::infinity();
    min_step[l] = -1;
    runway_step[l] = -1;
    breakeven_step[l] = -1;
    sustained_step[l] = -1;
    capex_total[l] = 0;
    st.arr[l] = 0;
    shadow[l] = pc[l].initial_cash;
    min_shadow[l] = std::numeric_limits<double>::infinity();
    min_shadow_step[l] = -1;
    flow_revenue[l] = flow_contracts[l] = flow_opex[l] = flow_vendor[l] = flow_equity[l] = 0;
    flow_rent[l] = 0;
  }
  // Names for the step's quantities (the state lives in `st`).
  double* __restrict regime = st.regime;
  double* __restrict f = st.exec_factor;
  double* __restrict pace = st.pace_target;
  double* __restrict s = st.started_gw;
  double* __restrict K = st.cost_per_gw;
  double* __restrict capex = st.capex;
  double* __restrict online = st.online_gw;
  double* __restrict capacity = st.capacity_gw;
  double* __restrict refresh = st.refresh_gw;
  double* __restrict refresh_capex = st.refresh_capex;
  double* __restrict g = st.growth;
  double* __restrict demand = st.demand;
  double* __restrict serving = st.serving_gw;
  double* __restrict arr = st.arr;
  double* __restrict idle = st.idle_gw;
  double* __restrict resale = st.resale;
  double* __restrict opex = st.opex;
  double* __restrict vendor = st.vendor;
  double* __restrict fcf = st.fcf;
  double* __restrict cash = st.cash;
  double* __restrict leased = st.leased_gw;
  double* __restrict rent = st.rent;

  const StepVariates<W> rng_draw(model, seed, first_path, shock_on, event_on, any_shock, any_event);
  // §10 optional financing: only scenarios that configure it run it.
  std::optional<FinancingLanes<W>> financing;
  // Each source of financing draws is its own group for pick-freeze (docs/sensitivity.md):
  // the lanes switch debt rates, valuation, equity capacity and warrant prices themselves.
  const Variation& var = model.variation();
  if (model.has_financing()) financing.emplace(model, seed, first_path);
  alignas(64) Lanes vendor_equity;
  for (int l = 0; l < W; ++l)
    st.debt[l] = 0, st.ownership[l] = 1, vendor_equity[l] = 0, st.arrears[l] = 0;
  // §10 deal terms drawn per path: each lane's own schedules (off in v1).
  std::optional<LaneTerms<W>> terms;
  if (model.per_path_terms())
    terms.emplace(model, var.seed_of(ProcessGroup::deal_terms, seed), first_path);
  alignas(64) Lanes cpay, cgw, eq;
  // Vendor terms per lane ([vendor][lane]): drawn per path, or the scenario's fixed ones.
  ws.vendor_terms.resize(2 * vendors * W);
  double* __restrict vendor_per_gw = ws.vendor_terms.data();
  double* __restrict vendor_cap = vendor_per_gw + vendors * W;
  for (std::size_t k = 0; k < vendors; ++k)
    for (int l = 0; l < W; ++l) {
      vendor_per_gw[k * W + l] = terms ? terms->per_gw[k * W + l] : sc.vendors[k].per_gw_bn.value();
      vendor_cap[k * W + l] = terms ? terms->cap[k * W + l] : sc.vendors[k].cap_bn.value();
    }
  // §10.5 a lab that reacts: demand-led starts and the funding brake (off in v1).
  const bool demand_led = model.demand_led(), brake = model.has_brake();
  // §13.3 under unpaid = true the residual is the peak of arrears; §13.4 breakeven is
  // judged on free cash flow after interest when the lab has debt.
  const bool arrears_gap = model.leaves_unpaid(), levered = model.has_debt();
  const double brake_cash = brake ? *sc.financing.constraint->brake_cash_bn : 0.0;
  alignas(64) Lanes coverage, lead, pipe;
  const std::uint64_t coverage_seed = var.seed_of(ProcessGroup::plan_coverage, seed);
  for (int l = 0; l < W; ++l) {
    const Distribution& cov = sc.plan.coverage;
    coverage[l] =
        !demand_led ? 0.0
        : cov.is_fixed()
            ? cov.value()
            : cov.sample(
                  rng::PathRng(coverage_seed, first_path + l).static_uniform(rng::coverage_id));
    lead[l] = pc[l].lead;
    pipe[l] = 0;
  }
  // §12.6 revenue contracts: each one's default step per lane (drawn once per path on its
  // own counters; n = never within the horizon), what it paid, and the joint-run switches.
  const auto& rc_pay = model.revenue_payments();
  const auto& rc_gw = model.revenue_gw();
  const std::size_t revenue_contracts = rc_pay.size();
  ws.revenue_default.assign(revenue_contracts * W, static_cast<double>(n));
  std::vector<double> rc_received(revenue_contracts * W, 0.0);
  const std::uint64_t default_seed = var.seed_of(ProcessGroup::revenue_defaults, seed);
  for (std::size_t k = 0; k < revenue_contracts; ++k) {
    const RevenueContract& c = sc.revenue_contracts[k];
    if (static_cast<int>(k) == ws.override_contract) continue;  // the lab's own risk instead
    for (int l = 0; l < W; ++l) {
      const rng::PathRng r(default_seed, first_path + static_cast<std::uint64_t>(l));
      const double rate =
          c.default_rate.is_fixed()
              ? c.default_rate.value()
              : c.default_rate.sample(r.static_uniform(rng::revenue_default_id(k, 0)));
      if (!(rate > 0)) continue;
      const double when = -std::log1p(-r.static_uniform(rng::revenue_default_id(k, 1))) / rate;
      const int d = model.step_containing(c.start_year + when);
      if (d < n && c.start_year + when < c.start_year + c.years)
        ws.revenue_default[k * W + l] = std::max(0, d);
    }
  }
  alignas(64) Lanes rc_step, rc_reserved;
  for (int l = 0; l < W; ++l) rc_step[l] = rc_reserved[l] = 0;
  for (int l = 0; l < W; ++l) st.contracted_revenue[l] = 0;
  alignas(64) Lanes z0, z1, z2, z3, u_reg, u_jump, jump, old_cost, old_vintage, opex_growth, log_w,
      arrive, leased_on, apg, inv_apg_t;
  alignas(64) std::int32_t rd_lead[W], rd_life[W];
  int wpos = 0, vpos = 0, fpos = 0;
  int moved = 1;            // did any lane start GW in the previous step? (B_i changed)
  std::size_t next_by = 0;  // §13.1 the need and residual by each checkpoint
  for (int i = 0; i < n; ++i) {
    const double t = i * dt;
    // Steps 0 .. i-1 end at or before checkpoint i's time: their peaks are the need and
    // the residual by then.
    while (next_by < checkpoints.size() && checkpoints[next_by] == i) {
      double* need_col = out + (model.need_by_column() + next_by) * W;
      double* gap_col = out + (model.gap_by_column() + next_by) * W;
      for (int l = 0; l < W; ++l) {
        need_col[l] = 0.0 < -min_shadow[l] ? -min_shadow[l] : 0.0;
        gap_col[l] = 0.0 < -min_cash[l] ? -min_cash[l] : 0.0;
      }
      ++next_by;
    }
    const std::uint32_t step = static_cast<std::uint32_t>(i);
    rng_draw.step(step, z0, z1, z2, z3, u_reg, u_jump);

    // Ring read positions: the slot written lag steps ago.
    for (int l = 0; l < W; ++l) {
      const std::int32_t a = wpos - lead_ring[l], b = vpos - life_ring[l];
      rd_lead[l] = a < 0 ? a + lead_max : a;
      rd_life[l] = b < 0 ? b + life_max : b;
    }
    for (int l = 0; l < W; ++l) {
      old_cost[l] = sk_ring[rd_lead[l] * W + l];  // owned share of s_{i-L} K_{i-L}
      arrive[l] = s_ring[rd_lead[l] * W + l];     // s_{i-L}, owned and leased
      // §13.5: a_i is the owned share of what arrives; the rest is leased.
      online[l] = arrive[l] * own_share[l];
      leased_on[l] = arrive[l] * rent_share[l];
      old_vintage[l] = v_ring[rd_life[l] * W + l];
    }
    // §13.6 revenue one GW serves at t_i (the constants when it does not grow).
    if (apg_rises) {
      for (int l = 0; l < W; ++l) {
        apg[l] = arr_per_gw[l] * vmath::exp(apg_growth[l] * t);
        inv_apg_t[l] = 1 / apg[l];
      }
    } else {
      std::memcpy(apg, arr_per_gw, sizeof apg);
      std::memcpy(inv_apg_t, inv_apg, sizeof inv_apg_t);
    }

    // §4.1 disruption regime (Markov), execution factor, target pace, GW started.
    int open = 0;  // any lane still below its plan cap? (OR reduction)
    for (int l = 0; l < W; ++l) {
      const double switch_on = u_reg[l] < p_on[l] ? dis_on[l] : 0.0;
      const double stay_on = u_reg[l] < p_off[l] ? 0.0 : 1.0;
      regime[l] = regime[l] == 0 ? switch_on : stay_on;
      open |= plan_room[l] - started[l] > 0;
    }
    if (open) {
      for (int l = 0; l < W; ++l) {
        f[l] = vmath::exp(x[l] - half_var_x[l]);
        pace[l] = max_pace[l] / (1 + vmath::exp((ramp_mid[l] - t) * inv_width[l]));
        const double sv = pace[l] * weeks_per_step * f[l] * (regime[l] != 0 ? dis_mult[l] : 1.0);
        const double room = plan_room[l] - started[l];  // remaining, floored at 0
        const double m = room < sv ? room : sv;         // min(sv, room)
        s[l] = room > 0 ? m : 0.0;
      }
    } else {
      // Every lane has reached its plan cap: nothing starts, f and the pace are not needed.
      for (int l = 0; l < W; ++l) s[l] = 0.0, f[l] = nan, pace[l] = nan;
    }
    if (demand_led) {
      // §10.5 demand-led plan: start only what demand projected to completion needs,
      // coverage x D_i e^{g_i L dt} / arr_per_gw, net of GW contracted then, of capacity
      // (owned and leased, with this step's additions) and of the pipeline started but not
      // online (owned and leased, §13.5).
      for (int l = 0; l < W; ++l) {
        const long ahead = i + static_cast<long>(lead[l]);
        const double target =
            coverage[l] * vmath::exp(log_demand[l]) * vmath::exp(g[l] * lead[l] * dt) / apg[l] -
            (terms ? terms->gw_at(ahead, l) : model.contract_gw_at(ahead));
        const double pipeline = pipe[l] - arrive[l];
        s[l] = std::min(s[l],
                        std::max(0.0, target - (capacity[l] + leased[l] + arrive[l]) - pipeline));
        pipe[l] = pipeline;
      }
    }
    if (brake) {
      // §10.5 funding brake: no starts when opening cash is below brake_cash or while
      // arrears are outstanding (§13.3).
      for (int l = 0; l < W; ++l)
        if (cash[l] < brake_cash || (financing && financing->in_arrears(l))) s[l] = 0.0;
    }
    if (demand_led) {
      // The pipeline holds only GW actually started (after the brake): the fix of §13.
      for (int l = 0; l < W; ++l) pipe[l] += s[l];
    }

    // §4.2 cost per GW: GBM level times Wright's law on cumulative GW started (B_i).
    if (moved) {
      for (int l = 0; l < W; ++l)
        log_w[l] = log_wright(initial_gw[l] + built[l], inv_initial[l], beta[l]);
    }
    moved = 0;
    for (int l = 0; l < W; ++l) {
      K[l] = cost0[l] * vmath::exp(y[l] + log_w[l]);
      moved |= s[l] != 0;
    }

    // §4.3 construction (capex spread over the lead time, online after it), §4.4 refresh.
    // §13.5: only the owned share of a start is built and paid for; the leased share
    // comes online after the same lead time and pays rent from then on.
    for (int l = 0; l < W; ++l) {
      const double owned_start = s[l] * own_share[l];
      const double sk = owned_start * K[l];
      window[l] += sk - old_cost[l];
      capex[l] = window[l] * inv_lead[l];
      capacity[l] += online[l];
      leased[l] += leased_on[l];
      rent[l] = leased[l] * rent_rate[l];
      started[l] += s[l];
      built[l] += owned_start;
      const double r = old_vintage[l];
      refresh[l] = i < life[l] ? r + refresh0[l] : r;
      refresh_capex[l] = it_share[l] * K[l] * refresh[l];
    }
    for (int l = 0; l < W; ++l) {
      sk_ring[wpos * W + l] = s[l] * own_share[l] * K[l];
      s_ring[wpos * W + l] = s[l];
      v_ring[vpos * W + l] = online[l] + refresh[l];  // v_i = a_i + r_i
    }

    // §4.5 demand, revenue, resale; §4.6 opex and contracts; §4.8 free cash flow.
    if (terms) {  // this path's own deal terms
      std::memcpy(cpay, terms->pay.data() + static_cast<std::size_t>(i) * W, sizeof cpay);
      std::memcpy(cgw, terms->gw.data() + static_cast<std::size_t>(i) * W, sizeof cgw);
      std::memcpy(eq, terms->equity.data() + static_cast<std::size_t>(i) * W, sizeof eq);
    } else {
      for (int l = 0; l < W; ++l)
        cpay[l] = contract_pay[i], cgw[l] = contract_gw[i], eq[l] = equity[i];
    }
    const bool after_year = i + 1 >= year_steps;
    const double di = static_cast<double>(i);
    if (opex_factor) {
      for (int l = 0; l < W; ++l) opex_growth[l] = opex_factor[i];
    } else if (opex_relax) {  // §13.7, growth drawn per path
      for (int l = 0; l < W; ++l)
        opex_growth[l] =
            vmath::exp(opex_h_inf[l] * t + (fixed_growth[l] - opex_h_inf[l]) * opex_relax[i]);
    } else {
      for (int l = 0; l < W; ++l) opex_growth[l] = vmath::exp(fixed_growth[l] * t);
    }
    if (revenue_contracts) {
      // §12.6: payments received, and the GW reserved for buyers that have not defaulted.
      for (int l = 0; l < W; ++l) rc_step[l] = rc_reserved[l] = 0;
      for (std::size_t k = 0; k < revenue_contracts; ++k) {
        const bool joint = static_cast<int>(k) == ws.override_contract;
        for (int l = 0; l < W; ++l) {
          const bool live = i < ws.revenue_default[k * W + l];
          const double pay = joint ? ws.revenue_override[static_cast<std::size_t>(i) * W + l]
                                   : (live ? rc_pay[k][static_cast<std::size_t>(i)] : 0.0);
          rc_step[l] += pay;
          rc_received[k * W + l] += pay;
          rc_reserved[l] += live ? rc_gw[k][static_cast<std::size_t>(i)] : 0.0;
        }
      }
    }
    for (int l = 0; l < W; ++l) {
      demand[l] = vmath::exp(log_demand[l]);
      serving[l] = capacity[l] + leased[l] + cgw[l];
      if (revenue_contracts) serving[l] = std::max(0.0, serving[l] - rc_reserved[l]);
      const double cap_arr = apg[l] * serving[l];
      arr[l] = cap_arr < demand[l] ? cap_arr : demand[l];  // min(demand, cap_arr)
      idle[l] = serving[l] - arr[l] * inv_apg_t[l];
      resale[l] = idle[l] * resale_rate[l];
      opex[l] =
          (power_ops[l] * capacity[l] + rev_cost[l] * arr[l] + fixed_opex[l] * opex_growth[l]) * dt;
      fcf[l] = arr[l] * dt + resale[l] - capex[l] - refresh_capex[l] - cpay[l] - opex[l] - rent[l];
    }
    if (revenue_contracts)
      for (int l = 0; l < W; ++l) {
        fcf[l] += rc_step[l];
        st.contracted_revenue[l] = rc_step[l];
      }
    // §4.7 vendor financing on owned GW coming online, until each vendor's cap.
    for (int l = 0; l < W; ++l) vendor[l] = 0;
    for (std::size_t k = 0; k < vendors; ++k) {
      const double* __restrict per_gw = vendor_per_gw + k * W;
      const double* __restrict cap = vendor_cap + k * W;
      // §10.2: equity-kind vendor money buys shares (it dilutes); a grant does not.
      const double as_equity = sc.vendors[k].kind == VendorFinancing::Kind::equity ? 1.0 : 0.0;
      // §13.5 basis: owned GW coming online (v1) or every GW deployed, owned and leased.
      const double* __restrict counted = sc.vendors[k].basis == GwBasis::deployed ? arrive : online;
      double* __restrict vpaid = paid + k * W;
      for (int l = 0; l < W; ++l) {
        const double due = per_gw[l] * counted[l];
        const double left = cap[l] - vpaid[l];
        const double inflow = left < due ? left : due;  // min(due, left)
        vpaid[l] += inflow;
        vendor[l] += inflow;
        vendor_equity[l] += as_equity * inflow;
      }
    }
    // §4.8 cash, and the running state of the outputs (§5).
    for (int l = 0; l < W; ++l) cash[l] += fcf[l] + vendor[l] + eq[l];
    if (financing) {
      financing->step(i, t, cash, arr, online, arrive, vendor_equity, st.debt, st.ownership);
      financing->settle(i, cash, capex, refresh_capex, opex, rent,
                        terms ? terms->own_pay.data() : nullptr);
      for (int l = 0; l < W; ++l) vendor_equity[l] = 0;
    }
    if (ws.capture) {
      // A joint run's lab: what it paid on the captured contract this step (§12.6).
      double* paid_now = ws.capture + static_cast<std::size_t>(i) * W;
      const std::size_t c = static_cast<std::size_t>(ws.capture_contract);
      const std::size_t steps_n = static_cast<std::size_t>(n);
      for (int l = 0; l < W; ++l)
        paid_now[l] = terms ? terms->own_pay[(c * steps_n + static_cast<std::size_t>(i)) * W +
                                             static_cast<std::size_t>(l)]
                            : model.contract_payments()[c][static_cast<std::size_t>(i)];
      if (financing) financing->paid_on(c, paid_now);
    }
    // §13.1 gross need (shadow cash) and §13.2 ledger flows.
    for (int l = 0; l < W; ++l) {
      shadow[l] += fcf[l];
      const bool lower = shadow[l] < min_shadow[l];
      min_shadow[l] = lower ? shadow[l] : min_shadow[l];
      min_shadow_step[l] = lower ? di : min_shadow_step[l];
      flow_revenue[l] += arr[l] * dt + resale[l] + (revenue_contracts ? rc_step[l] : 0.0);
      flow_contracts[l] += cpay[l];
      flow_opex[l] += opex[l];
      flow_rent[l] += rent[l];
      flow_vendor[l] += vendor[l];
      flow_equity[l] += eq[l];
    }
    const double* interest = levered ? financing->interest() : nullptr;
    for (int l = 0; l < W; ++l) {
      // The residual's running state: cash, or under unpaid = true minus the arrears.
      if (arrears_gap) st.arrears[l] = financing->arrears(l);
      const double w = arrears_gap ? -st.arrears[l] : cash[l];
      const bool lower = w < min_cash[l];
      min_cash[l] = lower ? w : min_cash[l];
      min_step[l] = lower ? di : min_step[l];
      runway_step[l] = runway_step[l] < 0 && w < 0 ? di : runway_step[l];
      const double fl = levered ? fcf[l] - interest[l] : fcf[l];
      trailing[l] += fl - f_ring[fpos * W + l];
      f_ring[fpos * W + l] = fl;
      const bool positive = after_year && trailing[l] > 0;
      breakeven_step[l] = breakeven_step[l] < 0 && positive ? di : breakeven_step[l];
      // The start of the current run of positive trailing-year FCF (-1 outside one).
      sustained_step[l] = positive ? (sustained_step[l] < 0 ? di : sustained_step[l]) : -1.0;
      capex_total[l] += capex[l] + refresh_capex[l];
    }
    if (years_n) {  // §13.10 calendar-year sums, and the gross need through each year
      const std::size_t y = static_cast<std::size_t>(model.year_index()[i]);
      if (yearly_revenue >= 0) {
        double* col = out + (static_cast<std::size_t>(yearly_revenue) + y) * W;
        for (int l = 0; l < W; ++l)
          col[l] += arr[l] * dt + resale[l] + (revenue_contracts ? rc_step[l] : 0.0);
      }
      if (yearly_need >= 0) {
        // The peak so far; the year's last step leaves the peak through its end.
        double* col = out + (static_cast<std::size_t>(yearly_need) + y) * W;
        for (int l = 0; l < W; ++l) col[l] = 0.0 < -min_shadow[l] ? -min_shadow[l] : 0.0;
      }
      if (yearly_fcf >= 0) {
        double* col = out + (static_cast<std::size_t>(yearly_fcf) + y) * W;
        for (int l = 0; l < W; ++l) col[l] += fcf[l];
      }
      if (yearly_capex >= 0) {
        double* col = out + (static_cast<std::size_t>(yearly_capex) + y) * W;
        for (int l = 0; l < W; ++l) col[l] += capex[l] + refresh_capex[l];
      }
    }
    while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint] == i) {
      double* col = out + (model.checkpoint_column() + next_checkpoint++) * W;
      for (int l = 0; l < W; ++l) col[l] = arr[l];
    }
    st.i = i;
    st.t = t;
    std::memcpy(st.contracts, cpay, sizeof cpay);
    std::memcpy(st.equity, eq, sizeof eq);
    sink(static_cast<const StepLanes<W>&>(st));
    if (++wpos == lead_max) wpos = 0;
    if (++vpos == life_max) vpos = 0;
    if (++fpos == year_steps) fpos = 0;

    // Advance the processes to step i+1: execution factor (OU), cost level (GBM), demand
    // (GBM with jumps), growth (OU).
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

  // §5 outputs; times are to the end of the step of the event.
  for (int l = 0; l < W; ++l) {
    const double gap = 0.0 < -min_cash[l] ? -min_cash[l] : 0.0;  // max(0, -min W)
    out[static_cast<int>(Output::funding_gap) * W + l] = gap;
    out[static_cast<int>(Output::gap_time) * W + l] = gap > 0 ? (min_step[l] + 1) * dt : nan;
    out[static_cast<int>(Output::runway) * W + l] =
        runway_step[l] >= 0 ? (runway_step[l] + 1) * dt : nan;
    out[static_cast<int>(Output::breakeven) * W + l] =
        breakeven_step[l] >= 0 ? (breakeven_step[l] + 1) * dt : nan;
    out[static_cast<int>(Output::terminal_cash) * W + l] = cash[l];
    out[static_cast<int>(Output::capex_total) * W + l] = capex_total[l];
    out[static_cast<int>(Output::capacity_end) * W + l] = capacity[l];
    out[static_cast<int>(Output::arr_end) * W + l] = arr[l];
    out[static_cast<int>(Output::breakeven_sustained) * W + l] =
        sustained_step[l] >= 0 ? (sustained_step[l] + 1) * dt : nan;
  }
  if (financing) financing->outputs(out);
  auto put = [&](Output o, const double* v) {
    if (const int c = model.column(o); c >= 0)
      for (int l = 0; l < W; ++l) out[static_cast<std::size_t>(c) * W + l] = v[l];
  };
  alignas(64) Lanes need, need_time;
  for (int l = 0; l < W; ++l) {
    need[l] = 0.0 < -min_shadow[l] ? -min_shadow[l] : 0.0;  // max(0, -min V)
    need_time[l] = need[l] > 0 ? (min_shadow_step[l] + 1) * dt : nan;
  }
  put(Output::funding_need, need);
  put(Output::need_time, need_time);
  put(Output::flow_revenue, flow_revenue);
  put(Output::flow_vendor, flow_vendor);
  put(Output::flow_scheduled_equity, flow_equity);
  put(Output::flow_capex, capex_total);
  put(Output::flow_contracts, flow_contracts);
  put(Output::flow_opex, flow_opex);
  put(Output::flow_rent, flow_rent);
  for (std::size_t k = 0; k < revenue_contracts; ++k) {
    double* received = out + (model.revenue_column() + k) * W;
    double* defaulted = out + (model.revenue_column() + revenue_contracts + k) * W;
    for (int l = 0; l < W; ++l) {
      received[l] = rc_received[k * W + l];
      const double d = ws.revenue_default[k * W + l];
      defaulted[l] = d < n ? (d + 1) * dt : nan;
    }
  }
  if (const int c = model.column(Output::gw_not_started); c >= 0)
    for (int l = 0; l < W; ++l) out[c * W + l] = plan_room[l] - started[l];
  if (const int c = model.column(Output::leased_gw_end); c >= 0)
    for (int l = 0; l < W; ++l) out[c * W + l] = leased[l];
}

}  // namespace capexsim::detail
