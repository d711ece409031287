#pragma once
// The path kernel: one Monte Carlo path of MODEL.md §4, step by step, and its outputs (§5).

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "capexsim/random.hpp"
#include "capexsim/sampling.hpp"
#include "capexsim/scenario.hpp"
#include "capexsim/vmath.hpp"

namespace capexsim {

/// The per-time series of MODEL.md §5, banded into fan charts.
enum class Series {
  cash,              // W after the step, $B
  capacity,          // owned GW, G_i
  serving_capacity,  // owned + contracted GW, C_i
  arr,               // realised ARR R_i, $B/yr
  demand,            // demand ARR D_i, $B/yr
  capex_rate,        // (capex_i + refresh_i) / dt, $B/yr
  fcf_rate,          // FCF_i / dt, $B/yr
  cost_per_gw,       // K_i, $B per GW
  count_
};
inline constexpr std::size_t series_count = static_cast<std::size_t>(Series::count_);
const char* series_name(Series s);

/// The scalar per-path outputs of MODEL.md §5, in column order; `arr_at_<year>`
/// checkpoints follow them.
enum class Output {
  funding_gap,    // max(0, -min_i W_{i+1}), $B
  gap_time,       // years to the minimum of W (NaN when funding_gap = 0)
  runway,         // years to the first W < 0 (NaN if never)
  breakeven,      // years to the first trailing-year FCF > 0, >= 1 (NaN if never)
  terminal_cash,  // W_n, $B
  capex_total,    // sum of capex + refresh, $B
  capacity_end,   // G_{n-1}, GW
  arr_end,        // R_{n-1}, $B/yr
  count_
};
inline constexpr std::size_t base_output_count = static_cast<std::size_t>(Output::count_);
const char* output_name(Output o);

/// Everything the kernel knows about step i of one path, in MODEL.md's notation.
struct StepState {
  int i = 0;
  double t = 0;              // t_i, years from start
  int regime = 0;            // d_i
  double exec_factor = 1;    // f_i
  double pace_target = 0;    // p_i, GW/week
  double started_gw = 0;     // s_i
  double cost_per_gw = 0;    // K_i
  double capex = 0;          // capex_i, $B in the step
  double online_gw = 0;      // a_i
  double capacity_gw = 0;    // G_i
  double refresh_gw = 0;     // r_i
  double refresh_capex = 0;  // refresh_i, $B in the step
  double growth = 0;         // g_i
  double demand = 0;         // D_i, $B/yr
  double serving_gw = 0;     // C_i
  double arr = 0;            // R_i, $B/yr
  double idle_gw = 0;        // E_i
  double resale = 0;         // resale_i, $B in the step
  double opex = 0;           // opex_i, $B in the step
  double contracts = 0;      // contract payments in the step, $B
  double vendor = 0;         // vendor financing inflow, $B
  double equity = 0;         // scheduled equity, $B
  double fcf = 0;            // FCF_i, $B in the step
  double cash = 0;           // W_{i+1}, $B
  double dt = 0;

  double series(Series s) const {
    switch (s) {
      case Series::cash:
        return cash;
      case Series::capacity:
        return capacity_gw;
      case Series::serving_capacity:
        return serving_gw;
      case Series::arr:
        return arr;
      case Series::demand:
        return demand;
      case Series::capex_rate:
        return (capex + refresh_capex) / dt;
      case Series::fcf_rate:
        return fcf / dt;
      case Series::cost_per_gw:
        return cost_per_gw;
      default:
        return std::numeric_limits<double>::quiet_NaN();
    }
  }
};

/// A scenario resolved onto its time grid: the deterministic schedules (contracts,
/// equity, checkpoints) and the Cholesky factor of the shock correlation. Immutable and
/// shared by every path and thread.
class PathModel {
 public:
  explicit PathModel(Scenario scenario);

  const Scenario& scenario() const { return scenario_; }
  int steps() const { return steps_; }
  double dt() const { return dt_; }
  std::size_t output_count() const { return base_output_count + checkpoint_steps_.size(); }
  std::vector<std::string> output_names() const;

