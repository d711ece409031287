#pragma once
// Streaming, mergeable statistics whose merge is exact: integer counts and fixed-point
// sums, so any split of the paths into threads or shards merges to the same bits.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "capexsim/detail/bytes.hpp"

namespace capexsim {

namespace detail {
// __extension__ keeps -Wpedantic quiet in consumers: a GNU type, on GCC and Clang.
__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;
}  // namespace detail

/// Exact sum of doubles, mergeable in any order: 128-bit fixed point with resolution
/// 2^-32 (about 2.3e-10) for ordinary values, and an exact multi-word integer for large ones.
///
/// A value below 2^40 in magnitude is rounded to the nearest multiple of 2^-32 and added
/// to a 128-bit integer; a larger value (a multiple of 2^-12) is added exactly to a
/// multi-word integer in units of 2^-64 that is allocated only when such a value arrives.
/// add_square(x) adds x^2: as the rounded double x * x when that is below 2^62 (as before), and
/// otherwise as the exact square, so there is no overflow or saturation at any finite magnitude.
/// Every value's contribution is a fixed function of the value and the parts are integers, so `a +=
/// b` merges shards to the same bits in any order. value() is the total correctly rounded to a
/// double (for totals that never left the 128-bit part, exactly the old double(acc) / 2^32).
/// Infinite values cannot be summed: they are counted in `saturated()` and make value()
/// NaN rather than a wrong finite number.
class FixedPointSum {
 public:
  static constexpr double scale = 0x1p32;
  /// Values at or above this magnitude go to the exact multi-word part.
  static constexpr double big_threshold = 0x1p40;

  void add(double x) {
    const double v = x * scale;
    // Fast path, |v| < 2^51: adding and subtracting 1.5 * 2^52 rounds v to the nearest
    // integer (ties to even, like nearbyint) exactly, and the cast to int64 is one
    // instruction. Values up to 2^19 (524,288) take it; both paths give the same integer.
    if (std::abs(v) < 0x1p51) {
      const double rounded = (v + 0x1.8p52) - 0x1.8p52;
      acc_ += static_cast<std::int64_t>(rounded);
      return;
    }
    add_slow(x);
  }
  /// Adds x^2 (see the class comment).
  void add_square(double x) {
    const double v = x * x;
    if (v < big_threshold) {
      add(v);
      return;
    }
    add_exact_square(x);
  }
  /// add() for n values: runs of up to 1024 values below 2^19 in magnitude (the fast
  /// path) are rounded and summed in 64-bit integers (no overflow: 1024 * 2^51 < 2^63)
  /// in a loop that vectorises, then added at once; a run with any other value is added
  /// value by value. The same integer total either way, so the same bits.
  void add_many(const double* x, std::size_t n) {
    constexpr double magic = 0x1.8p52;
    constexpr std::uint64_t magic_bits = 0x4338000000000000ull;  // bits of 1.5 * 2^52
    for (std::size_t b = 0; b < n; b += 1024) {
      const std::size_t m = std::min<std::size_t>(1024, n - b);
      int fast = 1;
      std::int64_t sum = 0;
      for (std::size_t p = 0; p < m; ++p) {
        const double v = x[b + p] * scale;
        const bool ok = std::abs(v) < 0x1p51;  // false for NaN too
        fast &= ok;
        // v + 1.5 * 2^52 rounds v to an integer held in the low mantissa bits.
        const double t = (ok ? v : 0.0) + magic;
        std::uint64_t bits;
        std::memcpy(&bits, &t, sizeof bits);
        sum += static_cast<std::int64_t>(bits - magic_bits);
      }
      if (fast) {
        acc_ += sum;
      } else {
        for (std::size_t p = 0; p < m; ++p) add(x[b + p]);
      }
    }
  }
  /// The integer (units of 2^-32) that add(x) adds when x takes the fast path,
  /// |x| 2^32 < 2^51 (then `fast` is true); 0 and `fast` false otherwise (NaN included).
  /// Branch-free, so a loop over lanes vectorises (the band sink, detail/band_sink.hpp).
  __attribute__((always_inline)) static std::int64_t fast_units(double x, bool& fast) {
    constexpr double magic = 0x1.8p52;
    constexpr std::uint64_t magic_bits = 0x4338000000000000ull;  // bits of 1.5 * 2^52
    const double v = x * scale;
    fast = std::abs(v) < 0x1p51;
    const double t = (fast ? v : 0.0) + magic;
    std::uint64_t bits;
    std::memcpy(&bits, &t, sizeof bits);
    return static_cast<std::int64_t>(bits - magic_bits);
  }
  /// Adds a total of fast_units() (values whose other contributions were add()ed
  /// separately): the same integer total as add() of each value, so the same bits.
  void add_units(std::int64_t units) { acc_ += units; }
  /// add(x) `n` times: the same integer total (n times x's rounded value), one update.
  void add_repeated(double x, std::uint64_t n) {
    const double v = x * scale;
    if (std::abs(v) < 0x1p51 && n < (std::uint64_t{1} << 60)) {
      const double rounded = (v + 0x1.8p52) - 0x1.8p52;
      acc_ += static_cast<detail::int128>(static_cast<std::int64_t>(rounded)) *
              static_cast<detail::int128>(n);
      return;
    }
    for (std::uint64_t i = 0; i < n; ++i) add(x);
  }
  FixedPointSum& operator+=(const FixedPointSum& o);
  FixedPointSum() = default;
  FixedPointSum(const FixedPointSum& o) : acc_(o.acc_), saturated_(o.saturated_) {
    if (o.big_) big_ = new std::vector<std::int64_t>(*o.big_);
  }
  FixedPointSum(FixedPointSum&& o) noexcept
      : acc_(o.acc_), saturated_(o.saturated_), big_(std::exchange(o.big_, nullptr)) {}
  FixedPointSum& operator=(FixedPointSum o) noexcept {
    acc_ = o.acc_;
    saturated_ = o.saturated_;
    std::swap(big_, o.big_);
    return *this;
  }
  ~FixedPointSum() { delete big_; }

