#pragma once
// The optional financing sections of a scenario (docs/model.md §10): debt facilities,
// valuation and equity rounds, warrants. All absent by default: a scenario without them
// runs exactly the v1 model, with the v1 bits.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "capexsim/distribution.hpp"

namespace capexsim {

/// The GW that a vendor's money or a warrant's vesting follows (docs/model.md §13.1):
/// owned GW coming online (v1), or every GW deployed, owned and leased.
enum class GwBasis { owned, deployed };

/// A debt facility `[[debt]]`: drawn to keep cash at `min_cash_bn`, repaid by a sweep of
/// cash above it and in full at maturity. Facilities are drawn in file order and repaid
/// in reverse order (the first is the most senior).
struct DebtFacility {
  std::string name;
  double limit_bn = 0;
  Distribution rate = Distribution::fixed(0);  // per year, drawn once per path
  std::optional<double> available_from;        // calendar year; default: the start
  std::optional<double> maturity;              // calendar year; default: never
  double min_cash_bn = 0;
  double sweep = 0;  // share of cash above min_cash repaid each step, [0, 1]
  /// At maturity, a lab with no arrears rolls the balance into a new term of this many
  /// years at the same rate (docs/model.md §13.4); absent: repaid in full at maturity.
  std::optional<double> refinance_years;
  friend bool operator==(const DebtFacility&, const DebtFacility&) = default;
};

/// `[valuation]`: the lab's pre-money value, arr_multiple x ARR with a floor.
struct Valuation {
  Distribution arr_multiple = Distribution::fixed(0);
  double min_pre_money_bn = 0;
  /// While arrears are outstanding, rounds are priced at distress_factor x arr_multiple x
  /// ARR (no floor) and the year's budget is scaled by it (docs/model.md §13.4); in [0, 1].
  Distribution distress_factor = Distribution::fixed(1);
  friend bool operator==(const Valuation&, const Valuation&) = default;
};

/// `[equity_policy]`: raise a round when cash falls below `trigger_cash_bn`, up to
/// `target_cash_bn`, within the market's appetite per calendar year.
struct EquityPolicy {
  double trigger_cash_bn = 0;
  double target_cash_bn = 0;
  double min_round_bn = 0;
  Distribution capacity_per_year =
      Distribution::fixed(std::numeric_limits<double>::infinity());  // $B per year
  double min_interval_years = 0;
  friend bool operator==(const EquityPolicy&, const EquityPolicy&) = default;
};

struct WarrantTranche {
  double gw = 0;            // cumulative owned GW online since the start that vests it
  double share = 0;         // of shares_m
  double price_hurdle = 0;  // $/share the vendor's price must reach
  friend bool operator==(const WarrantTranche&, const WarrantTranche&) = default;
};

/// `[[warrant]]`: warrants on a vendor's shares (AMD's deal), vesting in tranches on GW
/// deployed and the share price; sold on vesting.
struct Warrant {
  std::string name;
  double shares_m = 0;  // millions of shares
  double strike = 0;    // $/share
  double price0 = 0;    // $/share at the start
  double price_drift = 0;
  double price_volatility = 0;
  std::vector<WarrantTranche> tranches;
  GwBasis basis = GwBasis::owned;  // the GW the tranches count
  friend bool operator==(const Warrant&, const Warrant&) = default;
};

/// `[constraint]`: a lab that cannot spend money it does not have. Under `unpaid`, a
/// deficit is carried as arrears per class of obligation and repaid from later surpluses.
struct FundingConstraint {
  /// Start no GW in a step whose opening cash is below this ($B), or after a step with
  /// unpaid obligations. Absent: no brake.
  std::optional<double> brake_cash_bn;
  /// Leave a deficit after every source unpaid, pro rata over the step's obligations,
  /// instead of letting cash go negative.
  bool unpaid = false;
  /// Arrears are repaid only from cash above this ($B, docs/model.md §13.3).
  double keep_cash_bn = 0;
  /// Who bears a deficit: every obligation pro rata, or lenders paid first.
  enum class Seniority { pro_rata, debt_first } seniority = Seniority::pro_rata;
  friend bool operator==(const FundingConstraint&, const FundingConstraint&) = default;
};

struct Financing {
  std::vector<DebtFacility> debt;
  std::optional<Valuation> valuation;
  std::optional<EquityPolicy> equity_policy;
  std::vector<Warrant> warrants;
  std::optional<FundingConstraint> constraint;
  bool any() const {
    return !debt.empty() || equity_policy.has_value() || !warrants.empty() ||
           constraint.has_value();
  }
  friend bool operator==(const Financing&, const Financing&) = default;
};

/// `[build] plan`: "fixed" (the v1 rule: the pace schedule, up to the plan cap) or
/// "demand" (start only what projected demand at completion needs, `coverage` x demand).
struct BuildPlan {
  enum class Kind { fixed, demand } kind = Kind::fixed;
  Distribution coverage = Distribution::fixed(1.2);  // >= 1, drawn once per path
  friend bool operator==(const BuildPlan&, const BuildPlan&) = default;
};

}  // namespace capexsim
