#include "capexsim/distribution.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/special_functions/beta.hpp>

#include "capexsim/detail/format.hpp"

namespace capexsim {

namespace {
constexpr double inf = std::numeric_limits<double>::infinity();

double normal_cdf(double x) {
  if (x == inf) return 1.0;
  if (x == -inf) return 0.0;
  return 0.5 * std::erfc(-x / std::sqrt(2.0));
}

// Boost evaluates double functions in long double by default (x87, several times
// slower); double precision is ample here and keeps the per-path draws cheap.
using double_policy = boost::math::policies::policy<boost::math::policies::promote_double<false>>;

double normal_quantile(double p) {
  static const boost::math::normal_distribution<double, double_policy> standard;
  return boost::math::quantile(standard, p);
}

double lognormal_sigma2(double mean, double sd) {
  return std::log1p((sd * sd) / (mean * mean));
}
}  // namespace

Distribution Distribution::fixed(double value) {
  Distribution d;
  d.kind_ = Kind::fixed;
  d.params_ = {value};
  return d;
}
Distribution Distribution::uniform(double lo, double hi) {
  Distribution d;
  d.kind_ = Kind::uniform;
  d.params_ = {lo, hi};
  return d;
}
Distribution Distribution::triangular(double lo, double mode, double hi) {
  Distribution d;
  d.kind_ = Kind::triangular;
  d.params_ = {lo, mode, hi};
  return d;
}
Distribution Distribution::pert(double lo, double mode, double hi) {
  Distribution d;
  d.kind_ = Kind::pert;
  d.params_ = {lo, mode, hi};
  return d;
}
Distribution Distribution::normal(double mean, double sd, double min, double max) {
  Distribution d;
  d.kind_ = Kind::normal;
  d.params_ = {mean, sd};
  d.min_ = min;
  d.max_ = max;
  return d;
}
Distribution Distribution::lognormal(double mean, double sd) {
  Distribution d;
  d.kind_ = Kind::lognormal;
  d.params_ = {mean, sd};
  return d;
}
Distribution Distribution::choice(std::vector<double> values, std::vector<double> weights) {
  Distribution d;
  d.kind_ = Kind::choice;
  d.params_ = std::move(values);
  d.weights_ = std::move(weights);
  return d;
}

double Distribution::lower() const {
  switch (kind_) {
    case Kind::fixed:
      return params_[0];
    case Kind::uniform:
    case Kind::triangular:
    case Kind::pert:
      return params_[0];
    case Kind::normal:
      return params_[1] == 0 ? params_[0] : min_;
    case Kind::lognormal:
      return params_[1] == 0 ? params_[0] : 0.0;
    case Kind::choice:
      return *std::min_element(params_.begin(), params_.end());
  }
  return params_[0];
}

double Distribution::upper() const {
  switch (kind_) {
    case Kind::fixed:
      return params_[0];
    case Kind::uniform:
      return params_[1];
    case Kind::triangular:
    case Kind::pert:
      return params_[2];
    case Kind::normal:
      return params_[1] == 0 ? params_[0] : max_;
    case Kind::lognormal:
      return params_[1] == 0 ? params_[0] : inf;
    case Kind::choice:
      return *std::max_element(params_.begin(), params_.end());
  }
  return params_[0];
}

double Distribution::sample(double u) const {
  switch (kind_) {
    case Kind::fixed:
      return params_[0];
    case Kind::uniform:
      return params_[0] + u * (params_[1] - params_[0]);
    case Kind::triangular: {
      const double a = params_[0], m = params_[1], b = params_[2];
      if (b == a) return a;
      const double fc = (m - a) / (b - a);
      if (u < fc) return a + std::sqrt(u * (b - a) * (m - a));
      return b - std::sqrt((1 - u) * (b - a) * (b - m));
    }
    case Kind::pert: {
      const double a = params_[0], m = params_[1], b = params_[2];
      if (b == a) return a;
      const double alpha = 1 + 4 * (m - a) / (b - a);
      const double beta = 1 + 4 * (b - m) / (b - a);
      return a + (b - a) * boost::math::ibeta_inv(alpha, beta, u, double_policy());
    }
    case Kind::normal: {
      const double mean = params_[0], sd = params_[1];
      if (sd == 0) return mean;
      const double pa = normal_cdf((min_ - mean) / sd);
      const double pb = normal_cdf((max_ - mean) / sd);
      double p = pa + u * (pb - pa);
      // Deep truncations can make p round onto 0 or 1; keep it strictly inside.
      p = std::clamp(p, std::nextafter(0.0, 1.0), std::nextafter(1.0, 0.0));
      return std::clamp(mean + sd * normal_quantile(p), min_, max_);
    }
    case Kind::lognormal: {
      const double mean = params_[0], sd = params_[1];
      if (sd == 0) return mean;
      const double s2 = lognormal_sigma2(mean, sd);
      return std::exp(std::log(mean) - s2 / 2 + std::sqrt(s2) * normal_quantile(u));
    }
    case Kind::choice: {
      const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
      const double target = u * total;
      double cum = 0;
      for (std::size_t k = 0; k < params_.size(); ++k) {
        cum += weights_[k];
        if (target < cum) return params_[k];
      }
      // u*total can equal the total only through rounding: the last value with weight.
      for (std::size_t k = params_.size(); k-- > 0;)
        if (weights_[k] > 0) return params_[k];
      return params_.back();
    }
  }
  return params_[0];
}

double Distribution::mean() const {
  switch (kind_) {
    case Kind::fixed:
      return params_[0];
    case Kind::uniform:
      return 0.5 * (params_[0] + params_[1]);
    case Kind::triangular:
      return (params_[0] + params_[1] + params_[2]) / 3;
    case Kind::pert:
      return (params_[0] + 4 * params_[1] + params_[2]) / 6;
    case Kind::normal: {
      const double mean = params_[0], sd = params_[1];
      if (sd == 0) return mean;
      const double a = (min_ - mean) / sd, b = (max_ - mean) / sd;
      auto phi = [](double x) {
        return std::isinf(x) ? 0.0 : std::exp(-0.5 * x * x) / std::sqrt(2 * M_PI);
      };
      return mean + sd * (phi(a) - phi(b)) / (normal_cdf(b) - normal_cdf(a));
    }
    case Kind::lognormal:
      return params_[0];
    case Kind::choice: {
      const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
      double m = 0;
      for (std::size_t k = 0; k < params_.size(); ++k) m += params_[k] * weights_[k];
      return m / total;
    }
  }
  return params_[0];
}

const char* kind_name(Distribution::Kind kind) {
  switch (kind) {
    case Distribution::Kind::fixed:
      return "fixed";
    case Distribution::Kind::uniform:
      return "uniform";
    case Distribution::Kind::triangular:
      return "triangular";
    case Distribution::Kind::pert:
      return "pert";
    case Distribution::Kind::normal:
      return "normal";
    case Distribution::Kind::lognormal:
      return "lognormal";
    case Distribution::Kind::choice:
      return "choice";
  }
  return "?";
}

std::string Distribution::to_toml() const {
  using detail::format_double;
  if (kind_ == Kind::fixed) return format_double(params_[0]);
  auto list = [](const std::vector<double>& v) {
    std::string s = "[";
    for (std::size_t k = 0; k < v.size(); ++k) {
      if (k) s += ", ";
      s += format_double(v[k]);
    }
    return s + "]";
  };
  std::string s = "{ ";
  s += kind_name(kind_);
  s += " = " + list(params_);
  if (kind_ == Kind::normal) {
    if (std::isfinite(min_)) s += ", min = " + format_double(min_);
    if (std::isfinite(max_)) s += ", max = " + format_double(max_);
  }
  if (kind_ == Kind::choice) s += ", weights = " + list(weights_);
  return s + " }";
}

}  // namespace capexsim

namespace capexsim {
double standard_normal_quantile(double u) {
  return normal_quantile(u);
}
}  // namespace capexsim
