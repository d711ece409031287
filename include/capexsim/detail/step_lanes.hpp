#pragma once
// What one step of the kernel exposes to its sinks: StepLanes (every quantity of the step
// for W lanes, docs/model.md §4) and series_lanes (the one definition of each over-time
// series, docs/model.md §5). The kernel (kernel.hpp) fills it; sinks (band_sink.hpp,
// StepState in model.hpp) read it.

#include <cstring>
#include <limits>

#include "capexsim/schema.hpp"

namespace capexsim::detail {

/// Every quantity of step i for W lanes, in the model's notation (docs/model.md §4).
/// The sink of simulate_lanes sees it after each step.
template <int W>
struct StepLanes {
  using Lanes = double[W];
  int i = 0;
  double t = 0, dt = 0;
  alignas(64) Lanes regime, exec_factor, pace_target, started_gw, cost_per_gw, capex, online_gw,
      capacity_gw, refresh_gw, refresh_capex, growth, demand,
      serving_gw, arr, idle_gw, resale, opex, vendor, fcf, cash;
  alignas(64) Lanes debt, ownership;     // optional financing (0 and 1 without it)
  alignas(64) Lanes contracts, equity;   // contract payments and scheduled equity in the step
  alignas(64) Lanes contracted_revenue;  // revenue contract payments received in the step
  // §13.5 renting: leased GW online after the step's additions, the rent paid in the step
  // (a use of cash in FCF; 0 without rent_share).
  alignas(64) Lanes leased_gw, rent;
  // §13.3 arrears outstanding after the step (0 unless unpaid = true).
  alignas(64) Lanes arrears;
};

/// Value of over-time series `s` (docs/model.md §5) on every lane of a step: the one
/// definition of each series, used by the bands of both kernels.
template <int W>
__attribute__((always_inline)) inline void series_lanes(const StepLanes<W>& st, Series s,
                                                        double (&out)[W]) {
  const double* src = nullptr;
  switch (s) {
    case Series::cash:
      src = st.cash;
      break;
    case Series::capacity:
      src = st.capacity_gw;
      break;
    case Series::serving_capacity:
      src = st.serving_gw;
      break;
    case Series::arr:
      src = st.arr;
      break;
    case Series::demand:
      src = st.demand;
      break;
    case Series::capex_rate:
      for (int l = 0; l < W; ++l) out[l] = (st.capex[l] + st.refresh_capex[l]) / st.dt;
      return;
    case Series::fcf_rate:
      for (int l = 0; l < W; ++l) out[l] = st.fcf[l] / st.dt;
      return;
    case Series::cost_per_gw:
      src = st.cost_per_gw;
      break;
    case Series::debt:
      src = st.debt;
      break;
    case Series::ownership:
      src = st.ownership;
      break;
    case Series::contracted_revenue:
      for (int l = 0; l < W; ++l) out[l] = st.contracted_revenue[l] / st.dt;
      return;
    case Series::leased:
      src = st.leased_gw;
      break;
    case Series::arrears:
      src = st.arrears;
      break;
    default:
      for (int l = 0; l < W; ++l) out[l] = std::numeric_limits<double>::quiet_NaN();
      return;
  }
  std::memcpy(out, src, sizeof(double) * W);
}

}  // namespace capexsim::detail
