#include "shard.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include <capexsim/detail/bytes.hpp>
#include <capexsim/detail/format.hpp>
#include <capexsim/schema.hpp>
#include <capexsim/version.hpp>

#include "output.hpp"

namespace capexsim::cli {

namespace fs = std::filesystem;

namespace {

constexpr char shard_magic[8] = {'C', 'A', 'P', 'X', 'S', 'H', 'R', 'D'};

std::string range_text(std::uint64_t first, std::uint64_t count) {
  return "paths [" + std::to_string(first) + ", " + std::to_string(first + count) + ")";
}

std::string thresholds_text(const Thresholds& t) {
  std::string out;
  for (const auto& [name, values] : t) {
    out += (out.empty() ? "" : " ") + name + "=";
    for (std::size_t i = 0; i < values.size(); ++i)
      out += (i ? "," : "") + detail::format_double(values[i]);
  }
  return out.empty() ? "none" : out;
}

std::string shard_name(const Shard& s) {
  return s.source + " (shard " + std::to_string(s.header.k) + "/" + std::to_string(s.header.n) +
         ")";
}

}  // namespace

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

ShardSpec parse_shard(const std::string& text) {
  const auto bad = [&] {
    return UsageError("--shard " + text +
                      ": expected K/N, shard K of N with 1 <= K <= N (e.g. --shard 2/8)");
  };
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw bad();
  auto whole = [&](const std::string& part) {
    if (part.empty() || part.size() > 18 ||
        !std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }))
      throw bad();
    return static_cast<std::uint64_t>(std::stoull(part));
  };
  ShardSpec s{whole(text.substr(0, slash)), whole(text.substr(slash + 1))};
  if (s.k < 1 || s.n < 1 || s.k > s.n) throw bad();
  return s;
}

PathRange shard_range(ShardSpec spec, std::uint64_t total) {
  const std::uint64_t q = total / spec.n, r = total % spec.n, i = spec.k - 1;
  return {i * q + std::min(i, r), q + (i < r ? 1 : 0)};
}

std::string encode_shard(const ShardHeader& h, const Result& result) {
  std::string out(shard_magic, sizeof shard_magic);
  detail::ByteWriter w(out);
  w.put(shard_format_version);
  w.put_string(h.version);
  w.put_string(h.scenario_name);
  w.put_string(h.scenario_hash);
  w.put_string(h.scenario_file);
  w.put(h.seed);
  w.put(h.k);
  w.put(h.n);
  w.put(h.first_path);
  w.put(h.paths);
  w.put(h.total_paths);
  w.put_string(h.design);
  w.put<std::uint8_t>(h.per_path ? 1 : 0);
  w.put<std::int32_t>(h.threads);
  w.put(h.wall_seconds);
  w.put<std::uint64_t>(h.thresholds.size());
  for (const auto& [name, values] : h.thresholds) {
    w.put_string(name);
    w.put_vector(values);
  }
  w.put_string(result.to_bytes());
  w.put(fnv1a(out));
  return out;
}

