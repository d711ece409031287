// The tables of the sensitivity methods as printed, as sensitivity.csv and as the fields of
// sensitivity.json (docs/sensitivity.md).

#include "sensitivity_tables.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "output.hpp"

namespace capexsim::cli {

/// Decimals for a statistic of `output`: shares (prob_positive) get 4, else the unit's.
int stat_decimals(const std::string& output, const Statistic& stat) {
  if (stat.is_share()) return 4;
  return decimals_for(output_unit(output)) + 1;
}

/// sensitivity.json's record of a joint run's labs, from the analysis' scenario hash
/// "<provider>+NAME=<lab>..." (as summary.json's scenario_hash of `run --counterparty`):
/// the provider's hash, then each counterparty's name and scenario hash (and file when
/// known). Nothing without counterparties.
void counterparty_meta(const std::string& hash, nlohmann::ordered_json& meta,
                       const std::vector<args::Counterparty>& files) {
  const auto plus = hash.find('+');
  if (plus == std::string::npos) return;
  meta["provider_scenario_hash"] = hash.substr(0, plus);
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::size_t at = plus;
  while (at != std::string::npos) {
    const std::size_t next = hash.find('+', at + 1);
    const std::string item = hash.substr(at + 1, next == std::string::npos ? next : next - at - 1);
    const auto eq = item.find('=');
    nlohmann::ordered_json c;
    c["name"] = item.substr(0, eq);
    c["scenario_hash"] = eq == std::string::npos ? "" : item.substr(eq + 1);
    for (const auto& f : files)
      if (f.name == item.substr(0, eq)) c["scenario_file"] = f.file;
    list.push_back(c);
    at = next;
  }
  meta["counterparties"] = list;
}

nlohmann::json num(double x) {
  if (!std::isfinite(x)) return nullptr;
  return x;
}

void render_rank(const RankTable& t, std::uint64_t seed, const std::string& scenario_name,
                 std::ostringstream& table, std::ostringstream& csv) {
  char line[512];
  table << "What drives " << t.output << " (" << scenario_name << "): rank measures over "
        << grouped(t.paths) << " paths, seed " << seed << "\n";
  if (t.nan_share > 0)
    table << t.output << " is undefined (the event never happens) on "
          << significant(100 * t.nan_share) << "% of paths. spearman, srrc and R^2 are over the "
          << grouped(t.defined)
          << " paths where it is defined;\nevent_rho is the rank correlation with 'it "
             "happens' over all paths.\n";
  table << "R^2 of the rank regression: " << fixed(t.r2, 3)
        << " (the share of the output's rank variance the inputs explain linearly).\n"
           "srrc: standardised rank-regression coefficient (the effect of one sd of an "
           "input's rank, others held);\ncontribution: srrc^2 / sum srrc^2 x R^2 (the "
           "contributions add up to R^2).\n\n";
  std::snprintf(line, sizeof line, "%-34s %9s %9s %13s %10s\n", "input", "spearman", "srrc",
                "contribution", "event_rho");
  table << line;
  csv << "factor,spearman,srrc,contribution,event_spearman\n";
  for (const auto& row : t.rows) {
    std::snprintf(line, sizeof line, "%-34s %9s %9s %12s%% %10s\n", row.factor.c_str(),
                  fixed(row.spearman, 3).c_str(), fixed(row.srrc, 3).c_str(),
                  fixed(100 * row.contribution, 1).c_str(), fixed(row.event_spearman, 3).c_str());
    table << line;
    csv << row.factor << ',' << number(row.spearman) << ',' << number(row.srrc) << ','
        << number(row.contribution) << ',' << number(row.event_spearman) << '\n';
  }
}

/// The Sobol table as printed and as sensitivity.csv.
void render_sobol(const SobolTable& t, std::uint64_t seed, const std::string& scenario_name,
                  std::ostringstream& table, std::ostringstream& csv) {
  char line[512];
  const std::string what = t.statistic == "prob_positive" ? "1[" + t.output + " > 0]" : t.output;
  table << "Sobol indices of " << what << " (" << scenario_name
        << "): pick-freeze, N = " << grouped(t.base_paths) << " base paths, "
        << grouped(t.total_paths) << " paths in all, seed " << seed
        << ".\nS: the share of the variance the factor "
           "explains alone; ST: with all its interactions. [lo, hi]: bootstrap 95%.\n";
  auto print = [&](const std::vector<SobolIndex>& rows, const std::string& year) {
    std::snprintf(line, sizeof line, "%-34s %7s %17s %7s %17s\n", "factor", "S", "[lo, hi]", "ST",
                  "[lo, hi]");
    table << line;
    for (const auto& row : rows) {
      // Process groups have no dot in their name; inputs are <section>.<key>.
      const bool process = row.name.find('.') == std::string::npos;
      const std::string label = process ? row.name + " (process)" : row.name;
      std::snprintf(line, sizeof line, "%-34s %7s %17s %7s %17s\n", label.c_str(),
                    fixed(row.S, 3).c_str(),
                    ("[" + fixed(row.S_lo, 3) + ", " + fixed(row.S_hi, 3) + "]").c_str(),
                    fixed(row.ST, 3).c_str(),
                    ("[" + fixed(row.ST_lo, 3) + ", " + fixed(row.ST_hi, 3) + "]").c_str());
      table << line;
      csv << (year.empty() ? "" : year + ",") << row.name << ',' << number(row.S) << ','
          << number(row.S_lo) << ',' << number(row.S_hi) << ',' << number(row.ST) << ','
          << number(row.ST_lo) << ',' << number(row.ST_hi) << ',' << (process ? "process" : "input")
          << '\n';
    }
  };
  table << "Noise can put S slightly above ST, or below 0, for a factor whose effect is small.\n";
  if (t.years.empty()) {
    table << "Mean " << fixed(t.mean, 3) << ", variance " << fixed(t.variance, 3) << "\n\n";
    csv << "factor,S,S_lo,S_hi,ST,ST_lo,ST_hi,kind\n";
    print(t.rows, "");
  } else {
    csv << "year,factor,S,S_lo,S_hi,ST,ST_lo,ST_hi,kind\n";
    for (std::size_t c = 0; c < t.years.size(); ++c) {
      table << "\n"
            << t.output << " at " << significant(t.years[c])
            << " (the first step at or after it): mean " << fixed(t.year_means[c], 3)
            << ", variance " << fixed(t.year_variances[c], 3) << "\n";
      print(t.over_time[c], significant(t.years[c]));
    }
  }
}

/// The Sobol fields of sensitivity.json.
void sobol_meta(const SobolTable& t, nlohmann::ordered_json& meta) {
  meta["paths"] = t.base_paths;
  meta["base_paths"] = t.base_paths;
  meta["total_paths"] = t.total_paths;
  meta["statistic"] = t.statistic;
  if (t.years.empty()) {
    meta["mean"] = num(t.mean);
    meta["variance"] = num(t.variance);
  } else {
    meta["years"] = t.years;
    nlohmann::json means = nlohmann::json::array(), vars = nlohmann::json::array();
    for (std::size_t c = 0; c < t.years.size(); ++c) {
      means.push_back(num(t.year_means[c]));
      vars.push_back(num(t.year_variances[c]));
    }
    meta["means"] = means;
    meta["variances"] = vars;
  }
}

/// The tornado table as printed and as sensitivity.csv; its fields of sensitivity.json.
void render_tornado(const TornadoTable& t, std::uint64_t paths, std::uint64_t seed, double low,
                    double high, const Statistic& stat, const std::string& scenario_name,
                    std::ostringstream& table, std::ostringstream& csv,
                    nlohmann::ordered_json& meta) {
  char line[512];
  const int d = stat_decimals(t.output, stat);
  meta["paths"] = paths;
  meta["paths_per_run"] = paths;
  meta["seed"] = seed;
  meta["statistic"] = t.statistic;
  meta["low_quantile"] = low;
  meta["high_quantile"] = high;
  meta["base"] = num(t.base);
  meta["base_ci95"] = num(t.base_ci95);
  meta["base_nan_share"] = t.base_nan_share;
  const std::string unit = stat.is_share() ? "share" : output_unit(t.output);
  table << "Tornado of " << t.output << "." << t.statistic << " (" << scenario_name
        << "): each input pinned at its P" << fixed(100 * low, 0) << " and P"
        << fixed(100 * high, 0)
        << " (or its --vary range), every other draw as in the base run\n(common random "
           "numbers, "
        << grouped(paths) << " paths per run, seed " << seed << "). Base: " << fixed(t.base, d)
        << " ± " << fixed(t.base_ci95, d) << " " << unit << " (95%)\n";
  if (t.base_nan_share > 0 && !stat.is_share())
    table << t.output << " is undefined (the event never happens) on "
          << fixed(100 * t.base_nan_share, 1) << "% of the base run's paths: the " << t.statistic
          << " is over the paths where it happens, a set that changes with each input.\n";
  table << "Rows marked (vary) set a scenario key to LO and HI; the others pin a drawn input "
           "at its quantiles. Statistics in "
        << unit << ".\n\n";
  int w = 34;  // as wide as the longest label (contract.<name>.cancel_probability (vary))
  for (const auto& row : t.rows)
    w = std::max(w, static_cast<int>(row.factor.size() + (row.varied ? 7 : 0)));
  std::snprintf(line, sizeof line, "%-*s %12s %12s %12s %12s %12s\n", w, "input", "low input",
                "high input", "stat at low", "stat at high", "swing");
  table << line;
  csv << "factor,low_input,high_input,stat_low,stat_base,stat_high,swing,kind\n";
  for (const auto& row : t.rows) {
    const std::string label = row.varied ? row.factor + " (vary)" : row.factor;
    std::snprintf(line, sizeof line, "%-*s %12s %12s %12s %12s %12s\n", w, label.c_str(),
                  significant(row.low_input).c_str(), significant(row.high_input).c_str(),
                  fixed(row.stat_low, d).c_str(), fixed(row.stat_high, d).c_str(),
                  fixed(row.swing, d).c_str());
    table << line;
    csv << row.factor << ',' << number(row.low_input) << ',' << number(row.high_input) << ','
        << number(row.stat_low) << ',' << number(row.stat_base) << ',' << number(row.stat_high)
        << ',' << number(row.swing) << ',' << (row.varied ? "vary" : "pin") << '\n';
  }
}

}  // namespace capexsim::cli
