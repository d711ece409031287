#pragma once
// A scalar scenario input: a fixed number or one of the distributions of docs/model.md §8.1.

#include <string>
#include <vector>

namespace capexsim {

/// A per-path static input, drawn once per path by inverse transform of one uniform.
///
/// Sampling by the inverse CDF (rather than by rejection) makes every draw a monotone
/// function of a single uniform, so changing a distribution's parameters moves each
/// path's value smoothly and never shifts the random numbers other inputs see.
///
/// | kind       | params              | inverse CDF at u                                       |
/// |------------|---------------------|--------------------------------------------------------|
/// | fixed      | [value]             | value                                                  |
/// | uniform    | [lo, hi]            | lo + u (hi - lo)                                       |
/// | triangular | [lo, mode, hi]      | closed form                                            |
/// | pert       | [lo, mode, hi]      | lo + (hi-lo) I^-1_u(a, b), a = 1+4(m-lo)/(hi-lo), b =
/// 1+4(hi-m)/(hi-lo) | | normal     | [mean, sd], min/max | mean + sd Phi^-1(Phi(A) + u (Phi(B) -
/// Phi(A)))         | | lognormal  | [mean, sd]          | exp(mu + s Phi^-1(u)), s^2 = ln(1 +
/// sd^2/mean^2), mu = ln mean - s^2/2 | | choice     | values, weights     | first value whose
/// cumulative weight exceeds u * total  |
class Distribution {
 public:
  enum class Kind { fixed, uniform, triangular, pert, normal, lognormal, choice };

  Distribution() = default;
  static Distribution fixed(double value);
  static Distribution uniform(double lo, double hi);
  static Distribution triangular(double lo, double mode, double hi);
  static Distribution pert(double lo, double mode, double hi);
  /// Normal, optionally truncated to [min, max] (pass +-infinity for no bound).
  static Distribution normal(double mean, double sd, double min, double max);
  static Distribution lognormal(double mean, double sd);
  static Distribution choice(std::vector<double> values, std::vector<double> weights);

  Kind kind() const { return kind_; }
  const std::vector<double>& params() const { return params_; }
  const std::vector<double>& weights() const { return weights_; }
  double min() const { return min_; }  // truncation bounds of a normal
  double max() const { return max_; }
  bool is_fixed() const { return kind_ == Kind::fixed; }
  double value() const { return params_.at(0); }  // only for fixed

  /// Smallest and largest value the distribution can produce (may be +-infinity).
  double lower() const;
  double upper() const;
  /// True when the support's lower end is itself excluded (lognormal: > 0).
  bool lower_open() const { return kind_ == Kind::lognormal; }

  /// Inverse CDF at u in (0, 1).
  double sample(double u) const;
  /// The exact mean of the distribution (used by tests and docs).
  double mean() const;

  /// The TOML spelling, e.g. `{ triangular = [40.0, 50.0, 60.0] }` or `50.0`.
  std::string to_toml() const;

  friend bool operator==(const Distribution&, const Distribution&) = default;

 private:
  Kind kind_ = Kind::fixed;
  std::vector<double> params_{0.0};
  std::vector<double> weights_;
  double min_ = 0, max_ = 0;
};

/// Kind name as written in a scenario file ("triangular", ...).
const char* kind_name(Distribution::Kind kind);

}  // namespace capexsim

namespace capexsim {
/// Phi^-1(u) for u in (0, 1) (Boost.Math, full double precision).
double standard_normal_quantile(double u);
}  // namespace capexsim
