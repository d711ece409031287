// capexsim compare A.toml B.toml: two runs with common random numbers and the paired
// difference of every output.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <capexsim/capexsim.hpp>
#include <capexsim/sampling.hpp>

#include "args.hpp"
#include "command.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "sensitivity.hpp"
#include "shard.hpp"

namespace capexsim::cli {

namespace {

using namespace args;

struct CompareArgs {
  std::string a, b;
  std::string paths = "100000";
  std::string seed = "1";
  std::string threads = "0";
  bool quiet = false;
  // "NAME=lab.toml" (docs/model.md §12.6): on each side that has the revenue contract
  // NAME, and on A or B only.
  std::vector<std::string> counterparties, counterparties_a, counterparties_b;
};

/// The joint runs of one side of compare: its own --counterparty-a/-b, then each
/// --counterparty whose NAME the side has as a [[revenue_contract]] (its own option of
/// the same name wins). Returns a line naming them ("" without).
std::string compare_side(const Scenario& s, const std::string& side,
                         const std::vector<std::string>& shared,
                         const std::vector<std::string>& own, RunOptions& o) {
  std::vector<std::string> specs;
  std::vector<std::string> own_names;
  for (const std::string& spec : own)
    own_names.push_back(parse_counterparty(spec, "--counterparty-" + side).name);
  for (const std::string& spec : shared) {
    const Counterparty c = parse_counterparty(spec, "--counterparty");
    if (has_revenue_contract(s, c.name) &&
        std::find(own_names.begin(), own_names.end(), c.name) == own_names.end())
      specs.push_back(spec);
  }
  std::vector<Counterparty> used;
  if (!own.empty()) used = apply_counterparties(s, own, o, "--counterparty-" + side);
  if (!specs.empty()) {
    if (!used.empty())
      throw UsageError("--counterparty and --counterparty-" + side + " give " + side +
                       " two counterparty labs; one per run today");
    used = apply_counterparties(s, specs, o, "--counterparty");
  }
  std::string line;
  for (const Counterparty& c : used)
    line += (line.empty() ? "" : ", ") + c.name + " paid by " + c.file;
  return line.empty() ? ""
                      : std::string(side == "a" ? "A" : "B") + " joint run: revenue contract " +
                            line + " (same paths)\n";
}

// Counterparties of A and B (each unpaid_<contract>, then the builders): P(paid in full)
// and the mean left unpaid in each, with the paired difference of that mean. Empty when
// neither run leaves anything unpaid (no [constraint] unpaid = true).
std::string compare_counterparties(const Result& ra, const Result& rb,
                                   const std::vector<PairedDifference>& diffs) {
  std::vector<std::string> names;
  for (const Result* r : {&ra, &rb})
    for (const std::string& n : r->output_names)
      if (n.rfind("unpaid_", 0) == 0 && n != "unpaid_total" && n != "unpaid_capex" &&
          std::find(names.begin(), names.end(), n) == names.end())
        names.push_back(n);
  if (names.empty()) return "";
  for (const Result* r : {&ra, &rb})
    if (std::find(r->output_names.begin(), r->output_names.end(), "unpaid_capex") !=
            r->output_names.end() &&
        std::find(names.begin(), names.end(), "unpaid_capex") == names.end())
      names.push_back("unpaid_capex");
  int w = 20;
  for (const std::string& n : names) w = std::max(w, static_cast<int>(n.size()) - 7);
  auto paid = [](const Result& r, const std::string& n) -> std::string {
    const auto it = std::find(r.output_names.begin(), r.output_names.end(), n);
    if (it == r.output_names.end()) return "-";
    return fixed(
               100 *
                   (1 -
                    r.summary(static_cast<std::size_t>(it - r.output_names.begin())).prob_positive),
               1) +
           "%";
  };
  auto mean = [](const Result& r, const std::string& n) -> std::string {
    const auto it = std::find(r.output_names.begin(), r.output_names.end(), n);
    if (it == r.output_names.end()) return "-";
    return fixed(r.summary(static_cast<std::size_t>(it - r.output_names.begin())).mean, 1);
  };
  std::ostringstream o;
  char line[600];
  std::snprintf(line, sizeof line, "\n%-*s %12s %12s %14s %14s %10s %8s\n", w, "counterparty",
                "P(paid) A", "P(paid) B", "unpaid mean A", "unpaid mean B", "B - A", "se");
  o << line;
  for (const std::string& n : names) {
    const std::string who = n == "unpaid_capex" ? "builders (capex)" : n.substr(7);
    std::string d = "-", se = "-", star;
    for (const PairedDifference& diff : diffs)
      if (diff.output == n) {
        d = fixed(diff.mean, 1);
        se = fixed(diff.se, 2);
        star = diff.significant ? " *" : "";
      }
    std::snprintf(line, sizeof line, "%-*s %12s %12s %14s %14s %10s %8s%s\n", w, who.c_str(),
                  paid(ra, n).c_str(), paid(rb, n).c_str(), mean(ra, n).c_str(),
                  mean(rb, n).c_str(), d.c_str(), se.c_str(), star.c_str());
    o << line;
  }
  return o.str();
}

int cmd_compare(const CompareArgs& c) {
  const Scenario sa = load_scenario(c.a), sb = load_scenario(c.b);
  RunOptions o;
  o.paths = parse_count(c.paths, "--paths", static_cast<double>(keep_paths_limit));
  o.seed = parse_seed(c.seed);
  o.threads = parse_threads(c.threads);
  o.bands = false;
  // Joint runs (docs/model.md §12.6): --counterparty on each side that has the contract.
  for (const std::string& spec : c.counterparties) {
    const Counterparty cp = parse_counterparty(spec, "--counterparty");
    if (!has_revenue_contract(sa, cp.name) && !has_revenue_contract(sb, cp.name)) {
      std::vector<std::string> names;
      for (const Scenario* s : {&sa, &sb})
        for (const auto& rc : s->revenue_contracts)
          if (std::find(names.begin(), names.end(), rc.name) == names.end())
            names.push_back(rc.name);
      std::string known;
      for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
      throw UsageError("--counterparty " + spec + ": neither A (" + sa.name + ") nor B (" +
                       sb.name + ") has a [[revenue_contract]] named \"" + cp.name +
                       "\" (they have: " + (known.empty() ? "none" : known) + ")");
    }
  }
  RunOptions oa = o, ob = o;
  const std::string joint_a = compare_side(sa, "a", c.counterparties, c.counterparties_a, oa);
  const std::string joint_b = compare_side(sb, "b", c.counterparties, c.counterparties_b, ob);
  const bool progress = !c.quiet && stderr_is_terminal();
  const Timed ta = simulate(sa, oa, progress, "A ");
  const Timed tb = simulate(sb, ob, progress, "B ");
  if (cli::interrupted()) throw Interrupted();
  const Result &ra = ta.result, &rb = tb.result;

  std::cout << "A = " << header(ra, c.a, ta.seconds) << "B = " << header(rb, c.b, tb.seconds)
            << joint_a << joint_b
            << "Common random numbers: path p of A and of B share every variate not tied to a "
               "changed input.\n"
            << "B - A is the mean paired difference over paths where both are defined; se is "
               "its standard error;\n* marks |B - A| > 3 se (a change that stands out from "
               "Monte Carlo noise).\n\n";
  const std::vector<PairedDifference> diffs = compare(ra, rb);
  // The name column is as wide as the longest name (funding_need_by_2030, unpaid_<contract>),
  // so long names never push the other columns out of line.
  int w = 14;
  for (const PairedDifference& diff : diffs) w = std::max(w, static_cast<int>(diff.output.size()));
  char line[600];
  std::snprintf(line, sizeof line, "%-*s %-6s %10s %10s %10s %8s %1s   %-26s %-26s %s\n", w,
                "output", "unit", "A mean", "B mean", "B - A", "se", "", "A p5 / p50 / p95",
                "B p5 / p50 / p95", "never A/B");
  std::cout << line;
  for (const PairedDifference& diff : diffs) {
    const std::string& name = diff.output;
    const double mean = diff.mean, se = diff.se;
    const bool stands_out = diff.significant;
    const std::size_t ka = diff.index_a, kb = diff.index_b;
    const Summary xa = ra.summary(ka), xb = rb.summary(kb);
    const std::string unit = cli::output_unit(name);
    const int d = cli::decimals_for(unit);
    auto three = [&](const Summary& x) {
      return fixed(x.quantile(0.05), d) + " / " + fixed(x.quantile(0.5), d) + " / " +
             fixed(x.quantile(0.95), d);
    };
    const std::string never = cli::is_event_time(name) ? fixed(100 * xa.nan_share, 1) + "%/" +
                                                             fixed(100 * xb.nan_share, 1) + "%"
                                                       : "";
    std::snprintf(line, sizeof line, "%-*s %-6s %10s %10s %10s %8s %1s   %-26s %-26s %s\n", w,
                  name.c_str(), unit.c_str(), fixed(xa.mean, d).c_str(), fixed(xb.mean, d).c_str(),
                  fixed(mean, d).c_str(), fixed(se, d + 1).c_str(), stands_out ? "*" : "",
                  three(xa).c_str(), three(xb).c_str(), never.c_str());
    std::cout << line;
  }
  std::cout << compare_counterparties(ra, rb, diffs);
  return exit_ok;
}

}  // namespace

Command add_compare(CLI::App& app) {
  auto ca = std::make_shared<CompareArgs>();
  CLI::App* cmp_cmd = app.add_subcommand(
      "compare",
      "Run two scenarios with common random numbers and show per-output paired differences");
  cmp_cmd->add_option("a", ca->a, "Scenario A (TOML)")->required();
  cmp_cmd->add_option("b", ca->b, "Scenario B (TOML)")->required();
  cmp_cmd->add_option("--paths,-n", ca->paths,
                      "Monte Carlo paths per scenario; accepts 1e6 [default: 100000]");
  cmp_cmd->add_option("--seed,-s", ca->seed, "Random seed shared by both runs [default: 1]");
  cmp_cmd->add_option("--threads,-t", ca->threads, "Worker threads, 0 = all cores [default: 0]");
  cmp_cmd->add_flag("--quiet,-q", ca->quiet, "No progress bar");
  cmp_cmd->add_option("--counterparty", ca->counterparties,
                      "NAME=lab.toml: a joint run on each side whose scenario has the "
                      "[[revenue_contract]] NAME (docs/model.md 12.6)");
  cmp_cmd->add_option("--counterparty-a", ca->counterparties_a,
                      "NAME=lab.toml: a joint run of A only (wins over --counterparty of the "
                      "same NAME)");
  cmp_cmd->add_option("--counterparty-b", ca->counterparties_b,
                      "NAME=lab.toml: a joint run of B only (wins over --counterparty of the "
                      "same NAME)");

  return {cmp_cmd, [ca] { return cmd_compare(*ca); }, [ca] { return ca->threads; }};
}

}  // namespace capexsim::cli
