// Helpers the sensitivity methods share (internal.hpp) and the output check.

#include "internal.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

namespace capexsim {

namespace sensitivity_detail {

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  for (;;) {
    const auto at = text.find(sep, from);
    parts.emplace_back(text.substr(from, at == std::string_view::npos ? at : at - from));
    if (at == std::string_view::npos) return parts;
    from = at + 1;
  }
}

std::optional<double> number(std::string_view text) {
  const std::string t(text);
  if (t.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const double x = std::stod(t, &used);
    if (used != t.size() || !std::isfinite(x)) return std::nullopt;
    return x;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::size_t find_output(const std::vector<std::string>& names, std::string_view output) {
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k] == output) return k;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw SensitivityError("unknown output '" + std::string(output) +
                         "' for this scenario; expected one of: " + list);
}

std::size_t output_column(const Result& r, std::string_view output) {
  return find_output(r.output_names, output);
}

std::span<const double> column(const Result& r, std::size_t k) {
  return {r.per_path.col(static_cast<Eigen::Index>(k)).data(), r.paths};
}

bool nearly_constant(std::span<const double> a, std::span<const double> b) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (auto v : {a, b})
    for (double x : v)
      if (!std::isnan(x)) lo = std::min(lo, x), hi = std::max(hi, x);
  if (!(lo <= hi)) return true;
  return hi - lo <= 1e-12 * std::max(std::abs(lo), std::abs(hi));
}

RunOptions run_of(const RunOptions& o, std::uint64_t done, std::uint64_t total) {
  RunOptions r = o;
  if (o.progress)
    r.progress = [f = o.progress, done, total](std::uint64_t d, std::uint64_t) {
      return f(done + d, total);
    };
  return r;
}

std::string joint_fingerprint(const Scenario& scenario, const RunOptions& o) {
  std::string f = fingerprint(scenario);
  for (const JointRun& j : o.counterparties) f += "+" + j.name + "=" + j.lab_fingerprint;
  return f;
}

RunOptions with_lab_variation(const RunOptions& o, const Variation& v,
                              const std::array<double, param_count>& pin_quantile) {
  RunOptions r = o;
  for (JointRun& j : r.counterparties) {
    auto lab = std::make_shared<PathModel>(*j.lab);
    Variation lv = v;
    for (std::size_t k = 0; k < param_count; ++k)
      if (lv.pinned[k]) lv.pin[k] = lab->scenario().params[k].sample(pin_quantile[k]);
    lab->set_variation(lv);
    j.lab = std::move(lab);
  }
  return r;
}

}  // namespace sensitivity_detail

using namespace sensitivity_detail;

void check_output(const Scenario& scenario, std::string_view output) {
  find_output(PathModel(scenario).output_names(), output);
}

}  // namespace capexsim
