#include "capexsim/statistics.hpp"

#include "capexsim/detail/select.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace capexsim {

namespace {
void add_dense(std::vector<std::uint64_t>& v, std::int64_t& lo, const std::vector<std::uint64_t>& o,
               std::int64_t olo) {
  if (o.empty()) return;
  if (v.empty()) {
    v = o;
    lo = olo;
    return;
  }
  const std::int64_t new_lo = std::min(lo, olo);
  const std::int64_t new_hi =
      std::max(lo + static_cast<std::int64_t>(v.size()), olo + static_cast<std::int64_t>(o.size()));
  if (new_lo != lo || new_hi != lo + static_cast<std::int64_t>(v.size())) {
    std::vector<std::uint64_t> w(static_cast<std::size_t>(new_hi - new_lo), 0);
    std::copy(v.begin(), v.end(), w.begin() + (lo - new_lo));
    v.swap(w);
    lo = new_lo;
  }
  for (std::size_t k = 0; k < o.size(); ++k) v[static_cast<std::size_t>(olo - lo) + k] += o[k];
}

bool same_dense(const std::vector<std::uint64_t>& a, std::int64_t alo,
                const std::vector<std::uint64_t>& b, std::int64_t blo) {
  // Equal as functions key -> count, whatever the allocated range.
  auto at = [](const std::vector<std::uint64_t>& v, std::int64_t lo, std::int64_t key) {
    const std::int64_t off = key - lo;
    return off >= 0 && off < static_cast<std::int64_t>(v.size()) ? v[static_cast<std::size_t>(off)]
                                                                 : 0;
  };
  const std::int64_t lo = std::min(alo, blo);
  const std::int64_t hi = std::max(alo + static_cast<std::int64_t>(a.size()),
                                   blo + static_cast<std::int64_t>(b.size()));
  for (std::int64_t k = lo; k < hi; ++k)
    if (at(a, alo, k) != at(b, blo, k)) return false;
  return true;
}
}  // namespace

// ---------------------------------------------------------------------------------------
// FixedPointSum: the exact multi-word part.
//
// A multi-word integer is a vector of int64 words, each holding a 32-bit limb (least
// significant first); normalised, every word but the last is in [0, 2^32) and the last
// (signed) is in [-2^31, 2^31), with no redundant leading word: a unique two's-complement
// form, so equal totals compare equal.

