#pragma once
// What the sensitivity methods (src/sensitivity/*.cpp) share: text and number parsing,
// output columns, run options for a series of runs, and where a --vary key lives in a
// scenario (KeyRef, resolved by find_ref in vary.cpp). Private to the library.

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "capexsim/detail/format.hpp"
#include "capexsim/path_model.hpp"
#include "capexsim/sensitivity.hpp"

namespace capexsim::sensitivity_detail {

inline constexpr double nan = std::numeric_limits<double>::quiet_NaN();

inline std::string fmt(double x) {
  return detail::format_double(x);
}

/// `text` cut at each `sep` (empty parts kept).
std::vector<std::string> split(std::string_view text, char sep);

/// A whole-string number, or nullopt.
std::optional<double> number(std::string_view text);

/// The index of `output` in `names`, or SensitivityError listing them.
std::size_t find_output(const std::vector<std::string>& names, std::string_view output);

/// The column of `output` in `r`.
std::size_t output_column(const Result& r, std::string_view output);

/// Column k of `r`'s per-path outputs.
std::span<const double> column(const Result& r, std::size_t k);

/// Are the values (NaN skipped) the same up to rounding: a spread of at most 1e-12 of
/// their magnitude? Such an output (e.g. capacity_end when every path builds to the cap)
/// has no variance to explain, only floating-point noise.
bool nearly_constant(std::span<const double> a, std::span<const double> b = {});

/// Progress over several runs of `paths` each: the caller's callback sees the total.
RunOptions run_of(const RunOptions& o, std::uint64_t done, std::uint64_t total);

/// The fingerprint of a run with `o` (as run() makes it): the scenario's, then
/// "+NAME=<lab>" for each counterparty of a joint run, so the samples of one pair merge
/// only with samples of the same pair.
std::string joint_fingerprint(const Scenario& scenario, const RunOptions& o);

/// `o` with each counterparty lab given the provider's variation `v`: path p of the
/// provider and of its lab stay one world (they share every variate, docs/model.md
/// §12.6). An input or process group drawn from the second seed is so in both; a pinned
/// input is pinned in the lab at the same quantile `pin_quantile[k]` of the lab's own
/// distribution (a fixed lab input keeps its value).
RunOptions with_lab_variation(const RunOptions& o, const Variation& v,
                              const std::array<double, param_count>& pin_quantile);

/// Where a varied key lives in a scenario.
struct KeyRef {
  Distribution* dist = nullptr;  // a distribution-valued key
  double* number = nullptr;      // a plain number (cancel_probability)
  std::size_t param = param_count;
};

/// Where `key` (as --vary names it) lives in `s`; SensitivityError for a key that is
/// unknown, absent from this scenario or not a number (vary.cpp).
KeyRef find_ref(Scenario& s, std::string_view key);

/// Every key the methods can vary, as --vary names them, in the order of the format.
std::vector<std::string> varyable_keys(const Scenario& s);

}  // namespace capexsim::sensitivity_detail