  // Per-step schedules, length steps().
  const std::vector<double>& contract_payment() const { return contract_payment_; }
  const std::vector<double>& contract_gw() const { return contract_gw_; }
  const std::vector<double>& equity() const { return equity_; }
  /// e^{fixed_opex_growth t_i} per step when that growth is a fixed number (the usual
  /// case), so paths do not recompute it; empty when it is drawn per path.
  const std::vector<double>& fixed_opex_growth_factor() const { return fixed_opex_factor_; }
  const std::vector<int>& checkpoint_steps() const { return checkpoint_steps_; }
  /// Steps in the trailing year of the breakeven test: round(1/dt), at least 1.
  int year_steps() const { return std::max(1, static_cast<int>(std::lround(1 / dt_))); }
  /// Lower Cholesky factor of the correlation (canonical shock order).
  const Eigen::Matrix4d& cholesky() const { return chol_; }
  bool correlated() const { return correlated_; }
  /// The sampling design of the static inputs (inactive: plain random draws). run() sets
  /// it from the scenario's sampling and RunOptions (seed, design size).
  const StaticSampler& sampler() const { return sampler_; }
  void set_sampler(StaticSampler sampler) { sampler_ = std::move(sampler); }

  /// First step whose start is at or after `year` (calendar), with a 1e-9-step tolerance
  /// so that grid points computed in floating point land on the step they name.
  int first_step_at_or_after(double year) const;
  /// The step containing `year`: floor((year - start) / dt).
  int step_containing(double year) const;

