#include "capexsim/model.hpp"

#include <Eigen/Cholesky>

namespace capexsim {

namespace {
// Grid points are computed as start + i*dt in floating point; a tolerance of 1e-9 steps
// makes 2027.0 land on step 12 of a monthly grid starting at 2026.0, not on step 13.
constexpr double grid_tolerance = 1e-9;
}  // namespace

namespace {
// Steps far outside the grid are clamped before the cast (a double beyond int's range
// would be undefined behaviour); -1 and steps + 1 behave the same as anything beyond.
int to_step(double x, int steps) {
  return static_cast<int>(std::clamp(x, -1.0, static_cast<double>(steps) + 1));
}
}  // namespace

int PathModel::first_step_at_or_after(double year) const {
  return to_step(std::ceil((year - scenario_.start_year) / dt_ - grid_tolerance), steps_);
}

int PathModel::step_containing(double year) const {
  return to_step(std::floor((year - scenario_.start_year) / dt_ + grid_tolerance), steps_);
}

PathModel::PathModel(Scenario scenario)
    : scenario_(std::move(scenario)), steps_(scenario_.steps()), dt_(scenario_.dt()) {
  validate(scenario_);
  const int n = steps_;
  contract_payment_.assign(n, 0.0);
  contract_gw_.assign(n, 0.0);
  equity_.assign(n, 0.0);

  // Contracts: each one's payment per step, their total, and contracted GW over twice
  // the horizon (the demand-led plan looks a lead time ahead). With deal terms drawn per
  // path, the kernel builds these per path instead (the shared ones stay 0).
  contract_gw_ahead_.assign(2 * static_cast<std::size_t>(n), 0.0);
  per_path_terms_ =
      std::any_of(scenario_.contracts.begin(), scenario_.contracts.end(),
                  [](const Contract& c) { return c.uncertain(); }) ||
      std::any_of(scenario_.vendors.begin(), scenario_.vendors.end(),
                  [](const VendorFinancing& v) {
                    return !v.per_gw_bn.is_fixed() || !v.cap_bn.is_fixed();
                  }) ||
      std::any_of(scenario_.equity.begin(), scenario_.equity.end(), [](const EquityInjection& e) {
        return !e.at_year.is_fixed() || !e.amount_bn.is_fixed();
      });
  for (const Contract& c : scenario_.contracts) {
    std::vector<double>& pay = contract_payments_.emplace_back(n, 0.0);
    if (per_path_terms_) continue;
    const double years = c.years.value();
    add_contract({c.total_bn.value(), c.start_year.value(), years, c.gw.value(), 0, 0,
                  c.ramp_years ? *c.ramp_years : years / 2},
                 c.profile, contract_payment_.data(), pay.data(), contract_gw_.data(),
                 contract_gw_ahead_.data(), 1);
  }
  // Revenue contracts (§12.6): the same schedule rule as a contract, kept per contract.
  for (const RevenueContract& c : scenario_.revenue_contracts) {
    std::vector<double>& pay = revenue_payments_.emplace_back(n, 0.0);
    std::vector<double>& gw = revenue_gw_.emplace_back(n, 0.0);
    std::vector<double> sum(n, 0.0), ahead(2 * static_cast<std::size_t>(n), 0.0);
    add_contract(
        {c.total_bn, c.start_year, c.years, c.gw, 0, 0, c.ramp_years ? *c.ramp_years : c.years / 2},
        c.profile, sum.data(), pay.data(), gw.data(), ahead.data(), 1);
  }
  if (!per_path_terms_)
    for (const EquityInjection& e : scenario_.equity) {
      const int i = step_containing(e.at_year.value());
      if (i >= 0 && i < n) equity_[i] += e.amount_bn.value();
    }
  const double lambda = scenario_.fixed_opex_growth_reversion;
  if (lambda > 0)  // §13.7: the growth relaxes; (1 - e^{-lambda t}) / lambda per step
    for (int i = 0; i < n; ++i)
      opex_reversion_term_.push_back(-std::expm1(-lambda * i * dt_) / lambda);
  if (scenario_[Param::fixed_opex_growth].is_fixed()) {
    const double growth = scenario_[Param::fixed_opex_growth].value();
    const double h_inf = scenario_.fixed_opex_long_run_growth.value_or(growth);
    for (int i = 0; i < n; ++i) {
      const double t = i * dt_;  // t_i and exp exactly as the kernels compute them
      fixed_opex_factor_.push_back(
          lambda > 0 ? vmath::exp(h_inf * t + (growth - h_inf) * opex_reversion_term_[i])
                     : vmath::exp(growth * t));
    }
  }
  // The kernel walks checkpoints in step order, so their columns are chronological
  // (year -> step is monotone, and the validator made the years distinct).
  std::sort(scenario_.checkpoints.begin(), scenario_.checkpoints.end());
  for (double year : scenario_.checkpoints)
    checkpoint_steps_.push_back(first_step_at_or_after(year));

  // Optional features: which outputs and series this scenario reports.
  const Financing& fin = scenario_.financing;
  has_equity_ = fin.equity_policy.has_value() ||
                std::any_of(scenario_.vendors.begin(), scenario_.vendors.end(),
                            [](const auto& v) { return v.kind == VendorFinancing::Kind::equity; });
  for (std::size_t k = 0; k < base_output_count; ++k) outputs_.push_back(static_cast<Output>(k));
  if (has_debt()) outputs_.insert(outputs_.end(), {Output::debt_peak, Output::interest_total});
  if (has_equity())
    outputs_.insert(outputs_.end(), {Output::equity_raised, Output::dilution, Output::rounds});
  if (has_warrants()) outputs_.push_back(Output::warrant_proceeds);
  if (leaves_unpaid())
    outputs_.insert(outputs_.end(),
                    {Output::default_time, Output::unpaid_total, Output::unpaid_capex});
  if (scenario_.has_plan_cap && (demand_led() || has_constraint()))
    outputs_.push_back(Output::gw_not_started);
  if (has_rent()) outputs_.push_back(Output::leased_gw_end);
  // v3 (docs/model.md §13.1-13.3): the gross need of every run and its ledger, appended
  // after the v2 columns so that their order is unchanged.
  using O = Output;
  outputs_.insert(outputs_.end(), {O::funding_need, O::need_time, O::flow_revenue});
  if (!scenario_.vendors.empty()) outputs_.push_back(O::flow_vendor);
  if (!scenario_.equity.empty()) outputs_.push_back(O::flow_scheduled_equity);
  if (has_warrants()) outputs_.push_back(O::flow_warrants);
  if (has_debt()) outputs_.push_back(O::flow_debt_drawn);
  if (fin.equity_policy) outputs_.push_back(O::flow_equity_rounds);
  if (leaves_unpaid()) outputs_.push_back(O::flow_arrears_added);
  outputs_.push_back(O::flow_capex);
  if (!scenario_.contracts.empty()) outputs_.push_back(O::flow_contracts);
  if (has_rent()) outputs_.push_back(O::flow_rent);
  outputs_.push_back(O::flow_opex);
  if (has_debt()) outputs_.insert(outputs_.end(), {O::flow_interest, O::flow_debt_repaid});
  if (leaves_unpaid()) {
    outputs_.push_back(O::flow_arrears_paid);
    outputs_.push_back(O::unpaid_opex);
    if (has_debt()) outputs_.push_back(O::unpaid_debt);
    outputs_.insert(outputs_.end(),
                    {O::deferred_total, O::recovered_total, O::deferred_capex, O::deferred_opex});
    if (has_debt()) outputs_.push_back(O::deferred_debt);
    if (has_rent()) outputs_.insert(outputs_.end(), {O::unpaid_rent, O::deferred_rent});
  }
  unpaid_contracts_ = leaves_unpaid() ? scenario_.contracts.size() : 0;
  column_.fill(-1);
  for (std::size_t k = 0; k < outputs_.size(); ++k)
    column_[static_cast<std::size_t>(outputs_[k])] = static_cast<int>(k);
  for (std::size_t k = 0; k < base_series_count; ++k) series_.push_back(static_cast<Series>(k));
  if (has_debt()) series_.push_back(Series::debt);
  if (has_equity()) series_.push_back(Series::ownership);
  if (!scenario_.revenue_contracts.empty()) series_.push_back(Series::contracted_revenue);
  if (has_rent()) series_.push_back(Series::leased);
  if (leaves_unpaid()) series_.push_back(Series::arrears);
  // §13.10 calendar-year outputs, after the checkpoints, kind by kind.
  if (!scenario_.yearly.empty()) {
    yearly_years_ = calendar_years(scenario_);
    for (int i = 0; i < n; ++i)
      year_index_.push_back(
          static_cast<int>(std::lower_bound(yearly_years_.begin(), yearly_years_.end(),
                                            calendar_year_of_step(scenario_, i)) -
                           yearly_years_.begin()));
    for (YearlyKind kind : scenario_.yearly) {
      // need_<Y> (the gross need through the end of year Y) is filled by the kernel from
      // the waterfall's shadow cash (§13.1), the sums where the kernel keeps them.
      yearly_kind_column_[static_cast<std::size_t>(kind)] =
          static_cast<int>(yearly_column() + yearly_kinds_ * yearly_years_.size());
      ++yearly_kinds_;
    }
  }
  for (const DebtFacility& d : fin.debt) {
    debt_open_step_.push_back(
        d.available_from ? std::max(0, first_step_at_or_after(*d.available_from)) : 0);
    debt_maturity_step_.push_back(d.maturity ? step_containing(*d.maturity) : n + 1);
    debt_refinance_steps_.push_back(
        d.refinance_years ? std::max(1.0, std::round(*d.refinance_years / dt_)) : 0.0);
  }
  new_year_.assign(n, 0);
  for (int i = 0; i < n; ++i) {
    const auto year = [&](int k) {
      return std::floor(scenario_.start_year + k * dt_ + 1e-9 * dt_);
    };
    new_year_[i] = i == 0 || year(i) != year(i - 1);
  }

  correlated_ = !scenario_.correlation.isIdentity(0.0);
  chol_ = Eigen::LLT<Eigen::Matrix4d>(scenario_.correlation).matrixL();
}

void PathModel::add_contract(const ContractTerms& c, Contract::Profile profile, double* pay,
                             double* own_pay, double* gw, double* gw_ahead,
                             std::size_t stride) const {
  const int n = steps_;
  // The first step at or after a calendar time, unclamped up to twice the horizon.
  auto step_at = [&](double year) {
    const double k = std::ceil((year - scenario_.start_year) / dt_ - grid_tolerance);
    return static_cast<int>(std::clamp(k, 0.0, 2.0 * n));
  };
  // Active on [start, start + years) in calendar time, judged at each step's start.
  const int first = std::max(0, first_step_at_or_after(c.start));
  const int end = std::min(n, first_step_at_or_after(c.start + c.years));
  const double offset = c.start - scenario_.start_year;
  const bool delivery = profile == Contract::Profile::delivery;
  // profile = delivery (§13.8): the share of gw delivered tau years into the term, at the
  // middle of the step: min(1, tau / ramp_years), all of it at once when ramp_years = 0.
  auto delivered = [&](int i) {
    const double tau = (i + 0.5) * dt_ - offset;
    return c.ramp_years > 0 ? std::clamp(tau / c.ramp_years, 0.0, 1.0) : 1.0;
  };
  for (int i = first; i < end; ++i) {
    double rate;  // $B per year
    if (profile == Contract::Profile::flat) {
      gw[i * stride] += c.gw;
      rate = c.total / c.years;
    } else if (!delivery) {
      gw[i * stride] += c.gw;
      // Linear from 0 to 2 total/years over the term, at the middle of the step.
      const double tau = (i + 0.5) * dt_ - offset;
      rate = 2 * c.total / (c.years * c.years) * tau;
    } else {
      // Capacity and payments follow the GW delivered, at a price per GW-year of
      // total / (gw (years - ramp_years / 2)), so the term still sums to total.
      const double share = delivered(i);
      gw[i * stride] += c.gw * share;
      rate = c.total * share / (c.years - 0.5 * c.ramp_years);
    }
    pay[i * stride] += rate * dt_;
    own_pay[i * stride] = rate * dt_;
  }
  for (int i = step_at(c.start); i < step_at(c.start + c.years); ++i)
    gw_ahead[i * stride] += delivery ? c.gw * delivered(i) : c.gw;
  // Renewals: further terms of the same length and GW, paying renewal_total flat each.
  for (int r = 1; r <= c.renewals; ++r) {
    const double from = c.start + r * c.years, to = c.start + (r + 1) * c.years;
    const int a = std::max(0, first_step_at_or_after(from));
    const int b = std::min(n, first_step_at_or_after(to));
    for (int i = a; i < b; ++i) {
      gw[i * stride] += c.gw;
      pay[i * stride] += c.renewal_total / c.years * dt_;
      own_pay[i * stride] = c.renewal_total / c.years * dt_;
    }
    for (int i = step_at(from); i < step_at(to); ++i) gw_ahead[i * stride] += c.gw;
  }
}

std::vector<std::string> PathModel::output_names() const {
  std::vector<std::string> names;
  for (Output o : outputs_) names.push_back(output_name(o));
  for (std::size_t k = 0; k < unpaid_contracts_; ++k)
    names.push_back("unpaid_" + scenario_.contracts[k].name);
  for (std::size_t k = 0; k < unpaid_contracts_; ++k)
    names.push_back("deferred_" + scenario_.contracts[k].name);
  for (const RevenueContract& c : scenario_.revenue_contracts)
    names.push_back("received_" + c.name);
  for (const RevenueContract& c : scenario_.revenue_contracts)
    names.push_back("defaulted_" + c.name);
  for (double year : scenario_.checkpoints) names.push_back(checkpoint_name(year));
  for (double year : scenario_.checkpoints)
    names.push_back(checkpoint_name(year, "funding_need_by_"));
  for (double year : scenario_.checkpoints)
    names.push_back(checkpoint_name(year, "funding_gap_by_"));
  for (std::size_t k = 0; k < yearly_kind_count; ++k)
    if (yearly_kind_column_[k] >= 0)
      for (int y : yearly_years_) names.push_back(yearly_name(static_cast<YearlyKind>(k), y));
  return names;
}

}  // namespace capexsim

namespace capexsim {
const char* process_group_name(ProcessGroup g) {
  switch (g) {
    case ProcessGroup::pace:
      return "pace";
    case ProcessGroup::cost:
      return "cost";
    case ProcessGroup::demand:
      return "demand";
    case ProcessGroup::growth:
      return "growth";
    case ProcessGroup::debt_rates:
      return "debt_rates";
    case ProcessGroup::valuation:
      return "valuation";
    case ProcessGroup::equity_capacity:
      return "equity_capacity";
    case ProcessGroup::warrant_price:
      return "warrant_price";
    case ProcessGroup::deal_terms:
      return "deal_terms";
    case ProcessGroup::plan_coverage:
      return "plan_coverage";
    case ProcessGroup::revenue_defaults:
      return "revenue_defaults";
  }
  return "?";
}
}  // namespace capexsim
