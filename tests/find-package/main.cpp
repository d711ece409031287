// A separate project that uses the installed capexsim package.
#include <cstdio>

#include <capexsim/capexsim.hpp>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  capexsim::RunOptions options;
  options.paths = 200;
  options.threads = 1;
  const auto result = capexsim::run(capexsim::load_scenario(argv[1]), options);
  const auto gap = result.summary("funding_gap");
  std::printf("consumer: %s funding gap mean %.1f over %llu paths (capexsim %s)\n",
              result.scenario_name.c_str(), gap.mean, static_cast<unsigned long long>(result.paths),
              capexsim::version_string);
  return gap.count == 200 && gap.mean > 0 ? 0 : 1;
}
