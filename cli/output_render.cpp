// What a run writes and prints (output.hpp): summary.json, bands.csv, paths.csv and the
// terminal tables (summary, sources and uses, counterparties, thresholds).

#include "output.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include <capexsim/detail/format.hpp>
#include <capexsim/target.hpp>
#include <capexsim/version.hpp>

#include "progress.hpp"

namespace capexsim::cli {

namespace {
nlohmann::json json_number(double x) {
  if (!std::isfinite(x)) return nullptr;  // JSON has no NaN
  return x;
}
}  // namespace

namespace {
/// A metric's statistics (summary_statistics, the one list): the first fields, then the
/// later ones (cvar05) and every 95% half-width.
void add_statistics(nlohmann::ordered_json& m, const Summary& s) {
  const std::vector<SummaryStatistic> stats = summary_statistics(s);
  for (const SummaryStatistic& x : stats)
    if (x.v1 && x.name != "mean") m[x.name] = json_number(x.value);
  for (const SummaryStatistic& x : stats)
    if (!x.v1) m[x.name] = json_number(x.value);
  for (const SummaryStatistic& x : stats) m[x.name + "_ci95"] = json_number(x.ci95);
}
}  // namespace

std::vector<std::string> overflowed_outputs(const Result& r, const std::vector<Summary>& stats) {
  std::vector<std::string> out;
  for (std::size_t k = 0; k < r.output_names.size() && k < stats.size(); ++k) {
    if (is_event_time(r.output_names[k])) continue;
    const Summary& s = stats[k];
    bool bad = s.nan_share > 0 || (s.count > 0 && !(std::abs(s.mean) < 1e300));
    for (const double q : s.quantiles) bad = bad || (s.count > 0 && !(std::abs(q) < 1e300));
    if (bad) out.push_back(r.output_names[k]);
  }
  return out;
}

std::string overflow_warning(const std::vector<std::string>& overflowed) {
  if (overflowed.empty()) return "";
  std::string list;
  for (const auto& n : overflowed) list += (list.empty() ? "" : ", ") + n;
  return "capexsim: warning: " + list + " overflowed" +
         ": NaN, infinite or beyond 1e300 on some paths, past the range of a double (an "
         "extreme growth rate, drift or volatility over the horizon?); their statistics are "
         "not meaningful (summary.json lists them under \"overflowed\")\n";
}

std::vector<Summary> summaries(const Result& r) {
  std::vector<Summary> out;
  for (std::size_t k = 0; k < r.output_names.size(); ++k) out.push_back(r.summary(k));
  return out;
}

std::string summary_json(const Result& r, const std::vector<Summary>& stats, const RunInfo& info,
                         const std::vector<std::pair<std::string, std::uint64_t>>& files) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["scenario"] = r.scenario_name;
  j["scenario_hash"] = r.scenario_fingerprint;
  j["scenario_file"] = info.scenario_file;
  j["paths"] = r.paths;
  j["seed"] = r.seed;
  j["steps"] = r.steps;
  j["step_years"] = r.dt;
  j["start"] = r.start_year;
  j["threads"] = info.threads;
  j["version"] = version_string;
  j["wall_time_s"] = info.wall_seconds;
  j["run_id"] = info.run_id;
  ordered_json listed = ordered_json::object();
  for (const auto& [name, bytes] : files) listed[name] = {{"bytes", bytes}};
  j["files"] = listed;
  j["sampling"] = info.sampling;
  if (!info.note.empty()) j["note"] = info.note;
  if (const auto overflowed = overflowed_outputs(r, stats); !overflowed.empty())
    j["overflowed"] = overflowed;
  if (!info.target.empty())
    j["target"] = {{"target", info.target},
                   {"reached", info.target_reached},
                   {"estimate", json_number(info.target_estimate)},
                   {"ci95", json_number(info.target_half_width)},
                   {"wanted_ci95", json_number(info.target_wanted)}};
  ordered_json metrics = ordered_json::object();
  // The funding waterfall first (docs/model.md §13.1), then the ledger, counterparties
  // and every other output.
  for (std::size_t k : display_order(r.output_names)) {
    const Summary& s = stats[k];
    const QuantityInfo q = describe_output(r.output_names[k]);
    ordered_json m;
    m["unit"] = q.unit;
    m["kind"] = kind_name(q.kind);
    m["adverse_tail"] = tail_name(q.adverse);
    m["mean"] = json_number(s.mean);
    m["sd"] = json_number(s.sd);
    m["stderr"] = json_number(s.std_error);
    add_statistics(m, s);
    for (const auto& [name, values] : info.thresholds) {
      if (name != r.output_names[k]) continue;
      ordered_json e = ordered_json::object();
      for (double v : values) {
        const Exceedance x = r.exceedance(k, v);
        e[number(v)] = {{"prob", json_number(x.prob)}, {"ci95", json_number(x.ci95)}};
      }
      m["exceedance"] = e;
    }
    metrics[r.output_names[k]] = m;
  }
  j["metrics"] = metrics;
  // max_digits10 so that every double round-trips
  return j.dump(2) + "\n";
}

