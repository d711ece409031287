// Tornado and Sobol samples as bytes (the files of sharded runs) and the merge of
// adjacent path ranges of one analysis.

#include "internal.hpp"

#include "capexsim/detail/bytes.hpp"

namespace capexsim {

using namespace sensitivity_detail;

namespace {

constexpr std::uint64_t tornado_magic = 0x31444e524f4e5254ull;  // "TRNORND1"
constexpr std::uint64_t samples_magic = 0x3153454c504d4153ull;  // "SAMPLES1"

/// Samples of adjacent path ranges of one analysis (either order), merged in path order:
/// `same(a, b)` says whether they are of one analysis (else SensitivityError saying
/// `differ`), `append(m, b)` appends b's per-path values to m.
template <class Samples, class Same, class Append>
Samples merge_ranges(const Samples& a_in, const Samples& b_in, const char* kind, const char* differ,
                     Same same, Append append) {
  const bool swap = b_in.first_path + b_in.paths == a_in.first_path;
  const Samples& a = swap ? b_in : a_in;
  const Samples& b = swap ? a_in : b_in;
  const std::string what = std::string("merge: the ") + kind + " samples";
  if (a.scenario_fingerprint != b.scenario_fingerprint || a.output != b.output || !same(a, b))
    throw SensitivityError(what + " come from different analyses (" + differ + " differ)");
  if (a.seed != b.seed) throw SensitivityError(what + " have different seeds");
  if (a.first_path + a.paths != b.first_path)
    throw SensitivityError(
        what + "' path ranges are not adjacent ([" + std::to_string(a.first_path) + ", " +
        std::to_string(a.first_path + a.paths) + ") and [" + std::to_string(b.first_path) + ", " +
        std::to_string(b.first_path + b.paths) + "))");
  Samples m = a;
  m.paths = a.paths + b.paths;
  append(m, b);
  return m;
}

template <class T>
void append_to(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

}  // namespace

std::string TornadoSamples::to_bytes() const {
  std::string out;
  detail::ByteWriter w(out);
  w.put(tornado_magic);
  w.put_string(scenario_fingerprint);
  w.put_string(output);
  w.put(seed);
  w.put(first_path);
  w.put(paths);
  w.put(low);
  w.put(high);
  w.put<std::uint64_t>(rows.size());
  for (const auto& r : rows) {
    w.put_string(r.factor);
    w.put(r.low_input);
    w.put(r.high_input);
    w.put<std::uint8_t>(r.varied ? 1 : 0);
  }
  w.put<std::uint64_t>(values.size());
  for (const auto& v : values) w.put_vector(v);
  return out;
}

TornadoSamples TornadoSamples::from_bytes(std::string_view bytes) {
  detail::ByteReader r(bytes);
  if (r.get<std::uint64_t>() != tornado_magic)
    throw std::invalid_argument("not capexsim tornado samples (bad header)");
  TornadoSamples s;
  s.scenario_fingerprint = r.get_string();
  s.output = r.get_string();
  s.seed = r.get<std::uint64_t>();
  s.first_path = r.get<std::uint64_t>();
  s.paths = r.get<std::uint64_t>();
  s.low = r.get<double>();
  s.high = r.get<double>();
  const auto k = r.get<std::uint64_t>();
  if (k > 4096) throw std::invalid_argument("tornado samples: corrupt row count");
  for (std::uint64_t i = 0; i < k; ++i) {
    TornadoRow row;
    row.factor = r.get_string();
    row.low_input = r.get<double>();
    row.high_input = r.get<double>();
    row.varied = r.get<std::uint8_t>() != 0;
    s.rows.push_back(row);
  }
  const auto runs = r.get<std::uint64_t>();
  if (runs != 1 + 2 * k) throw std::invalid_argument("tornado samples: corrupt run count");
  for (std::uint64_t i = 0; i < runs; ++i) {
    s.values.push_back(r.get_vector<double>());
    if (s.values.back().size() != s.paths)
      throw std::invalid_argument("tornado samples: corrupt path count");
  }
  if (!r.done()) throw std::invalid_argument("tornado samples: trailing data");
  return s;
}

TornadoSamples merge(const TornadoSamples& a, const TornadoSamples& b) {
  const auto same = [](const TornadoSamples& x, const TornadoSamples& y) {
    if (x.low != y.low || x.high != y.high || x.rows.size() != y.rows.size()) return false;
    for (std::size_t i = 0; i < x.rows.size(); ++i)
      if (x.rows[i].factor != y.rows[i].factor || x.rows[i].low_input != y.rows[i].low_input ||
          x.rows[i].high_input != y.rows[i].high_input || x.rows[i].varied != y.rows[i].varied)
        return false;
    return true;
  };
  return merge_ranges(a, b, "tornado", "scenario, output, quantiles or --vary ranges", same,
                      [](TornadoSamples& m, const TornadoSamples& y) {
                        for (std::size_t r = 0; r < m.values.size(); ++r)
                          append_to(m.values[r], y.values[r]);
                      });
}

std::string SobolSamples::to_bytes() const {
  std::string out;
  detail::ByteWriter w(out);
  w.put(samples_magic);
  w.put_string(scenario_fingerprint);
  w.put_string(output);
  w.put_string(statistic);
  w.put_string(over_time);
  w.put(seed);
  w.put(first_path);
  w.put(paths);
  w.put<std::uint64_t>(factors.size());
  for (const auto& f : factors) w.put_string(f);
  w.put_vector(years);
  w.put<std::uint64_t>(values.size());
  for (const auto& q : values) {
    w.put<std::uint64_t>(q.size());
    for (const auto& r : q) w.put_vector(r);
  }
  return out;
}

SobolSamples SobolSamples::from_bytes(std::string_view bytes) {
  detail::ByteReader r(bytes);
  if (r.get<std::uint64_t>() != samples_magic)
    throw std::invalid_argument("not capexsim Sobol samples (bad header)");
  SobolSamples s;
  s.scenario_fingerprint = r.get_string();
  s.output = r.get_string();
  s.statistic = r.get_string();
  s.over_time = r.get_string();
  s.seed = r.get<std::uint64_t>();
  s.first_path = r.get<std::uint64_t>();
  s.paths = r.get<std::uint64_t>();
  const auto k = r.get<std::uint64_t>();
  if (k > 4096) throw std::invalid_argument("Sobol samples: corrupt factor count");
  for (std::uint64_t i = 0; i < k; ++i) s.factors.push_back(r.get_string());
  s.years = r.get_vector<double>();
  const auto nq = r.get<std::uint64_t>();
  if (nq > 4096) throw std::invalid_argument("Sobol samples: corrupt quantity count");
  s.values.resize(nq);
  for (auto& q : s.values) {
    const auto runs = r.get<std::uint64_t>();
    if (runs != k + 2) throw std::invalid_argument("Sobol samples: corrupt run count");
    q.resize(runs);
    for (auto& v : q) {
      v = r.get_vector<double>();
      if (v.size() != s.paths) throw std::invalid_argument("Sobol samples: corrupt path count");
    }
  }
  if (!r.done()) throw std::invalid_argument("Sobol samples: trailing data");
  return s;
}

SobolSamples merge(const SobolSamples& a, const SobolSamples& b) {
  const auto same = [](const SobolSamples& x, const SobolSamples& y) {
    return x.statistic == y.statistic && x.over_time == y.over_time && x.factors == y.factors &&
           x.years == y.years;
  };
  return merge_ranges(a, b, "Sobol", "scenario, output, statistic or factors", same,
                      [](SobolSamples& m, const SobolSamples& y) {
                        for (std::size_t q = 0; q < m.values.size(); ++q)
                          for (std::size_t r = 0; r < m.values[q].size(); ++r)
                            append_to(m.values[q][r], y.values[q][r]);
                      });
}

}  // namespace capexsim
