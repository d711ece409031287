#pragma once
// A scenario resolved for the kernel: the time grid and schedules (PathModel), the static
// inputs of a path and the per-path constants derived from them (docs/model.md §3-4).

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
#include "capexsim/schema.hpp"
#include "capexsim/vmath.hpp"

namespace capexsim {

// Every input draws its static uniform at its Param id (random.hpp's `static_ids`, row
// `params`): appending an input past the row would share x0's counter.
static_assert(param_count <= rng::static_ids_of(rng::Ids::params).items,
              "more inputs than static-input ids: widen random.hpp's layout");

/// The random factors of a path that sensitivity analysis (docs/sensitivity.md) treats
/// as groups: the four processes of docs/model.md §4, then the financing draws, one group
/// per source (issue 24), each owning its random streams:
///  - debt_rates: each [[debt]] facility's rate (static ids 128..191);
///  - valuation: the ARR multiple and the distress factor (ids 192, 195);
///  - equity_capacity: the equity market's capacity per year (id 193);
///  - warrant_price: every warrant's share-price path (Stream::warrant_price);
///  - deal_terms: contract, vendor-financing and equity-injection terms drawn per path,
///    cancellations included (detail/terms_lanes.hpp, ids 256..3071);
///  - plan_coverage: the demand-led plan's coverage (id 194);
///  - revenue_defaults: each revenue contract's default rate and time (ids 3072..).
enum class ProcessGroup {
  pace,
  cost,
  demand,
  growth,
  debt_rates,
  valuation,
  equity_capacity,
  warrant_price,
  deal_terms,
  plan_coverage,
  revenue_defaults
};
inline constexpr std::size_t process_group_count = 11;
/// The first financing group: groups from here on are the sources of the financing draws.
inline constexpr ProcessGroup first_financing_group = ProcessGroup::debt_rates;
const char* process_group_name(ProcessGroup g);  // "pace", "cost", ...

/// How a sensitivity run departs from a plain run (inactive by default, then the kernel
/// draws exactly as always):
///  - pick-freeze (Sobol): chosen static inputs and process groups draw from the
///    counters of a second seed `alt_seed` instead of the run's seed. Each input and each
///    group has its own counters, so switching one leaves every other variate untouched.
///    The shocks are switched before the Cholesky factor: a group's independent normal
///    comes from `alt_seed` and is then correlated with the others as usual.
///  - pins (tornado): chosen static inputs take a fixed value on every path.
struct Variation {
  std::uint64_t alt_seed = 0;
  std::array<bool, param_count> alt_input{};
  std::array<bool, process_group_count> alt_group{};
  std::array<bool, param_count> pinned{};
  std::array<double, param_count> pin{};