namespace {
using Words = std::vector<std::int64_t>;
constexpr std::int64_t limb = std::int64_t{1} << 32;

void normalise(Words& v) {
  if (v.empty()) v.push_back(0);
  for (std::size_t i = 0; i + 1 < v.size(); ++i) {
    const std::int64_t carry = v[i] >> 32;  // floor division by 2^32
    v[i] -= carry * limb;
    v[i + 1] += carry;
  }
  while (v.back() >= limb / 2 || v.back() < -limb / 2) {
    const std::int64_t carry = v.back() >> 32;
    v.back() -= carry * limb;
    v.push_back(carry);
  }
  while (v.size() > 1) {
    const std::int64_t below = v[v.size() - 2];
    if (v.back() == 0 && below < limb / 2) {
      v.pop_back();
    } else if (v.back() == -1 && below >= limb / 2) {
      v.pop_back();
      v.back() -= limb;
    } else {
      break;
    }
  }
}

/// v += o. Words are signed, so adding word by word gives the sum (no word gets near
/// 2^63); normalising then propagates the carries.
void add_words(Words& v, const Words& o) {
  if (v.size() < o.size()) v.resize(o.size(), 0);
  for (std::size_t i = 0; i < o.size(); ++i) v[i] += o[i];
  normalise(v);
}

/// The words of a 128-bit integer times 2^32 (units 2^-32 to units 2^-64).
Words from_int128(detail::int128 x) {
  const auto u = static_cast<detail::uint128>(x);
  Words v(6);
  v[0] = 0;
  for (int k = 0; k < 4; ++k) v[1 + k] = static_cast<std::int64_t>((u >> (32 * k)) & 0xffffffffu);
  v[5] = x < 0 ? -1 : 0;
  normalise(v);
  return v;
}

bool negative(const Words& v) {
  return !v.empty() && v.back() < 0;
}

/// |v| as non-negative limbs (each in [0, 2^32)).
Words magnitude(Words v) {
  if (negative(v)) {
    for (auto& w : v) w = -w;
    normalise(v);
  }
  return v;
}

/// Product of two non-negative normalised numbers.
Words multiply(const Words& a, const Words& b) {
  std::vector<detail::uint128> acc(a.size() + b.size() + 1, 0);
  for (std::size_t i = 0; i < a.size(); ++i)
    for (std::size_t j = 0; j < b.size(); ++j)
      acc[i + j] += static_cast<detail::uint128>(static_cast<std::uint64_t>(a[i]) *
                                                 static_cast<std::uint64_t>(b[j]));
  Words out(acc.size() + 1, 0);
  detail::uint128 carry = 0;
  for (std::size_t k = 0; k < acc.size(); ++k) {
    const detail::uint128 t = acc[k] + carry;
    out[k] = static_cast<std::int64_t>(static_cast<std::uint64_t>(t & 0xffffffffu));
    carry = t >> 32;
  }
  out[acc.size()] = static_cast<std::int64_t>(carry);  // < 2^32
  out.push_back(0);
  normalise(out);
  return out;
}

/// A non-negative number's value as f * 2^e with f in [0.5, 1) correctly rounded to 53
/// bits (f = 0 for zero); the number counts units of 2^-64.
double mantissa_exponent(const Words& mag, int& e) {
  std::size_t h = mag.size();
  while (h > 0 && mag[h - 1] == 0) --h;
  if (h == 0) {
    e = 0;
    return 0;
  }
  const std::size_t top = h - 1;
  auto at = [&](std::ptrdiff_t i) -> detail::uint128 {
    return i < 0 ? 0 : static_cast<std::uint64_t>(mag[static_cast<std::size_t>(i)]);
  };
  const auto t = static_cast<std::ptrdiff_t>(top);
  const detail::uint128 w = (at(t) << 64) | (at(t - 1) << 32) | at(t - 2);
  bool sticky = false;
  for (std::ptrdiff_t i = 0; i < t - 2; ++i) sticky |= mag[static_cast<std::size_t>(i)] != 0;
  int bits = 0;
  for (detail::uint128 x = w; x; x >>= 1) ++bits;
  // Keep 64 significant bits and fold everything below into a sticky bit: the
  // conversion of a 64-bit integer to double then rounds to nearest, ties to even, as
  // the exact value would.
  std::uint64_t m;
  int shift = bits - 64;
  if (shift > 0) {
    sticky |= (w & ((static_cast<detail::uint128>(1) << shift) - 1)) != 0;
    m = static_cast<std::uint64_t>(w >> shift);
  } else {
    m = static_cast<std::uint64_t>(w) << -shift;
  }
  m |= sticky ? 1u : 0u;
  const int exp2 = shift + 32 * (static_cast<int>(t) - 2) - 64;  // value = m * 2^exp2
  int em = 0;
  const double f = std::frexp(static_cast<double>(m), &em);  // f in [0.5, 1], exact
  e = em + exp2;
  return f;
}

double to_double(const Words& v) {
  int e = 0;
  const double f = mantissa_exponent(magnitude(v), e);
  const double x = std::ldexp(f, e);
  return negative(v) ? -x : x;
}
}  // namespace

void FixedPointSum::add_slow(double x) {
  const double a = std::abs(x);
  if (a < big_threshold) {
    acc_ += static_cast<detail::int128>(std::nearbyint(x * scale));
    return;
  }
  if (!std::isfinite(x)) {
    ++saturated_;
    return;
  }
  int e = 0;
  const double f = std::frexp(a, &e);  // a = f * 2^e, f in [0.5, 1)
  add_big(static_cast<std::uint64_t>(std::ldexp(f, 53)), e - 53, x < 0, false);
}

void FixedPointSum::add_exact_square(double x) {
  const double a = std::abs(x);
  if (!std::isfinite(a)) {
    ++saturated_;
    return;
  }
  int e = 0;
  const double f = std::frexp(a, &e);
  add_big(static_cast<std::uint64_t>(std::ldexp(f, 53)), e - 53, false, true);
}