std::string bands_csv(const Result& r) {
  std::string out = "t,year,series,mean,p5,p25,p50,p75,p95\n";
  for (const std::string& name : r.series_names) {
    const auto rows = r.band(name);
    for (const BandRow& row : rows) {
      out += number(row.t) + "," + number(row.year) + "," + name + "," + number(row.mean);
      for (double q : row.quantiles) out += "," + number(q);
      out += "\n";
    }
  }
  return out;
}

void write_paths_csv(const Result& r, OutFile& out) {
  if (!r.has_per_path()) throw std::logic_error("paths_csv: the run kept no per-path outputs");
  std::string row = "path";
  for (const auto& n : r.output_names) row += "," + n;
  // The drawn static inputs of each path (docs/sensitivity.md), after the outputs.
  const bool inputs = r.has_inputs();
  if (inputs)
    for (const auto& n : r.input_names) row += ",input." + n;
  row += "\n";
  out.write(row);
  for (std::uint64_t p = 0; p < r.paths; ++p) {
    if (p % 1024 == 0 && interrupted().load()) throw Cancelled();
    row = std::to_string(r.first_path + p);
    for (std::size_t k = 0; k < r.output_names.size(); ++k) {
      row += ',';
      row += number(r.per_path(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(k)));
    }
    if (inputs)
      for (std::size_t k = 0; k < r.input_names.size(); ++k) {
        row += ',';
        row += number(r.inputs(static_cast<Eigen::Index>(p), static_cast<Eigen::Index>(k)));
      }
    row += '\n';
    out.write(row);
  }
}

namespace {
bool starts_with(const std::string& s, const char* p) {
  return s.rfind(p, 0) == 0;
}
/// Rows of the counterparty table, not of the output tables (docs/model.md §13.3).
bool counterparty_output(const std::string& n) {
  return starts_with(n, "unpaid_") || starts_with(n, "deferred_") || n == "recovered_total";
}
bool waterfall_output(const std::string& n) {
  return n == "funding_need" || n == "need_time" || starts_with(n, "funding_need_by_") ||
         n == "funding_gap" || starts_with(n, "funding_gap_by_") || n == "gap_time" ||
         n == "runway";
}
}  // namespace

std::string summary_table(const Result& r, const std::vector<Summary>& stats) {
  std::ostringstream o;
  char line[512];
  int width = 19;  // the name column fits the longest output name
  for (const auto& name : r.output_names)
    if (!counterparty_output(name) && !starts_with(name, "flow_"))
      width = std::max(width, static_cast<int>(name.size()));
  auto header = [&] {
    // "±" is two bytes in UTF-8: a field one wider keeps the columns aligned.
    std::snprintf(line, sizeof line, "%-*s %-6s %10s %9s %10s %10s %10s %9s %9s\n", width, "output",
                  "unit", "mean", "±95%", "p5", "p50", "p95", "P(>0)", "never");
    o << line;
  };
  auto row = [&](std::size_t k) {
    const std::string& name = r.output_names[k];
    const Summary& s = stats[k];
    const std::string unit = output_unit(name);
    const int d = decimals_for(unit);
    const std::string p_pos = is_event_time(name) ? "" : fixed(100 * s.prob_positive, 1) + "%";
    const std::string never = is_event_time(name) ? fixed(100 * s.nan_share, 1) + "%" : "";
    std::snprintf(line, sizeof line, "%-*s %-6s %10s %8s %10s %10s %10s %9s %9s\n", width,
                  name.c_str(), unit.c_str(), fixed(s.mean, d).c_str(),
                  fixed(s.mean_ci95, d + 1).c_str(), fixed(s.quantile(0.05), d).c_str(),
                  fixed(s.quantile(0.5), d).c_str(), fixed(s.quantile(0.95), d).c_str(),
                  p_pos.c_str(), never.c_str());
    o << line;
  };
  const std::vector<std::size_t> order = display_order(r.output_names);
  // 1. The funding waterfall: gross need, by date, then the residual and its timing.
  header();
  for (std::size_t k : order)
    if (waterfall_output(r.output_names[k])) row(k);
  // 2. Sources and uses; 3. counterparties; 4. every other output.
  o << ledger_table(r, stats);
  o << counterparty_table(r, stats);
  o << "\n";
  header();
  for (std::size_t k : order) {
    const std::string& n = r.output_names[k];
    if (!waterfall_output(n) && !counterparty_output(n) && !starts_with(n, "flow_")) row(k);
  }
  return o.str();
}

