#include "capexsim/detail/select.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>

#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_invoke.h>
#include <tbb/parallel_reduce.h>
#include <tbb/parallel_sort.h>

// ThreadSanitizer builds: Debian's oneTBB is not instrumented, and TSan reports races
// inside its scheduler; there the selection runs serially (the same bits), as run() uses
// plain threads (src/engine.cpp).
#if defined(__SANITIZE_THREAD__) || defined(CAPEXSIM_THREAD_SANITIZER)
#define CAPEXSIM_SERIAL_SELECT 1
#else
#define CAPEXSIM_SERIAL_SELECT 0
#endif

namespace capexsim::detail {

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

/// Where a type-7 quantile of m sorted values lies: order statistic `lo`, and `frac` of
/// the way to the next one when `next` (exactly as sorted_quantile() computes it).
struct Position {
  std::uint64_t lo;
  double frac;
  bool next;
};

Position position(double q, std::uint64_t m) {
  const double h = q * static_cast<double>(m - 1);
  const auto lo = static_cast<std::uint64_t>(std::floor(h));
  const double frac = h - static_cast<double>(lo);
  return {lo, frac, frac != 0 && lo + 1 < m};
}

/// The order statistics (0-based ranks) the levels and the tail level need, ascending.
std::vector<std::uint64_t> needed_ranks(std::span<const double> levels, double tail_level,
                                        std::uint64_t m) {
  std::vector<std::uint64_t> ranks;
  auto need = [&](double q) {
    const Position p = position(q, m);
    ranks.push_back(p.lo);
    if (p.next) ranks.push_back(p.lo + 1);
  };
  for (double q : levels) need(q);
  need(tail_level);
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  return ranks;
}

/// The order of the selection: `<`, and -0 before +0, so that the value at a rank, sign
/// of zero included, does not depend on the order of the input (or the thread count).
bool total_less(double a, double b) {
  return a < b || (a == b && std::signbit(a) && !std::signbit(b));
}

/// Reorders [first, last), whose smallest element has rank `base`, so that the elements
/// of ranks [r0, r1) sit at their sorted positions. The two sides of each selected
/// element are independent: large ones run in parallel.
void multi_select(double* first, double* last, const std::uint64_t* r0, const std::uint64_t* r1,
                  std::uint64_t base) {
  if (r0 == r1) return;
  const std::uint64_t* mid = r0 + (r1 - r0) / 2;
  double* nth = first + (*mid - base);
  std::nth_element(first, nth, last, total_less);
  auto left = [&] { multi_select(first, nth, r0, mid, base); };
  auto right = [&] { multi_select(nth + 1, last, mid + 1, r1, *mid + 1); };
  if (!CAPEXSIM_SERIAL_SELECT && last - first > 65536 && mid != r0 && mid + 1 != r1) {
    tbb::parallel_invoke(left, right);
  } else {
    left();
    right();
  }
}

/// The result from the values at the needed ranks (`at(rank)`) and the tail's values
/// (a superset of those >= the tail quantile, in any order; reordered here).
template <class At>
ExactQuantiles finish(std::span<const double> levels, double tail_level, std::uint64_t m, At at,
                      std::vector<double>& tail_candidates) {
  ExactQuantiles out;
  out.count = m;
  auto quantile = [&](double q) {
    const Position p = position(q, m);
    const double a = at(p.lo);
    if (!p.next) return a;
    return a + p.frac * (at(p.lo + 1) - a);  // as sorted_quantile()
  };
  for (double q : levels) out.quantiles.push_back(quantile(q));
  const double threshold = quantile(tail_level);
  // Summed in ascending order, as a sorted array would be: first the values equal to
  // the threshold (often many, for outputs with ties), then those above it, sorted.
  const auto above = std::partition(tail_candidates.begin(), tail_candidates.end(),
                                    [&](double x) { return x > threshold; });
  const auto end =
      std::partition(above, tail_candidates.end(), [&](double x) { return x == threshold; });
  if (CAPEXSIM_SERIAL_SELECT)
    std::sort(tail_candidates.begin(), above);
  else
    tbb::parallel_sort(tail_candidates.begin(), above);
  double sum = 0;
  for (auto it = above; it != end; ++it) sum += *it;
  for (auto it = tail_candidates.begin(); it != above; ++it) sum += *it;
  out.tail_mean = sum / static_cast<double>(end - tail_candidates.begin());
  return out;
}

ExactQuantiles empty_result(std::span<const double> levels) {
  ExactQuantiles out;
  out.quantiles.assign(levels.size(), nan);
  out.tail_mean = nan;
  return out;
}

/// Selection on a full copy: the small-input path and the fallback.
ExactQuantiles on_copy(std::span<const double> values, std::span<const double> levels,
                       double tail_level) {
  std::vector<double> v;
  v.reserve(values.size());
  for (double x : values)
    if (!std::isnan(x)) v.push_back(x);
  const std::uint64_t m = v.size();
  if (m == 0) return empty_result(levels);
  const std::vector<std::uint64_t> ranks = needed_ranks(levels, tail_level, m);
  multi_select(v.data(), v.data() + v.size(), ranks.data(), ranks.data() + ranks.size(), 0);
  std::vector<double> at(ranks.size());
  for (std::size_t i = 0; i < ranks.size(); ++i) at[i] = v[ranks[i]];
  auto value_at = [&](std::uint64_t r) {
    return at[static_cast<std::size_t>(std::lower_bound(ranks.begin(), ranks.end(), r) -
                                       ranks.begin())];
  };
  // Values >= the tail quantile all sit at or after its first order statistic.
  const std::uint64_t from = position(tail_level, m).lo;
  std::vector<double> tail(v.begin() + static_cast<std::ptrdiff_t>(from), v.end());
  // ... and so may equal values before it; they belong to the tail too.
  const double first = v[from];
  for (std::uint64_t i = 0; i < from; ++i)
    if (v[i] == first) tail.push_back(v[i]);
  return finish(levels, tail_level, m, value_at, tail);
}

struct Interval {
  double lo, hi;  // closed
};

/// What one thread gathers in the pass: the values inside any interval, and how many
/// values fell in each slot (gap or interval).
struct Gathered {
  std::vector<std::uint64_t> count;
  std::unique_ptr<double[]> data;         // not zeroed: written before it is read
  std::unique_ptr<std::uint8_t[]> where;  // each value's interval
  std::size_t size = 0, capacity = 0;
  explicit Gathered(std::size_t intervals) : count(2 * intervals, 0) {}
  /// Room for `more` values after the first `size`.
  void reserve(std::size_t more) {
    if (size + more <= capacity) return;
    const std::size_t cap = std::max(2 * capacity, size + more);
    std::unique_ptr<double[]> grown(new double[cap]);
    std::unique_ptr<std::uint8_t[]> grown_where(new std::uint8_t[cap]);
    std::copy(data.get(), data.get() + size, grown.get());
    std::copy(where.get(), where.get() + size, grown_where.get());
    data = std::move(grown);
    where = std::move(grown_where);
    capacity = cap;
  }
};

}  // namespace

