#pragma once
// capexsim sensitivity and capexsim calibrate (docs/sensitivity.md): their arguments,
// commands, shards and the helpers the commands share.

#include <cstdint>
#include <string>
#include <vector>

#include <capexsim/engine.hpp>

#include "progress.hpp"

namespace capexsim::cli {

struct SensitivityArgs {
  std::string scenario;
  std::string method = "rank";
  std::string output = "funding_gap";
  std::string stat = "mean";
  std::string paths;  // empty: the method's default
  std::string seed = "1";
  std::string threads = "0";
  std::string out;
  std::vector<std::string> vary;   // KEY=LO:HI (tornado)
  std::string assumptions;         // tornado: "20%" or "0.2": move [assumption] keys by that share
  bool assumptions_all = false;    // tornado: ... every fixed numeric key, tagged or not
  double low = 0.1, high = 0.9;    // tornado quantiles
  std::string over_time;           // sobol: a band series
  std::string bootstrap = "1000";  // sobol resamples
  std::string shard;               // sobol, tornado: "K/N", one path range into sensitivity.bin
  std::string memory_limit;        // --memory-limit SIZE ("" = 80% of available memory)
  std::vector<std::string> counterparties;  // "NAME=lab.toml": joint runs (docs/model.md §12.6)
  bool quiet = false;
};

struct CalibrateArgs {
  std::string scenario;
  std::string vary;    // KEY=LO:HI
  std::string target;  // OUTPUT.STAT=VALUE
  std::string paths = "20000";
  std::string seed = "1";
  std::string threads = "0";
  std::string write;  // FILE: the calibrated scenario
  bool quiet = false;
};

/// Default paths: rank one run of 100,000; tornado 50,000 per run; sobol N = 65,536
/// base paths (N (k + 2) in all).
int cmd_sensitivity(const SensitivityArgs& a, bool progress);
int cmd_calibrate(const CalibrateArgs& a, bool progress);

/// The name of a sensitivity shard's file (sobol or tornado) in its --out folder.
inline constexpr const char* sensitivity_shard_file = "sensitivity.bin";
/// `capexsim merge` of folders holding sensitivity.bin: the table of the whole analysis.
int cmd_merge_sensitivity(const std::vector<std::string>& dirs, const std::string& out);

/// A shard of a Sobol or tornado analysis, as sensitivity.bin holds it
/// (cli/sensitivity_shard.cpp).
struct MethodShard {
  std::string method;
  std::uint64_t k = 0, n = 0, total = 0, bootstrap = 0;
  std::string statistic, scenario_file, scenario_name, source;
  double wall_seconds = 0;
  std::vector<std::string> vary;  // tornado: --vary as given
  std::string samples;            // the samples' bytes
};
/// sensitivity.bin's bytes for `s`.
std::string encode_method_shard(const MethodShard& s);

/// Runs `body` with a progress bar fed by RunOptions::progress; Ctrl-C cancels.
template <class Body>
auto with_progress(RunOptions& o, bool show, const std::string& label, Body&& body) {
  ProgressBar bar(show, label);
  o.progress = [&](std::uint64_t done, std::uint64_t total) { return bar.update(done, total); };
  try {
    auto r = body();
    bar.finish();
    return r;
  } catch (...) {
    bar.finish();
    throw;
  }
}

}  // namespace capexsim::cli