void FixedPointSum::add_big(std::uint64_t mantissa, int exponent, bool neg, bool square) {
  // The value is mantissa * 2^exponent, or its square; in units of 2^-64 it is an integer
  // (values >= 2^40 have no bits below 2^-12, squares of values >= 2^20 none below 2^-64).
  detail::uint128 mag = mantissa;
  if (square) {
    mag *= mantissa;
    exponent *= 2;
  }
  const int shift = exponent + 64;
  if (shift < 0) throw std::logic_error("FixedPointSum: value below the exact part's resolution");
  if (!big_) big_ = new Words{0};
  Words& v = *big_;
  const std::size_t first = static_cast<std::size_t>(shift / 32);
  const int r = shift % 32;
  // mag < 2^106, mag << r < 2^137: five 32-bit limbs.
  std::uint64_t part[5];
  const detail::uint128 lo = mag << r;
  const detail::uint128 hi = r ? mag >> (128 - r) : 0;
  for (int k = 0; k < 4; ++k) part[k] = static_cast<std::uint64_t>((lo >> (32 * k)) & 0xffffffffu);
  part[4] = static_cast<std::uint64_t>(hi & 0xffffffffu);
  if (v.size() < first + 5) v.resize(first + 5, 0);
  for (int k = 0; k < 5; ++k) {
    const auto p = static_cast<std::int64_t>(part[k]);
    v[first + static_cast<std::size_t>(k)] += neg ? -p : p;
  }
  normalise(v);
}

FixedPointSum& FixedPointSum::operator+=(const FixedPointSum& o) {
  acc_ += o.acc_;
  saturated_ += o.saturated_;
  if (o.big_) {
    if (!big_)
      big_ = new Words(*o.big_);
    else
      add_words(*big_, *o.big_);
  }
  return *this;
}

std::vector<std::int64_t> FixedPointSum::exact() const {
  Words v = from_int128(acc_);
  if (big_) add_words(v, *big_);
  return v;
}

double FixedPointSum::big_value() const {
  return to_double(exact());
}

bool operator==(const FixedPointSum& a, const FixedPointSum& b) {
  if (a.acc_ != b.acc_ || a.saturated_ != b.saturated_) return false;
  if (!a.big_ || !b.big_) return !a.big_ && !b.big_;
  return *a.big_ == *b.big_;
}

void FixedPointSum::write(detail::ByteWriter& w) const {
  w.put(acc_);
  w.put(saturated_);
  w.put_vector(big_ ? *big_ : Words{});
}

void FixedPointSum::read(detail::ByteReader& r, std::uint64_t terms) {
  acc_ = r.get<detail::int128>();
  saturated_ = r.get<std::uint64_t>();
  // Each term added to acc_ is below big_threshold * scale = 2^72 in magnitude, so a sum
  // of `terms` of them is below terms * 2^72 (and merged sums, of at most 1e12 paths,
  // stay far inside int128).
  const detail::int128 bound = static_cast<detail::int128>(terms) << 72;
  if (acc_ > bound || acc_ < -bound || saturated_ > terms)
    detail::ByteReader::corrupt("a sum beyond what its paths can add up to");
  Words v = r.get_vector<std::int64_t>();
  delete big_;
  big_ = nullptr;
  if (v.empty()) return;
  if (v.size() > 1000) throw std::invalid_argument("result bytes: corrupt sum");
  // Normalised words (see normalise) are checked before normalise() runs on them: its
  // carries would overflow on arbitrary words.
  for (std::size_t i = 0; i < v.size(); ++i)
    if (i + 1 < v.size() ? (v[i] < 0 || v[i] >= limb) : (v[i] < -limb / 2 || v[i] >= limb / 2))
      throw std::invalid_argument("result bytes: corrupt sum");
  Words check = v;
  normalise(check);
  if (check != v) throw std::invalid_argument("result bytes: corrupt sum");
  big_ = new Words(std::move(v));
}

void QuantileSketch::add_codes(const std::uint32_t* codes, std::size_t n) {
  if (n == 0) return;
  constexpr std::uint32_t mask = neg_code - 1;
  std::uint32_t pmin = mask, pmax = 0, nmin = mask, nmax = 0;
  std::uint64_t zeros = 0;
  for (std::size_t p = 0; p < n; ++p) {
    const std::uint32_t c = codes[p], key = c & mask;
    const bool zero = c == 0, neg = c >= neg_code, pos = !zero && !neg;
    zeros += zero;
    pmin = pos && key < pmin ? key : pmin;
    pmax = pos && key > pmax ? key : pmax;
    nmin = neg && key < nmin ? key : nmin;
    nmax = neg && key > nmax ? key : nmax;
  }
  // A key is never 0 (zero_threshold is far above the smallest doubles), so a maximum of
  // 0 means the sign had no value.
  if (pmax > 0) {
    bump(pos_, pos_lo_, pmin, 0);
    bump(pos_, pos_lo_, pmax, 0);
  }
  if (nmax > 0) {
    bump(neg_, neg_lo_, nmin, 0);
    bump(neg_, neg_lo_, nmax, 0);
  }
  std::uint64_t* const pv = pos_.data();
  std::uint64_t* const nv = neg_.data();
  std::uint64_t sink = 0;  // the zero bucket's increments land here (counted above)
  for (std::size_t p = 0; p < n; ++p) {
    const std::uint32_t c = codes[p], key = c & mask;
    std::uint64_t* slot = c == 0          ? &sink
                          : c >= neg_code ? nv + (static_cast<std::int64_t>(key) - neg_lo_)
                                          : pv + (static_cast<std::int64_t>(key) - pos_lo_);
    ++*slot;
  }
  zero_ += zeros;
  count_ += n;
}

