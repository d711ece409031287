// Variance reduction of lhs and sobol sampling, measured: for each method, run the
// reference scenario at N paths under S seeds and print the standard deviation over
// seeds of the estimated mean and p95 of several outputs, as the Markdown table of
// docs/statistics.md.
//
//   capexsim_sampling_variance [N=4096] [SEEDS=100] [SCENARIO]
//
// The sd over S seeds has a relative standard error of about 1/sqrt(2(S-1)) (7% at
// S = 100), so ratios below ~0.8 are real and the exact digits are not.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <capexsim/capexsim.hpp>

using namespace capexsim;

int main(int argc, char** argv) {
  const std::uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 4096;
  const int seeds = argc > 2 ? std::atoi(argv[2]) : 100;
  const std::string file =
      argc > 3 ? argv[3] : std::string(CAPEXSIM_SOURCE_DIR) + "/scenarios/ai-lab-2025.toml";
  const std::vector<std::string> outputs{"funding_gap", "capex_total", "terminal_cash",
                                         "arr_at_2030"};
  const Sampling methods[] = {Sampling::random, Sampling::lhs, Sampling::sobol};
  // sd[method][output][stat]: stat 0 = mean, 1 = p95
  double sd[3][8][2] = {};
  for (int m = 0; m < 3; ++m) {
    Scenario s = load_scenario(file);
    s.sampling = methods[m];
    const PathModel model(s);
    std::vector<std::vector<double>> means(outputs.size()), p95s(outputs.size());
    for (int seed = 1; seed <= seeds; ++seed) {
      RunOptions o;
      o.paths = n;
      o.seed = static_cast<std::uint64_t>(seed);
      o.bands = false;
      const Result r = run(model, o);
      for (std::size_t k = 0; k < outputs.size(); ++k) {
        const Summary x = r.summary(outputs[k]);
        means[k].push_back(x.mean);
        p95s[k].push_back(x.quantile(0.95));
      }
    }
    auto sd_of = [](const std::vector<double>& v) {
      double mu = 0, ss = 0;
      for (double x : v) mu += x / static_cast<double>(v.size());
      for (double x : v) ss += (x - mu) * (x - mu);
      return std::sqrt(ss / static_cast<double>(v.size() - 1));
    };
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      sd[m][k][0] = sd_of(means[k]);
      sd[m][k][1] = sd_of(p95s[k]);
    }
  }
  std::printf(
      "%s, N = %llu paths, %d seeds: sd over seeds of the estimate ($B), and its "
      "ratio to random's\n\n",
      file.c_str(), static_cast<unsigned long long>(n), seeds);
  std::printf("| output | statistic | random | lhs | sobol | lhs / random | sobol / random |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|\n");
  for (std::size_t k = 0; k < outputs.size(); ++k)
    for (int st = 0; st < 2; ++st)
      std::printf("| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", outputs[k].c_str(),
                  st ? "p95" : "mean", sd[0][k][st], sd[1][k][st], sd[2][k][st],
                  sd[1][k][st] / sd[0][k][st], sd[2][k][st] / sd[0][k][st]);
  return 0;
}