 private:
  Scenario scenario_;
  int steps_;
  double dt_;
  std::vector<double> contract_payment_, contract_gw_, equity_, fixed_opex_factor_;
  std::vector<int> checkpoint_steps_;
  Eigen::Matrix4d chol_;
  bool correlated_;
  StaticSampler sampler_;
};

/// Scratch buffers of one path, reused across paths to keep allocation out of the loop.
struct PathWorkspace {
  std::vector<double> start_cost_ring;  // s_j K_j over the last L steps
  std::vector<double> start_ring;       // s_j over the last L steps
  std::vector<double> vintage_ring;     // v_j over the last U steps
  std::vector<double> fcf_ring;         // FCF_j over the trailing year
  std::vector<double> vendor_paid;
  std::array<double, param_count> inputs{};
};

/// Draw the static inputs of `path` into `inputs` (MODEL.md §3), through `design` when
/// it is active (lhs, sobol, input correlation).
inline void draw_inputs(const Scenario& s, const rng::PathRng& rng,
                        std::array<double, param_count>& inputs,
                        const StaticSampler* design = nullptr) {
  if (design && design->active()) return design->draw(s, rng, inputs);
  for (std::size_t k = 0; k < param_count; ++k) {
    const Distribution& d = s.params[k];
    inputs[k] =
        d.is_fixed() ? d.value() : d.sample(rng.static_uniform(static_cast<std::uint32_t>(k)));
  }
}

/// The per-path constants of the kernel: the static inputs (MODEL.md §3) turned into
/// the coefficients that the step loop uses (§4). Computed by one function for the
/// reference kernel and the block kernel alike, so both start every path from the same
/// bits.
struct PathConstants {
  // 4.1 build pace
  double initial_gw, inv_initial_gw, plan_room, max_pace, ramp_mid, inv_ramp_width;
  double var_x, decay_x, vol_x, x0;
  double disruption_rate, p_on, p_off, disruption_mult;
  // 4.2 cost
  double cost0, drift_c, vol_c, beta;
  // 4.3 / 4.4 construction and refresh, in steps; rings capped at the horizon
  double life, it_share;
  double inv_lead;  // 1 / lead time in steps: the kernels multiply (a vector division is slow)
  int lead_ring, life_ring;
  // 4.5 revenue
  double g0, g_inf, decay_g, vol_g, sigma_d, vol_d, log_demand0;
  double jump_lambda, jump_p0, jump_mean, jump_sd;
  double arr_per_gw, inv_arr_per_gw, resale_per_gw_step;
  // 4.6 costs
  double power_ops, rev_cost, fixed_opex, fixed_growth;
  double initial_cash;
  bool any_shock, any_event;
};

/// Draw path `path`'s static inputs and derive its constants.
inline PathConstants path_constants(const PathModel& model, const rng::PathRng& rng,
                                    std::array<double, param_count>& in) {
  using P = Param;
  const Scenario& sc = model.scenario();
  draw_inputs(sc, rng, in, &model.sampler());
  auto v = [&](Param p) { return in[static_cast<std::size_t>(p)]; };
  const int n = model.steps();
  const double dt = model.dt();
  PathConstants c;

  c.initial_gw = v(P::initial_gw);
  c.inv_initial_gw = 1 / c.initial_gw;
  c.plan_room = sc.has_plan_cap ? std::max(0.0, v(P::plan_cap_gw) - c.initial_gw)
                                : std::numeric_limits<double>::infinity();
  c.max_pace = v(P::max_pace_gw_per_week);
  c.ramp_mid = v(P::ramp_midpoint_years);
  c.inv_ramp_width = 1 / v(P::ramp_width_years);
  const double theta = v(P::pace_reversion), sigma_x = v(P::pace_volatility);
  c.var_x = sigma_x * sigma_x / (2 * theta);
  c.decay_x = std::exp(-theta * dt);
  c.vol_x = sigma_x * std::sqrt(-std::expm1(-2 * theta * dt) / (2 * theta));
  c.x0 = 0;
  if (sigma_x > 0)
    c.x0 = std::sqrt(c.var_x) * standard_normal_quantile(model.sampler().active()
                                                             ? model.sampler().x0_uniform(rng)
                                                             : rng.static_uniform(rng::x0_id));
  c.disruption_rate = v(P::disruption_rate);
  c.p_on = -std::expm1(-c.disruption_rate * dt);
  c.p_off = -std::expm1(-dt / v(P::disruption_mean_years));
  c.disruption_mult = v(P::disruption_multiplier);

  c.cost0 = v(P::cost_per_gw);
  const double sigma_c = v(P::cost_volatility);
  c.drift_c = (v(P::cost_drift) - 0.5 * sigma_c * sigma_c) * dt;
  c.vol_c = sigma_c * std::sqrt(dt);
  c.beta = -std::log2(1 - v(P::learning_rate));

  // Lead time and life in steps. Only the last min(L, n) starts (U vintages) can matter
  // within the horizon, so the rings are capped at n: when L >= n the slot that is read
  // was never written and holds 0, exactly s_{i-L} = 0. A huge input costs no memory.
  const double lead = std::max(1.0, std::round(v(P::lead_time_years) / dt));
  c.life = std::max(1.0, std::round(v(P::useful_life_years) / dt));
  c.inv_lead = 1 / lead;
  c.lead_ring = static_cast<int>(std::min<double>(lead, n));
  c.life_ring = static_cast<int>(std::min<double>(c.life, n));
  c.it_share = v(P::it_share);

  c.g0 = v(P::growth0);
  c.g_inf = v(P::long_run_growth);
  const double kappa = v(P::growth_reversion), sigma_g = v(P::growth_volatility);
  c.decay_g = std::exp(-kappa * dt);
  c.vol_g = sigma_g * std::sqrt(-std::expm1(-2 * kappa * dt) / (2 * kappa));
  c.sigma_d = v(P::arr_volatility);
  c.vol_d = c.sigma_d * std::sqrt(dt);
  c.log_demand0 = std::log(v(P::arr0));
  c.jump_lambda = v(P::jump_rate) * dt;
  c.jump_p0 = std::exp(-c.jump_lambda);
  c.jump_mean = v(P::jump_mean);
  c.jump_sd = v(P::jump_sd);
  c.arr_per_gw = v(P::arr_per_gw);
  c.inv_arr_per_gw = 1 / c.arr_per_gw;
  c.resale_per_gw_step = v(P::resale_price_per_gw_year) * v(P::resale_utilization) * dt;

  c.power_ops = v(P::power_ops_per_gw_year);
  c.rev_cost = v(P::revenue_cost_share);
  c.fixed_opex = v(P::fixed_opex);
  c.fixed_growth = v(P::fixed_opex_growth);
  c.initial_cash = v(P::initial_cash);

  c.any_shock = sigma_x > 0 || sigma_c > 0 || sigma_g > 0 || c.sigma_d > 0;
  c.any_event = c.disruption_rate > 0 || c.jump_lambda > 0;
  return c;
}

/// The log of Wright's factor, ln (B / initial)^-beta = -beta ln(B / initial) (0 when
/// beta = 0). The kernels compute K = cost_per_gw exp(y + this): one exp for the GBM
/// level and the learning curve together.
inline double log_wright(double built, double inv_initial_gw, double beta) {
  return beta != 0 ? -beta * vmath::log(built * inv_initial_gw) : 0.0;
}

/// The sum of the jumps of step `i` when its Poisson uniform `u` exceeds P(N = 0):
/// N by inversion, then N normals from the jumps stream (MODEL.md §4.5).
inline double jump_sum(const PathConstants& c, const rng::PathRng& rng, std::uint32_t step,
                       double u) {
  const int count = rng::poisson_by_inversion(u, c.jump_lambda, c.jump_p0);
  double jump = 0;
  if (count > 0) {
    rng::CounterEngine eng(rng::counter(rng.path(), step, rng::Stream::jumps, 0), rng.key0(),
                           rng.key1());
    for (int k = 0; k < count; ++k) jump += c.jump_mean + c.jump_sd * eng.normal();
  }
  return jump;
}

/// Simulate one path: the reference kernel, one path at a time and written to read like
/// MODEL.md §4. Writes model.output_count() values to `out` and calls
/// `sink(const StepState&)` after every step (a no-op lambda costs nothing). The block
/// kernel behind run() reproduces it bit for bit (tests/test_engine.cpp).
template <class Sink>
void simulate_path(const PathModel& model, std::uint64_t seed, std::uint64_t path,
                   PathWorkspace& ws, double* out, Sink&& sink) {
  const Scenario& sc = model.scenario();
  const rng::PathRng rng(seed, path);
  const PathConstants c = path_constants(model, rng, ws.inputs);

  const int n = model.steps();
  const double dt = model.dt();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double weeks_per_step = 52 * dt;

  ws.start_cost_ring.assign(c.lead_ring, 0.0);
  ws.start_ring.assign(c.lead_ring, 0.0);
  ws.vintage_ring.assign(c.life_ring, 0.0);
  const int year_steps = model.year_steps();
  ws.fcf_ring.assign(year_steps, 0.0);
  ws.vendor_paid.assign(sc.vendors.size(), 0.0);

  const Eigen::Matrix4d& chol = model.cholesky();
  const bool correlated = model.correlated();

  // state
  double x = c.x0, y = 0, g = c.g0, log_demand = c.log_demand0;
  int regime = 0;
  double started_total = 0;  // sum of s_j, j < i
  double window_cost = 0;    // sum of s_j K_j over the lead-time window
  double capacity = c.initial_gw;
  double cash = c.initial_cash;
  double trailing_fcf = 0;
  double min_cash = std::numeric_limits<double>::infinity();
  int min_step = -1, runway_step = -1, breakeven_step = -1;
  double capex_total = 0;
  std::size_t next_checkpoint = 0;
  const auto& checkpoints = model.checkpoint_steps();
  const double* contract_pay = model.contract_payment().data();
  const double* contract_gw = model.contract_gw().data();
  const double* equity = model.equity().data();
  const double* opex_factor =
      model.fixed_opex_growth_factor().empty() ? nullptr : model.fixed_opex_growth_factor().data();

  // Ring positions advance by one each step; wrapping by comparison avoids three integer
  // divisions (i % L) per step.
  int slot = 0, vslot = 0, fslot = 0;

  StepState st;
  st.dt = dt;
  for (int i = 0; i < n; ++i) {
    const double t = i * dt;
    const std::uint32_t step = static_cast<std::uint32_t>(i);
    rng::Words ev{};
    if (c.any_event) ev = rng.block(step, rng::Stream::events);
    std::array<double, 4> z{0, 0, 0, 0};
    if (c.any_shock) {
      const std::array<double, 4> e = rng.shocks(step);
      if (correlated) {
        for (int r = 0; r < 4; ++r) {
          double acc = 0;
          for (int k = 0; k <= r; ++k) acc += chol(r, k) * e[k];
          z[r] = acc;
        }
      } else {
        z = e;
      }
    }

    // 4.1 regime, execution factor, pace, starts
    if (regime == 0) {
      if (c.disruption_rate > 0 && rng::u01(ev[0]) < c.p_on) regime = 1;
    } else if (rng::u01(ev[0]) < c.p_off) {
      regime = 0;
    }
    const double f = vmath::exp(x - 0.5 * c.var_x);
    const double pace = c.max_pace / (1 + vmath::exp((c.ramp_mid - t) * c.inv_ramp_width));
    const double room = c.plan_room - started_total;  // remaining, floored at 0
    const double s =
        room > 0 ? std::min(pace * weeks_per_step * f * (regime ? c.disruption_mult : 1.0), room)
                 : 0.0;

    // 4.2 cost per GW: GBM level times Wright's law on cumulative GW started
    const double built = c.initial_gw + started_total;
    const double K = c.cost0 * vmath::exp(y + log_wright(built, c.inv_initial_gw, c.beta));

    // 4.3 construction: capex spread evenly over the lead time, online after it
    window_cost += s * K - ws.start_cost_ring[slot];
    ws.start_cost_ring[slot] = s * K;
    const double capex = window_cost * c.inv_lead;
    const double online = ws.start_ring[slot];  // s_{i-L}
    ws.start_ring[slot] = s;
    capacity += online;
    started_total += s;

    // 4.4 refresh: a vintage comes due U steps after it was installed or refreshed
    double refresh = ws.vintage_ring[vslot];
    if (i < c.life) refresh += c.initial_gw / c.life;
    ws.vintage_ring[vslot] = online + refresh;
    const double refresh_capex = c.it_share * K * refresh;

    // 4.5 demand, revenue, resale
    const double demand = vmath::exp(log_demand);
    const double serving = capacity + contract_gw[i];
    const double arr = std::min(demand, c.arr_per_gw * serving);
    const double idle = serving - arr * c.inv_arr_per_gw;
    const double resale = idle * c.resale_per_gw_step;

    // 4.6 costs
    const double opex_growth =
        opex_factor ? opex_factor[i] : vmath::exp(c.fixed_growth * t);  // same bits either way
    const double opex =
        (c.power_ops * capacity + c.rev_cost * arr + c.fixed_opex * opex_growth) * dt;

    // 4.7 financing
    double vendor = 0;
    for (std::size_t k = 0; k < sc.vendors.size(); ++k) {
      const double inflow =
          std::min(sc.vendors[k].per_gw_bn * online, sc.vendors[k].cap_bn - ws.vendor_paid[k]);
      ws.vendor_paid[k] += inflow;
      vendor += inflow;
    }

    // 4.8 cash
    const double fcf = arr * dt + resale - capex - refresh_capex - contract_pay[i] - opex;
    cash += fcf + vendor + equity[i];

    // outputs
    if (cash < min_cash) {
      min_cash = cash;
      min_step = i;
    }
    if (runway_step < 0 && cash < 0) runway_step = i;
    trailing_fcf += fcf - ws.fcf_ring[fslot];
    ws.fcf_ring[fslot] = fcf;
    if (breakeven_step < 0 && i + 1 >= year_steps && trailing_fcf > 0) breakeven_step = i;
    capex_total += capex + refresh_capex;
    while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint] == i)
      out[base_output_count + next_checkpoint++] = arr;