void QuantileSketch::merge(const QuantileSketch& o) {
  add_dense(pos_, pos_lo_, o.pos_, o.pos_lo_);
  add_dense(neg_, neg_lo_, o.neg_, o.neg_lo_);
  zero_ += o.zero_;
  count_ += o.count_;
}

bool operator==(const QuantileSketch& a, const QuantileSketch& b) {
  return a.count_ == b.count_ && a.zero_ == b.zero_ &&
         same_dense(a.pos_, a.pos_lo_, b.pos_, b.pos_lo_) &&
         same_dense(a.neg_, a.neg_lo_, b.neg_, b.neg_lo_);
}

template <class F>
void QuantileSketch::for_each_ascending(F&& f) const {
  // f(value, count) -> false to stop
  for (std::size_t k = neg_.size(); k-- > 0;)
    if (neg_[k] && !f(-bucket_mid(neg_lo_ + static_cast<std::int64_t>(k)), neg_[k])) return;
  if (zero_ && !f(0.0, zero_)) return;
  for (std::size_t k = 0; k < pos_.size(); ++k)
    if (pos_[k] && !f(bucket_mid(pos_lo_ + static_cast<std::int64_t>(k)), pos_[k])) return;
}

double QuantileSketch::order_statistic(std::uint64_t k) const {
  if (k >= count_) throw std::out_of_range("QuantileSketch::order_statistic: rank out of range");
  double result = 0;
  std::uint64_t seen = 0;
  for_each_ascending([&](double value, std::uint64_t c) {
    seen += c;
    if (seen > k) {
      result = value;
      return false;
    }
    return true;
  });
  return result;
}

double QuantileSketch::quantile(double q) const {
  if (count_ == 0) return std::numeric_limits<double>::quiet_NaN();
  const double h = q * static_cast<double>(count_ - 1);
  const auto lo = static_cast<std::uint64_t>(std::floor(h));
  const double frac = h - static_cast<double>(lo);
  const double a = order_statistic(lo);
  if (frac == 0 || lo + 1 >= count_) return a;
  return a + frac * (order_statistic(lo + 1) - a);
}

double QuantileSketch::tail_mean_from(std::uint64_t k) const {
  if (k >= count_) return std::numeric_limits<double>::quiet_NaN();
  double sum = 0;
  std::uint64_t seen = 0;
  for_each_ascending([&](double value, std::uint64_t c) {
    const std::uint64_t before = seen;
    seen += c;
    if (seen > k) sum += value * static_cast<double>(seen - std::max(before, k));
    return true;
  });
  return sum / static_cast<double>(count_ - k);
}

namespace {
// The occupied range [first, last) of a dense bucket vector: empty buckets at either end
// are growth slack, which depends on the order values arrived in; writing only the
// occupied range makes equal sketches give equal bytes (a merged result pickles as the
// single run does) and shrinks them.
std::pair<std::size_t, std::size_t> occupied(const std::vector<std::uint64_t>& v) {
  std::size_t first = 0, last = v.size();
  while (first < last && v[first] == 0) ++first;
  while (last > first && v[last - 1] == 0) --last;
  return {first, last};
}

void put_occupied(detail::ByteWriter& w, const std::vector<std::uint64_t>& v,
                  std::pair<std::size_t, std::size_t> range) {
  w.put<std::uint64_t>(range.second - range.first);
  if (range.second > range.first)
    w.put_bytes(v.data() + range.first, sizeof(std::uint64_t) * (range.second - range.first));
}
}  // namespace

