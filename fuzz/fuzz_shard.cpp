// libFuzzer target over the shard reader (`capexsim merge`): the input is a result.bin
// without its last 8 bytes, the checksum, which the target appends (a crafted file can
// always carry a valid one). Any input must either decode, merge with a copy of itself and
// summarise without a crash, or be refused with UsageError. Anything else (another
// exception, an allocation beyond what the bytes allow, a sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>

#include <capexsim/capexsim.hpp>

#include "../cli/output.hpp"
#include "../cli/shard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  const std::uint64_t sum = capexsim::cli::fnv1a(bytes);
  bytes.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  capexsim::cli::Shard shard;
  try {
    shard = capexsim::cli::decode_shard(bytes, "fuzz/result.bin");
  } catch (const capexsim::cli::UsageError&) {
    return 0;
  }
  // Decoded: merge it with the next range's copy (what `merge` does with two shards)
  // and compute what the files of the merged run hold.
  const capexsim::Result& a = shard.result;
  capexsim::Result b = a;
  b.first_path = a.first_path + a.paths;
  if (b.first_path < a.first_path) return 0;
  const capexsim::Result r = capexsim::merge(a, b);
  for (std::size_t k = 0; k < r.output_names.size(); ++k) (void)r.summary(k);
  // The thresholds (format version 2) as summary.json reports them.
  for (const auto& [name, values] : shard.header.thresholds)
    for (const double v : values) (void)r.exceedance(r.output_index(name), v);
  for (const std::string& name : r.series_names) (void)r.band(name);
  (void)capexsim::Result::from_bytes(r.to_bytes());
  return 0;
}
