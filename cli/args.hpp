#pragma once
// Parsing of the command line's option values, shared by the commands: each throws
// UsageError naming the option, the value and what is expected (exit code 2).

#include <cctype>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <oneapi/tbb/info.h>

#include <capexsim/engine.hpp>
#include <capexsim/scenario.hpp>

#include "output.hpp"

namespace capexsim::cli::args {

/// The number at the start of `text` and how many characters it took (0 when none).
inline double leading_number(const std::string& text, std::size_t& used) {
  used = 0;
  try {
    return std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
    return 0;
  }
}

inline std::uint64_t parse_count(const std::string& text, const char* option, double max) {
  std::size_t used = 0;
  const double x = leading_number(text, used);
  if (used != text.size() || !std::isfinite(x) || x < 1 || x > max || x != std::floor(x))
    throw UsageError(std::string(option) + " " + text + ": expected a whole number from 1 to " +
                     cli::number(max) + " (1e6 is accepted)");
  return static_cast<std::uint64_t>(x);
}

/// --memory-limit: bytes, with an optional suffix K, M, G or T (powers of 1024), or
/// "none" for no check.
inline std::uint64_t parse_memory_limit(const std::string& text) {
  if (text == "none") return std::numeric_limits<std::uint64_t>::max();
  std::size_t used = 0;
  const double x = leading_number(text, used);
  double unit = 1;
  if (used > 0 && used + 1 == text.size()) {
    const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text.back())));
    unit = c == 'K' ? 0x1p10 : c == 'M' ? 0x1p20 : c == 'G' ? 0x1p30 : c == 'T' ? 0x1p40 : 0;
    if (unit > 0) ++used;
  }
  if (used == 0 || used != text.size() || unit == 0 || !std::isfinite(x) || x * unit < 1 ||
      x * unit >= 0x1p64)
    throw UsageError("--memory-limit " + text +
                     ": expected a size in bytes with an optional K, M, G or T suffix (e.g. 8G), "
                     "or none");
  return static_cast<std::uint64_t>(x * unit);
}

/// --threads: 0 (all cores) or a count; returns the count asked for.
inline int parse_threads(const std::string& text) {
  constexpr int max_threads = 4096;
  std::size_t used = 0;
  long v = -1;
  try {
    if (!text.empty() && text[0] != '-') v = std::stol(text, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || v < 0 || v > max_threads)
    throw UsageError("--threads " + text + ": expected a whole number from 0 (all cores) to " +
                     std::to_string(max_threads));
  return static_cast<int>(v);
}

/// The worker count a run with `threads` uses (0 = all cores the process may use).
inline int threads_used(int threads) {
  return threads > 0 ? threads : tbb::info::default_concurrency();
}

inline std::uint64_t parse_seed(const std::string& text) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    if (!text.empty() && text[0] != '-') v = std::stoull(text, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError("--seed " + text + ": expected a whole number from 0 to 2^64-1");
  return v;
}

/// One `--counterparty NAME=lab.toml` (docs/model.md §12.6): the name and the lab's file.
struct Counterparty {
  std::string name, file;
};
/// Parse NAME=FILE; `option` names the option in the message (--counterparty-a, ...).
inline Counterparty parse_counterparty(const std::string& spec, const std::string& option) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw UsageError(option + " " + spec + ": expected NAME=lab.toml");
  return {spec.substr(0, eq), spec.substr(eq + 1)};
}

/// Does `scenario` have a [[revenue_contract]] `name`?
inline bool has_revenue_contract(const Scenario& scenario, const std::string& name) {
  for (const auto& c : scenario.revenue_contracts)
    if (c.name == name) return true;
  return false;
}

/// --counterparty NAME=FILE: run FILE's lab on the same paths and pay the scenario's
/// [[revenue_contract]] NAME what the lab paid on its [[contract]] NAME. Adds the joint
/// runs to `o` and returns (name, file) of each; UsageError naming the problem.
inline std::vector<Counterparty> apply_counterparties(
    const Scenario& provider, const std::vector<std::string>& specs, RunOptions& o,
    const std::string& option = "--counterparty") {
  if (specs.size() > 1)
    throw UsageError(option + ": one counterparty lab per run today, got " +
                     std::to_string(specs.size()));
  std::vector<Counterparty> out;
  for (const std::string& spec : specs) {
    Counterparty c = parse_counterparty(spec, option);
    const Scenario lab = load_scenario(c.file);
    try {
      o.counterparties.push_back(joint_run(provider, lab, c.name));
    } catch (const std::invalid_argument& e) {
      throw UsageError(option + " " + spec + ": " + e.what());
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace capexsim::cli::args