void QuantileSketch::write(detail::ByteWriter& w) const {
  const auto p = occupied(pos_), n = occupied(neg_);
  put_occupied(w, pos_, p);
  put_occupied(w, neg_, n);
  w.put<std::int64_t>(p.second > p.first ? pos_lo_ + static_cast<std::int64_t>(p.first) : 0);
  w.put<std::int64_t>(n.second > n.first ? neg_lo_ + static_cast<std::int64_t>(n.first) : 0);
  w.put(zero_);
  w.put(count_);
}

void QuantileSketch::read(detail::ByteReader& r) {
  pos_ = r.get_vector<std::uint64_t>();
  neg_ = r.get_vector<std::uint64_t>();
  pos_lo_ = r.get<std::int64_t>();
  neg_lo_ = r.get<std::int64_t>();
  zero_ = r.get<std::uint64_t>();
  count_ = r.get<std::uint64_t>();
  // Bucket keys are the top 19 bits of a non-negative double (NaN included), so in
  // [0, 2^18); bump() grows a range by up to 32 keys past them. A range outside that
  // would make a merge allocate the span between two sketches (2^31 keys: 16 GB).
  constexpr std::int64_t lowest = -64, highest = (std::int64_t{1} << 18) + 64;
  std::uint64_t total = zero_;
  for (const auto* v : {&pos_, &neg_}) {
    const std::int64_t lo = v == &pos_ ? pos_lo_ : neg_lo_;
    if (!v->empty() &&
        (lo < lowest || lo > highest || static_cast<std::int64_t>(v->size()) > highest - lo))
      detail::ByteReader::corrupt("a quantile sketch's bucket range");
    for (const std::uint64_t c : *v)
      if (__builtin_add_overflow(total, c, &total))
        detail::ByteReader::corrupt("a quantile sketch's counts");
  }
  if (total != count_) detail::ByteReader::corrupt("a quantile sketch's counts");
  if (pos_.empty()) pos_lo_ = 0;
  if (neg_.empty()) neg_lo_ = 0;
}

void ScalarAccumulator::write(detail::ByteWriter& w) const {
  w.put(paths_);
  w.put(nan_);
  w.put(positive_);
  w.put(min_);
  w.put(max_);
  sum_.write(w);
  sum_sq_.write(w);
  sketch_.write(w);
}

void ScalarAccumulator::read(detail::ByteReader& r) {
  paths_ = r.get<std::uint64_t>();
  nan_ = r.get<std::uint64_t>();
  positive_ = r.get<std::uint64_t>();
  min_ = r.get<double>();
  max_ = r.get<double>();
  if (nan_ > paths_ || positive_ > paths_ - nan_ || std::isnan(min_) || std::isnan(max_) ||
      (paths_ > nan_ && !(min_ <= max_)))
    detail::ByteReader::corrupt("an output's counts or range");
  sum_.read(r, paths_ - nan_);
  sum_sq_.read(r, paths_ - nan_);
  sketch_.read(r);
  if (sketch_.count() != paths_ - nan_) detail::ByteReader::corrupt("an output's counts");
}

double sorted_quantile(std::span<const double> sorted, double q) {
  if (sorted.empty()) return std::numeric_limits<double>::quiet_NaN();
  const double h = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(h));
  const double frac = h - static_cast<double>(lo);
  if (frac == 0 || lo + 1 >= sorted.size()) return sorted[lo];
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

double Summary::quantile(double level) const {
  for (std::size_t k = 0; k < summary_levels.size(); ++k)
    if (summary_levels[k] == level) return quantiles[k];
  throw std::invalid_argument("Summary::quantile: not a reported level");
}

ScalarAccumulator& ScalarAccumulator::operator+=(const ScalarAccumulator& o) {
  paths_ += o.paths_;
  nan_ += o.nan_;
  positive_ += o.positive_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
  sum_ += o.sum_;
  sum_sq_ += o.sum_sq_;
  sketch_ += o.sketch_;
  return *this;
}

