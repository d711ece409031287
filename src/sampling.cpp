#include "capexsim/sampling.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <boost/random/detail/sobol_table.hpp>

namespace capexsim {

const char* sampling_name(Sampling s) {
  switch (s) {
    case Sampling::lhs:
      return "lhs";
    case Sampling::sobol:
      return "sobol";
    default:
      return "random";
  }
}

std::optional<Sampling> sampling_from_name(std::string_view name) {
  if (name == "random") return Sampling::random;
  if (name == "lhs") return Sampling::lhs;
  if (name == "sobol") return Sampling::sobol;
  return std::nullopt;
}

namespace sampling {

namespace {

// Design keys are Philox blocks on counters of their own (random.hpp's layout):
//   Stream::design, counter {n lo, n hi, input id, block 0 and 2}: Feistel round keys of
//     input id (words 0,1 = the design size n, which no path index reaches);
//   Stream::sobol_scramble, counter {dimension, 0, 0, block 0}: a dimension's scramble key.
rng::Words design_block(std::uint64_t seed, std::uint64_t w01, std::uint32_t w2, rng::Stream stream,
                        std::uint32_t block) {
  return rng::philox(rng::counter(w01, w2, stream, block), static_cast<std::uint32_t>(seed),
                     static_cast<std::uint32_t>(seed >> 32));
}

/// SplitMix64's finaliser: the Feistel round function.
std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

FeistelPermutation::FeistelPermutation(std::uint64_t n, std::uint64_t seed, std::uint32_t id)
    : n_(n) {
  unsigned bits = 2;
  while (bits < 64 && (std::uint64_t{1} << bits) < n) ++bits;
  half_bits_ = (bits + 1) / 2;
  half_mask_ = (std::uint64_t{1} << half_bits_) - 1;
  const rng::Words a = design_block(seed, n, id, rng::Stream::design, 0);
  const rng::Words b = design_block(seed, n, id, rng::Stream::design, 2);
  keys_ = {(std::uint64_t{a[0]} << 32) | a[1], (std::uint64_t{a[2]} << 32) | a[3],
           (std::uint64_t{b[0]} << 32) | b[1], (std::uint64_t{b[2]} << 32) | b[3]};
}

std::uint64_t FeistelPermutation::encrypt(std::uint64_t x) const {
  std::uint64_t l = x >> half_bits_, r = x & half_mask_;
  for (const std::uint64_t k : keys_) {
    const std::uint64_t next = l ^ (mix64(r ^ k) & half_mask_);
    l = r;
    r = next;
  }
  return (l << half_bits_) | r;
}

std::uint64_t FeistelPermutation::operator()(std::uint64_t p) const {
  if (n_ <= 1) return 0;
  // Cycle-walking: the walk from p < n returns below n within its cycle, since the
  // permutation of [0, 2^bits) maps the cycle through p back onto p.
  std::uint64_t x = encrypt(p);
  while (x >= n_) x = encrypt(x);
  return x;
}

unsigned sobol_max_dimension() {
  return boost::random::detail::qrng_tables::sobol::max_dimension;
}

std::array<std::uint32_t, 32> sobol_directions(unsigned d) {
  using table = boost::random::detail::qrng_tables::sobol;
  if (d >= table::max_dimension)
    throw std::invalid_argument("sobol: dimension " + std::to_string(d) + " is beyond the " +
                                std::to_string(table::max_dimension) + " of the table");
  // m_j (odd integers < 2^(j+1)) by the recurrence of the primitive polynomial, then
  // v_j = m_j 2^(31-j): Boost's sobol_lattice, one dimension.
  std::array<std::uint32_t, 32> m{};
  if (d == 0) {
    m.fill(1);
  } else {
    const unsigned poly = table::polynomial(d - 1);
    const unsigned degree = static_cast<unsigned>(std::bit_width(poly)) - 1;
    for (unsigned k = 0; k < degree && k < 32; ++k) m[k] = table::minit(d - 1, k);
    for (unsigned j = degree; j < 32; ++j) {
      unsigned p = poly;
      m[j] = m[j - degree];
      for (unsigned k = 0; k < degree; ++k, p >>= 1) {
        const unsigned rem = degree - k;
        m[j] ^= ((p & 1u) * m[j - rem]) << rem;
      }
    }
  }
  std::array<std::uint32_t, 32> v{};
  for (unsigned j = 0; j < 32; ++j) v[j] = m[j] << (31 - j);
  return v;
}

std::uint32_t owen_scramble(std::uint32_t x, std::uint32_t key) {
  // Reverse the bits: the hash below propagates from low bits to high bits.
  auto reverse = [](std::uint32_t v) {
    v = ((v >> 1) & 0x55555555u) | ((v & 0x55555555u) << 1);
    v = ((v >> 2) & 0x33333333u) | ((v & 0x33333333u) << 2);
    v = ((v >> 4) & 0x0F0F0F0Fu) | ((v & 0x0F0F0F0Fu) << 4);
    v = ((v >> 8) & 0x00FF00FFu) | ((v & 0x00FF00FFu) << 8);
    return (v >> 16) | (v << 16);
  };
  x = reverse(x);
  // Laine-Karras permutation with Burley's constants: adding the key and XOR-ing in
  // products by even constants changes bit i only as a function of bits below it.
  x += key;
  x ^= x * 0x6c50b47cu;
  x ^= x * 0xb82f1e52u;
  x ^= x * 0xc7afe638u;
  x ^= x * 0x8d22f6e6u;
  return reverse(x);
}

}  // namespace sampling

double spearman_to_pearson(double rho_s) {
  return 2 * std::sin(3.14159265358979323846 * rho_s / 6);
}

std::string sampling_note(Sampling method, std::uint64_t n) {
  if (method == Sampling::sobol && n > 0 && !std::has_single_bit(n)) {
    std::uint64_t lo = std::bit_floor(n), hi = lo * 2;
    return "sobol sampling is balanced at a power-of-two path count; " + std::to_string(n) +
           " is not (nearest: " + std::to_string(lo) + " or " + std::to_string(hi) + ")";
  }
  return "";
}

namespace {
constexpr double one_below = 1.0 - 0x1p-53;  // the largest double below 1
double open01(double u) {
  return std::clamp(u, 0x1p-53, one_below);
}
double normal_cdf(double z) {
  return 0.5 * std::erfc(-z * 0.70710678118654752440);
}
}  // namespace

StaticSampler::StaticSampler(const Scenario& s, std::uint64_t seed, std::uint64_t design_paths)
    : method_(s.sampling), n_(design_paths), seed_(seed) {
  dim_.fill(-1);
  active_ = method_ != Sampling::random || !s.input_correlation_inputs.empty();
  if (!active_) return;
  // One design dimension per drawn input in Param order, then x0 when it can be drawn.
  int dims = 0;
  for (std::size_t k = 0; k < param_count; ++k)
    if (!s.params[k].is_fixed()) dim_[k] = dims++;
  const Distribution& pace_vol = s[Param::pace_volatility];
  if (!pace_vol.is_fixed() || pace_vol.value() > 0) dim_[param_count] = dims++;

  if (method_ == Sampling::lhs) {
    if (n_ == 0) throw std::invalid_argument("lhs sampling needs a design size of at least 1 path");
    for (std::size_t k = 0; k <= param_count; ++k)
      if (dim_[k] >= 0) {
        const std::uint32_t id = k < param_count ? rng::param_id(k) : rng::x0_id;
        perm_.emplace_back(n_, seed, id);
      }
  } else if (method_ == Sampling::sobol) {
    if (n_ > (std::uint64_t{1} << 32))
      throw std::invalid_argument("sobol sampling supports at most 2^32 paths, got " +
                                  std::to_string(n_));
    if (static_cast<unsigned>(dims) > sampling::sobol_max_dimension())
      throw std::invalid_argument("sobol sampling: too many drawn inputs");
    for (int d = 0; d < dims; ++d) {
      directions_.push_back(sampling::sobol_directions(static_cast<unsigned>(d)));
      scramble_.push_back(sampling::design_block(seed, static_cast<std::uint64_t>(d), 0,
                                                 rng::Stream::sobol_scramble, 0)[0]);
    }
  }

  const std::size_t k = s.input_correlation_inputs.size();
  if (k > 0) {
    Eigen::MatrixXd pearson(k, k);
    for (std::size_t i = 0; i < k; ++i)
      for (std::size_t j = 0; j < k; ++j)
        pearson(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) =
            i == j ? 1.0 : spearman_to_pearson(s.input_correlation[i * k + j]);
    Eigen::LLT<Eigen::MatrixXd> llt(pearson);
    if (llt.info() != Eigen::Success)
      throw std::invalid_argument(
          "input_correlation.matrix: the normal-scale correlation 2 sin(pi rho / 6) is not "
          "positive-definite");
    const Eigen::MatrixXd l = llt.matrixL();
    copula_chol_.assign(k * k, 0.0);
    for (std::size_t i = 0; i < k; ++i) {
      copula_inputs_.push_back(static_cast<std::size_t>(s.input_correlation_inputs[i]));
      for (std::size_t j = 0; j <= i; ++j)
        copula_chol_[i * k + j] = l(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
    }
  }
}

double StaticSampler::design_uniform(int dim, std::uint32_t id, const rng::PathRng& rng) const {
  const double u = rng.static_uniform(id);  // the path's own uniform, as random sampling has it
  const std::uint64_t p = rng.path();
  switch (method_) {
    case Sampling::lhs:
      // Paths outside the design (never run by the engine) fall back to plain random.
      if (p >= n_) return u;
      return open01((static_cast<double>(perm_[static_cast<std::size_t>(dim)](p)) + u) /
                    static_cast<double>(n_));
    case Sampling::sobol: {
      if (p >= (std::uint64_t{1} << 32)) return u;
      const auto d = static_cast<std::size_t>(dim);
      const std::uint32_t x =
          sampling::owen_scramble(sampling::sobol_point(directions_[d], p), scramble_[d]);
      // The scrambled point's 32 digits, the path's uniform below them (the digits past
      // the 32nd, which a full-depth Owen scrambling would also randomise).
      return open01((static_cast<double>(x) + u) * 0x1p-32);
    }
    default:
      return u;
  }
}

void StaticSampler::draw(const Scenario& s, const rng::PathRng& rng,
                         std::array<double, param_count>& in) const {
  std::array<double, param_count> u{};
  for (std::size_t k = 0; k < param_count; ++k)
    if (dim_[k] >= 0) u[k] = design_uniform(dim_[k], static_cast<std::uint32_t>(k), rng);
  const std::size_t m = copula_inputs_.size();
  if (m > 0) {
    // Gaussian copula: the inputs' uniforms to normals, correlated by the Cholesky factor
    // of the normal-scale matrix, back to uniforms. Each marginal stays uniform.
    std::array<double, param_count> z{};
    for (std::size_t i = 0; i < m; ++i) z[i] = standard_normal_quantile(u[copula_inputs_[i]]);
    for (std::size_t i = 0; i < m; ++i) {
      double acc = 0;
      for (std::size_t j = 0; j <= i; ++j) acc += copula_chol_[i * m + j] * z[j];
      u[copula_inputs_[i]] = open01(normal_cdf(acc));
    }
  }
  for (std::size_t k = 0; k < param_count; ++k) {
    const Distribution& d = s.params[k];
    in[k] = d.is_fixed() ? d.value() : d.sample(u[k]);
  }
}

double StaticSampler::x0_uniform(const rng::PathRng& rng) const {
  const int dim = dim_[param_count];
  if (dim < 0) return rng.static_uniform(rng::x0_id);
  return design_uniform(dim, rng::x0_id, rng);
}

}  // namespace capexsim
