// capexsim check SCENARIO.toml: validate a scenario and print it resolved as TOML.

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

int cmd_check(const std::string& file) {
  const Scenario scenario = load_scenario(file);
  std::cout << "# " << file << ": valid. The resolved scenario (every default filled in):\n"
            << to_toml(scenario);
  // docs/model.md §13.6: what a GW of each source earns against what it costs, as TOML
  // comments so the output stays a scenario file.
  const auto rows = unit_economics(scenario);
  std::size_t width = 6;
  for (const auto& r : rows) width = std::max(width, r.source.size());
  auto cell = [](double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%10.2f", x);
    return std::string(buf);
  };
  std::cout << "\n# Unit economics at the start, $B per GW-year (means of the inputs):\n"
            << "#   " << std::string(width, ' ') << "  net revenue        cost      margin\n";
  bool any_gain = false;
  for (const auto& r : rows) {
    any_gain = any_gain || r.margin() > 0;
    std::cout << "#   " << r.source << std::string(width - r.source.size(), ' ') << "   "
              << cell(r.net_revenue_per_gw_year) << "  " << cell(r.cost_per_gw_year) << "  "
              << cell(r.margin()) << "\n";
  }
  std::cout << "#   net revenue = arr_per_gw (1 - revenue_cost_share); owned cost = "
               "power_ops_per_gw_year + cost_per_gw it_share / useful_life_years (IT refresh "
               "only); leased = rent_per_gw_year; contract = total / (gw years)\n";
  if (!any_gain)
    std::cout << "# Every capacity source loses money per GW at the start: no GW pays for itself "
                 "unless revenue per GW rises (revenue.arr_per_gw_growth) or costs fall.\n";
  return exit_ok;
}

}  // namespace

Command add_check(CLI::App& app) {
  auto check_file = std::make_shared<std::string>();
  CLI::App* check_cmd = app.add_subcommand(
      "check", "Validate a scenario and print it resolved (every default filled in) as TOML");
  check_cmd->add_option("scenario", *check_file, "Scenario file (TOML)")->required();

  return {check_cmd, [check_file] { return cmd_check(*check_file); }};
}

}  // namespace capexsim::cli
