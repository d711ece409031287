// Shards of a sensitivity analysis (sensitivity --shard K/N writes sensitivity.bin) and
// their merge into the table of the whole analysis (capexsim merge).

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include <nlohmann/json.hpp>

#include <capexsim/capexsim.hpp>
#include <capexsim/detail/bytes.hpp>
#include <capexsim/sensitivity.hpp>

#include "args.hpp"
#include "output.hpp"
#include "sensitivity.hpp"
#include "sensitivity_tables.hpp"
#include "shard.hpp"

namespace capexsim::cli {

namespace {

// sensitivity.bin, a shard of a Sobol or tornado analysis: "CAPXSENS", u32 version 2,
// string method ("sobol" or "tornado"), u64 shard K, u64 shard N, u64 paths of the whole
// analysis (sobol: base paths; tornado: per run), u64 bootstrap (sobol), string statistic,
// string scenario file, string scenario name, f64 wall seconds of the shard, u64 count +
// strings --vary as given (tornado), u64 + bytes SobolSamples or TornadoSamples
// ::to_bytes(), u64 FNV-1a of every byte before it. Version 1 (no wall seconds, no
// --vary) is refused with a message to rerun the shard.
constexpr std::uint32_t sensitivity_shard_version = 2;
constexpr char shard_magic[8] = {'C', 'A', 'P', 'X', 'S', 'E', 'N', 'S'};

}  // namespace

std::string encode_method_shard(const MethodShard& s) {
  std::string out(shard_magic, sizeof shard_magic);
  detail::ByteWriter w(out);
  w.put(sensitivity_shard_version);
  w.put_string(s.method);
  w.put(s.k);
  w.put(s.n);
  w.put(s.total);
  w.put(s.bootstrap);
  w.put_string(s.statistic);
  w.put_string(s.scenario_file);
  w.put_string(s.scenario_name);
  w.put(s.wall_seconds);
  w.put<std::uint64_t>(s.vary.size());
  for (const std::string& v : s.vary) w.put_string(v);
  w.put_string(s.samples);
  w.put(fnv1a(out));
  return out;
}

namespace {

MethodShard read_method_shard(const std::filesystem::path& dir) {
  const std::filesystem::path file = dir / sensitivity_shard_file;
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw UsageError(file.string() +
                     ": cannot read it; every folder given to merge must hold the same kind of "
                     "shard (sensitivity.bin from sensitivity --shard, or result.bin from run "
                     "--shard)");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto corrupt = [&](const std::string& why) {
    return UsageError(file.string() + ": not a readable sensitivity shard: " + why);
  };
  if (bytes.size() < 8 + 4 + 8 ||
      std::string_view(bytes).substr(0, 8) != std::string_view(shard_magic, 8))
    throw corrupt("bad header");
  const std::string_view body = std::string_view(bytes).substr(0, bytes.size() - 8);
  std::uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  if (fnv1a(body) != stored) throw corrupt("checksum mismatch: the file is damaged or truncated");
  try {
    detail::ByteReader r(body.substr(8));
    const auto version = r.get<std::uint32_t>();
    if (version != sensitivity_shard_version)
      throw UsageError(file.string() + ": sensitivity shard format version " +
                       std::to_string(version) + "; this capexsim reads version " +
                       std::to_string(sensitivity_shard_version) +
                       " (rerun the shard with this capexsim)");
    MethodShard s;
    s.method = r.get_string();
    s.k = r.get<std::uint64_t>();
    s.n = r.get<std::uint64_t>();
    s.total = r.get<std::uint64_t>();
    s.bootstrap = r.get<std::uint64_t>();
    s.statistic = r.get_string();
    s.scenario_file = r.get_string();
    s.scenario_name = r.get_string();
    s.wall_seconds = r.get<double>();
    if (!std::isfinite(s.wall_seconds) || s.wall_seconds < 0) throw corrupt("wall seconds");
    const auto nv = r.get<std::uint64_t>();
    if (nv > r.remaining() / 8) throw corrupt("--vary count");
    for (std::uint64_t i = 0; i < nv; ++i) s.vary.push_back(r.get_string());
    s.samples = r.get_string();
    if (!r.done()) throw corrupt("trailing data");
    if (s.method != "sobol" && s.method != "tornado") throw corrupt("unknown method");
    s.source = file.string();
    return s;
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    throw corrupt(e.what());
  }
}

/// Merge samples of shards in order, naming the shard that does not fit.
template <class Samples>
Samples merge_samples(const std::vector<MethodShard>& shards) {
  auto parse = [](const MethodShard& s) {
    try {
      return Samples::from_bytes(s.samples);
    } catch (const std::exception& e) {
      throw UsageError(s.source + ": not a readable sensitivity shard: " + e.what());
    }
  };
  Samples all = parse(shards.front());
  for (std::size_t i = 1; i < shards.size(); ++i) {
    const Samples x = parse(shards[i]);
    auto differ = [&](const std::string& what, const std::string& va, const std::string& vb) {
      return UsageError("merge: " + shards[i].source + " is not a shard of the same analysis as " +
                        shards.front().source + ": " + what + " " + vb + " vs " + va);
    };
    if (x.seed != all.seed) throw differ("seed", std::to_string(all.seed), std::to_string(x.seed));
    if (x.scenario_fingerprint != all.scenario_fingerprint)
      throw differ("scenario hash", all.scenario_fingerprint, x.scenario_fingerprint);
    if (x.output != all.output) throw differ("output", all.output, x.output);
    try {
      all = merge(all, x);
    } catch (const SensitivityError& e) {
      throw UsageError(shards[i].source + ": " + e.what());
    }
  }
  return all;
}

}  // namespace

int cmd_merge_sensitivity(const std::vector<std::string>& dirs, const std::string& out) {
  std::vector<MethodShard> shards;
  for (const auto& d : dirs) shards.push_back(read_method_shard(d));
  std::sort(shards.begin(), shards.end(),
            [](const MethodShard& a, const MethodShard& b) { return a.k < b.k; });
  const MethodShard& first = shards.front();
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const MethodShard& s = shards[i];
    if (s.method != first.method || s.n != first.n || s.total != first.total ||
        s.bootstrap != first.bootstrap || s.statistic != first.statistic || s.vary != first.vary)
      throw UsageError(s.source + ": shard " + std::to_string(s.k) + "/" + std::to_string(s.n) +
                       " (" + s.method + ", " + s.statistic + ", " + std::to_string(s.total) +
                       " paths) is not of the same analysis as " + first.source + " (" +
                       first.method + ", " + first.statistic + ", " + std::to_string(first.total) +
                       " paths, or shard count, bootstrap or --vary differ)");
    if (i > 0 && s.k == shards[i - 1].k)
      throw UsageError(s.source + ": shard " + std::to_string(s.k) + "/" + std::to_string(s.n) +
                       " is given twice (also " + shards[i - 1].source + ")");
  }
  if (shards.size() != first.n) {
    std::string missing;
    std::size_t j = 0;
    for (std::uint64_t k = 1; k <= first.n; ++k) {
      if (j < shards.size() && shards[j].k == k) {
        ++j;
        continue;
      }
      missing += (missing.empty() ? "" : ", ") + std::to_string(k);
    }
    const bool one = missing.find(',') == std::string::npos;
    throw UsageError("merge: " + std::string(one ? "shard " : "shards ") + missing + " of " +
                     std::to_string(first.n) + (one ? " is" : " are") +
                     " missing; every shard of the analysis is needed");
  }
  std::ostringstream table, csv;
  nlohmann::ordered_json meta;
  meta["capexsim_version"] = version_string;
  meta["scenario"] = first.scenario_name;
  meta["scenario_file"] = first.scenario_file;
  meta["method"] = first.method;
  if (first.method == "sobol") {
    const SobolSamples all = merge_samples<SobolSamples>(shards);
    SobolOptions so;
    so.bootstrap = static_cast<int>(first.bootstrap);
    const SobolTable t = sobol_table(all, so);
    render_sobol(t, all.seed, first.scenario_name, table, csv);
    meta["output"] = t.output;
    meta["scenario_hash"] = all.scenario_fingerprint;
    counterparty_meta(all.scenario_fingerprint, meta);
    meta["seed"] = all.seed;
    sobol_meta(t, meta);
    meta["bootstrap"] = so.bootstrap;
  } else {
    const TornadoSamples all = merge_samples<TornadoSamples>(shards);
    const Statistic stat = parse_statistic(first.statistic);
    const TornadoTable t = tornado_table(all, stat);
    meta["output"] = t.output;
    meta["scenario_hash"] = all.scenario_fingerprint;
    counterparty_meta(all.scenario_fingerprint, meta);
    render_tornado(t, all.paths, all.seed, all.low, all.high, stat, first.scenario_name, table, csv,
                   meta);
    meta["vary"] = first.vary;
  }
  // As a single run's: the time the analysis took, here the sum over its shards.
  double wall = 0;
  for (const MethodShard& s : shards) wall += s.wall_seconds;
  meta["wall_seconds"] = wall;
  meta["shards"] = shards.size();
  std::cout << table.str() << "merged from " << shards.size() << " shards\n";
  OutputSet set(out);
  set.write("sensitivity.csv", csv.str());
  meta["run_id"] = set.run_id();
  set.write("sensitivity.json", meta.dump(2) + "\n");
  set.commit();
  std::cout << "Wrote " << (set.dir() / "sensitivity.csv").string() << " and sensitivity.json\n";
  return 0;
}

}  // namespace capexsim::cli