Summary ScalarAccumulator::moments() const {
  Summary s;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s.paths = paths_;
  s.count = paths_ - nan_;
  s.nan_share = paths_ ? static_cast<double>(nan_) / static_cast<double>(paths_) : nan;
  s.prob_positive = paths_ ? static_cast<double>(positive_) / static_cast<double>(paths_) : nan;
  const double m = static_cast<double>(s.count);
  if (s.count == 0) {
    s.mean = s.sd = s.std_error = s.cvar95 = nan;
    s.quantiles.fill(nan);
    return s;
  }
  if (sum_.saturated() || sum_sq_.saturated()) {
    // An infinite value: the moments are undefined, not a clamped number.
    s.mean = s.sd = s.std_error = nan;
    return s;
  }
  // Every value equal (min == max): sd 0, not what the sums' 2^-32 rounding leaves (~1e-4).
  const bool constant = min_ == max_ && s.count > 1;
  if (sum_.has_big() || sum_sq_.has_big()) {
    s = exact_moments(s);
    if (constant) s.sd = s.std_error = 0;
    return s;
  }
  s.mean = sum_.value() / m;
  if (s.count > 1) {
    const double ss = sum_sq_.value() - sum_.value() * s.mean;
    s.sd = constant ? 0.0 : std::sqrt(std::max(0.0, ss / (m - 1)));
    s.std_error = s.sd / std::sqrt(m);
  } else {
    s.sd = s.std_error = nan;
  }
  return s;
}

Summary ScalarAccumulator::exact_moments(Summary s) const {
  // Values or squares beyond the 128-bit part: mean and variance from the exact totals,
  //   mean = S1 / m,   var = (m S2 - S1^2) / (m (m - 1)),
  // with m S2 - S1^2 computed exactly in multi-word integers (no cancellation), each
  // result rounded once or twice (relative error a few units of 2^-53), and scaled by
  // powers of two so that nothing overflows at any finite magnitude.
  const auto n = s.count;
  const Words s1 = sum_.exact(), s2 = sum_sq_.exact();  // units of 2^-64
  int e1 = 0;
  const double f1 = mantissa_exponent(magnitude(s1), e1);
  s.mean = std::ldexp(f1 / static_cast<double>(n), e1) * (negative(s1) ? -1 : 1);
  if (n < 2) {
    s.sd = s.std_error = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  // m S2 2^64 - S1^2, in units of 2^-128.
  const Words count{static_cast<std::int64_t>(n & 0xffffffffu), static_cast<std::int64_t>(n >> 32),
                    0};
  Words a = multiply(magnitude(s2), magnitude(count));
  a.insert(a.begin(), 2, 0);  // times 2^64
  Words b = multiply(magnitude(s1), magnitude(s1));
  for (auto& w : b) w = -w;
  normalise(b);
  add_words(a, b);
  if (negative(a)) a.assign(1, 0);  // rounding of small values to 2^-32 can dip below 0
  int ed = 0;
  const double fd = mantissa_exponent(a, ed);  // value fd 2^ed in units of 2^-64
  int ev = ed - 64;                            // the numerator's units are 2^-128
  double q = fd / (static_cast<double>(n) * static_cast<double>(n - 1));
  if (ev % 2 != 0) {
    q *= 2;
    --ev;
  }
  s.sd = std::ldexp(std::sqrt(q), ev / 2);
  s.std_error = s.sd / std::sqrt(static_cast<double>(n));
  return s;
}

Summary ScalarAccumulator::summary() const {
  Summary s = moments();
  if (s.count == 0) {
    add_intervals(s, sketch_);
    return s;
  }
  for (std::size_t k = 0; k < summary_levels.size(); ++k)
    s.quantiles[k] = sketch_.quantile(summary_levels[k]);
  // cvar95: values at or above p95, i.e. ranks from ceil(0.95 (m-1)).
  const auto from = static_cast<std::uint64_t>(std::ceil(0.95 * static_cast<double>(s.count - 1)));
  s.cvar95 = sketch_.tail_mean_from(from);
  add_intervals(s, sketch_);
  return s;
}

Summary ScalarAccumulator::summary(std::span<const double> values) const {
  Summary s = moments();
  if (values.size() != paths_)
    throw std::invalid_argument("ScalarAccumulator::summary: values do not match the paths");
  if (s.count == 0) {
    add_intervals(s, values);
    return s;
  }
  // Selection, not a full sort: the same bits as sorting (see detail/select.hpp).
  const detail::ExactQuantiles e = detail::exact_quantiles(values, summary_levels, 0.95);
  std::copy(e.quantiles.begin(), e.quantiles.end(), s.quantiles.begin());
  s.cvar95 = e.tail_mean;
  s.exact_quantiles = true;
  add_intervals(s, values);
  return s;
}

}  // namespace capexsim
