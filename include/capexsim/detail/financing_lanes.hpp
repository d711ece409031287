#pragma once
// The optional financing of a step (docs/model.md §10) for W lanes: interest, warrant
// sales, debt repayments and draws, vendor equity and equity rounds. Called by the kernel
// after the step's cash flow only when the scenario configures financing, so a v1
// scenario never runs it. Not part of the public API.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "capexsim/path_model.hpp"

namespace capexsim::detail {

template <int W>
class FinancingLanes {
 public:
  FinancingLanes(const PathModel& model, std::uint64_t seed, std::uint64_t first_path)
      : model_(model), fin_(model.scenario().financing), seed_(seed), first_path_(first_path) {
    const std::size_t F = fin_.debt.size(), NW = fin_.warrants.size();
    rate_.assign(F * W, 0.0);
    balance_.assign(F * W, 0.0);
    price_.assign(NW * W, 0.0);
    std::size_t tranches = 0;
    for (const Warrant& w : fin_.warrants) tranches += w.tranches.size();
    vested_.assign(tranches * W, 0);
    unpaid_contract_.assign(model.contract_payments().size() * W, 0.0);
    for (int l = 0; l < W; ++l) {
      const rng::PathRng r(seed, first_path + static_cast<std::uint64_t>(l));
      auto draw = [&](const Distribution& d, std::uint32_t id) {
        return d.is_fixed() ? d.value() : d.sample(r.static_uniform(id));
      };
      for (std::size_t f = 0; f < F; ++f)
        rate_[f * W + l] =
            draw(fin_.debt[f].rate, rng::debt_rate_id0 + static_cast<std::uint32_t>(f));
      multiple_[l] = fin_.valuation ? draw(fin_.valuation->arr_multiple, rng::arr_multiple_id) : 0;
      capacity_[l] = fin_.equity_policy
                         ? draw(fin_.equity_policy->capacity_per_year, rng::equity_capacity_id)
                         : 0;
      for (std::size_t w = 0; w < NW; ++w) price_[w * W + l] = fin_.warrants[w].price0;
      ownership_[l] = 1;
      budget_[l] = 0;
      last_round_[l] = -std::numeric_limits<double>::infinity();
      cum_online_[l] = cum_deployed_[l] = rounds_[l] = raised_[l] = interest_total_[l] =
          debt_peak_[l] = 0;
      proceeds_[l] = interest_[l] = unpaid_total_[l] = unpaid_capex_[l] = 0;
      unpaid_last_[l] = 0;
      default_step_[l] = -1;
    }
  }