  /// The total, correctly rounded; NaN when an infinite value was added.
  double value() const {
    if (saturated_) return std::numeric_limits<double>::quiet_NaN();
    if (!big_) return static_cast<double>(acc_) / scale;
    return big_value();
  }
  void add_slow(double x);
  /// Infinite values added (they make value() NaN).
  std::uint64_t saturated() const { return saturated_; }
  /// True when some value or square went to the exact multi-word part.
  bool has_big() const { return big_ != nullptr; }
  /// The exact total as a two's-complement multi-word integer in units of 2^-64: 32-bit
  /// limbs (least significant first) in int64 words, the last one signed.
  std::vector<std::int64_t> exact() const;
  void write(detail::ByteWriter& w) const;
  /// Reads a sum of at most `terms` values; throws std::invalid_argument on bytes no such
  /// sum can have.
  void read(detail::ByteReader& r, std::uint64_t terms);
  friend bool operator==(const FixedPointSum& a, const FixedPointSum& b);

 private:
  void add_exact_square(double x);
  void add_big(std::uint64_t mantissa, int exponent, bool negative, bool square);
  double big_value() const;

  detail::int128 acc_ = 0;
  std::uint64_t saturated_ = 0;
  // Multi-word part in units of 2^-64 (see exact()), normalised after every addition;
  // null until a value at or above big_threshold arrives.
  std::vector<std::int64_t>* big_ = nullptr;
};

/// Relative-error quantile sketch with exact (integer) merge.
///
/// A value x with |x| >= zero_threshold goes to the bucket named by the top 7 mantissa bits
/// and the exponent of |x| (128 buckets per octave), kept apart by sign; smaller values go
/// to a zero bucket. A bucket [lo, hi) has hi/lo <= 1 + 2^-7 and is represented by its
/// midpoint, so any order statistic is returned with
///     |estimate - x| <= 2^-8 |x| + zero_threshold      (relative accuracy 0.39%).
/// Quantiles interpolate linearly between order statistics (type 7, NumPy's default), so
/// a quantile's error is bounded by the same expression on the larger of the two order
/// statistics it interpolates. Memory is one 8-byte count per bucket between the
/// smallest and largest occupied bucket of each sign.
class QuantileSketch {
 public:
  static constexpr double zero_threshold = 1e-3;
  static constexpr double relative_accuracy = 0x1p-8;

