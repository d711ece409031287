#include "capexsim/sobol.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <thread>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "capexsim/random.hpp"

namespace capexsim {

namespace {

/// f(begin, end) over sub-ranges of [0, n) in parallel; each index is handled once and
/// results are stored by index, so the split never changes them. ThreadSanitizer builds
/// use plain threads: Debian's oneTBB is not instrumented and TSan reports its task
/// hand-offs as races (the same choice as engine.cpp's run()).
template <class F>
void parallel_ranges(std::size_t n, F&& f) {
#if defined(__SANITIZE_THREAD__) || defined(CAPEXSIM_THREAD_SANITIZER)
  const std::size_t w = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < w; ++t)
    pool.emplace_back([&, t] {
      const std::size_t b = n * t / w, e = n * (t + 1) / w;
      if (b < e) f(b, e);
    });
  for (auto& th : pool) th.join();
#else
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n),
                    [&](const tbb::blocked_range<std::size_t>& r) { f(r.begin(), r.end()); });
#endif
}

// Counter tags (word 3) of the two Philox streams here, from random.hpp's layout. They
// only need to differ from each other: the design and the bootstrap share options.seed.
constexpr std::uint32_t design_tag = rng::stream_word(rng::Stream::sensitivity_design);
constexpr std::uint32_t bootstrap_tag = rng::stream_word(rng::Stream::sensitivity_bootstrap);

/// The pick-freeze evaluations laid out for the estimator's gathers: row j holds
/// (yA, yB, yAB^(0) - yA, ..., yAB^(k-1) - yA) contiguously, and `ab` repeats (yA, yB) in a
/// compact table for the first pass. A bootstrap resample reads rows at random: one or two
/// cache lines per row instead of one per factor from k + 2 separate arrays (6.8 MB at the
/// default N, well beyond L2), which is most of the bootstrap's time. The differences are
/// the values the estimator formed before, so the results keep their bits.
struct Samples {
  std::vector<double> rows, ab;
  std::size_t n = 0, k = 0, stride = 0;
};

/// V, S_i and ST_i of a resample given as distinct rows `rows[0..m)` in ascending order,
/// row rows[t] taken `weight[t]` times (all rows once for the point estimate), into S[i]
/// and ST[i]. `acc` is scratch. Reading the rows in ascending order streams the table
/// (a bootstrap resample of N rows holds about 63% of them), where visiting them in draw
/// order was a random gather per draw. With every weight 1 the sums are those of the plain
/// estimator term for term (x * 1.0 is exact), so the point estimates keep their bits; a
/// resample's sums add each row's weighted term once instead of its copies one by one,
/// which moves a bootstrap bound by rounding only.
void estimate(const Samples& d, const std::uint32_t* rows, const double* weight, std::size_t m,
              double* S, double* ST, std::vector<double>& acc) {
  const std::size_t n = d.n, k = d.k, stride = d.stride;
  const double* ab = d.ab.data();
  // Pass 1: the shift m (mean of yA u yB), and whether the output is constant. The test is
  // min == max rather than V == 0, because the rounded mean of equal values need not equal
  // them, which would leave V a rounding residue instead of 0.
  double sum = 0, lo = ab[2 * rows[0]], hi = lo;
  for (std::size_t t = 0; t < m; ++t) {
    const std::size_t r = rows[t];
    const double ya = ab[2 * r], yb = ab[2 * r + 1];
    sum += weight[t] * (ya + yb);
    lo = std::min({lo, ya, yb});
    hi = std::max({hi, ya, yb});
  }
  if (lo == hi) {
    std::fill(S, S + k, 0.0);
    std::fill(ST, ST + k, 0.0);
    return;
  }
  const double two_n = 2.0 * static_cast<double>(n), mean = sum / two_n;
  // Pass 2 on centred values. The differences f(A_B^(i)) - f(A) are taken uncentred: they are
  // shift-free already, and the direct difference is the more accurate one.
  acc.assign(2 * k, 0.0);
  double* sS = acc.data();
  double* sT = acc.data() + k;
  double ss = 0, s = 0;
  for (std::size_t t = 0; t < m; ++t) {
    const double* x = d.rows.data() + std::size_t{rows[t]} * stride;
    const double w = weight[t];
    const double a = x[0] - mean, b = x[1] - mean, wb = w * b;
    ss += w * (a * a + b * b);
    s += w * (a + b);
    for (std::size_t i = 0; i < k; ++i) {
      const double diff = x[2 + i];
      sS[i] += wb * diff;
      sT[i] += w * (diff * diff);
    }
  }
  // Corrected two-pass variance (Chan, Golub and LeVeque 1983): s is the rounding residue of
  // the centring, zero in exact arithmetic.
  const double V = (ss - s * s / two_n) / two_n;
  if (!(V > 0)) {  // only by rounding of nearly constant data
    std::fill(S, S + k, 0.0);
    std::fill(ST, ST + k, 0.0);
    return;
  }
  for (std::size_t i = 0; i < k; ++i) {
    S[i] = sS[i] / static_cast<double>(n) / V;
    ST[i] = sT[i] / two_n / V;
  }
}

