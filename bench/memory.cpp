// Peak-memory probe: capexsim_memory PATHS [keep_paths 0|1] [bands 0|1]
// Run under /usr/bin/time -v and read "Maximum resident set size".
#include <cstdio>
#include <cstdlib>
#include <string>

#include <capexsim/capexsim.hpp>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: capexsim_memory PATHS [keep_paths 0|1] [bands 0|1] [scenario]\n");
    return 2;
  }
  capexsim::RunOptions o;
  o.paths = static_cast<std::uint64_t>(std::stod(argv[1]));
  o.keep_paths = argc > 2 && std::string(argv[2]) == "1";
  o.bands = argc > 3 && std::string(argv[3]) == "1";
  const std::string file = argc > 4 ? argv[4] : CAPEXSIM_SOURCE_DIR "/scenarios/ai-lab-2025.toml";
  const auto r = capexsim::run(capexsim::load_scenario(file), o);
  std::printf("%llu paths (keep_paths=%d bands=%d): funding gap mean %.2f\n",
              static_cast<unsigned long long>(r.paths), o.keep_paths, o.bands,
              r.summary("funding_gap").mean);
  return 0;
}
