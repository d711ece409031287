#pragma once
// Deal terms drawn per path (docs/model.md §10, "Deal terms"): each lane's contract,
// vendor and equity schedules, built with PathModel::add_contract from the lane's own
// draws. Used by the kernel only when PathModel::per_path_terms(); otherwise every path
// shares the model's schedules, as in v1. Not part of the public API.

#include <cstdint>
#include <vector>

#include "capexsim/path_model.hpp"
#include "capexsim/random.hpp"

namespace capexsim::detail {

// The static-input ids of the deal terms come from random.hpp's table (static_ids).
using rng::contract_term_id;
using rng::equity_term_id;
using rng::vendor_term_id;

template <int W>
struct LaneTerms {
  int n = 0;
  std::vector<double> pay, gw, gw_ahead, equity;  // [step][lane]; gw_ahead over 2n steps
  std::vector<double> own_pay;                    // [contract][step][lane]
  std::vector<double> per_gw, cap;                // [vendor][lane]

  LaneTerms(const PathModel& m, std::uint64_t seed, std::uint64_t first_path) : n(m.steps()) {
    const Scenario& sc = m.scenario();
    const std::size_t N = static_cast<std::size_t>(n), C = sc.contracts.size();
    pay.assign(N * W, 0.0);
    gw.assign(N * W, 0.0);
    gw_ahead.assign(2 * N * W, 0.0);
    equity.assign(N * W, 0.0);
    own_pay.assign(C * N * W, 0.0);
    per_gw.assign(sc.vendors.size() * W, 0.0);
    cap.assign(sc.vendors.size() * W, 0.0);
    for (int l = 0; l < W; ++l) {
      const rng::PathRng r(seed, first_path + static_cast<std::uint64_t>(l));
      auto draw = [&](const Distribution& d, std::uint32_t id) {
        return d.is_fixed() ? d.value() : d.sample(r.static_uniform(id));
      };
      for (std::size_t c = 0; c < C; ++c) {
        const Contract& k = sc.contracts[c];
        if (k.cancel_probability > 0 &&
            r.static_uniform(contract_term_id(c, 4)) < k.cancel_probability)
          continue;  // cancelled on this path: no payments, no capacity
        const double total = draw(k.total_bn, contract_term_id(c, 0));
        const double years = draw(k.years, contract_term_id(c, 2));
        const PathModel::ContractTerms t{
            total,
            draw(k.start_year, contract_term_id(c, 1)),
            years,
            draw(k.gw, contract_term_id(c, 3)),
            k.renewals,
            k.renewals > 0 ? total * draw(k.renewal_price_factor, contract_term_id(c, 5)) : 0.0,
            k.ramp_years ? *k.ramp_years : years / 2};
        m.add_contract(t, k.profile, pay.data() + l, own_pay.data() + c * N * W + l, gw.data() + l,
                       gw_ahead.data() + l, W);
      }
      for (std::size_t v = 0; v < sc.vendors.size(); ++v) {
        per_gw[v * W + l] = draw(sc.vendors[v].per_gw_bn, vendor_term_id(v, 0));
        cap[v * W + l] = draw(sc.vendors[v].cap_bn, vendor_term_id(v, 1));
      }
      for (std::size_t e = 0; e < sc.equity.size(); ++e) {
        const double amount = draw(sc.equity[e].amount_bn, equity_term_id(e, 0));
        const int i = m.step_containing(draw(sc.equity[e].at_year, equity_term_id(e, 1)));
        if (i >= 0 && i < n) equity[static_cast<std::size_t>(i) * W + l] += amount;
      }
    }
  }

  /// Contracted GW of lane l at step k (up to twice the horizon; clamped).
  double gw_at(long k, int l) const {
    const long last = 2 * static_cast<long>(n) - 1;
    return gw_ahead[static_cast<std::size_t>(std::clamp<long>(k, 0, last)) * W + l];
  }
};

}  // namespace capexsim::detail
