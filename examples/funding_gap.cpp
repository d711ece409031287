// Run a scenario and print its funding-gap distribution.
//   funding_gap [SCENARIO.toml] [PATHS] [SEED]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <capexsim/capexsim.hpp>

int main(int argc, char** argv) {
  const std::string file = argc > 1 ? argv[1] : "scenarios/ai-lab-2025.toml";
  try {
    const capexsim::Scenario scenario = capexsim::load_scenario(file);
    capexsim::RunOptions options;
    options.paths = argc > 2 ? static_cast<std::uint64_t>(std::stod(argv[2])) : 100000;
    options.seed = argc > 3 ? std::stoull(argv[3]) : 1;
    const capexsim::Result result = capexsim::run(scenario, options);

    std::printf("%s: %llu paths, seed %llu, %d steps\n\n", result.scenario_name.c_str(),
                static_cast<unsigned long long>(result.paths),
                static_cast<unsigned long long>(result.seed), result.steps);
    const capexsim::Summary gap = result.summary("funding_gap");
    std::printf("funding gap ($B): peak outside money needed\n");
    std::printf("  mean %9.1f  (standard error %.1f)\n", gap.mean, gap.std_error);
    for (std::size_t k = 0; k < capexsim::summary_levels.size(); ++k)
      std::printf("  p%-3.0f %9.1f\n", 100 * capexsim::summary_levels[k], gap.quantiles[k]);
    std::printf("  P(gap > 0)        %6.1f%%\n", 100 * gap.prob_positive);
    std::printf("  expected shortfall at 95%% (cvar95) %.1f\n", gap.cvar95);
    const capexsim::Summary runway = result.summary("runway");
    std::printf("\nrunway (years to first negative cash): median %.2f, never negative in %.1f%%\n",
                runway.quantile(0.5), 100 * runway.nan_share);
    return 0;
  } catch (const capexsim::ScenarioError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return 1;
  }
}
