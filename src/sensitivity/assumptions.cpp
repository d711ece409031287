// Fixed assumptions (tornado --assumptions): keys tagged `# [assumption]` in the
// scenario text, or every fixed key, moved by a share of their value.

#include "internal.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "capexsim/scenario.hpp"

namespace capexsim {

using namespace sensitivity_detail;

namespace {

/// (code, comment) of one TOML line: the first # outside a string starts the comment.
std::pair<std::string_view, std::string_view> split_comment(std::string_view line) {
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote) {
      if (c == '\\' && quote == '"')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {
      return {line.substr(0, i), line.substr(i + 1)};
    }
  }
  return {line, {}};
}

int bracket_depth(std::string_view code) {
  int d = 0;
  char quote = 0;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const char c = code[i];
    if (quote) {
      if (c == '\\' && quote == '"')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++d;
    } else if (c == ']' || c == '}') {
      --d;
    }
  }
  return d;
}

std::string trimmed(std::string_view s) {
  const auto a = s.find_first_not_of(" \t\r");
  if (a == std::string_view::npos) return {};
  const auto b = s.find_last_not_of(" \t\r");
  return std::string(s.substr(a, b - a + 1));
}

/// Keys (as --vary names them) whose own line's comment carries `[assumption]`.
std::vector<std::string> tagged_assumptions(const Scenario& s, std::string_view text) {
  std::vector<std::string> keys;
  std::string section;
  std::map<std::string, int> counts;
  int depth = 0;
  std::size_t at = 0;
  while (at <= text.size()) {
    const auto end = std::min(text.find('\n', at), text.size());
    const auto [code, comment] = split_comment(text.substr(at, end - at));
    at = end + 1;
    if (depth > 0) {  // inside a value spanning lines
      depth += bracket_depth(code);
      continue;
    }
    const std::string line = trimmed(code);
    if (line.rfind("[[", 0) == 0) {
      section = trimmed(line.substr(2, line.find("]]") - 2));
      ++counts.try_emplace(section, -1).first->second;
      continue;
    }
    if (line.rfind("[", 0) == 0) {
      section = trimmed(line.substr(1, line.find(']') - 1));
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = trimmed(line.substr(0, eq));
    depth = std::max(0, bracket_depth(line.substr(eq + 1)));
    if (comment.find("[assumption]") == std::string_view::npos) continue;
    auto named = [&](const auto& items) -> std::string {
      const int k = counts[section];
      return k >= 0 && static_cast<std::size_t>(k) < items.size() ? items[k].name : std::string();
    };
    std::string name;
    if (section == "contract") name = named(s.contracts);
    if (section == "vendor_financing") name = named(s.vendors);
    if (section == "debt") name = named(s.financing.debt);
    if (!name.empty())
      keys.push_back(section + "." + name + "." + key);
    else if (counts.count(section) == 0)
      keys.push_back(section.empty() ? key : section + "." + key);
  }
  return keys;
}

}  // namespace

AssumptionRanges assumption_ranges(const Scenario& scenario, std::string_view toml_text,
                                   double share, bool all) {
  if (!(share > 0 && share < 1))
    throw SensitivityError("--assumptions " + fmt(share) +
                           ": expected a share between 0 and 1 (e.g. 20% or 0.2)");
  AssumptionRanges out;
  const std::vector<std::string> tagged =
      all ? std::vector<std::string>{} : tagged_assumptions(scenario, toml_text);
  for (const std::string& key : varyable_keys(scenario)) {
    if (!all && std::find(tagged.begin(), tagged.end(), key) == tagged.end()) continue;
    Scenario s = scenario;
    KeyRef ref;
    try {
      ref = find_ref(s, key);
    } catch (const SensitivityError&) {
      continue;  // not in this scenario (a plan cap it does not set, ...)
    }
    if (ref.dist && !ref.dist->is_fixed()) continue;  // drawn: the tornado pins it already
    if (ref.param == static_cast<std::size_t>(Param::plan_cap_gw) && !s.has_plan_cap) continue;
    const auto parts = split(key, '.');
    const KeyInfo* info = find_key(parts[0], parts.back());
    if (info && std::string_view(info->unit) == "calendar year") continue;  // a date, not a size
    const double value = ref.number ? *ref.number : ref.dist->value();
    if (!std::isfinite(value) || value == 0) continue;
    const double a = value * (1 - share), b = value * (1 + share);
    VaryRange r{key, std::min(a, b), std::max(a, b)};
    try {
      (void)with_key_value(scenario, key, r.lo);
      (void)with_key_value(scenario, key, r.hi);
    } catch (const SensitivityError& e) {
      out.skipped.push_back(key + ": " + e.what());
      continue;
    }
    out.ranges.push_back(std::move(r));
  }
  return out;
}

}  // namespace capexsim
