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
      : model_(model),
        fin_(model.scenario().financing),
        seed_(model.variation().seed_of(ProcessGroup::warrant_price, seed)),
        first_path_(first_path) {
    // Each source of draws is its own group for pick-freeze (docs/sensitivity.md); in a
    // plain run every one of these seeds is `seed`.
    const Variation& var = model.variation();
    const std::uint64_t rate_seed = var.seed_of(ProcessGroup::debt_rates, seed),
                        valuation_seed = var.seed_of(ProcessGroup::valuation, seed),
                        capacity_seed = var.seed_of(ProcessGroup::equity_capacity, seed);
    const std::size_t F = fin_.debt.size(), NW = fin_.warrants.size();
    rate_.assign(F * W, 0.0);
    balance_.assign(F * W, 0.0);
    price_.assign(NW * W, 0.0);
    std::size_t tranches = 0;
    for (const Warrant& w : fin_.warrants) tranches += w.tranches.size();
    vested_.assign(tranches * W, 0);
    const std::size_t C = model.contract_payments().size();
    unpaid_contract_.assign(C * W, 0.0);
    deferred_contract_.assign(C * W, 0.0);
    paid_contract_.assign(C * W, 0.0);
    maturity_.assign(F * W, 0);
    for (std::size_t f = 0; f < F; ++f)
      for (int l = 0; l < W; ++l) maturity_[f * W + l] = model.debt_maturity_step()[f];
    for (int l = 0; l < W; ++l) {
      const std::uint64_t path = first_path + static_cast<std::uint64_t>(l);
      auto draw = [&](const Distribution& d, std::uint64_t s, std::uint32_t id) {
        return d.is_fixed() ? d.value() : d.sample(rng::PathRng(s, path).static_uniform(id));
      };
      for (std::size_t f = 0; f < F; ++f)
        rate_[f * W + l] = draw(fin_.debt[f].rate, rate_seed, rng::debt_rate_id(f));
      multiple_[l] = fin_.valuation
                         ? draw(fin_.valuation->arr_multiple, valuation_seed, rng::arr_multiple_id)
                         : 0;
      distress_[l] = fin_.valuation ? draw(fin_.valuation->distress_factor, valuation_seed,
                                           rng::distress_factor_id)
                                    : 1;
      capacity_[l] = fin_.equity_policy ? draw(fin_.equity_policy->capacity_per_year, capacity_seed,
                                               rng::equity_capacity_id)
                                        : 0;
      for (std::size_t w = 0; w < NW; ++w) price_[w * W + l] = fin_.warrants[w].price0;
      ownership_[l] = 1;
      budget_[l] = 0;
      last_round_[l] = -std::numeric_limits<double>::infinity();
      cum_online_[l] = cum_deployed_[l] = rounds_[l] = raised_[l] = interest_total_[l] =
          debt_peak_[l] = 0;
      proceeds_[l] = interest_[l] = unpaid_capex_[l] = unpaid_opex_[l] = unpaid_debt_[l] =
          unpaid_rent_[l] = 0;
      deferred_capex_[l] = deferred_opex_[l] = deferred_debt_[l] = deferred_rent_[l] = arrears_[l] =
          0;
      drawn_[l] = repaid_[l] = round_amount_[l] = arrears_paid_[l] = principal_due_[l] = 0;
      in_arrears_[l] = 0;
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
    // "In arrears" is judged at the start of the step (docs/model.md §13.3).
    for (int l = 0; l < W; ++l) in_arrears_[l] = arrears_[l] > 0;
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
    // §13.5 basis = "deployed": owned and leased GW coming online.
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
    // Debt: repayment at maturity (or a roll into a new term, §13.4), sweeps in reverse
    // file order, draws in file order. The principal due this step may share a deficit.
    const auto& open = model_.debt_open_step();
    const auto& refinance = model_.debt_refinance_steps();
    for (int l = 0; l < W; ++l) principal_due_[l] = 0;
    for (std::size_t f = 0; f < F; ++f)
      for (int l = 0; l < W; ++l) {
        int& maturity = maturity_[f * W + l];
        if (i != maturity) continue;
        if (refinance[f] > 0 && !in_arrears_[l]) {
          maturity += static_cast<int>(refinance[f]);  // rolls: same balance and rate
          continue;
        }
        const double due = balance_[f * W + l];
        cash[l] -= due;
        balance_[f * W + l] = 0;
        repaid_[l] += due;
        principal_due_[l] += due;
      }
    for (std::size_t g = F; g-- > 0;) {
      const DebtFacility& d = fin_.debt[g];
      if (d.sweep <= 0) continue;
      for (int l = 0; l < W; ++l) {
        if (in_arrears_[l]) continue;  // arrears are repaid before any sweep (§13.3)
        double& b = balance_[g * W + l];
        const double repay = std::min(b, d.sweep * std::max(0.0, cash[l] - d.min_cash_bn));
        cash[l] -= repay;
        b -= repay;
        repaid_[l] += repay;
        principal_due_[l] += repay;
      }
    }
    for (std::size_t f = 0; f < F; ++f) {
      const DebtFacility& d = fin_.debt[f];
      if (i < open[f]) continue;
      for (int l = 0; l < W; ++l) {
        if (i >= maturity_[f * W + l]) continue;  // closed at its maturity
        double& b = balance_[f * W + l];
        const double draw = std::min(d.limit_bn - b, std::max(0.0, d.min_cash_bn - cash[l]));
        cash[l] += draw;
        b += draw;
        drawn_[l] += draw;
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
      // §13.4: while in arrears a round is priced at distress x multiple x ARR, no floor.
      auto round_pre_money = [&](int l) {
        return in_arrears_[l] ? distress_[l] * multiple_[l] * arr[l] : pre_money(l);
      };
      auto invest = [&](int l, double amount, double pre) {
        ownership_[l] *= 1 - (pre + amount > 0 ? amount / (pre + amount) : 1.0);
        raised_[l] += amount;
      };
      for (int l = 0; l < W; ++l)
        if (vendor_equity[l] > 0) invest(l, vendor_equity[l], pre_money(l));
      if (const EquityPolicy* p = fin_.equity_policy ? &*fin_.equity_policy : nullptr) {
        const bool reset = model_.new_year()[static_cast<std::size_t>(i)] != 0;
        for (int l = 0; l < W; ++l) {
          if (reset) budget_[l] = capacity_[l];
          if (cash[l] < p->trigger_cash_bn &&
              t - last_round_[l] >= p->min_interval_years - 1e-9 * dt) {
            // §13.4: in arrears, the market funds distress_factor of what is left.
            const double budget = in_arrears_[l] ? distress_[l] * budget_[l] : budget_[l];
            const double amount =
                std::min(std::max(p->target_cash_bn - cash[l], p->min_round_bn), budget);
            if (amount > 0) {
              invest(l, amount, round_pre_money(l));
              cash[l] += amount;
              budget_[l] -= amount;
              round_amount_[l] += amount;
              rounds_[l] += 1;
              last_round_[l] = t;
            }
          }
        }
      }
    }
    for (int l = 0; l < W; ++l) ownership[l] = ownership_[l];
  }

  /// The funding constraint (docs/model.md §13.3), after every source of the step: a
  /// negative `cash` is a deficit, allocated over the step's obligations (each contract's
  /// payment, capex and refresh, opex, interest and principal due; pro rata, or lenders
  /// first under seniority = "debt_first") and added to each class's arrears; cash is
  /// then 0. Otherwise cash above keep_cash repays arrears, pro rata to the balances.
  /// `own_pay`: each contract's payment per lane ([contract][step][lane]) when deal terms
  /// are drawn per path, else null (the model's shared schedules).
  void settle(int i, double* cash, const double* capex, const double* refresh_capex,
              const double* opex, const double* rent, const double* own_pay) {
    if (!model_.leaves_unpaid()) return;
    const FundingConstraint& k = *fin_.constraint;
    const bool debt_first = k.seniority == FundingConstraint::Seniority::debt_first;
    const auto& pays = model_.contract_payments();
    const std::size_t C = pays.size();
    const auto at = static_cast<std::size_t>(i);
    const std::size_t n = static_cast<std::size_t>(model_.steps());
    for (int l = 0; l < W; ++l) {
      auto pay = [&](std::size_t c) {
        return own_pay ? own_pay[(c * n + at) * W + static_cast<std::size_t>(l)] : pays[c][at];
      };
      for (std::size_t c = 0; c < C; ++c) paid_contract_[c * W + l] = pay(c);
      if (cash[l] < 0) {
        const double deficit = -cash[l];
        const double build = capex[l] + refresh_capex[l];
        const double debt = interest_[l] + principal_due_[l];
        double other = build + opex[l] + rent[l];
        for (std::size_t c = 0; c < C; ++c) other += pay(c);
        double share_other, share_debt;  // the share of each obligation left unpaid
        if (debt_first && deficit <= other) {
          share_other = other > 0 ? deficit / other : 0.0;
          share_debt = 0;
        } else if (debt_first) {
          share_other = 1;
          share_debt = debt > 0 ? (deficit - other) / debt : 0.0;
        } else {
          const double owed = other + debt;
          share_other = share_debt = owed > 0 ? deficit / owed : 0.0;
        }
        auto defer = [&](double& arrears, double& deferred, double amount) {
          arrears += amount;
          deferred += amount;
        };
        for (std::size_t c = 0; c < C; ++c) {
          defer(unpaid_contract_[c * W + l], deferred_contract_[c * W + l], pay(c) * share_other);
          paid_contract_[c * W + l] -= pay(c) * share_other;
        }
        defer(unpaid_capex_[l], deferred_capex_[l], build * share_other);
        defer(unpaid_opex_[l], deferred_opex_[l], opex[l] * share_other);
        defer(unpaid_debt_[l], deferred_debt_[l], debt * share_debt);
        defer(unpaid_rent_[l], deferred_rent_[l], rent[l] * share_other);
        // A deficit with no obligation in its step (a negative initial cash) is booked as
        // opex, so that the classes always hold every deficit.
        if (!(other + debt > 0)) defer(unpaid_opex_[l], deferred_opex_[l], deficit);
        if (default_step_[l] < 0) default_step_[l] = i;
        cash[l] = 0;
      } else if (arrears_[l] > 0) {
        const double pay_now = std::min(std::max(0.0, cash[l] - k.keep_cash_bn), arrears_[l]);
        if (pay_now > 0) {
          for (std::size_t c = 0; c < C; ++c)
            paid_contract_[c * W + l] += unpaid_contract_[c * W + l];
          if (pay_now >= arrears_[l]) {  // paid in full: every class exactly 0
            for (std::size_t c = 0; c < C; ++c) unpaid_contract_[c * W + l] = 0;
            unpaid_capex_[l] = unpaid_opex_[l] = unpaid_debt_[l] = unpaid_rent_[l] = 0;
          } else {
            const double keep = 1 - pay_now / arrears_[l];
            for (std::size_t c = 0; c < C; ++c) unpaid_contract_[c * W + l] *= keep;
            unpaid_capex_[l] *= keep;
            unpaid_opex_[l] *= keep;
            unpaid_debt_[l] *= keep;
            unpaid_rent_[l] *= keep;
          }
          for (std::size_t c = 0; c < C; ++c)
            paid_contract_[c * W + l] -= unpaid_contract_[c * W + l];
          cash[l] -= pay_now;
          arrears_paid_[l] += pay_now;
        }
      } else {
        continue;
      }
      arrears_[l] = arrears_sum(l);
    }
  }

  /// What the lab paid on contract c in the step just settled, per lane, into `paid`
  /// (which holds the contract's payment due): less its share of a deficit, plus what the
  /// step repaid of its arrears. Unchanged without unpaid = true (every bill is paid).
  void paid_on(std::size_t c, double* paid) const {
    if (!model_.leaves_unpaid()) return;
    for (int l = 0; l < W; ++l) paid[l] = paid_contract_[c * W + l];
  }

  /// Arrears outstanding on lane l after the last step settled (0 without unpaid).
  double arrears(int l) const { return arrears_[l]; }
  /// Was lane l in arrears at the start of the current step? (The brake's test: §13.3.)
  bool in_arrears(int l) const { return arrears_[l] > 0; }
  /// Interest due in the current step, per lane.
  const double* interest() const { return interest_; }

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
    put(Output::flow_warrants, proceeds_);
    put(Output::flow_debt_drawn, drawn_);
    put(Output::flow_equity_rounds, round_amount_);
    put(Output::flow_interest, interest_total_);
    put(Output::flow_debt_repaid, repaid_);
    put(Output::flow_arrears_paid, arrears_paid_);
    if (!model_.leaves_unpaid()) return;
    const std::size_t C = model_.contract_payments().size();
    double unpaid[W], deferred[W], recovered[W];
    for (int l = 0; l < W; ++l) {
      unpaid[l] = arrears_sum(l);
      // The same sum over the deferred classes, in the same order.
      double d = 0;
      for (std::size_t c = 0; c < C; ++c) d += deferred_contract_[c * W + l];
      deferred[l] =
          (((d + deferred_capex_[l]) + deferred_opex_[l]) + deferred_debt_[l]) + deferred_rent_[l];
      recovered[l] = deferred[l] - unpaid[l];
    }
    put(Output::unpaid_total, unpaid);
    put(Output::unpaid_capex, unpaid_capex_);
    put(Output::unpaid_opex, unpaid_opex_);
    put(Output::unpaid_debt, unpaid_debt_);
    put(Output::deferred_total, deferred);
    put(Output::recovered_total, recovered);
    put(Output::flow_arrears_added, deferred);
    put(Output::deferred_capex, deferred_capex_);
    put(Output::deferred_opex, deferred_opex_);
    put(Output::deferred_debt, deferred_debt_);
    put(Output::unpaid_rent, unpaid_rent_);
    put(Output::deferred_rent, deferred_rent_);
    for (std::size_t c = 0; c < C; ++c)
      for (int l = 0; l < W; ++l) {
        out[(model_.unpaid_contract_column() + c) * W + l] = unpaid_contract_[c * W + l];
        out[(model_.deferred_contract_column() + c) * W + l] = deferred_contract_[c * W + l];
      }
  }

 private:
  const PathModel& model_;
  const Financing& fin_;
  std::uint64_t seed_, first_path_;
  std::vector<double> rate_, balance_, price_;  // [facility or warrant][lane]
  std::vector<unsigned char> vested_;           // [tranche][lane]
  std::vector<double> unpaid_contract_;         // arrears per [contract][lane]
  std::vector<double> deferred_contract_;       // ever deferred, [contract][lane]
  std::vector<double> paid_contract_;           // paid in the step settled, [contract][lane]
  std::vector<int> maturity_;                   // step of each facility's maturity, [f][lane]

  /// unpaid_total: the classes summed in one order (contracts in file order, capex, opex,
  /// debt, rent), so the unpaid_* outputs add up to it exactly.
  double arrears_sum(int l) const {
    double a = 0;
    for (std::size_t c = 0; c < model_.contract_payments().size(); ++c)
      a += unpaid_contract_[c * W + l];
    return (((a + unpaid_capex_[l]) + unpaid_opex_[l]) + unpaid_debt_[l]) + unpaid_rent_[l];
  }

  double multiple_[W], distress_[W], capacity_[W], ownership_[W], budget_[W], last_round_[W],
      cum_online_[W], cum_deployed_[W], rounds_[W], raised_[W], interest_total_[W], debt_peak_[W],
      proceeds_[W], interest_[W];
  // Arrears per class (§13.3) and their total, what was ever deferred, ledger flows.
  double unpaid_capex_[W], unpaid_opex_[W], unpaid_debt_[W], unpaid_rent_[W], arrears_[W];
  double deferred_capex_[W], deferred_opex_[W], deferred_debt_[W], deferred_rent_[W];
  double drawn_[W], repaid_[W], round_amount_[W], arrears_paid_[W], principal_due_[W];
  int default_step_[W];
  unsigned char in_arrears_[W];
};

}  // namespace capexsim::detail