    st.i = i;
    st.t = t;
    st.regime = regime;
    st.exec_factor = f;
    st.pace_target = pace;
    st.started_gw = s;
    st.cost_per_gw = K;
    st.capex = capex;
    st.online_gw = online;
    st.capacity_gw = capacity;
    st.refresh_gw = refresh;
    st.refresh_capex = refresh_capex;
    st.growth = g;
    st.demand = demand;
    st.serving_gw = serving;
    st.arr = arr;
    st.idle_gw = idle;
    st.resale = resale;
    st.opex = opex;
    st.contracts = contract_pay[i];
    st.vendor = vendor;
    st.equity = equity[i];
    st.fcf = fcf;
    st.cash = cash;
    sink(static_cast<const StepState&>(st));
    if (++slot == c.lead_ring) slot = 0;
    if (++vslot == c.life_ring) vslot = 0;
    if (++fslot == year_steps) fslot = 0;

    // advance the processes to step i+1
    x = x * c.decay_x + c.vol_x * z[0];
    y += c.drift_c + c.vol_c * z[1];
    double jump = 0;
    if (c.jump_lambda > 0 && rng::u01(ev[1]) > c.jump_p0)  // N > 0 iff u > P(N = 0)
      jump = jump_sum(c, rng, step, rng::u01(ev[1]));
    log_demand += (g - 0.5 * c.sigma_d * c.sigma_d) * dt + c.vol_d * z[2] + jump;
    g = c.g_inf + (g - c.g_inf) * c.decay_g + c.vol_g * z[3];
  }

  const double gap = std::max(0.0, -min_cash);
  out[static_cast<int>(Output::funding_gap)] = gap;
  out[static_cast<int>(Output::gap_time)] = gap > 0 ? (min_step + 1) * dt : nan;
  out[static_cast<int>(Output::runway)] = runway_step >= 0 ? (runway_step + 1) * dt : nan;
  out[static_cast<int>(Output::breakeven)] = breakeven_step >= 0 ? (breakeven_step + 1) * dt : nan;
  out[static_cast<int>(Output::terminal_cash)] = cash;
  out[static_cast<int>(Output::capex_total)] = capex_total;
  out[static_cast<int>(Output::capacity_end)] = capacity;
  out[static_cast<int>(Output::arr_end)] = st.arr;
}

/// Simulate one path without step callbacks.
inline void simulate_path(const PathModel& model, std::uint64_t seed, std::uint64_t path,
                          PathWorkspace& ws, double* out) {
  simulate_path(model, seed, path, ws, out, [](const StepState&) {});
}

}  // namespace capexsim