  /// Step i at time t: `cash` holds W' (cash after the step's FCF, vendor money and
  /// scheduled equity) and leaves as W_{i+1}. `vendor_equity`: vendor money that arrived
  /// as equity this step. Writes the debt balance and ownership after the step.
  void step(int i, double t, double* cash, const double* arr, const double* online,
            const double* deployed, const double* vendor_equity, double* debt, double* ownership) {
    const double dt = model_.dt();
    const std::size_t F = fin_.debt.size();
    // Interest on the balances at the start of the step.
    for (int l = 0; l < W; ++l) interest_[l] = 0;
    for (std::size_t f = 0; f < F; ++f)
      for (int l = 0; l < W; ++l) {
        const double interest = balance_[f * W + l] * rate_[f * W + l] * dt;
        cash[l] -= interest;
        interest_[l] += interest;
        interest_total_[l] += interest;
      }
    // Warrants: tranches vest on cumulative GW online and the price P_i; sold at once.
    for (int l = 0; l < W; ++l) cum_online_[l] += online[l];
    // §12.1 basis = "deployed": owned and leased GW coming online.
    for (int l = 0; l < W; ++l) cum_deployed_[l] += deployed[l];
    std::size_t tranche0 = 0;
    for (std::size_t w = 0; w < fin_.warrants.size(); ++w) {
      const Warrant& wt = fin_.warrants[w];
      const double* cum = wt.basis == GwBasis::deployed ? cum_deployed_ : cum_online_;
      for (int l = 0; l < W; ++l) {
        double& price = price_[w * W + l];
        for (std::size_t k = 0; k < wt.tranches.size(); ++k) {
          unsigned char& vested = vested_[(tranche0 + k) * W + l];
          const WarrantTranche& tr = wt.tranches[k];
          if (!vested && cum[l] >= tr.gw && price >= tr.price_hurdle) {
            vested = 1;
            const double proceeds =
                wt.shares_m * tr.share * std::max(0.0, price - wt.strike) / 1000;
            cash[l] += proceeds;
            proceeds_[l] += proceeds;
          }
        }
        // Advance the share price to step i + 1 (GBM on the warrant's own stream).
        if (wt.price_volatility > 0 || wt.price_drift != 0) {
          const rng::Words u = rng::PathRng(seed_, first_path_ + static_cast<std::uint64_t>(l))
                                   .block(static_cast<std::uint32_t>(i), rng::Stream::warrant_price,
                                          static_cast<std::uint32_t>(w));
          double z, spare;
          rng::box_muller(u[0], u[1], z, spare);
          const double s = wt.price_volatility;
          price *= vmath::exp((wt.price_drift - 0.5 * s * s) * dt + s * std::sqrt(dt) * z);
        }
      }
      tranche0 += wt.tranches.size();
    }
    // Debt: repayment at maturity, sweeps in reverse file order, draws in file order.
    const auto& open = model_.debt_open_step();
    const auto& maturity = model_.debt_maturity_step();
    for (std::size_t f = 0; f < F; ++f)
      if (i == maturity[f])
        for (int l = 0; l < W; ++l) {
          cash[l] -= balance_[f * W + l];
          balance_[f * W + l] = 0;
        }
    for (std::size_t g = F; g-- > 0;) {
      const DebtFacility& d = fin_.debt[g];
      if (d.sweep <= 0) continue;
      for (int l = 0; l < W; ++l) {
        double& b = balance_[g * W + l];
        const double repay = std::min(b, d.sweep * std::max(0.0, cash[l] - d.min_cash_bn));
        cash[l] -= repay;
        b -= repay;
      }
    }
    for (std::size_t f = 0; f < F; ++f) {
      const DebtFacility& d = fin_.debt[f];
      if (i < open[f] || i >= maturity[f]) continue;
      for (int l = 0; l < W; ++l) {
        double& b = balance_[f * W + l];
        const double draw = std::min(d.limit_bn - b, std::max(0.0, d.min_cash_bn - cash[l]));
        cash[l] += draw;
        b += draw;
      }
    }
    for (int l = 0; l < W; ++l) {
      double total = 0;
      for (std::size_t f = 0; f < F; ++f) total += balance_[f * W + l];
      debt[l] = total;
      debt_peak_[l] = std::max(debt_peak_[l], total);
    }
    // Equity: vendor money invested as equity, then a round when cash is below trigger.
    if (model_.has_equity()) {
      const Valuation* val = fin_.valuation ? &*fin_.valuation : nullptr;
      auto pre_money = [&](int l) {
        return val ? std::max(multiple_[l] * arr[l], val->min_pre_money_bn) : 0.0;
      };
      auto invest = [&](int l, double amount) {
        const double pre = pre_money(l);
        ownership_[l] *= 1 - (pre + amount > 0 ? amount / (pre + amount) : 1.0);
        raised_[l] += amount;
      };
      for (int l = 0; l < W; ++l)
        if (vendor_equity[l] > 0) invest(l, vendor_equity[l]);
      if (const EquityPolicy* p = fin_.equity_policy ? &*fin_.equity_policy : nullptr) {
        const bool reset = model_.new_year()[static_cast<std::size_t>(i)] != 0;
        for (int l = 0; l < W; ++l) {
          if (reset) budget_[l] = capacity_[l];
          if (cash[l] < p->trigger_cash_bn &&
              t - last_round_[l] >= p->min_interval_years - 1e-9 * dt) {
            const double amount =
                std::min(std::max(p->target_cash_bn - cash[l], p->min_round_bn), budget_[l]);
            if (amount > 0) {
              invest(l, amount);
              cash[l] += amount;
              budget_[l] -= amount;
              rounds_[l] += 1;
              last_round_[l] = t;
            }
          }
        }
      }
    }
    for (int l = 0; l < W; ++l) ownership[l] = ownership_[l];
  }