  void add(double x) {
    ++count_;
    const double a = std::abs(x);
    if (a < zero_threshold) {
      ++zero_;
      return;
    }
    const std::int64_t key = bucket_key(a);
    if (x > 0)
      bump(pos_, pos_lo_, key, 1);
    else
      bump(neg_, neg_lo_, key, 1);
  }

  /// add() for n values at once, with the same resulting counts: bucket keys for a run
  /// of values first (branch-free), then one range check per sign, then the increments.
  void add_many(const double* x, std::size_t n) {
    constexpr std::size_t chunk = 256;
    std::int64_t keys[chunk];
    std::uint8_t kind[chunk];  // 0 zero bucket, 1 positive, 2 negative
    for (std::size_t b = 0; b < n; b += chunk) {
      const std::size_t m = std::min(chunk, n - b);
      std::int64_t pmin = std::numeric_limits<std::int64_t>::max(), pmax = -1;
      std::int64_t nmin = pmin, nmax = -1;
      std::uint64_t zeros = 0;
      for (std::size_t p = 0; p < m; ++p) {
        const double v = x[b + p];
        const double a = std::abs(v);
        const std::int64_t key = bucket_key(a);
        const bool zero = a < zero_threshold, pos = !zero && v > 0, neg = !zero && !pos;
        kind[p] = zero ? 0 : (pos ? 1 : 2);
        keys[p] = key;
        zeros += zero;
        pmin = pos && key < pmin ? key : pmin;
        pmax = pos && key > pmax ? key : pmax;
        nmin = neg && key < nmin ? key : nmin;
        nmax = neg && key > nmax ? key : nmax;
      }
      if (pmax >= 0) {
        bump(pos_, pos_lo_, pmin, 0);
        bump(pos_, pos_lo_, pmax, 0);
      }
      if (nmax >= 0) {
        bump(neg_, neg_lo_, nmin, 0);
        bump(neg_, neg_lo_, nmax, 0);
      }
      std::uint64_t* const pv = pos_.data();
      std::uint64_t* const nv = neg_.data();
      for (std::size_t p = 0; p < m; ++p) {
        if (kind[p] == 1)
          ++pv[keys[p] - pos_lo_];
        else if (kind[p] == 2)
          ++nv[keys[p] - neg_lo_];
      }
      zero_ += zeros;
      count_ += m;
    }
  }

  /// The bucket code of a value, as add() files it: 0 for the zero bucket, the bucket key
  /// for a positive value, and the key + neg_code for a negative one (and for NaN, which
  /// add() files there too). Keys of values at or above zero_threshold are never 0 and
  /// are below 2^18. Branch-free, so a loop over lanes vectorises (the band sink).
  static constexpr std::uint32_t neg_code = 1u << 19;
  __attribute__((always_inline)) static std::uint32_t code(double x) {
    const double a = std::abs(x);
    const auto key = static_cast<std::uint32_t>(bucket_key(a));
    return a < zero_threshold ? 0u : (x > 0 ? key : key | neg_code);
  }
  /// add() for n values given by their code(): the same counts. One pass finds each
  /// sign's key range (one range check each), one pass adds the counts.
  void add_codes(const std::uint32_t* codes, std::size_t n);

  /// add(x) `n` times: the same counts, one bucket update.
  void add_repeated(double x, std::uint64_t n) {
    if (n == 0) return;
    count_ += n;
    const double a = std::abs(x);
    if (a < zero_threshold) {
      zero_ += n;
      return;
    }
    const std::int64_t key = bucket_key(a);
    if (x > 0)
      bump(pos_, pos_lo_, key, n);
    else
      bump(neg_, neg_lo_, key, n);
  }

  void merge(const QuantileSketch& o);
  QuantileSketch& operator+=(const QuantileSketch& o) {
    merge(o);
    return *this;
  }