std::string ledger_table(const Result& r, const std::vector<Summary>& stats) {
  // docs/model.md §13.2: sources, uses, and the cash they leave.
  struct Line {
    const char* output;
    const char* label;
  };
  static const Line sources[] = {{"flow_revenue", "revenue (incl. resale)"},
                                 {"flow_vendor", "vendor financing"},
                                 {"flow_scheduled_equity", "scheduled equity"},
                                 {"flow_warrants", "warrants sold"},
                                 {"flow_debt_drawn", "debt drawn"},
                                 {"flow_equity_rounds", "equity rounds"},
                                 {"flow_arrears_added", "arrears added (unpaid)"}};
  static const Line uses[] = {{"flow_capex", "capex (incl. refresh)"},
                              {"flow_contracts", "contracts"},
                              {"flow_rent", "rent"},
                              {"flow_opex", "opex"},
                              {"flow_interest", "interest"},
                              {"flow_debt_repaid", "debt repaid"},
                              {"flow_arrears_paid", "arrears repaid"}};
  auto index = [&](const char* name) -> long {
    for (std::size_t k = 0; k < r.output_names.size(); ++k)
      if (r.output_names[k] == name) return static_cast<long>(k);
    return -1;
  };
  if (index("flow_revenue") < 0) return "";
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "\n%-28s %10s %10s %10s %10s\n", "sources and uses, $B", "mean",
                "p5", "p50", "p95");
  o << line;
  double in = 0, out = 0;
  auto put = [&](const Line& l, double& total) {
    const long k = index(l.output);
    if (k < 0) return;
    const Summary& s = stats[static_cast<std::size_t>(k)];
    total += s.mean;
    std::snprintf(line, sizeof line, "  %-26s %10s %10s %10s %10s\n", l.label,
                  fixed(s.mean, 1).c_str(), fixed(s.quantile(0.05), 1).c_str(),
                  fixed(s.quantile(0.5), 1).c_str(), fixed(s.quantile(0.95), 1).c_str());
    o << line;
  };
  o << "sources\n";
  for (const Line& l : sources) put(l, in);
  o << "uses\n";
  for (const Line& l : uses) put(l, out);
  const long w = index("terminal_cash");
  const double end = w >= 0 ? stats[static_cast<std::size_t>(w)].mean : 0.0;
  std::snprintf(line, sizeof line, "%-28s %10s   (initial cash %s + sources %s - uses %s, means)\n",
                "cash at the horizon", fixed(end, 1).c_str(), fixed(end - in + out, 1).c_str(),
                fixed(in, 1).c_str(), fixed(out, 1).c_str());
  o << line;
  return o.str();
}

std::string counterparty_table(const Result& r, const std::vector<Summary>& stats) {
  // docs/model.md §13.3: one row per class of obligation with arrears (each contract, then
  // builders, opex, lenders, landlords), from its unpaid_<class> and deferred_<class>.
  auto index = [&](const std::string& name) -> long {
    for (std::size_t k = 0; k < r.output_names.size(); ++k)
      if (r.output_names[k] == name) return static_cast<long>(k);
    return -1;
  };
  if (index("unpaid_total") < 0) return "";
  std::vector<std::pair<std::string, std::string>> rows;  // label, class
  for (const std::string& name : r.output_names)
    if (starts_with(name, "deferred_") && name != "deferred_total" && name != "deferred_capex" &&
        name != "deferred_opex" && name != "deferred_debt" && name != "deferred_rent")
      rows.emplace_back(name.substr(9), name.substr(9));
  rows.emplace_back("builders (capex)", "capex");
  rows.emplace_back("opex", "opex");
  rows.emplace_back("lenders (debt)", "debt");
  rows.emplace_back("landlords (rent)", "rent");
  rows.emplace_back("total", "total");
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "\n%-20s %11s %11s %14s %14s %14s\n", "counterparty",
                "P(never in", "P(paid in", "unpaid mean", "unpaid p95", "recovered");
  o << line;
  std::snprintf(line, sizeof line, "%-20s %11s %11s %14s %14s %14s\n", "", "arrears)", "full)",
                "$B", "$B", "mean $B");
  o << line;
  for (const auto& [who, cls] : rows) {
    const long u = index("unpaid_" + cls), d = index("deferred_" + cls);
    if (u < 0 || d < 0) continue;
    const Summary& su = stats[static_cast<std::size_t>(u)];
    const Summary& sd = stats[static_cast<std::size_t>(d)];
    std::snprintf(line, sizeof line, "%-20s %10s%% %10s%% %14s %14s %14s\n", who.c_str(),
                  fixed(100 * (1 - sd.prob_positive), 1).c_str(),
                  fixed(100 * (1 - su.prob_positive), 1).c_str(), fixed(su.mean, 1).c_str(),
                  fixed(su.quantile(0.95), 1).c_str(), fixed(sd.mean - su.mean, 1).c_str());
    o << line;
  }
  return o.str();
}

std::string thresholds_table(const Result& r, const Thresholds& thresholds) {
  std::ostringstream o;
  for (const auto& [name, values] : thresholds) {
    const std::size_t k = r.output_index(name);
    const std::string unit = output_unit(name);
    for (double v : values) {
      const Exceedance e = r.exceedance(k, v);
      o << "P(" << name << " > " << number(v) << (unit == std::string("years") ? " years" : "")
        << ") = " << fixed(100 * e.prob, 2) << "% ± " << fixed(100 * e.ci95, 2) << "%\n";
    }
  }
  return o.str();
}

}  // namespace capexsim::cli