ExactQuantiles exact_quantiles(std::span<const double> values, std::span<const double> levels,
                               double tail_level, const SelectOptions& options) {
#if CAPEXSIM_SERIAL_SELECT
  (void)options;
  return on_copy(values, levels, tail_level);
#else
  const std::size_t n = values.size();
  if (n < options.parallel_from || options.sample < 2) return on_copy(values, levels, tail_level);

  constexpr std::size_t grain = 16384;
  const std::uint64_t m = tbb::parallel_reduce(
      tbb::blocked_range<std::size_t>(0, n, grain), std::uint64_t{0},
      [&](const tbb::blocked_range<std::size_t>& r, std::uint64_t c) {
        for (std::size_t i = r.begin(); i != r.end(); ++i) c += !std::isnan(values[i]);
        return c;
      },
      [](std::uint64_t a, std::uint64_t b) { return a + b; });
  if (m == 0) return empty_result(levels);

  // A sorted strided sample; an order statistic of rank r lies near sample index
  // e = r / (m - 1) * (S - 1), give or take sqrt(S q (1 - q)).
  std::vector<double> sample;
  const std::size_t stride = std::max<std::size_t>(1, n / options.sample);
  for (std::size_t i = 0; i < n; i += stride)
    if (!std::isnan(values[i])) sample.push_back(values[i]);
  if (sample.size() < 2) return on_copy(values, levels, tail_level);
  tbb::parallel_sort(sample.begin(), sample.end());
  const double s_last = static_cast<double>(sample.size() - 1);

  const std::vector<std::uint64_t> ranks = needed_ranks(levels, tail_level, m);
  const std::uint64_t tail_rank = position(tail_level, m).lo;
  std::vector<Interval> wanted;
  for (std::uint64_t r : ranks) {
    const double q = m > 1 ? static_cast<double>(r) / static_cast<double>(m - 1) : 0.5;
    const double e = q * s_last;
    const double d = options.sigmas * (std::sqrt(s_last * q * (1 - q)) + 1) + 1;
    const double i0 = std::floor(e - d), i1 = std::ceil(e + d);
    Interval iv{i0 < 0 ? -inf : sample[static_cast<std::size_t>(i0)],
                i1 > s_last ? inf : sample[static_cast<std::size_t>(i1)]};
    // The tail: every value from its first order statistic upwards.
    if (r >= tail_rank) iv.hi = inf;
    wanted.push_back(iv);
  }
  std::sort(wanted.begin(), wanted.end(),
            [](const Interval& a, const Interval& b) { return a.lo < b.lo; });
  std::vector<Interval> iv;  // disjoint, ascending
  for (const Interval& w : wanted) {
    if (!iv.empty() && w.lo <= iv.back().hi)
      iv.back().hi = std::max(iv.back().hi, w.hi);
    else
      iv.push_back(w);
  }
  const std::size_t k = iv.size();
  constexpr std::size_t max_bounds = 64;  // a power of two
  if (2 * k > max_bounds) return on_copy(values, levels, tail_level);
  const std::size_t top = 2 * k - 1;  // slot of the top interval
  constexpr std::uint8_t nan_slot = 254;
  // slot(x) = number of bounds <= x, bounds = lo_0, next(hi_0), lo_1, next(hi_1), ...
  // (next(h) = the double after h, so next(h) <= x iff h < x; the top interval is open,
  // so its upper bound is left out): odd -> inside interval slot / 2, even -> in the gap
  // before interval slot / 2. Padded with +infinity to a power of two.
  std::array<double, max_bounds> bounds;
  bounds.fill(inf);
  for (std::size_t j = 0; j < k; ++j) {
    bounds[2 * j] = iv[j].lo;
    if (j + 1 < k) bounds[2 * j + 1] = std::nextafter(iv[j].hi, inf);
  }

  // One pass, in parallel: per chunk, the slots, then the values inside an interval
  // copied (without branches) to the thread's buffer, then the count of each slot.
  // An interval [a, a] (a tie in the sample, common for outputs with few distinct
  // values) holds only copies of a: counted, not gathered. Not for a = 0 (-0 and +0
  // are told apart), nor the top interval (the tail's values are summed).
  std::vector<bool> constant(k);
  std::array<std::uint8_t, 256> keep{};  // per slot: gather its values
  for (std::size_t j = 0; j < k; ++j) {
    constant[j] = j + 1 < k && iv[j].lo == iv[j].hi && iv[j].lo != 0;
    keep[2 * j + 1] = constant[j] ? 0 : 1;
  }

  tbb::enumerable_thread_specific<Gathered> locals([&] { return Gathered(k); });
  tbb::parallel_for(
      tbb::blocked_range<std::size_t>(0, n, grain), [&](const tbb::blocked_range<std::size_t>& r) {
        Gathered& g = locals.local();
        std::uint8_t slots[grain];
        for (std::size_t c0 = r.begin(); c0 < r.end(); c0 += grain) {
          const double* x = values.data() + c0;
          const std::size_t len = std::min(grain, r.end() - c0);
          for (std::size_t i = 0; i < len; ++i) {
            // Branch-free binary search: the number of bounds <= x.
            const double v = x[i];
            std::size_t at = 0;
            for (std::size_t half = max_bounds / 2; half > 0; half /= 2)
              at += half & (0 - static_cast<std::size_t>(bounds[at + half] <= v));
            const std::size_t slot = at + (bounds[at] <= v);
            // +infinity also counts the padding: it belongs to the top interval. NaN
            // gets an even slot no value has.
            slots[i] = std::isnan(v) ? nan_slot : static_cast<std::uint8_t>(std::min(slot, top));
          }
          g.reserve(len);
          double* out = g.data.get() + g.size;
          std::uint8_t* where = g.where.get() + g.size;
          std::size_t kept = 0;
          for (std::size_t i = 0; i < len; ++i) {
            out[kept] = x[i];
            where[kept] = static_cast<std::uint8_t>(slots[i] / 2);
            kept += keep[slots[i]];
          }
          g.size += kept;
          // Four interleaved histograms, so that runs of one slot do not wait on
          // each other's increments.
          std::uint32_t hist[4][256] = {};
          for (std::size_t i = 0; i < len; ++i) ++hist[i & 3][slots[i]];
          for (std::size_t slot = 0; slot <= top; ++slot)
            g.count[slot] += hist[0][slot] + hist[1][slot] + hist[2][slot] + hist[3][slot];
        }
      });

  // Interval j holds ranks [base[j], base[j] + count[2j + 1]).
  std::vector<std::uint64_t> count(top + 1, 0);
  for (const Gathered& g : locals)
    for (std::size_t slot = 0; slot <= top; ++slot) count[slot] += g.count[slot];
  std::vector<std::uint64_t> base(k);
  std::vector<std::size_t> start(k + 1, 0);  // of each interval's values in `grouped`
  std::uint64_t seen = 0;
  for (std::size_t j = 0; j < k; ++j) {
    seen += count[2 * j];
    base[j] = seen;
    seen += count[2 * j + 1];
    start[j + 1] = start[j] + (constant[j] ? 0 : count[2 * j + 1]);
  }
  bool missed = seen != m || iv[k - 1].hi != inf;
  std::vector<std::size_t> owner(ranks.size());
  for (std::size_t i = 0; i < ranks.size() && !missed; ++i) {
    const std::uint64_t r = ranks[i];
    std::size_t j = 0;
    while (j < k && !(base[j] <= r && r < base[j] + count[2 * j + 1])) ++j;
    // The tail's first order statistic must lie in the top interval, which then holds
    // every value at or above the tail quantile.
    if (j == k || (r == tail_rank && j != k - 1)) missed = true;
    owner[i] = j;
  }
  if (missed) {
    ExactQuantiles out = on_copy(values, levels, tail_level);
    out.fell_back = true;
    return out;
  }

  // The gathered values grouped by interval (a counting sort), then each wanted order
  // statistic selected within its interval, the intervals in parallel.
  std::vector<double> grouped(start[k]);
  {
    // Each thread's values go to their own stretch of each interval: in parallel.
    std::vector<Gathered*> parts;
    for (Gathered& g : locals) parts.push_back(&g);
    std::vector<std::vector<std::size_t> > at(parts.size());
    std::vector<std::size_t> next(start.begin(), start.end() - 1);
    for (std::size_t t = 0; t < parts.size(); ++t) {
      at[t] = next;
      for (std::size_t j = 0; j < k; ++j)
        if (!constant[j]) next[j] += parts[t]->count[2 * j + 1];
    }
    tbb::parallel_for(std::size_t{0}, parts.size(), [&](std::size_t t) {
      Gathered& g = *parts[t];
      std::vector<std::size_t>& to = at[t];
      for (std::size_t i = 0; i < g.size; ++i) grouped[to[g.where[i]]++] = g.data[i];
      g.data.reset();
      g.where.reset();
    });
  }
  tbb::parallel_for(std::size_t{0}, k, [&](std::size_t j) {
    const auto first = std::find(owner.begin(), owner.end(), j) - owner.begin();
    const auto last = owner.rend() - std::find(owner.rbegin(), owner.rend(), j);
    if (first >= last || constant[j]) return;
    multi_select(grouped.data() + start[j], grouped.data() + start[j + 1], ranks.data() + first,
                 ranks.data() + last, base[j]);
  });
  auto value_at = [&](std::uint64_t r) {
    const auto i = std::lower_bound(ranks.begin(), ranks.end(), r) - ranks.begin();
    const std::size_t j = owner[static_cast<std::size_t>(i)];
    return constant[j] ? iv[j].lo : grouped[start[j] + (r - base[j])];
  };
  std::vector<double> tail(grouped.begin() + static_cast<std::ptrdiff_t>(start[k - 1]),
                           grouped.end());
  return finish(levels, tail_level, m, value_at, tail);
#endif
}

}  // namespace capexsim::detail