  std::uint64_t count() const { return count_; }
  /// Estimate of the k-th smallest value (0-based), k < count().
  double order_statistic(std::uint64_t k) const;
  /// Type-7 quantile: interpolates order statistics floor(q(n-1)) and the next one.
  double quantile(double q) const;
  /// Mean of the estimates of all values with rank >= k (0-based).
  double tail_mean_from(std::uint64_t k) const;

  friend bool operator==(const QuantileSketch& a, const QuantileSketch& b);
  void write(detail::ByteWriter& w) const;
  void read(detail::ByteReader& r);

 private:
  static std::int64_t bucket_key(double a) {
    std::uint64_t bits;
    std::memcpy(&bits, &a, sizeof bits);
    return static_cast<std::int64_t>(bits >> 45);  // sign is 0; exponent + top 7 mantissa bits
  }
  static double bucket_mid(std::int64_t key) {
    const std::uint64_t lo_bits = static_cast<std::uint64_t>(key) << 45;
    const std::uint64_t hi_bits = static_cast<std::uint64_t>(key + 1) << 45;
    double lo, hi;
    std::memcpy(&lo, &lo_bits, sizeof lo);
    std::memcpy(&hi, &hi_bits, sizeof hi);
    return 0.5 * (lo + hi);
  }
  static void bump(std::vector<std::uint64_t>& v, std::int64_t& lo, std::int64_t key,
                   std::uint64_t by) {
    if (v.empty()) {
      lo = key;
      v.assign(1, 0);
    } else if (key < lo) {
      // Slack of half the range (at least 32 keys), so a range that keeps widening is
      // reallocated a logarithmic number of times. Slack holds zero counts: it changes no
      // count, no comparison and no written byte (write() keeps the occupied range).
      const std::int64_t grow = std::max<std::int64_t>(
          lo - key, std::max<std::int64_t>(32, static_cast<std::int64_t>(v.size() / 2)));
      v.insert(v.begin(), static_cast<std::size_t>(grow), 0);
      lo -= grow;
    } else if (key >= lo + static_cast<std::int64_t>(v.size())) {
      const std::int64_t need = key - lo + 1;
      const auto slack =
          static_cast<std::int64_t>(v.size() + std::max<std::size_t>(32, v.size() / 2));
      v.resize(static_cast<std::size_t>(std::max<std::int64_t>(need, slack)), 0);
    }
    v[static_cast<std::size_t>(key - lo)] += by;
  }
  template <class F>
  void for_each_ascending(F&& f) const;

  std::vector<std::uint64_t> pos_, neg_;
  std::int64_t pos_lo_ = 0, neg_lo_ = 0;
  std::uint64_t zero_ = 0, count_ = 0;
};

/// Quantile levels reported for every scalar output (docs/model.md §6).
inline constexpr std::array<double, 9> summary_levels{0.01, 0.05, 0.10, 0.25, 0.50,
                                                      0.75, 0.90, 0.95, 0.99};
/// Quantile levels of the per-time bands.
inline constexpr std::array<double, 5> band_levels{0.05, 0.25, 0.50, 0.75, 0.95};

/// Column name of a quantile level: 0.05 -> "p5", 0.5 -> "p50".
inline std::string level_name(double level) {
  return "p" + std::to_string(static_cast<int>(std::lround(level * 100)));
}

/// Statistics of one scalar output (docs/model.md §6). Moments and quantiles are over the
/// non-NaN values; prob_positive and nan_share are over all paths.
///   mean   = S1 / m,  sd = sqrt((S2 - S1^2/m) / (m - 1)),  stderr = sd / sqrt(m)
///   cvar95 = mean of the values at or above the 95th percentile
struct Summary {
  std::uint64_t paths = 0;  // all paths
  std::uint64_t count = 0;  // non-NaN values, m
  double mean = 0, sd = 0, std_error = 0;
  std::array<double, summary_levels.size()> quantiles{};
  double prob_positive = 0, cvar95 = 0, nan_share = 0;
  bool exact_quantiles = false;  // from stored per-path values rather than the sketch

