#pragma once
// Helpers shared by the tests: small scenarios written as TOML, and a path tracer.

#include <string>
#include <vector>

#include "capexsim/model.hpp"
#include "capexsim/scenario.hpp"

namespace test {

/// A scenario from TOML sections; missing required keys get neutral values.
inline capexsim::Scenario scenario(const std::string& simulation, const std::string& build,
                                   const std::string& cost, const std::string& revenue,
                                   const std::string& rest = "") {
  const std::string text = "[simulation]\n" + simulation + "\n[build]\n" + build + "\n[cost]\n" +
                           cost + "\n[revenue]\n" + revenue + "\n" + rest;
  return capexsim::parse_scenario(text, "test.toml");
}

/// Every step of one path, and its outputs.
struct Trace {
  std::vector<capexsim::StepState> steps;
  std::vector<double> outputs;
};
inline Trace trace(const capexsim::PathModel& m, std::uint64_t seed, std::uint64_t path) {
  Trace t;
  t.outputs.resize(m.output_count());
  capexsim::PathWorkspace ws;
  capexsim::simulate_path(m, seed, path, ws, t.outputs.data(),
                          [&](const capexsim::StepState& s) { t.steps.push_back(s); });
  return t;
}

/// Running mean and variance of samples (test-side, plain doubles).
struct Moments {
  double n = 0, s = 0, ss = 0;
  void add(double x) {
    n += 1;
    s += x;
    ss += x * x;
  }
  double mean() const { return s / n; }
  double var() const { return (ss - s * s / n) / (n - 1); }
};

}  // namespace test