Shard decode_shard(std::string_view bytes, const std::string& source) {
  auto corrupt = [&](const std::string& why) {
    return UsageError(source + ": not a readable capexsim shard (" + why + ")");
  };
  if (bytes.size() < sizeof shard_magic + 4 + 8 ||
      std::memcmp(bytes.data(), shard_magic, sizeof shard_magic) != 0)
    throw corrupt("no CAPXSHRD header");
  std::uint32_t format = 0;
  std::memcpy(&format, bytes.data() + sizeof shard_magic, sizeof format);
  if (format != shard_format_version)
    throw UsageError(source + ": shard file format version " + std::to_string(format) +
                     "; this capexsim reads version " + std::to_string(shard_format_version) +
                     " (rerun the shard with this capexsim)");
  std::uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - sizeof stored, sizeof stored);
  const std::string_view body = bytes.substr(0, bytes.size() - sizeof stored);
  if (fnv1a(body) != stored) throw corrupt("checksum mismatch: the file is damaged or truncated");
  Shard s;
  s.source = source;
  ShardHeader& h = s.header;
  try {
    detail::ByteReader r(body.substr(sizeof shard_magic + 4));
    h.version = r.get_string();
    h.scenario_name = r.get_string();
    h.scenario_hash = r.get_string();
    h.scenario_file = r.get_string();
    h.seed = r.get<std::uint64_t>();
    h.k = r.get<std::uint64_t>();
    h.n = r.get<std::uint64_t>();
    h.first_path = r.get<std::uint64_t>();
    h.paths = r.get<std::uint64_t>();
    h.total_paths = r.get<std::uint64_t>();
    h.design = r.get_string();
    h.per_path = r.get<std::uint8_t>() != 0;
    h.threads = r.get<std::int32_t>();
    h.wall_seconds = r.get<double>();
    const auto nt = r.get<std::uint64_t>();
    if (nt > r.remaining() / 16) throw std::invalid_argument("corrupt threshold count");
    for (std::uint64_t i = 0; i < nt; ++i) {
      std::string name = r.get_string();
      std::vector<double> values = r.get_vector<double>();
      h.thresholds.emplace_back(std::move(name), std::move(values));
    }
    const std::string payload = r.get_string();
    if (!r.done()) throw std::invalid_argument("trailing data");
    s.result = Result::from_bytes(payload);
  } catch (const std::invalid_argument& e) {
    throw corrupt(e.what());
  }
  const Result& res = s.result;
  // What `merge` writes from the names: each must be an output or series capexsim has,
  // spelled as one (no comma, quote or line break to corrupt a CSV), and listed once.
  for (std::size_t i = 0; i < res.output_names.size(); ++i) {
    const std::string& name = res.output_names[i];
    const bool plain =
        !name.empty() && name.size() <= 100 && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
        });
    bool known = plain;
    try {
      if (plain) (void)describe_output(name);
    } catch (const std::out_of_range&) {
      known = false;
    }
    if (!known || std::find(res.output_names.begin(),
                            res.output_names.begin() + static_cast<std::ptrdiff_t>(i),
                            name) != res.output_names.begin() + static_cast<std::ptrdiff_t>(i))
      throw corrupt("output " + std::to_string(i + 1) + " is not a capexsim output name");
  }
  for (const std::string& name : res.series_names) {
    try {
      (void)series_by_name(name);
    } catch (const std::out_of_range&) {
      throw corrupt("a series that is not a capexsim series");
    }
  }
  for (const auto& [name, values] : h.thresholds) {
    if (std::find(res.output_names.begin(), res.output_names.end(), name) == res.output_names.end())
      throw corrupt("a threshold on an output the run does not have");
    for (const double v : values)
      if (!std::isfinite(v)) throw corrupt("a threshold that is not a finite number");
  }
  if (res.bands.empty() && res.paths > 0) throw corrupt("no bands");
  if (h.total_paths > (std::uint64_t{1} << 40))
    throw corrupt("a run of " + std::to_string(h.total_paths) + " paths");
  if (h.k < 1 || h.n < 1 || h.k > h.n || h.total_paths < h.n)
    throw corrupt("shard " + std::to_string(h.k) + "/" + std::to_string(h.n) + " of " +
                  std::to_string(h.total_paths) + " paths");
  const PathRange want = shard_range({h.k, h.n}, h.total_paths);
  if (want.first != h.first_path || want.count != h.paths || res.first_path != h.first_path ||
      res.paths != h.paths || res.seed != h.seed || res.scenario_fingerprint != h.scenario_hash ||
      res.scenario_name != h.scenario_name)
    throw corrupt("its header does not match its result");
  return s;
}

