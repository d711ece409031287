// Rank measures on one run's kept inputs: Spearman, standardised rank regression
// (SRRC) and the event correlation (docs/sensitivity.md).

#include "internal.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <Eigen/Dense>

namespace capexsim {

using namespace sensitivity_detail;

namespace {

/// Average ranks (1-based) of v: ties share the mean of their ranks.
std::vector<double> ranks(std::span<const double> v) {
  const std::size_t n = v.size();
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> r(n);
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && v[idx[j]] == v[idx[i]]) ++j;
    const double avg = 0.5 * static_cast<double>(i + j - 1) + 1;
    for (std::size_t k = i; k < j; ++k) r[idx[k]] = avg;
    i = j;
  }
  return r;
}

/// Pearson correlation; NaN when either side is constant.
double correlation(const Eigen::VectorXd& a, const Eigen::VectorXd& b) {
  const Eigen::VectorXd x = a.array() - a.mean(), y = b.array() - b.mean();
  const double sxx = x.squaredNorm(), syy = y.squaredNorm();
  if (sxx <= 0 || syy <= 0) return nan;
  return x.dot(y) / std::sqrt(sxx * syy);
}

}  // namespace

RankTable rank_sensitivity(const Result& r, std::string_view output) {
  const std::size_t col = output_column(r, output);
  if (!r.has_per_path())
    throw SensitivityError("rank measures need per-path outputs (run with keep_paths)");
  RankTable t;
  t.output = std::string(output);
  t.paths = r.paths;
  if (r.input_names.empty())
    throw SensitivityError(
        "the scenario draws no input (every input is a fixed number), so "
        "there is nothing to rank; use tornado with --vary");
  if (!r.has_inputs())
    throw SensitivityError("rank measures need the per-path inputs (run with keep_inputs)");
  const auto y = column(r, col);
  std::vector<std::size_t> rows;
  for (std::size_t p = 0; p < r.paths; ++p)
    if (!std::isnan(y[p])) rows.push_back(p);
  t.defined = rows.size();
  t.nan_share = 1 - static_cast<double>(t.defined) / static_cast<double>(r.paths);
  const std::size_t k = r.input_names.size(), m = rows.size();
  if (m < 3)
    throw SensitivityError("output '" + t.output + "' is defined on " + std::to_string(m) + " of " +
                           std::to_string(r.paths) + " paths; rank measures need at least 3");
  // Ranks over the defined paths.
  std::vector<double> buf(m);
  for (std::size_t i = 0; i < m; ++i) buf[i] = y[rows[i]];
  // Checked on the output's values (buf is reused for each input below).
  if (nearly_constant(buf))
    throw SensitivityError("output '" + t.output +
                           "' is the same on every path where it is defined (" + fmt(y[rows[0]]) +
                           ", up to rounding), so no input can explain it");
  const auto ry = ranks(buf);
  const Eigen::VectorXd Ry =
      Eigen::Map<const Eigen::VectorXd>(ry.data(), static_cast<Eigen::Index>(m));
  Eigen::MatrixXd X(static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(k));
  for (std::size_t j = 0; j < k; ++j) {
    const double* x = r.inputs.col(static_cast<Eigen::Index>(j)).data();
    for (std::size_t i = 0; i < m; ++i) buf[i] = x[rows[i]];
    const auto rx = ranks(buf);
    for (std::size_t i = 0; i < m; ++i)
      X(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = rx[i];
  }
  t.rows.resize(k);
  std::vector<Eigen::Index> varying;
  for (std::size_t j = 0; j < k; ++j) {
    t.rows[j].factor = r.input_names[j];
    t.rows[j].spearman = correlation(X.col(static_cast<Eigen::Index>(j)), Ry);
    t.rows[j].srrc = 0;
    if (!std::isnan(t.rows[j].spearman)) varying.push_back(static_cast<Eigen::Index>(j));
  }
  // Standardised rank regression: b = Rxx^-1 rxy over the inputs that vary, R^2 = b.rxy.
  const Eigen::Index v = static_cast<Eigen::Index>(varying.size());
  if (v > 0) {
    Eigen::MatrixXd Z(static_cast<Eigen::Index>(m), v);
    for (Eigen::Index j = 0; j < v; ++j) {
      const Eigen::VectorXd c = X.col(varying[static_cast<std::size_t>(j)]);
      const Eigen::VectorXd d = c.array() - c.mean();
      Z.col(j) = d / d.norm();
    }
    const Eigen::VectorXd yc = Ry.array() - Ry.mean();
    const double yn = yc.norm();
    if (yn > 0) {
      const Eigen::VectorXd zy = yc / yn;
      const Eigen::MatrixXd Rxx = Z.transpose() * Z;
      const Eigen::VectorXd rxy = Z.transpose() * zy;
      const Eigen::VectorXd b = Rxx.colPivHouseholderQr().solve(rxy);
      t.r2 = b.dot(rxy);
      const double sum_b2 = b.squaredNorm();
      for (Eigen::Index j = 0; j < v; ++j) {
        RankRow& row = t.rows[static_cast<std::size_t>(varying[static_cast<std::size_t>(j)])];
        row.srrc = b(j);
        row.contribution = sum_b2 > 0 ? b(j) * b(j) / sum_b2 * t.r2 : 0;
      }
    } else {
      t.r2 = nan;  // a constant output: nothing to explain
    }
  }
  // The event: does the output happen at all, against each input over every path.
  for (std::size_t j = 0; j < k; ++j) t.rows[j].event_spearman = nan;
  if (m < r.paths) {
    std::vector<double> ev(r.paths);
    for (std::size_t p = 0; p < r.paths; ++p) ev[p] = std::isnan(y[p]) ? 0.0 : 1.0;
    const auto re = ranks(ev);
    const Eigen::VectorXd Re =
        Eigen::Map<const Eigen::VectorXd>(re.data(), static_cast<Eigen::Index>(r.paths));
    for (std::size_t j = 0; j < k; ++j) {
      const auto rx = ranks(
          std::span<const double>(r.inputs.col(static_cast<Eigen::Index>(j)).data(), r.paths));
      t.rows[j].event_spearman = correlation(
          Eigen::Map<const Eigen::VectorXd>(rx.data(), static_cast<Eigen::Index>(r.paths)), Re);
    }
  }
  std::stable_sort(t.rows.begin(), t.rows.end(), [](const RankRow& a, const RankRow& b) {
    const double x = std::isnan(a.srrc) ? -1 : std::abs(a.srrc);
    const double y = std::isnan(b.srrc) ? -1 : std::abs(b.srrc);
    return x > y;
  });
  return t;
}

}  // namespace capexsim
