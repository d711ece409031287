#pragma once
// Shards of a run on the command line: `capexsim run ... --shard K/N` writes result.bin,
// `capexsim merge` reads, checks and combines them.
//
// result.bin, format version 2 (little-endian):
//   8 bytes   magic "CAPXSHRD"
//   u32       format version (2; version 1, without the thresholds, is refused)
//   header    (detail::ByteWriter fields, in this order)
//             string capexsim version; string scenario name; string scenario hash;
//             string scenario file (as given to `run`); u64 seed; u64 shard K; u64 shard N;
//             u64 first path; u64 paths in the shard; u64 paths of the whole run;
//             string sampling design ("random"); u8 per-path output asked (--per-path);
//             i32 --threads; f64 wall seconds of the shard;
//             u64 thresholds, each: string output name, u64 count, count f64 values
//             (the scenario's [outputs] thresholds and --threshold, as the run reports them)
//   u64 + bytes  the shard's Result::to_bytes()
//   u64       FNV-1a 64 checksum of every byte before it

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <capexsim/engine.hpp>

#include "output.hpp"

namespace capexsim::cli {

inline constexpr std::uint32_t shard_format_version = 2;
inline constexpr const char* shard_file_name = "result.bin";

/// FNV-1a 64 of `bytes`: the checksum of shard files.
std::uint64_t fnv1a(std::string_view bytes);

/// "K/N" with 1 <= K <= N; throws UsageError naming --shard.
struct ShardSpec {
  std::uint64_t k = 0, n = 0;
};
ShardSpec parse_shard(const std::string& text);

/// Paths [first, first + count) of shard K of N over `total` paths: contiguous ranges in
/// order, sizes differing by at most one (the first total % N shards have one more).
struct PathRange {
  std::uint64_t first = 0, count = 0;
};
PathRange shard_range(ShardSpec spec, std::uint64_t total);

struct ShardHeader {
  std::string version;
  std::string scenario_name, scenario_hash, scenario_file;
  std::uint64_t seed = 0, k = 0, n = 0, first_path = 0, paths = 0, total_paths = 0;
  std::string design = "random";
  bool per_path = false;
  int threads = 0;
  double wall_seconds = 0;
  Thresholds thresholds;  // P(output > v) reported by the run, and by merge
};

struct Shard {
  ShardHeader header;
  Result result;
  std::string source;  // the file it was read from, for messages
};

std::string encode_shard(const ShardHeader& header, const Result& result);
/// Throws UsageError naming `source` when the bytes are not a readable shard of this
/// format version (bad magic, version, checksum, or contents).
Shard decode_shard(std::string_view bytes, const std::string& source);
/// Reads DIR/result.bin (or the file itself when given a file).
Shard read_shard(const std::filesystem::path& dir_or_file);

/// Checks that the shards are the whole of one run (same capexsim version, scenario,
/// seed, design, total paths, shard count, per-path choice, thresholds; ranges covering
/// [0, total) with no gap and no overlap) and combines them, in path order, into the
/// result of that run. Throws UsageError saying what does not match.
Result merge_shards(std::vector<Shard>& shards);

}  // namespace capexsim::cli