Shard read_shard(const fs::path& dir_or_file) {
  std::error_code ec;
  const fs::path file =
      fs::is_directory(dir_or_file, ec) ? dir_or_file / shard_file_name : dir_or_file;
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw UsageError(file.string() + ": cannot read (" + std::strerror(errno) +
                     "); expected a folder written by 'capexsim run ... --shard K/N --out DIR'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw UsageError(file.string() + ": read error");
  return decode_shard(bytes, file.string());
}

Result merge_shards(std::vector<Shard>& shards) {
  if (shards.empty()) throw UsageError("merge: no shard folders given");
  for (const Shard& s : shards)
    if (s.header.version != version_string)
      throw UsageError(shard_name(s) + " was written by capexsim " + s.header.version +
                       "; this is capexsim " + version_string +
                       ": merge shards with the version that ran them");
  const Shard& a = shards.front();
  const ShardHeader& h0 = a.header;
  for (const Shard& s : shards) {
    const ShardHeader& h = s.header;
    auto differ = [&](const std::string& what, const std::string& x, const std::string& y) {
      return UsageError("merge: " + shard_name(a) + " and " + shard_name(s) + " have different " +
                        what + " (" + x + " and " + y + "): they are not shards of one run");
    };
    if (h.scenario_hash != h0.scenario_hash)
      throw differ("scenarios", h0.scenario_name + " " + h0.scenario_hash,
                   h.scenario_name + " " + h.scenario_hash);
    if (h.seed != h0.seed) throw differ("seeds", std::to_string(h0.seed), std::to_string(h.seed));
    if (h.design != h0.design) throw differ("sampling designs", h0.design, h.design);
    if (h.total_paths != h0.total_paths)
      throw differ("path counts (--paths)", std::to_string(h0.total_paths),
                   std::to_string(h.total_paths));
    if (h.n != h0.n) throw differ("shard counts", std::to_string(h0.n), std::to_string(h.n));
    if (h.per_path != h0.per_path)
      throw differ("--per-path choices", h0.per_path ? "on" : "off", h.per_path ? "on" : "off");
    if (h.thresholds != h0.thresholds)
      throw differ("thresholds (--threshold, [outputs] thresholds)", thresholds_text(h0.thresholds),
                   thresholds_text(h.thresholds));
    if (s.result.has_per_path() != a.result.has_per_path() ||
        s.result.output_names != a.result.output_names ||
        s.result.series_names != a.result.series_names || s.result.steps != a.result.steps ||
        s.result.bands.empty() != a.result.bands.empty())
      throw UsageError("merge: " + shard_name(a) + " and " + shard_name(s) +
                       " hold results of different layouts (outputs, steps, per-path values or "
                       "bands): they are not shards of one run");
  }
  std::stable_sort(shards.begin(), shards.end(), [](const Shard& x, const Shard& y) {
    return x.header.first_path < y.header.first_path;
  });
  std::uint64_t next = 0;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const ShardHeader& h = shards[i].header;
    if (h.first_path > next)
      throw UsageError("merge: " + range_text(next, h.first_path - next) +
                       " are missing: a shard of the " + std::to_string(h0.n) +
                       " was not given (have " + std::to_string(shards.size()) + ")");
    if (h.first_path < next)
      throw UsageError("merge: " + shard_name(shards[i - 1]) + " and " + shard_name(shards[i]) +
                       " overlap (" + range_text(h.first_path, next - h.first_path) + " in both)");
    next = h.first_path + h.paths;
  }
  if (next != h0.total_paths)
    throw UsageError("merge: " + range_text(next, h0.total_paths - next) +
                     " are missing: a shard of the " + std::to_string(h0.n) +
                     " was not given (have " + std::to_string(shards.size()) + ")");

  // Combine in path order with the library's merge (the ranges are adjacent now): counts
  // and fixed-point sums add exactly, so the result is the single run's, bit for bit.
  Result r = std::move(shards.front().result);
  for (std::size_t i = 1; i < shards.size(); ++i) {
    r = capexsim::merge(r, shards[i].result);
    shards[i].result = Result();  // free as we go
  }
  return r;
}

}  // namespace capexsim::cli
