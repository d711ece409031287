#pragma once
// The model of one path (docs/model.md §4-5): simulate_path, the reference kernel. It is
// detail::simulate_lanes at lane width 1, the same code that run() executes 32 paths at a
// time (docs/architecture.md).

#include <cstdint>

#include "capexsim/detail/kernel.hpp"
#include "capexsim/path_model.hpp"
#include "capexsim/schema.hpp"

namespace capexsim {

/// Everything the kernel knows about step i of one path, in the notation of docs/model.md.
/// `exec_factor` and `pace_target` are NaN once the path has reached its plan cap (the
/// kernel no longer needs them).
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
  double debt = 0;       // total debt balance after the step, $B (docs/model.md §10)
  double ownership = 1;  // share of the lab its original owners hold after the step
  double leased_gw = 0;  // leased GW online after the step (docs/model.md §13.1)
  double rent = 0;       // rent paid in the step, $B

  /// Series `s` at this step (detail::series_lanes, the one definition of each series).
  double series(Series s) const {
    double v[1];
    detail::series_lanes<1>(lanes, s, v);
    return v[0];
  }

  /// The kernel's lane-1 view of the step, which the fields above copy.
  detail::StepLanes<1> lanes;

  explicit StepState(const detail::StepLanes<1>& l)
      : i(l.i),
        t(l.t),
        regime(static_cast<int>(l.regime[0])),
        exec_factor(l.exec_factor[0]),
        pace_target(l.pace_target[0]),
        started_gw(l.started_gw[0]),
        cost_per_gw(l.cost_per_gw[0]),
        capex(l.capex[0]),
        online_gw(l.online_gw[0]),
        capacity_gw(l.capacity_gw[0]),
        refresh_gw(l.refresh_gw[0]),
        refresh_capex(l.refresh_capex[0]),
        growth(l.growth[0]),
        demand(l.demand[0]),
        serving_gw(l.serving_gw[0]),
        arr(l.arr[0]),
        idle_gw(l.idle_gw[0]),
        resale(l.resale[0]),
        opex(l.opex[0]),
        contracts(l.contracts[0]),
        vendor(l.vendor[0]),
        equity(l.equity[0]),
        fcf(l.fcf[0]),
        cash(l.cash[0]),
        dt(l.dt),
        debt(l.debt[0]),
        ownership(l.ownership[0]),
        leased_gw(l.leased_gw[0]),
        rent(l.rent[0]),
        lanes(l) {}
};

/// Simulate one path: writes model.output_count() values to `out` and calls
/// `sink(const StepState&)` after every step.
template <class Sink>
void simulate_path(const PathModel& model, std::uint64_t seed, std::uint64_t path,
                   PathWorkspace& ws, double* out, Sink&& sink) {
  detail::simulate_lanes<1>(model, seed, path, ws, out,
                            [&](const detail::StepLanes<1>& st) { sink(StepState(st)); });
}

/// Simulate one path without step callbacks.
inline void simulate_path(const PathModel& model, std::uint64_t seed, std::uint64_t path,
                          PathWorkspace& ws, double* out) {
  detail::simulate_lanes<1>(model, seed, path, ws, out, [](const detail::StepLanes<1>&) {});
}

}  // namespace capexsim