  // 95% confidence half-widths: the Monte Carlo error of each statistic (see
  // add_intervals and docs/statistics.md); NaN where undefined.
  double mean_ci95 = std::numeric_limits<double>::quiet_NaN();
  std::array<double, summary_levels.size()> quantiles_ci95{};
  double prob_positive_ci95 = std::numeric_limits<double>::quiet_NaN();
  double nan_share_ci95 = std::numeric_limits<double>::quiet_NaN();
  double cvar95_ci95 = std::numeric_limits<double>::quiet_NaN();
  /// Mean of the values at or below the 5th percentile (the adverse tail of cash and
  /// ARR), and its half-width.
  double cvar05 = std::numeric_limits<double>::quiet_NaN();
  double cvar05_ci95 = std::numeric_limits<double>::quiet_NaN();

  double quantile(double level) const;  // one of summary_levels
  double quantile_ci95(double level) const;
};

/// The 95% normal quantile, 1.959963984540054.
inline constexpr double z95 = 1.959963984540054;

/// 95% half-width of a proportion of `hits` out of `n`: z95 sqrt(p~(1 - p~)/(n + 4)) with
/// p~ = (hits + 2)/(n + 4) (Agresti-Coull), which is the binomial standard error for
/// proportions away from 0 and 1 and never 0 (a share of 0 out of n is not known to be
/// exactly 0). NaN when n = 0.
double proportion_ci95(std::uint64_t hits, std::uint64_t n);

/// The 0-based ranks (lo, hi) of the order statistics bounding a 95% confidence interval
/// of the q-quantile of m values (binomial: rank ~ Bin(m, q), normal approximation with
/// continuity, clamped to [0, m-1]).
std::pair<std::uint64_t, std::uint64_t> quantile_ci_ranks(std::uint64_t m, double q);

/// Fill in the 95% half-widths and cvar05 of `s` (whose moments, quantiles and
/// probabilities are already set) from every path's value (NaN = no event): exact
/// order-statistic intervals.
void add_intervals(Summary& s, std::span<const double> values);
/// The same from a stream: quantile intervals from the sketch's order statistics widened
/// by the sketch's error bound, cvar05 from its buckets; the CVaR half-widths need the
/// values and stay NaN.
void add_intervals(Summary& s, const QuantileSketch& sketch);

/// P(x > threshold) over all paths (a NaN does not exceed) and its 95% half-width.
struct Exceedance {
  double threshold = 0;
  double prob = 0;
  double ci95 = 0;
};
Exceedance exceedance(std::span<const double> values, double threshold);
/// From a stream: the count above the threshold from the sketch (exact except for values
/// within the sketch's 0.39% bucket of the threshold).
Exceedance exceedance(const QuantileSketch& sketch, std::uint64_t paths, double threshold);

/// Streaming accumulator for one scalar output.
class ScalarAccumulator {
 public:
  void add(double x) {
    ++paths_;
    if (std::isnan(x)) {
      ++nan_;
      return;
    }
    if (x > 0) ++positive_;
    min_ = std::min(min_, x);
    max_ = std::max(max_, x);
    sum_.add(x);
    sum_sq_.add_square(x);
    sketch_.add(x);
  }
  ScalarAccumulator& operator+=(const ScalarAccumulator& o);

  /// Summary from the stream alone (quantiles and cvar95 from the sketch).
  Summary summary() const;
  /// Summary with exact quantiles and cvar95 from the stored values of every path.
  Summary summary(std::span<const double> values) const;

  std::uint64_t paths() const { return paths_; }
  const QuantileSketch& sketch() const { return sketch_; }
  void write(detail::ByteWriter& w) const;
  void read(detail::ByteReader& r);
  friend bool operator==(const ScalarAccumulator&, const ScalarAccumulator&) = default;

 private:
  Summary moments() const;
  Summary exact_moments(Summary s) const;
  std::uint64_t paths_ = 0, nan_ = 0, positive_ = 0;
  // Smallest and largest non-NaN value: exact in any merge order; equal for a constant
  // output, whose sd is then exactly 0 (the sums' 2^-32 rounding would leave ~1e-4).
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
  FixedPointSum sum_, sum_sq_;
  QuantileSketch sketch_;
};

/// Exact type-7 quantile of sorted, NaN-free values.
double sorted_quantile(std::span<const double> sorted, double q);

}  // namespace capexsim