/// Percentile p of sorted values, linear between order statistics (Hyndman-Fan type 7).
double percentile(const double* sorted, std::size_t count, double p) {
  const double h = static_cast<double>(count - 1) * p;
  const std::size_t lo = std::min(static_cast<std::size_t>(h), count - 1);
  const std::size_t hi = std::min(lo + 1, count - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

/// Uniform index in [0, n) from 64 random bits: the high word of bits * n (Lemire's
/// multiply-shift without the rejection step; its bias is below n / 2^64).
std::size_t index_below(std::uint32_t w0, std::uint32_t w1, std::size_t n) {
  __extension__ using u128 = unsigned __int128;
  const std::uint64_t bits = (static_cast<std::uint64_t>(w0) << 32) | w1;
  return static_cast<std::size_t>((static_cast<u128>(bits) * n) >> 64);
}

void check_finite(std::span<const double> y, const std::string& what) {
  for (std::size_t j = 0; j < y.size(); ++j)
    if (!std::isfinite(y[j]))
      throw std::invalid_argument("sobol: non-finite value " + std::to_string(y[j]) + " in " +
                                  what + ", row " + std::to_string(j));
}

}  // namespace

std::vector<SobolIndex> sobol_from_samples(std::span<const double> yA, std::span<const double> yB,
                                           const std::vector<std::span<const double>>& yAB,
                                           const std::vector<std::string>& names,
                                           const SobolOptions& options) {
  const std::size_t n = yA.size(), k = yAB.size();
  if (names.size() != k)
    throw std::invalid_argument("sobol: " + std::to_string(names.size()) + " names for " +
                                std::to_string(k) + " factors");
  if (yB.size() != n)
    throw std::invalid_argument("sobol: yB has " + std::to_string(yB.size()) + " values, yA has " +
                                std::to_string(n));
  for (std::size_t i = 0; i < k; ++i)
    if (yAB[i].size() != n)
      throw std::invalid_argument("sobol: yAB of factor '" + names[i] + "' has " +
                                  std::to_string(yAB[i].size()) + " values, yA has " +
                                  std::to_string(n));
  if (n < 2) throw std::invalid_argument("sobol: needs N >= 2 rows, got " + std::to_string(n));
  if (n > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("sobol: at most 2^32 - 1 rows, got " + std::to_string(n));
  if (options.bootstrap < 0)
    throw std::invalid_argument("sobol: bootstrap must be >= 0, got " +
                                std::to_string(options.bootstrap));
  if (!(options.level > 0 && options.level < 1))
    throw std::invalid_argument("sobol: level must lie in (0, 1), got " +
                                std::to_string(options.level));
  check_finite(yA, "yA");
  check_finite(yB, "yB");
  for (std::size_t i = 0; i < k; ++i) check_finite(yAB[i], "yAB of factor '" + names[i] + "'");

  Samples d;
  d.n = n;
  d.k = k;
  d.stride = k + 2;
  d.rows.resize(n * d.stride);
  d.ab.resize(2 * n);
  parallel_ranges(n, [&](std::size_t begin, std::size_t end) {
    for (std::size_t j = begin; j != end; ++j) {
      double* x = d.rows.data() + j * d.stride;
      x[0] = d.ab[2 * j] = yA[j];
      x[1] = d.ab[2 * j + 1] = yB[j];
      for (std::size_t i = 0; i < k; ++i) x[2 + i] = yAB[i][j] - yA[j];
    }
  });

  std::vector<SobolIndex> out(k);
  {
    std::vector<double> S(k), ST(k), acc, ones(n, 1.0);
    std::vector<std::uint32_t> all(n);
    for (std::size_t j = 0; j < n; ++j) all[j] = static_cast<std::uint32_t>(j);
    estimate(d, all.data(), ones.data(), n, S.data(), ST.data(), acc);
    for (std::size_t i = 0; i < k; ++i) {
      out[i].name = names[i];
      out[i].S = out[i].S_lo = out[i].S_hi = S[i];
      out[i].ST = out[i].ST_lo = out[i].ST_hi = ST[i];
    }
  }
  const std::size_t reps = static_cast<std::size_t>(options.bootstrap);
  if (reps == 0 || k == 0) return out;
  // A constant output gives [0, 0] for every replicate too; skip the work.
  if (std::all_of(yA.begin(), yA.end(), [&](double v) { return v == yA[0]; }) &&
      std::all_of(yB.begin(), yB.end(), [&](double v) { return v == yA[0]; }))
    return out;

  // Replicate r's results go to Sb[i * reps + r] (and STb): stored by r, so the order in which
  // threads finish cannot matter, and each factor's replicates are contiguous for sorting.
  std::vector<double> Sb(k * reps), STb(k * reps);
  const std::uint32_t k0 = static_cast<std::uint32_t>(options.seed);
  const std::uint32_t k1 = static_cast<std::uint32_t>(options.seed >> 32);
  constexpr std::size_t lanes = 16;
  parallel_ranges(reps, [&](std::size_t begin, std::size_t end) {
    std::vector<std::uint32_t> count(n + 2 * lanes), rows(n);
    std::vector<double> weight(n), S(k), ST(k), acc;
    for (std::size_t r = begin; r != end; ++r) {
      // Block t of replicate r: counter {t lo, t hi, r, tag}; two indices per block, each
      // counted. The blocks are drawn `lanes` at a time by the vectorised Philox (the same
      // bits as rng::philox per block); count[n] takes the last group's spare indices.
      const std::size_t blocks = (n + 1) / 2;
      for (std::size_t t0 = 0; t0 < blocks; t0 += lanes) {
        std::uint32_t c[4][lanes];
        for (std::size_t l = 0; l < lanes; ++l) {
          const std::uint64_t t = t0 + l;
          c[0][l] = static_cast<std::uint32_t>(t);
          c[1][l] = static_cast<std::uint32_t>(t >> 32);
          c[2][l] = static_cast<std::uint32_t>(r);
          c[3][l] = bootstrap_tag;
        }
        rng::philox_lanes<lanes>(c, k0, k1);
        for (std::size_t l = 0; l < lanes; ++l) {
          const std::size_t j0 = 2 * (t0 + l);
          ++count[j0 < n ? index_below(c[0][l], c[1][l], n) : n];
          ++count[j0 + 1 < n ? index_below(c[2][l], c[3][l], n) : n];
        }
      }
      // The drawn rows in ascending order with their multiplicities (branch-free), and the
      // counts cleared for the next replicate.
      std::size_t m = 0;
      for (std::size_t j = 0; j < n; ++j) {
        const std::uint32_t c = count[j];
        rows[m] = static_cast<std::uint32_t>(j);
        weight[m] = static_cast<double>(c);
        m += c != 0;
        count[j] = 0;
      }
      count[n] = 0;
      estimate(d, rows.data(), weight.data(), m, S.data(), ST.data(), acc);
      for (std::size_t i = 0; i < k; ++i) {
        Sb[i * reps + r] = S[i];
        STb[i * reps + r] = ST[i];
      }
    }
  });
  const double p_lo = (1 - options.level) / 2, p_hi = (1 + options.level) / 2;
  for (std::size_t i = 0; i < k; ++i) {
    double* s = Sb.data() + i * reps;
    double* t = STb.data() + i * reps;
    std::sort(s, s + reps);
    std::sort(t, t + reps);
    out[i].S_lo = percentile(s, reps, p_lo);
    out[i].S_hi = percentile(s, reps, p_hi);
    out[i].ST_lo = percentile(t, reps, p_lo);
    out[i].ST_hi = percentile(t, reps, p_hi);
  }
  return out;
}

std::vector<SobolIndex> sobol_indices(const SobolBatch& f, std::size_t dims, std::uint64_t n,
                                      const SobolOptions& options, std::vector<std::string> names) {
  if (dims == 0) throw std::invalid_argument("sobol: needs at least one input dimension");
  if (dims > std::numeric_limits<std::uint32_t>::max())
    throw std::invalid_argument("sobol: too many input dimensions");
  if (n < 2) throw std::invalid_argument("sobol: needs n >= 2, got " + std::to_string(n));
  if (names.empty()) {
    // append, not "x" + to_string: GCC 12 warns falsely (-Wrestrict) on the operator+ form
    // (GCC bug 105329).
    for (std::size_t c = 0; c < dims; ++c)
      names.push_back(std::string("x").append(std::to_string(c + 1)));
  } else if (names.size() != dims) {
    throw std::invalid_argument("sobol: " + std::to_string(names.size()) + " names for " +
                                std::to_string(dims) + " dimensions");
  }
  if (!f) throw std::invalid_argument("sobol: no function to evaluate");
  std::size_t rows = 0, cells = 0;
  if (__builtin_mul_overflow(n, dims + 2, &rows) || __builtin_mul_overflow(rows, dims, &cells))
    throw std::invalid_argument("sobol: design of n * (dims + 2) rows too large");
  const std::size_t N = static_cast<std::size_t>(n);

  // Stacked design [A; B; A_B^(0); ...; A_B^(dims-1)], row-major; row j of each block is
  // filled by the task that draws row j of A and B, so no two tasks write the same cell.
  std::vector<double> u(cells);
  const std::uint32_t k0 = static_cast<std::uint32_t>(options.seed);
  const std::uint32_t k1 = static_cast<std::uint32_t>(options.seed >> 32);
  parallel_ranges(N, [&](std::size_t begin, std::size_t end) {
    for (std::size_t j = begin; j != end; ++j) {
      double* a = u.data() + j * dims;
      double* b = u.data() + (N + j) * dims;
      for (std::size_t c = 0; c < dims; ++c) {
        const auto draw = [&](std::uint32_t matrix) {
          const rng::Words w = rng::philox(
              {static_cast<std::uint32_t>(j), static_cast<std::uint32_t>(std::uint64_t{j} >> 32),
               static_cast<std::uint32_t>(c), design_tag | matrix},
              k0, k1);
          return rng::u01(w[0], w[1]);
        };
        a[c] = draw(0);
        b[c] = draw(1);
      }
      for (std::size_t i = 0; i < dims; ++i) {
        double* ab = u.data() + ((2 + i) * N + j) * dims;
        std::copy(a, a + dims, ab);
        ab[i] = b[i];
      }
    }
  });

  std::vector<double> y(rows);
  f(u.data(), rows, dims, y.data());
  u = {};  // the design is not needed by the estimator; free it before the bootstrap

  const std::span<const double> all(y);
  std::vector<std::span<const double>> yAB;
  for (std::size_t i = 0; i < dims; ++i) yAB.push_back(all.subspan((2 + i) * N, N));
  return sobol_from_samples(all.subspan(0, N), all.subspan(N, N), yAB, names, options);
}

}  // namespace capexsim
