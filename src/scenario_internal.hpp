#pragma once
// Shared by the scenario sources (not installed): source locations and the checker entry.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "capexsim/scenario.hpp"

namespace capexsim::detail {

inline constexpr int max_steps = 100000;

struct Location {
  int line = 0, column = 0;
};
/// Key path ("build.initial_gw", "contract[1].total") -> where it is written.
using Locations = std::map<std::string, Location>;

/// The checks of validate(); `locations` (may be null) places errors in the file.
void check_scenario(const Scenario& s, const std::string& file, const Locations* locations);

/// Refuses text the TOML parser cannot take safely (size, key parts, nesting); throws
/// ScenarioError with the line.
void prescan(std::string_view text, const std::string& file);

/// The message for a value whose magnitude is above its key's plausibility limit.
std::string implausible(const KeyInfo& info, double magnitude);

/// The tables that hold model inputs ("finance", "build", ...), in key-table order.
inline const std::vector<std::string>& param_sections() {
  static const std::vector<std::string> sections = [] {
    std::vector<std::string> out;
    for (const KeyInfo& k : scenario_keys())
      if (k.param != Param::count_ && (out.empty() || out.back() != k.section))
        out.emplace_back(k.section);
    return out;
  }();
  return sections;
}

}  // namespace capexsim::detail
