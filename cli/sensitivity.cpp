// capexsim sensitivity SCENARIO --method rank|tornado|sobol --output OUTPUT ...
// capexsim calibrate SCENARIO --vary KEY=LO:HI --target OUTPUT.STAT=VALUE [--write FILE]
// (docs/sensitivity.md, docs/cli.md). Bad input throws SensitivityError or UsageError
// (exit 2) before anything runs.

#include "sensitivity.hpp"

#include <unistd.h>
#include <algorithm>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include <capexsim/detail/bytes.hpp>

#include <capexsim/capexsim.hpp>
#include <capexsim/sensitivity.hpp>

#include "args.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "shard.hpp"

namespace capexsim::cli {

namespace {

using namespace args;

std::string f(double x, int decimals) {
  if (std::isnan(x)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

/// Decimals for a statistic of `output`: shares (prob_positive) get 4, else the unit's.
int stat_decimals(const std::string& output, const Statistic& stat) {
  if (stat.is_share()) return 4;
  return decimals_for(output_unit(output)) + 1;
}

/// sensitivity.json's record of a joint run's labs, from the analysis' scenario hash
/// "<provider>+NAME=<lab>..." (as summary.json's scenario_hash of `run --counterparty`):
/// the provider's hash, then each counterparty's name and scenario hash (and file when
/// known). Nothing without counterparties.
void counterparty_meta(const std::string& hash, nlohmann::ordered_json& meta,
                       const std::vector<args::Counterparty>& files = {}) {
  const auto plus = hash.find('+');
  if (plus == std::string::npos) return;
  meta["provider_scenario_hash"] = hash.substr(0, plus);
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  std::size_t at = plus;
  while (at != std::string::npos) {
    const std::size_t next = hash.find('+', at + 1);
    const std::string item = hash.substr(at + 1, next == std::string::npos ? next : next - at - 1);
    const auto eq = item.find('=');
    nlohmann::ordered_json c;
    c["name"] = item.substr(0, eq);
    c["scenario_hash"] = eq == std::string::npos ? "" : item.substr(eq + 1);
    for (const auto& f : files)
      if (f.name == item.substr(0, eq)) c["scenario_file"] = f.file;
    list.push_back(c);
    at = next;
  }
  meta["counterparties"] = list;
}

nlohmann::json num(double x) {
  if (!std::isfinite(x)) return nullptr;
  return x;
}

RunOptions options_of(const SensitivityArgs& a, std::uint64_t default_paths) {
  RunOptions o;
  o.paths = a.paths.empty() ? default_paths : parse_count(a.paths, "--paths", 1e8);
  o.seed = parse_seed(a.seed);
  o.threads = parse_threads(a.threads);
  if (!a.memory_limit.empty()) o.memory_limit = parse_memory_limit(a.memory_limit);
  return o;
}

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r;
  return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<std::uint64_t>::max() : r;
}

/// Refuses (MemoryLimitError, exit 2) an analysis whose estimated peak is above the
/// memory limit, before anything runs. The peak: the model evaluations the method keeps
/// (`runs` runs x `o.paths` paths x `quantities` values x 8 bytes) `copies` times over (the
/// samples and the table's working copy; a shard's bytes as well), plus one run's own
/// estimate_memory and its kept values.
void check_analysis_memory(const Scenario& scenario, const std::string& method, const RunOptions& o,
                           std::uint64_t runs, std::uint64_t quantities, std::uint64_t copies,
                           bool bands) {
  const PathModel model(scenario);
  RunOptions one = o;
  one.keep_paths = true;
  one.keep_inputs = method == "rank";
  one.bands = bands;
  const MemoryEstimate run_estimate = estimate_memory(model, one);
  const std::uint64_t samples =
      saturating_mul(saturating_mul(saturating_mul(runs, o.paths), quantities), 8);
  std::uint64_t total = 0;
  for (const std::uint64_t part : {saturating_mul(samples, copies), run_estimate.total(),
                                   saturating_mul(saturating_mul(o.paths, quantities), 8)})
    if (__builtin_add_overflow(total, part, &total))
      total = std::numeric_limits<std::uint64_t>::max();
  const std::uint64_t limit = effective_memory_limit(o);
  if (total <= limit) return;
  std::string what =
      "sensitivity --method " + method + " needs about " +
      format_bytes(static_cast<double>(total)) + " of memory, more than the limit of " +
      format_bytes(static_cast<double>(limit)) +
      (o.memory_limit ? " (set by --memory-limit)" : " (80% of the memory available now)") + ". ";
  if (method == "rank")
    what += "It keeps every path's outputs and drawn inputs: " +
            format_bytes(static_cast<double>(run_estimate.total())) + " for " +
            std::to_string(o.paths) + " paths. Use fewer --paths.";
  else
    what += "It keeps every evaluation: " + std::to_string(runs) + " runs x " +
            std::to_string(o.paths) + " paths" +
            (quantities > 1 ? " x " + std::to_string(quantities) + " checkpoint years" : "") +
            " x 8 bytes = " + format_bytes(static_cast<double>(samples)) + ", held " +
            std::to_string(copies) + " times over" +
            (copies > 2 ? " (the samples and the shard's bytes)"
                        : " (the samples and the table's copy)") +
            ". Use fewer --paths" + (quantities > 1 ? " or fewer checkpoint years" : "") + ".";
  what += " A higher limit can be set with --memory-limit SIZE (or none).";
  throw MemoryLimitError(what, run_estimate, limit);
}

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

std::string csv_number(double x) {
  return number(x);
}

/// An input value for display: 6 significant digits.
std::string g6(double x) {
  if (std::isnan(x)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

/// The Sobol table as printed and as sensitivity.csv.
void render_sobol(const SobolTable& t, std::uint64_t seed, const std::string& scenario_name,
                  std::ostringstream& table, std::ostringstream& csv) {
  char line[512];
  const std::string what = t.statistic == "prob_positive" ? "1[" + t.output + " > 0]" : t.output;
  table << "Sobol indices of " << what << " (" << scenario_name
        << "): pick-freeze, N = " << grouped(t.base_paths) << " base paths, "
        << grouped(t.total_paths) << " paths in all, seed " << seed
        << ".\nS: the share of the variance the factor "
           "explains alone; ST: with all its interactions. [lo, hi]: bootstrap 95%.\n";
  auto print = [&](const std::vector<SobolIndex>& rows, const std::string& year) {
    std::snprintf(line, sizeof line, "%-34s %7s %17s %7s %17s\n", "factor", "S", "[lo, hi]", "ST",
                  "[lo, hi]");
    table << line;
    for (const auto& row : rows) {
      // Process groups have no dot in their name; inputs are <section>.<key>.
      const bool process = row.name.find('.') == std::string::npos;
      const std::string label = process ? row.name + " (process)" : row.name;
      std::snprintf(
          line, sizeof line, "%-34s %7s %17s %7s %17s\n", label.c_str(), f(row.S, 3).c_str(),
          ("[" + f(row.S_lo, 3) + ", " + f(row.S_hi, 3) + "]").c_str(), f(row.ST, 3).c_str(),
          ("[" + f(row.ST_lo, 3) + ", " + f(row.ST_hi, 3) + "]").c_str());
      table << line;
      csv << (year.empty() ? "" : year + ",") << row.name << ',' << csv_number(row.S) << ','
          << csv_number(row.S_lo) << ',' << csv_number(row.S_hi) << ',' << csv_number(row.ST) << ','
          << csv_number(row.ST_lo) << ',' << csv_number(row.ST_hi) << ','
          << (process ? "process" : "input") << '\n';
    }
  };
  table << "Noise can put S slightly above ST, or below 0, for a factor whose effect is small.\n";
  if (t.years.empty()) {
    table << "Mean " << f(t.mean, 3) << ", variance " << f(t.variance, 3) << "\n\n";
    csv << "factor,S,S_lo,S_hi,ST,ST_lo,ST_hi,kind\n";
    print(t.rows, "");
  } else {
    csv << "year,factor,S,S_lo,S_hi,ST,ST_lo,ST_hi,kind\n";
    for (std::size_t c = 0; c < t.years.size(); ++c) {
      table << "\n"
            << t.output << " at " << g6(t.years[c]) << " (the first step at or after it): mean "
            << f(t.year_means[c], 3) << ", variance " << f(t.year_variances[c], 3) << "\n";
      print(t.over_time[c], g6(t.years[c]));
    }
  }
}

/// The Sobol fields of sensitivity.json.
void sobol_meta(const SobolTable& t, nlohmann::ordered_json& meta) {
  meta["paths"] = t.base_paths;
  meta["base_paths"] = t.base_paths;
  meta["total_paths"] = t.total_paths;
  meta["statistic"] = t.statistic;
  if (t.years.empty()) {
    meta["mean"] = num(t.mean);
    meta["variance"] = num(t.variance);
  } else {
    meta["years"] = t.years;
    nlohmann::json means = nlohmann::json::array(), vars = nlohmann::json::array();
    for (std::size_t c = 0; c < t.years.size(); ++c) {
      means.push_back(num(t.year_means[c]));
      vars.push_back(num(t.year_variances[c]));
    }
    meta["means"] = means;
    meta["variances"] = vars;
  }
}

/// The tornado table as printed and as sensitivity.csv; its fields of sensitivity.json.
void render_tornado(const TornadoTable& t, std::uint64_t paths, std::uint64_t seed, double low,
                    double high, const Statistic& stat, const std::string& scenario_name,
                    std::ostringstream& table, std::ostringstream& csv,
                    nlohmann::ordered_json& meta) {
  char line[512];
  const int d = stat_decimals(t.output, stat);
  meta["paths"] = paths;
  meta["paths_per_run"] = paths;
  meta["seed"] = seed;
  meta["statistic"] = t.statistic;
  meta["low_quantile"] = low;
  meta["high_quantile"] = high;
  meta["base"] = num(t.base);
  meta["base_ci95"] = num(t.base_ci95);
  meta["base_nan_share"] = t.base_nan_share;
  const std::string unit = stat.is_share() ? "share" : output_unit(t.output);
  table << "Tornado of " << t.output << "." << t.statistic << " (" << scenario_name
        << "): each input pinned at its P" << f(100 * low, 0) << " and P" << f(100 * high, 0)
        << " (or its --vary range), every other draw as in the base run\n(common random "
           "numbers, "
        << grouped(paths) << " paths per run, seed " << seed << "). Base: " << f(t.base, d) << " ± "
        << f(t.base_ci95, d) << " " << unit << " (95%)\n";
  if (t.base_nan_share > 0 && !stat.is_share())
    table << t.output << " is undefined (the event never happens) on "
          << f(100 * t.base_nan_share, 1) << "% of the base run's paths: the " << t.statistic
          << " is over the paths where it happens, a set that changes with each input.\n";
  table << "Rows marked (vary) set a scenario key to LO and HI; the others pin a drawn input "
           "at its quantiles. Statistics in "
        << unit << ".\n\n";
  int w = 34;  // as wide as the longest label (contract.<name>.cancel_probability (vary))
  for (const auto& row : t.rows)
    w = std::max(w, static_cast<int>(row.factor.size() + (row.varied ? 7 : 0)));
  std::snprintf(line, sizeof line, "%-*s %12s %12s %12s %12s %12s\n", w, "input", "low input",
                "high input", "stat at low", "stat at high", "swing");
  table << line;
  csv << "factor,low_input,high_input,stat_low,stat_base,stat_high,swing,kind\n";
  for (const auto& row : t.rows) {
    const std::string label = row.varied ? row.factor + " (vary)" : row.factor;
    std::snprintf(line, sizeof line, "%-*s %12s %12s %12s %12s %12s\n", w, label.c_str(),
                  g6(row.low_input).c_str(), g6(row.high_input).c_str(), f(row.stat_low, d).c_str(),
                  f(row.stat_high, d).c_str(), f(row.swing, d).c_str());
    table << line;
    csv << row.factor << ',' << csv_number(row.low_input) << ',' << csv_number(row.high_input)
        << ',' << csv_number(row.stat_low) << ',' << csv_number(row.stat_base) << ','
        << csv_number(row.stat_high) << ',' << csv_number(row.swing) << ','
        << (row.varied ? "vary" : "pin") << '\n';
  }
}

// sensitivity.bin, a shard of a Sobol or tornado analysis: "CAPXSENS", u32 version 2,
// string method ("sobol" or "tornado"), u64 shard K, u64 shard N, u64 paths of the whole
// analysis (sobol: base paths; tornado: per run), u64 bootstrap (sobol), string statistic,
// string scenario file, string scenario name, f64 wall seconds of the shard, u64 count +
// strings --vary as given (tornado), u64 + bytes SobolSamples or TornadoSamples
// ::to_bytes(), u64 FNV-1a of every byte before it. Version 1 (no wall seconds, no
// --vary) is refused with a message to rerun the shard.
constexpr std::uint32_t sensitivity_shard_version = 2;
constexpr char shard_magic[8] = {'C', 'A', 'P', 'X', 'S', 'E', 'N', 'S'};

struct MethodShard {
  std::string method;
  std::uint64_t k = 0, n = 0, total = 0, bootstrap = 0;
  std::string statistic, scenario_file, scenario_name, source;
  double wall_seconds = 0;
  std::vector<std::string> vary;  // tornado: --vary as given
  std::string samples;            // the samples' bytes
};

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

/// "20%" -> 0.2, "0.2" -> 0.2; SensitivityError for anything else.
double parse_share(const std::string& text, const std::string& option) {
  std::string t = text;
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  std::size_t used = 0;
  const double x = leading_number(t, used);
  if (used == 0 || used != t.size() || !std::isfinite(x))
    throw SensitivityError(option + " '" + text + "': expected a share such as 20% or 0.2");
  return percent ? x / 100 : x;
}

int cmd_sensitivity(const SensitivityArgs& a, bool progress) {
  const Scenario scenario = load_scenario(a.scenario);
  const std::string method = a.method;
  if (method != "rank" && method != "tornado" && method != "sobol")
    throw SensitivityError("unknown method '" + method + "'; expected rank, tornado or sobol");
  const Statistic stat = parse_statistic(a.stat);
  std::vector<VaryRange> vary;
  for (const auto& v : a.vary) vary.push_back(parse_vary(v));
  if (!vary.empty() && method != "tornado")
    throw SensitivityError("--vary applies to --method tornado (and to calibrate), not " + method);
  for (const auto& v : vary) with_key_value(scenario, v.key, v.lo);  // checks the key now
  // --assumptions: fixed keys tagged [assumption] (or all, --assumptions-all) as more --vary
  // rows, each at value x (1 -/+ share).
  AssumptionRanges assumed;
  if (!a.assumptions.empty() || a.assumptions_all) {
    if (method != "tornado")
      throw SensitivityError("--assumptions applies to --method tornado, not " + method);
    const double share = a.assumptions.empty() ? 0.2 : parse_share(a.assumptions, "--assumptions");
    std::ifstream in(a.scenario, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    assumed = assumption_ranges(scenario, text, share, a.assumptions_all);
    for (const VaryRange& r : assumed.ranges)
      if (std::none_of(vary.begin(), vary.end(),
                       [&](const VaryRange& v) { return v.key == r.key; }))
        vary.push_back(r);  // an explicit --vary of the same key wins
    if (assumed.ranges.empty())
      throw SensitivityError(
          a.assumptions_all ? "--assumptions-all: the scenario has no fixed numeric key to move"
                            : "--assumptions: no fixed numeric key of " + a.scenario +
                                  " is tagged [assumption] in its line's comment "
                                  "(--assumptions-all moves every fixed numeric key)");
  }
  if (!a.over_time.empty() && method != "sobol")
    throw SensitivityError("--over-time applies to --method sobol, not " + method);
  if (method == "rank" && stat.kind != Statistic::Kind::mean)
    throw SensitivityError("--stat " + stat.name() +
                           " does not apply to rank: rank measures correlate every path's "
                           "output with its inputs; use tornado or sobol for a statistic");
  // An unknown output is refused before anything runs.
  if (a.over_time.empty()) check_output(scenario, a.output);
  // The method's runs: paths (rank: one run; tornado: per run; sobol: base paths N), seed.
  RunOptions run_options = options_of(a, method == "rank"      ? 100'000
                                         : method == "tornado" ? 50'000
                                                               : 65'536);
  // Joint runs: every evaluation runs the lab on the same paths (docs/sensitivity.md).
  const std::vector<args::Counterparty> labs =
      args::apply_counterparties(scenario, a.counterparties, run_options);
  if (!a.shard.empty() && method == "rank")
    throw SensitivityError(
        "--shard applies to --method sobol and tornado; for rank, shard 'run --per-path' and "
        "merge, then rank the merged paths (Python: Result.rank())");
  if (!a.shard.empty() && a.out.empty())
    throw UsageError("--shard " + a.shard +
                     " needs --out DIR (the shard's sensitivity.bin goes there)");
  if (!a.over_time.empty() && a.output != "funding_gap")
    throw SensitivityError("--over-time " + a.over_time + " analyses that series; --output " +
                           a.output + " would be ignored: give one or the other");
  if (method == "sobol") {
    const std::uint64_t b = parse_count(a.bootstrap, "--bootstrap", 1e5);
    if (b < 100)
      throw UsageError("--bootstrap " + a.bootstrap +
                       ": at least 100 resamples are needed for 95% percentile intervals");
    if (run_options.paths < 64)
      throw UsageError("--paths " + a.paths +
                       ": a Sobol analysis needs at least 64 base paths (the indices of fewer "
                       "are noise)");
  }
  // Everything that can be checked is checked before the --out folder is touched.
  std::optional<ShardSpec> spec;
  std::optional<PathRange> range;
  if (!a.shard.empty()) {
    spec = parse_shard(a.shard);
    const std::uint64_t total = run_options.paths;
    range = shard_range(*spec, total);
    if (range->count < 1)
      throw UsageError("--shard " + a.shard + ": " + std::to_string(total) +
                       " paths leave this shard empty; use fewer shards");
  }
  {
    // The memory the analysis keeps, checked before the folder is touched.
    RunOptions o = run_options;
    if (range) o.paths = range->count;
    std::uint64_t drawn = 0;
    for (const auto& d : scenario.params) drawn += d.is_fixed() ? 0 : 1;
    const std::uint64_t copies = spec ? 3 : 2;
    if (method == "rank")
      check_analysis_memory(scenario, method, o, drawn + 1, 1, 3, false);
    else if (method == "tornado")
      check_analysis_memory(scenario, method, o, 1 + 2 * (drawn + vary.size()), 1, copies, false);
    else
      check_analysis_memory(
          scenario, method, o, sobol_factors(scenario, o.counterparties).size() + 2,
          a.over_time.empty() ? 1 : std::max<std::size_t>(scenario.checkpoints.size(), 1), copies,
          !a.over_time.empty());
  }
  std::optional<OutputSet> set;
  if (!a.out.empty()) set.emplace(a.out);  // takes the folder's lock before the runs
  if (spec) {
    RunOptions o = run_options;
    MethodShard sh;
    sh.method = method;
    sh.k = spec->k;
    sh.n = spec->n;
    sh.total = o.paths;
    sh.bootstrap = method == "sobol" ? parse_count(a.bootstrap, "--bootstrap", 1e5) : 0;
    sh.statistic = stat.name();
    sh.scenario_file = a.scenario;
    sh.scenario_name = scenario.name;
    o.first_path = range->first;
    o.paths = range->count;
    sh.vary = method == "tornado" ? a.vary : std::vector<std::string>{};
    const auto t0 = std::chrono::steady_clock::now();
    sh.samples = with_progress(o, progress, method + " shard ", [&] {
      if (method == "sobol")
        return sobol_samples(scenario, a.output, stat, o, a.over_time).to_bytes();
      TornadoOptions to;
      to.low = a.low;
      to.high = a.high;
      to.vary = vary;
      return tornado_samples(scenario, a.output, o, to).to_bytes();
    });
    sh.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    set->write(sensitivity_shard_file, encode_method_shard(sh));
    set->commit();
    std::cout << (method == "sobol" ? "Sobol" : "Tornado") << " shard " << spec->k << "/" << spec->n
              << " of " << scenario.name << ": paths [" << range->first << ", "
              << range->first + range->count << ") of " << grouped(sh.total) << ", written to "
              << (set->dir() / sensitivity_shard_file).string()
              << "\nCombine every shard with: capexsim merge DIR1 DIR2 ... --out OUT\n";
    return 0;
  }

  std::ostringstream table, csv;
  nlohmann::ordered_json meta;
  meta["capexsim_version"] = version_string;
  meta["scenario"] = scenario.name;
  meta["scenario_file"] = a.scenario;
  meta["method"] = method;
  meta["output"] = a.over_time.empty() ? a.output : a.over_time;
  // As summary.json of `run --counterparty`: the joint hash "<provider>+NAME=<lab>".
  std::string hash = fingerprint(scenario);
  for (const JointRun& j : run_options.counterparties)
    hash += "+" + j.name + "=" + j.lab_fingerprint;
  meta["scenario_hash"] = hash;
  counterparty_meta(hash, meta, labs);
  const auto t0 = std::chrono::steady_clock::now();
  char line[512];

  if (method == "rank") {
    RunOptions o = run_options;
    o.bands = false;
    const Result r = with_progress(o, progress, "rank ", [&] { return run(scenario, o); });
    const RankTable t = rank_sensitivity(r, a.output);
    meta["paths"] = t.paths;
    meta["seed"] = o.seed;
    meta["r2"] = num(t.r2);
    meta["nan_share"] = t.nan_share;
    table << "What drives " << a.output << " (" << scenario.name << "): rank measures over "
          << grouped(t.paths) << " paths, seed " << o.seed << "\n";
    if (t.nan_share > 0)
      table << a.output << " is undefined (the event never happens) on " << g6(100 * t.nan_share)
            << "% of paths. spearman, srrc and R^2 are over the " << grouped(t.defined)
            << " paths where it is defined;\nevent_rho is the rank correlation with 'it "
               "happens' over all paths.\n";
    table << "R^2 of the rank regression: " << f(t.r2, 3)
          << " (the share of the output's rank variance the inputs explain linearly).\n"
             "srrc: standardised rank-regression coefficient (the effect of one sd of an "
             "input's rank, others held);\ncontribution: srrc^2 / sum srrc^2 x R^2 (the "
             "contributions add up to R^2).\n\n";
    std::snprintf(line, sizeof line, "%-34s %9s %9s %13s %10s\n", "input", "spearman", "srrc",
                  "contribution", "event_rho");
    table << line;
    csv << "factor,spearman,srrc,contribution,event_spearman\n";
    for (const auto& row : t.rows) {
      std::snprintf(line, sizeof line, "%-34s %9s %9s %12s%% %10s\n", row.factor.c_str(),
                    f(row.spearman, 3).c_str(), f(row.srrc, 3).c_str(),
                    f(100 * row.contribution, 1).c_str(), f(row.event_spearman, 3).c_str());
      table << line;
      csv << row.factor << ',' << csv_number(row.spearman) << ',' << csv_number(row.srrc) << ','
          << csv_number(row.contribution) << ',' << csv_number(row.event_spearman) << '\n';
    }
  } else if (method == "tornado") {
    RunOptions o = run_options;
    TornadoOptions to;
    to.low = a.low;
    to.high = a.high;
    to.vary = vary;
    const TornadoTable t = with_progress(o, progress, "tornado ",
                                         [&] { return tornado(scenario, a.output, stat, o, to); });
    render_tornado(t, o.paths, o.seed, a.low, a.high, stat, scenario.name, table, csv, meta);
    meta["vary"] = a.vary;
    if (!assumed.ranges.empty()) {
      nlohmann::ordered_json keys = nlohmann::ordered_json::array();
      for (const VaryRange& r : assumed.ranges) keys.push_back(r.key);
      meta["assumptions"] = keys;
      meta["assumptions_share"] =
          a.assumptions.empty() ? 0.2 : parse_share(a.assumptions, "--assumptions");
      table << "\n"
            << assumed.ranges.size() << " fixed "
            << (a.assumptions_all ? "numeric keys" : "keys tagged [assumption]")
            << " moved by their share as (vary) rows.\n";
    }
    for (const std::string& why : assumed.skipped) table << "not moved: " << why << "\n";
  } else {
    RunOptions o = run_options;
    SobolModelOptions so;
    so.over_time = a.over_time;
    so.estimator.bootstrap = static_cast<int>(parse_count(a.bootstrap, "--bootstrap", 1e5));
    const SobolTable t = with_progress(
        o, progress, "sobol ", [&] { return sobol_sensitivity(scenario, a.output, stat, o, so); });
    meta["seed"] = o.seed;
    sobol_meta(t, meta);
    meta["bootstrap"] = so.estimator.bootstrap;
    render_sobol(t, o.seed, scenario.name, table, csv);
  }
  for (const args::Counterparty& c : labs)
    table << "\nJoint run: every evaluation ran " << c.file << " on the same paths, paying "
          << scenario.name << "'s revenue contract " << c.name << ".\n";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  meta["wall_seconds"] = seconds;
  std::cout << table.str();
  char tail[128];
  std::snprintf(tail, sizeof tail, "\n(%.1f s)\n", seconds);
  std::cout << tail;
  if (set) {
    set->write("sensitivity.csv", csv.str());
    meta["run_id"] = set->run_id();
    set->write("sensitivity.json", meta.dump(2) + "\n");
    set->commit();
    std::cout << "Wrote " << (set->dir() / "sensitivity.csv").string() << " and sensitivity.json\n";
  }
  return 0;
}

int cmd_calibrate(const CalibrateArgs& a, bool progress) {
  const Scenario scenario = load_scenario(a.scenario);
  const VaryRange range = parse_vary(a.vary);
  // OUTPUT.STAT=VALUE
  const auto eq = a.target.rfind('=');
  const auto dot = a.target.substr(0, eq == std::string::npos ? 0 : eq).rfind('.');
  if (eq == std::string::npos || dot == std::string::npos || dot == 0)
    throw SensitivityError("--target '" + a.target +
                           "': expected OUTPUT.STAT=VALUE, e.g. arr_at_2030.p50=100");
  const std::string output = a.target.substr(0, dot);
  const Statistic stat = parse_statistic(a.target.substr(dot + 1, eq - dot - 1));
  std::size_t used = 0;
  const std::string value_text = a.target.substr(eq + 1);
  const double target = leading_number(value_text, used);
  if (used == 0 || used != value_text.size() || !std::isfinite(target))
    throw SensitivityError("--target '" + a.target + "': VALUE '" + value_text +
                           "' is not a number");
  with_key_value(scenario, range.key, range.lo);  // the key is checked before any run
  RunOptions o;
  o.paths = parse_count(a.paths, "--paths", 1e8);
  o.seed = parse_seed(a.seed);
  o.threads = parse_threads(a.threads);
  if (!a.write.empty()) {
    const auto dir = std::filesystem::absolute(a.write).parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
      throw UsageError("--write " + a.write + ": the folder " + dir.string() + " does not exist");
    if (::access(dir.c_str(), W_OK) != 0)
      throw UsageError("--write " + a.write + ": the folder " + dir.string() + " is not writable");
  }
  const auto t0 = std::chrono::steady_clock::now();
  const CalibrateResult r = with_progress(o, progress, "calibrate ", [&] {
    return calibrate(scenario, range, output, stat, target, o);
  });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int d = stat_decimals(output, stat);
  // The value's Monte Carlo error needs a slope of the statistic near it; without one
  // (the statistic flat there) it is said so, not printed as "± -".
  std::cout << r.key << " = " << g6(r.value)
            << (std::isfinite(r.value_ci95)
                    ? " ± " + f(r.value_ci95, 6) + " (95%, Monte Carlo)\n"
                    : std::string(" (Monte Carlo error unknown: the statistic does not move "
                                  "with the key near this value)\n"))
            << "  puts " << output << "." << r.statistic << " at " << f(r.achieved, d) << " ± "
            << f(r.achieved_ci95, d) << " (target " << g6(target) << ")\n"
            << "  " << r.runs << " runs of " << grouped(o.paths) << " paths, seed " << o.seed
            << ", common random numbers, TOMS 748 on [" << number(range.lo) << ", "
            << number(range.hi) << "]";
  char tail[64];
  std::snprintf(tail, sizeof tail, ", %.1f s\n", seconds);
  std::cout << tail;
  if (!a.write.empty()) {
    write_atomically(a.write, "# " + scenario.name + " calibrated by capexsim: " + r.key + " = " +
                                  number(r.value) + " puts " + output + "." + r.statistic + " at " +
                                  number(r.achieved) + " (target " + number(target) + ")\n" +
                                  to_toml(r.scenario));
    std::cout << "Wrote the calibrated scenario to " << a.write << "\n";
  }
  return 0;
}

}  // namespace capexsim::cli
