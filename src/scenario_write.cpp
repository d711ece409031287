// The writer: a Scenario as TOML, every default filled in and every distribution spelled
// out, in the order of the key table, so parse_scenario(to_toml(s)) == s.

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <sstream>

#include "capexsim/detail/format.hpp"
#include "capexsim/scenario.hpp"
#include "scenario_internal.hpp"

namespace capexsim {

using detail::format_double;

namespace {

std::string escape(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

}  // namespace

static void write_financing(std::ostream& o, const Financing& f);

std::string to_toml(const Scenario& s) {
  std::ostringstream o;
  o << "name = " << escape(s.name) << "\n\n[simulation]\n";
  o << "start = " << format_double(s.start_year) << "\n";
  o << "horizon_years = " << format_double(s.horizon_years) << "\n";
  o << "step = \"" << step_name(s.step) << "\"\n";
  if (s.sampling != Sampling::random) o << "sampling = \"" << sampling_name(s.sampling) << "\"\n";
  for (const std::string& section : detail::param_sections()) {
    o << "\n[" << section << "]\n";
    for (const ParamInfo& info : param_table()) {
      if (std::string(info.section) != section) continue;
      if (info.id == Param::plan_cap_gw && !s.has_plan_cap) continue;
      // Inputs added after v2 (the key table's `since`) only when set, so an older
      // scenario keeps its text and fingerprint.
      if (info.since > 2 && s[info.id] == Distribution::fixed(info.default_value)) continue;
      o << info.key << " = " << s[info.id].to_toml() << "\n";
    }
    if (section == "build" && !(s.plan == BuildPlan{})) {  // written only when not the default
      o << "plan = \"" << (s.plan.kind == BuildPlan::Kind::demand ? "demand" : "fixed") << "\"\n";
      o << "coverage = " << s.plan.coverage.to_toml() << "\n";
    }
    if (section == "opex") {  // v3 keys, written only when set
      if (s.fixed_opex_long_run_growth)
        o << "fixed_opex_long_run_growth = " << format_double(*s.fixed_opex_long_run_growth)
          << "\n";
      if (s.fixed_opex_growth_reversion != 0)
        o << "fixed_opex_growth_reversion = " << format_double(s.fixed_opex_growth_reversion)
          << "\n";
    }
  }
  for (const Contract& c : s.contracts) {
    o << "\n[[contract]]\nname = " << escape(c.name) << "\ntotal = " << c.total_bn.to_toml()
      << "\nstart = " << c.start_year.to_toml() << "\nyears = " << c.years.to_toml()
      << "\ngw = " << c.gw.to_toml() << "\nprofile = \""
      << (c.profile == Contract::Profile::flat   ? "flat"
          : c.profile == Contract::Profile::ramp ? "ramp"
                                                 : "delivery")
      << "\"\n";
    if (c.ramp_years) o << "ramp_years = " << format_double(*c.ramp_years) << "\n";
    // Deal-term keys only when used, so a v1 scenario's text (and fingerprint) is unchanged.
    if (c.cancel_probability != 0)
      o << "cancel_probability = " << format_double(c.cancel_probability) << "\n";
    if (c.renewals != 0) o << "renewals = " << c.renewals << "\n";
    if (!(c.renewal_price_factor == Distribution::fixed(1)))
      o << "renewal_price_factor = " << c.renewal_price_factor.to_toml() << "\n";
  }
  for (const RevenueContract& c : s.revenue_contracts) {
    o << "\n[[revenue_contract]]\nname = " << escape(c.name)
      << "\ntotal = " << format_double(c.total_bn) << "\nstart = " << format_double(c.start_year)
      << "\nyears = " << format_double(c.years) << "\ngw = " << format_double(c.gw)
      << "\nprofile = \""
      << (c.profile == Contract::Profile::flat   ? "flat"
          : c.profile == Contract::Profile::ramp ? "ramp"
                                                 : "delivery")
      << "\"\n";
    if (c.ramp_years) o << "ramp_years = " << format_double(*c.ramp_years) << "\n";
    if (!(c.default_rate == Distribution::fixed(0)))
      o << "default_rate = " << c.default_rate.to_toml() << "\n";
  }
  for (const VendorFinancing& v : s.vendors)
    o << "\n[[vendor_financing]]\nname = " << escape(v.name)
      << "\nper_gw = " << v.per_gw_bn.to_toml() << "\ncap = " << v.cap_bn.to_toml()
      << (v.kind == VendorFinancing::Kind::equity ? "\nkind = \"equity\"" : "")
      << (v.basis == GwBasis::deployed ? "\nbasis = \"deployed\"" : "") << "\n";
  for (const EquityInjection& e : s.equity)
    o << "\n[[equity]]\nat = " << e.at_year.to_toml() << "\namount = " << e.amount_bn.to_toml()
      << "\n";
  write_financing(o, s.financing);
  if (!s.correlation_order.empty()) {
    o << "\n[correlation]\nshocks = [";
    for (std::size_t k = 0; k < s.correlation_order.size(); ++k)
      o << (k ? ", " : "") << '"' << shock_name(s.correlation_order[k]) << '"';
    o << "]\nmatrix = [";
    for (std::size_t i = 0; i < s.correlation_order.size(); ++i) {
      o << (i ? ",\n          [" : "[");
      for (std::size_t j = 0; j < s.correlation_order.size(); ++j)
        o << (j ? ", " : "")
          << format_double(s.correlation(static_cast<int>(s.correlation_order[i]),
                                         static_cast<int>(s.correlation_order[j])));
      o << "]";
    }
    o << "]\n";
  }
  if (const std::size_t k = s.input_correlation_inputs.size()) {
    o << "\n[input_correlation]\ninputs = [";
    for (std::size_t i = 0; i < k; ++i) {
      const ParamInfo& info = param_info(s.input_correlation_inputs[i]);
      o << (i ? ", " : "") << '"' << info.section << '.' << info.key << '"';
    }
    o << "]\nmatrix = [";
    for (std::size_t i = 0; i < k; ++i) {
      o << (i ? ",\n          [" : "[");
      for (std::size_t j = 0; j < k; ++j)
        o << (j ? ", " : "") << format_double(s.input_correlation[i * k + j]);
      o << "]";
    }
    o << "]\n";
  }
  if (!s.checkpoints.empty() || !s.thresholds.empty() || !s.yearly.empty() || !s.headline.empty())
    o << "\n[outputs]\n";
  if (!s.yearly.empty()) {
    o << "yearly = [";
    for (std::size_t k = 0; k < s.yearly.size(); ++k)
      o << (k ? ", " : "") << '"' << yearly_kind_name(s.yearly[k]) << '"';
    o << "]\n";
  }
  // Written only when set, so older scenarios keep their fingerprints.
  if (!s.headline.empty()) o << "headline = " << escape(s.headline) << "\n";
  if (!s.checkpoints.empty()) {
    o << "checkpoints = [";
    for (std::size_t k = 0; k < s.checkpoints.size(); ++k)
      o << (k ? ", " : "") << format_double(s.checkpoints[k]);
    o << "]\n";
  }
  if (!s.thresholds.empty()) {
    o << "thresholds = { ";
    for (std::size_t k = 0; k < s.thresholds.size(); ++k) {
      o << (k ? ", " : "") << s.thresholds[k].first << " = [";
      for (std::size_t j = 0; j < s.thresholds[k].second.size(); ++j)
        o << (j ? ", " : "") << format_double(s.thresholds[k].second[j]);
      o << "]";
    }
    o << " }\n";
  }
  return o.str();
}

static void write_financing(std::ostream& o, const Financing& f) {
  for (const DebtFacility& d : f.debt) {
    o << "\n[[debt]]\nname = " << escape(d.name) << "\nlimit = " << format_double(d.limit_bn)
      << "\nrate = " << d.rate.to_toml();
    if (d.available_from) o << "\navailable_from = " << format_double(*d.available_from);
    if (d.maturity) o << "\nmaturity = " << format_double(*d.maturity);
    o << "\nmin_cash = " << format_double(d.min_cash_bn) << "\nsweep = " << format_double(d.sweep);
    // v3 keys are written only when set, so v1/v2 scenarios keep their fingerprints.
    if (d.refinance_years) o << "\nrefinance_years = " << format_double(*d.refinance_years);
    o << "\n";
  }
  if (f.valuation) {
    o << "\n[valuation]\narr_multiple = " << f.valuation->arr_multiple.to_toml()
      << "\nmin_pre_money = " << format_double(f.valuation->min_pre_money_bn) << "\n";
    const Distribution& d = f.valuation->distress_factor;
    if (!(d.is_fixed() && d.value() == 1)) o << "distress_factor = " << d.to_toml() << "\n";
  }
  if (const EquityPolicy* p = f.equity_policy ? &*f.equity_policy : nullptr) {
    o << "\n[equity_policy]\ntrigger_cash = " << format_double(p->trigger_cash_bn)
      << "\ntarget_cash = " << format_double(p->target_cash_bn)
      << "\nmin_round = " << format_double(p->min_round_bn);
    const Distribution& c = p->capacity_per_year;
    if (!(c.is_fixed() && std::isinf(c.value()))) o << "\ncapacity_per_year = " << c.to_toml();
    o << "\nmin_interval_years = " << format_double(p->min_interval_years) << "\n";
  }
  for (const Warrant& w : f.warrants) {
    o << "\n[[warrant]]\nname = " << escape(w.name) << "\nshares_m = " << format_double(w.shares_m)
      << "\nstrike = " << format_double(w.strike) << "\nprice0 = " << format_double(w.price0)
      << "\nprice_drift = " << format_double(w.price_drift)
      << "\nprice_volatility = " << format_double(w.price_volatility) << "\ntranches = [";
    for (std::size_t k = 0; k < w.tranches.size(); ++k)
      o << (k ? ", " : "") << "{gw = " << format_double(w.tranches[k].gw)
        << ", share = " << format_double(w.tranches[k].share)
        << ", price_hurdle = " << format_double(w.tranches[k].price_hurdle) << "}";
    o << "]\n";
    if (w.basis == GwBasis::deployed) o << "basis = \"deployed\"\n";
  }
  if (f.constraint) {
    o << "\n[constraint]\n";
    if (f.constraint->brake_cash_bn)
      o << "brake_cash = " << format_double(*f.constraint->brake_cash_bn) << "\n";
    o << "unpaid = " << (f.constraint->unpaid ? "true" : "false") << "\n";
    if (f.constraint->keep_cash_bn != 0)
      o << "keep_cash = " << format_double(f.constraint->keep_cash_bn) << "\n";
    if (f.constraint->seniority == FundingConstraint::Seniority::debt_first)
      o << "seniority = \"debt_first\"\n";
  }
}

std::string fingerprint(const Scenario& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : to_toml(s)) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace capexsim
