// libFuzzer target over the scenario loader: any input must either load (and then
// simulate a few paths without crashing) or be rejected with a ScenarioError.
// Anything else (another exception, a crash, a sanitizer report) is a bug. It is also a
// differential test: the block kernel must give the reference kernel's bits on every
// valid scenario the fuzzer finds (NaN outputs included).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <capexsim/capexsim.hpp>
#include <capexsim/detail/block.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  capexsim::Scenario scenario;
  try {
    scenario = capexsim::parse_scenario(text, "fuzz.toml");
  } catch (const capexsim::ScenarioError&) {
    return 0;
  }
  // Valid: run a couple of paths through the kernel, bounded so the fuzzer stays fast.
  if (scenario.steps() > 2000) return 0;
  const capexsim::PathModel model(scenario);
  capexsim::PathWorkspace ws;
  std::vector<double> out(model.output_count());
  const std::size_t k = model.output_count();
  constexpr std::size_t w = capexsim::detail::block_width;
  const std::size_t n = static_cast<std::size_t>(model.steps());
  capexsim::detail::BlockWorkspace bws;
  std::vector<double> block(k * w), bands(model.series().size() * n * w);
  capexsim::detail::simulate_block(model, 1, 0, bws, block.data(), bands.data(), w);
  auto same = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  for (std::uint64_t p = 0; p < 2; ++p) {
    // The band series of every step, then the outputs.
    capexsim::simulate_path(model, 1, p, ws, out.data(), [&](const capexsim::StepState& st) {
      for (std::size_t s = 0; s < model.series().size(); ++s)
        if (!same(st.series(model.series()[s]),
                  bands[(s * n + static_cast<std::size_t>(st.i)) * w + p]))
          std::abort();
    });
    for (std::size_t j = 0; j < k; ++j)
      if (!same(out[j], block[j * w + p])) std::abort();
  }
  (void)capexsim::to_toml(scenario);
  return 0;
}