  bool any_alt_input() const {
    return std::find(alt_input.begin(), alt_input.end(), true) != alt_input.end();
  }
  bool alt(ProcessGroup g) const { return alt_group[static_cast<std::size_t>(g)]; }
  bool any_pin() const { return std::find(pinned.begin(), pinned.end(), true) != pinned.end(); }
  bool active() const {
    return any_alt_input() || any_pin() ||
           std::find(alt_group.begin(), alt_group.end(), true) != alt_group.end();
  }
  /// The seed that group `g`'s variates are drawn with in a run of `seed`.
  std::uint64_t seed_of(ProcessGroup g, std::uint64_t seed) const {
    return alt(g) ? alt_seed : seed;
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
  /// Outputs of this scenario in column order: the base outputs, those of the optional
  /// features it configures, then the `arr_at_<year>` checkpoints.
  std::size_t output_count() const {
    return outputs_.size() + 2 * unpaid_contracts_ + 2 * revenue_payments_.size() +
           3 * checkpoint_steps_.size() + yearly_columns();
  }
  std::vector<std::string> output_names() const;
  /// Column of output `o`, or -1 when this scenario does not report it.
  int column(Output o) const { return column_[static_cast<std::size_t>(o)]; }
  /// Column of the first `unpaid_<contract>` output (one per contract, present with
  /// [constraint] unpaid = true).
  std::size_t unpaid_contract_column() const { return outputs_.size(); }
  /// Column of the first `deferred_<contract>` output (one per contract, with unpaid).
  std::size_t deferred_contract_column() const { return outputs_.size() + unpaid_contracts_; }
  /// Column of the first checkpoint (`arr_at_<year>`), then of `funding_need_by_<year>`
  /// and `funding_gap_by_<year>` (one each per checkpoint).
  std::size_t checkpoint_column() const { return revenue_column() + 2 * revenue_payments_.size(); }
  /// Column of `received_<name>` of the first revenue contract (one per revenue contract),
  /// then of `defaulted_<name>` (docs/model.md §12.6).
  std::size_t revenue_column() const { return outputs_.size() + 2 * unpaid_contracts_; }
  /// Each revenue contract's payment and reserved GW per step, [contract][step].
  const std::vector<std::vector<double>>& revenue_payments() const { return revenue_payments_; }
  const std::vector<std::vector<double>>& revenue_gw() const { return revenue_gw_; }
  bool has_revenue_contracts() const { return !revenue_payments_.empty(); }
  std::size_t need_by_column() const { return checkpoint_column() + checkpoint_steps_.size(); }
  std::size_t gap_by_column() const { return need_by_column() + checkpoint_steps_.size(); }
  /// [outputs] yearly (docs/model.md §13.10): the calendar years of the horizon, the
  /// index into them of each step, and the column of the first calendar-year output (they
  /// follow the checkpoints' outputs: revenue_<Y> for each year, then fcf_<Y>, capex_<Y>,
  /// need_<Y>).
  const std::vector<int>& yearly_years() const { return yearly_years_; }
  const std::vector<int>& year_index() const { return year_index_; }
  std::size_t yearly_column() const { return gap_by_column() + checkpoint_steps_.size(); }
  /// Column of the calendar-year outputs of `kind`, or -1 when not reported.
  int yearly_column(YearlyKind kind) const {
    return yearly_kind_column_[static_cast<std::size_t>(kind)];
  }
  std::size_t yearly_columns() const { return yearly_kinds_ * yearly_years_.size(); }
  /// The series of this scenario's bands, in band order (the base series, then those of
  /// optional features).
  const std::vector<Series>& series() const { return series_; }

  // Optional features (docs/model.md §10).
  bool has_debt() const { return !scenario_.financing.debt.empty(); }
  /// Equity rounds or vendor money invested as equity: ownership is tracked.
  bool has_equity() const { return has_equity_; }
  bool has_warrants() const { return !scenario_.financing.warrants.empty(); }
  bool has_financing() const {
    return has_debt() || has_equity() || has_warrants() || has_constraint();
  }
  bool has_constraint() const { return scenario_.financing.constraint.has_value(); }
  /// [constraint] unpaid = true: deficits are left unpaid instead of financed by cash.
  bool leaves_unpaid() const { return has_constraint() && scenario_.financing.constraint->unpaid; }
  bool has_brake() const {
    return has_constraint() && scenario_.financing.constraint->brake_cash_bn.has_value();
  }
  bool demand_led() const { return scenario_.plan.kind == BuildPlan::Kind::demand; }
  /// §13.5 renting: some started GW are leased (rent_share not fixed at 0).
  bool has_rent() const { return !(scenario_[Param::rent_share] == Distribution::fixed(0)); }
  /// §13.6: revenue per GW grows (arr_per_gw_growth not fixed at 0).
  bool has_arr_per_gw_growth() const {
    return !(scenario_[Param::arr_per_gw_growth] == Distribution::fixed(0));
  }
  /// Are some deal terms drawn per path (contract, vendor or equity distributions,
  /// cancellations, renewals)? Then each path builds its own schedules (add_contract);
  /// otherwise all share the ones below, as in v1.
  bool per_path_terms() const { return per_path_terms_; }

  /// One contract's terms for one path.
  struct ContractTerms {
    double total, start, years, gw;
    int renewals;
    double renewal_total;   // payments over each renewal term (flat)
    double ramp_years = 0;  // profile = delivery: years to deliver gw (0: all at once)
  };
  /// Add a contract's schedule to per-step arrays (entry i at [i * stride]): its payment
  /// to `pay` and to `own_pay`, its GW to `gw` over the horizon and to `gw_ahead` over twice
  /// the horizon. The one definition of a contract's schedule, shared and per path.
  void add_contract(const ContractTerms& c, Contract::Profile profile, double* pay, double* own_pay,
                    double* gw, double* gw_ahead, std::size_t stride) const;

  /// Each contract's payment per step ($B), for the allocation of unpaid obligations.
  const std::vector<std::vector<double>>& contract_payments() const { return contract_payments_; }
  /// Contracted GW at step k for k in [0, 2 steps()) (beyond the horizon, for the
  /// demand-led plan's look-ahead); clamped at the end.
  double contract_gw_at(long k) const {
    return contract_gw_ahead_[static_cast<std::size_t>(
        std::clamp<long>(k, 0, static_cast<long>(contract_gw_ahead_.size()) - 1))];
  }
  /// Per debt facility: the first step it may be drawn, and the step containing its
  /// maturity (steps() + 1 when it has none), where it is repaid and closes.
  const std::vector<int>& debt_open_step() const { return debt_open_step_; }
  const std::vector<int>& debt_maturity_step() const { return debt_maturity_step_; }
  /// Per facility: the steps of a refinanced term (round(refinance_years / dt), at least
  /// 1), or 0 when it is not refinanced (docs/model.md §13.4).
  const std::vector<double>& debt_refinance_steps() const { return debt_refinance_steps_; }
  /// 1 at steps whose calendar year differs from the previous step's (and at step 0):
  /// the equity market's yearly budget resets there.
  const std::vector<char>& new_year() const { return new_year_; }

  // Per-step schedules, length steps().
  const std::vector<double>& contract_payment() const { return contract_payment_; }
  const std::vector<double>& contract_gw() const { return contract_gw_; }
  const std::vector<double>& equity() const { return equity_; }
  /// e^{fixed_opex_growth t_i} per step when that growth is a fixed number (the usual
  /// case), so paths do not recompute it; empty when it is drawn per path.
  const std::vector<double>& fixed_opex_growth_factor() const { return fixed_opex_factor_; }
  /// §13.7 opex growth that relaxes (fixed_opex_growth_reversion lambda > 0): per step,
  /// (1 - e^{-lambda t_i}) / lambda, so that the factor is
  /// e^{h_inf t + (h_0 - h_inf) term}; empty when lambda = 0 (the v1 formula).
  const std::vector<double>& fixed_opex_reversion_term() const { return opex_reversion_term_; }
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
  /// Sensitivity switches (pick-freeze seeds, pinned inputs); inactive by default.
  const Variation& variation() const { return variation_; }
  void set_variation(const Variation& v) {
    variation_ = v;
    varied_ = v.active();
  }
  /// Does the variation change anything (set once, not tested per path)?
  bool varied() const { return varied_; }

  /// First step whose start is at or after `year` (calendar), with a 1e-9-step tolerance
  /// so that grid points computed in floating point land on the step they name.
  int first_step_at_or_after(double year) const;
  /// The step containing `year`: floor((year - start) / dt).
  int step_containing(double year) const;

 private:
  Scenario scenario_;
  int steps_;
  double dt_;
  std::vector<double> contract_payment_, contract_gw_, equity_, fixed_opex_factor_,
      opex_reversion_term_;
  std::vector<int> yearly_years_, year_index_;
  std::size_t yearly_kinds_ = 0;
  std::array<int, yearly_kind_count> yearly_kind_column_{-1, -1, -1, -1};
  std::vector<int> checkpoint_steps_;
  Eigen::Matrix4d chol_;
  bool correlated_;
  StaticSampler sampler_;
  Variation variation_;
  bool varied_ = false;
  bool has_equity_ = false;
  std::vector<Output> outputs_;
  std::array<int, output_kinds> column_{};
  std::vector<Series> series_;
  std::vector<int> debt_open_step_, debt_maturity_step_;
  std::vector<double> debt_refinance_steps_;
  std::vector<char> new_year_;
  std::size_t unpaid_contracts_ = 0;
  bool per_path_terms_ = false;
  std::vector<std::vector<double>> contract_payments_;
  std::vector<std::vector<double>> revenue_payments_, revenue_gw_;
  std::vector<double> contract_gw_ahead_;
};

/// Scratch of the kernel, reused across paths and blocks to keep allocation out of the
/// loop: rings lane-minor (slot j of lane l at [j * W + l]) and the drawn static inputs.
struct PathWorkspace {
  std::vector<double> start_cost_ring;  // s_j K_j over the last L steps
  std::vector<double> start_ring;       // s_j over the last L steps
  std::vector<double> vintage_ring;     // v_j over the last U steps
  std::vector<double> fcf_ring;         // FCF_j over the trailing year
  std::vector<double> vendor_paid;
  std::vector<double> vendor_terms;     // per_gw then cap, [vendor][lane]
  std::vector<double> revenue_default;  // each revenue contract's default step, [k][lane]
  /// Joint runs (docs/model.md §12.6): a provider's revenue contract `override_contract`
  /// is paid `revenue_override[step * W + lane]` (what the lab paid on that path) instead
  /// of its schedule; a lab run records what it paid on contract `capture_contract` into
  /// `capture[step * W + lane]`. -1: off.
  int override_contract = -1, capture_contract = -1;
  const double* revenue_override = nullptr;
  double* capture = nullptr;
  std::array<double, param_count> inputs{};
  /// The inputs the kernel copies per lane (Param ids; empty: none) into lane_inputs,
  /// [j][lane] with the block's lane count as stride (Result::inputs).
  std::vector<std::size_t> keep_params;
  std::vector<double> lane_inputs;
};

/// Draw the static inputs of `path` into `inputs` (docs/model.md §2), through `design`
/// when it is active (lhs, sobol, input correlation).
inline void draw_inputs(const Scenario& s, const rng::PathRng& rng,
                        std::array<double, param_count>& inputs,
                        const StaticSampler* design = nullptr) {
  if (design && design->active()) return design->draw(s, rng, inputs);
  for (std::size_t k = 0; k < param_count; ++k) {
    const Distribution& d = s.params[k];
    inputs[k] = d.is_fixed() ? d.value() : d.sample(rng.static_uniform(rng::param_id(k)));
  }
}

/// Apply a sensitivity run's switches to the static inputs of the path of `rng`: inputs
/// drawn with the second seed (pick-freeze), then pinned inputs.
inline void vary_inputs(const Scenario& s, const Variation& v, const rng::PathRng& rng,
                        std::array<double, param_count>& inputs) {
  if (v.any_alt_input()) {
    const rng::PathRng alt(v.alt_seed, rng.path());
    for (std::size_t k = 0; k < param_count; ++k)
      if (v.alt_input[k] && !s.params[k].is_fixed())
        inputs[k] = s.params[k].sample(alt.static_uniform(rng::param_id(k)));
  }
  for (std::size_t k = 0; k < param_count; ++k)
    if (v.pinned[k]) inputs[k] = v.pin[k];
}

/// The per-path constants of the kernel: the static inputs (docs/model.md §3) turned into
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
  double lead;      // lead time in steps, L
  double inv_lead;  // 1 / L: the kernels multiply (a vector division is slow)
  int lead_ring, life_ring;
  // 4.5 revenue
  double g0, g_inf, decay_g, vol_g, sigma_d, vol_d, log_demand0;
  double jump_lambda, jump_p0, jump_mean, jump_sd;
  double arr_per_gw, inv_arr_per_gw, resale_per_gw_step;
  double arr_per_gw_growth;  // §13.6 h
  // §13.5 renting
  double rent_share, rent_per_gw_step;
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
  const Variation& var = model.variation();
  if (model.varied()) vary_inputs(sc, var, rng, in);
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
    c.x0 = std::sqrt(c.var_x) *
           standard_normal_quantile(
               model.sampler().active() ? model.sampler().x0_uniform(rng)
               : var.alt(ProcessGroup::pace)
                   ? rng::PathRng(var.alt_seed, rng.path()).static_uniform(rng::x0_id)
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
  c.lead = lead;
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
  c.arr_per_gw_growth = v(P::arr_per_gw_growth);
  c.rent_share = v(P::rent_share);
  c.rent_per_gw_step = v(P::rent_per_gw_year) * dt;

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
/// N by inversion, then N normals from the jumps stream (docs/model.md §4.5).
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

}  // namespace capexsim