  /// The funding constraint's unpaid obligations, after every source of the step: a
  /// negative `cash` is a deficit, left unpaid pro rata over the step's obligations (each
  /// contract's payment, capex, refresh, opex, interest); cash is then 0.
  /// `own_pay`: each contract's payment per lane ([contract][step][lane]) when deal terms
  /// are drawn per path, else null (the model's shared schedules).
  void settle(int i, double* cash, const double* capex, const double* refresh_capex,
              const double* opex, const double* own_pay) {
    if (!model_.leaves_unpaid()) return;
    const auto& pays = model_.contract_payments();
    const std::size_t C = pays.size();
    const auto at = static_cast<std::size_t>(i);
    for (int l = 0; l < W; ++l) {
      unpaid_last_[l] = 0;
      if (!(cash[l] < 0)) continue;
      const double deficit = -cash[l];
      const std::size_t n = static_cast<std::size_t>(model_.steps());
      auto pay = [&](std::size_t c) {
        return own_pay ? own_pay[(c * n + at) * W + static_cast<std::size_t>(l)] : pays[c][at];
      };
      double owed = capex[l] + refresh_capex[l] + opex[l] + interest_[l];
      for (std::size_t c = 0; c < C; ++c) owed += pay(c);
      const double share = owed > 0 ? deficit / owed : 0.0;
      for (std::size_t c = 0; c < C; ++c) unpaid_contract_[c * W + l] += pay(c) * share;
      unpaid_capex_[l] += (capex[l] + refresh_capex[l]) * share;
      unpaid_total_[l] += deficit;
      if (default_step_[l] < 0) default_step_[l] = i;
      unpaid_last_[l] = 1;
      cash[l] = 0;
    }
  }

  /// Did lane l leave obligations unpaid in the last step settled?
  bool unpaid_last(int l) const { return unpaid_last_[l] != 0; }

  /// The optional outputs this scenario reports, into out[column * W + lane].
  void outputs(double* out) const {
    auto put = [&](Output o, const double* v) {
      const int c = model_.column(o);
      if (c >= 0)
        for (int l = 0; l < W; ++l) out[static_cast<std::size_t>(c) * W + l] = v[l];
    };
    double dilution[W];
    for (int l = 0; l < W; ++l) dilution[l] = 1 - ownership_[l];
    put(Output::debt_peak, debt_peak_);
    put(Output::interest_total, interest_total_);
    put(Output::equity_raised, raised_);
    put(Output::dilution, dilution);
    put(Output::rounds, rounds_);
    put(Output::warrant_proceeds, proceeds_);
    double default_time[W];
    for (int l = 0; l < W; ++l)
      default_time[l] = default_step_[l] >= 0 ? (default_step_[l] + 1) * model_.dt()
                                              : std::numeric_limits<double>::quiet_NaN();
    put(Output::default_time, default_time);
    put(Output::unpaid_total, unpaid_total_);
    put(Output::unpaid_capex, unpaid_capex_);
    if (model_.leaves_unpaid())
      for (std::size_t c = 0; c < model_.contract_payments().size(); ++c)
        for (int l = 0; l < W; ++l)
          out[(model_.unpaid_contract_column() + c) * W + l] = unpaid_contract_[c * W + l];
  }

 private:
  const PathModel& model_;
  const Financing& fin_;
  std::uint64_t seed_, first_path_;
  std::vector<double> rate_, balance_, price_;  // [facility or warrant][lane]
  std::vector<unsigned char> vested_;           // [tranche][lane]
  std::vector<double> unpaid_contract_;         // [contract][lane]
  double multiple_[W], capacity_[W], ownership_[W], budget_[W], last_round_[W], cum_online_[W],
      cum_deployed_[W], rounds_[W], raised_[W], interest_total_[W], debt_peak_[W], proceeds_[W],
      interest_[W], unpaid_total_[W], unpaid_capex_[W];
  int default_step_[W];
  unsigned char unpaid_last_[W];
};

}  // namespace capexsim::detail
