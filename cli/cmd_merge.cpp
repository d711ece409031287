// capexsim merge DIR... --out OUT: the shards of a run (result.bin) into the files of
// the single run; shards of a sensitivity analysis go to cmd_merge_sensitivity.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <capexsim/capexsim.hpp>
#include <capexsim/sampling.hpp>

#include "args.hpp"
#include "command.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "sensitivity.hpp"
#include "shard.hpp"

namespace capexsim::cli {

namespace {

using namespace args;

struct MergeArgs {
  std::vector<std::string> dirs;
  std::string out;
};

int cmd_merge(const MergeArgs& m) {
  // Shards of a sensitivity analysis (sensitivity --shard) hold sensitivity.bin.
  if (!m.dirs.empty() &&
      std::filesystem::exists(std::filesystem::path(m.dirs.front()) / cli::sensitivity_shard_file))
    return cli::cmd_merge_sensitivity(m.dirs, m.out);
  std::vector<cli::Shard> shards;
  for (const std::string& d : m.dirs) shards.push_back(cli::read_shard(d));
  if (cli::interrupted()) throw Interrupted();
  const Result r = cli::merge_shards(shards);
  const std::vector<Summary> stats = cli::summaries(r);
  std::cerr << cli::overflow_warning(cli::overflowed_outputs(r, stats));
  const cli::ShardHeader& h = shards.front().header;  // shard 1 after merge_shards
  double wall = 0;
  for (const cli::Shard& s : shards) wall += s.header.wall_seconds;
  std::cout << header(r, h.scenario_file, wall) << "merged from " << shards.size() << " shards\n\n"
            << cli::summary_table(r, stats) << error_note(h.design);
  const std::optional<Sampling> design = sampling_from_name(h.design);
  const std::string note = design ? sampling_note(*design, r.paths) : "";
  if (!note.empty()) std::cerr << "capexsim: note: " << note << "\n";
  if (!r.has_per_path())
    std::cout << "(quantiles from the streaming sketch: within 0.39% of the exact values)\n";
  if (!h.thresholds.empty()) std::cout << "\n" << cli::thresholds_table(r, h.thresholds);
  // The files of the single run, written as `run` writes them: one output set.
  const std::filesystem::path dir(m.out);
  cli::OutputSet set(dir);
  cli::RunInfo info;
  info.scenario_file = h.scenario_file;
  info.run_id = set.run_id();
  info.threads = h.threads;
  info.wall_seconds = wall;
  info.sampling = h.design;
  info.thresholds = h.thresholds;
  info.note = note;
  std::vector<std::pair<std::string, std::uint64_t>> files;
  files.emplace_back("bands.csv", set.write("bands.csv", cli::bands_csv(r)));
  if (h.per_path) {
    auto f = set.open("paths.csv");
    cli::write_paths_csv(r, *f);
    files.emplace_back("paths.csv", f->close());
  }
  set.write("summary.json", cli::summary_json(r, stats, info, files));
  if (cli::interrupted()) throw Interrupted();
  set.commit();
  std::cout << "\nwrote " << (dir / "summary.json").string() << ", " << (dir / "bands.csv").string()
            << (h.per_path ? ", " + (dir / "paths.csv").string() : std::string()) << "\n";
  return exit_ok;
}

}  // namespace

Command add_merge(CLI::App& app) {
  auto ma = std::make_shared<MergeArgs>();
  CLI::App* merge_cmd = app.add_subcommand(
      "merge", "Combine the shards of a run (run --shard K/N) into the files of the single run");
  merge_cmd
      ->add_option("dirs", ma->dirs,
                   "Shard folders (each holding result.bin from run --shard, or sensitivity.bin "
                   "from sensitivity --method sobol --shard)")
      ->required();
  merge_cmd
      ->add_option("--out,-o", ma->out,
                   "Write summary.json, bands.csv (and paths.csv) here; for Sobol shards "
                   "sensitivity.csv and sensitivity.json")
      ->required();

  return {merge_cmd, [ma] { return cmd_merge(*ma); }};
}

}  // namespace capexsim::cli
