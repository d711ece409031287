#pragma once
// The band sink: reduces each banded series of a step, as the kernel produces it, to what
// the bands keep (BandAccumulator::add_flush, src/bands.cpp): per (series, step) row the
// fixed-point sum, the smallest and largest value, and each path's 4-byte bucket code for
// the quantile sketch. Nothing of a value is kept as a double (src/block.cpp,
// src/engine.cpp; docs/statistics.md, "Bands").

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "capexsim/detail/step_lanes.hpp"
#include "capexsim/statistics.hpp"

namespace capexsim::detail {

/// One worker's band state between two flushes: `stride` paths (columns) of
/// rows = series x steps (row k = series * steps + step).
struct BandFlush {
  std::size_t steps = 0, rows = 0, stride = 0;
  /// Bucket codes (QuantileSketch::code) [row * stride + column]: 4 bytes a value, not
  /// zero-initialised (only the columns of the flush's paths are read).
  std::unique_ptr<std::uint32_t[]> codes;
  /// Per row: the total of FixedPointSum::fast_units of the flush's values (|sum| below
  /// 1024 * 2^51 < 2^63), and whether a value was NaN.
  std::vector<std::int64_t> units;
  std::vector<double> lo, hi;  // per row: smallest and largest non-NaN value (+inf, -inf)
  std::vector<std::uint8_t> nan;
  /// Values outside FixedPointSum's fast path (|x| >= 2^19, NaN, infinities): (row, x),
  /// added value by value at the flush. Rare.
  std::vector<std::pair<std::uint32_t, double> > slow;
  /// One series' values kept as doubles for the checkpoint trace (RunOptions::trace_series),
  /// [step * stride + column]; trace_k = -1 when none.
  int trace_k = -1;
  std::vector<double> trace;
  /// When not null, every series' values are also copied to values[row * values_stride +
  /// column] (all W lanes), as doubles: for tests that compare the kernels' series.
  double* values = nullptr;
  std::size_t values_stride = 0;

  BandFlush() = default;
  BandFlush(std::size_t series, std::size_t steps_, std::size_t stride_, int trace_series = -1)
      : steps(steps_),
        rows(series * steps_),
        stride(stride_),
        codes(rows ? new std::uint32_t[rows * stride] : nullptr),
        units(rows, 0),
        lo(rows, std::numeric_limits<double>::infinity()),
        hi(rows, -std::numeric_limits<double>::infinity()),
        nan(rows, 0),
        trace_k(trace_series),
        trace(trace_series >= 0 ? steps * stride : 0) {}

  /// Forget the flush (after BandAccumulator::add_flush took it).
  void clear() {
    std::fill(units.begin(), units.end(), 0);
    std::fill(lo.begin(), lo.end(), std::numeric_limits<double>::infinity());
    std::fill(hi.begin(), hi.end(), -std::numeric_limits<double>::infinity());
    std::fill(nan.begin(), nan.end(), 0);
    slow.clear();
  }

  /// Add lanes [0, n) of `v` as column `col` .. col + n - 1 of `row` (W >= n; the codes of
  /// lanes n .. W - 1 are written too, into columns the flush never reads). W a power of 2.
  template <int W>
  __attribute__((always_inline)) void add(std::size_t row, std::size_t col, int n,
                                          const double* v) {
    // Element-wise loops over lanes (each vectorises), then fixed-size tree reductions:
    // GCC does not vectorise a floating-point min/max reduction written as one loop.
    constexpr double inf = std::numeric_limits<double>::infinity();
    std::uint32_t* c = codes.get() + row * stride + col;
    alignas(64) double l[W], h[W];
    alignas(64) std::int64_t u[W], bad[W];
    for (int i = 0; i < W; ++i) {
      const double x = v[i];
      const bool in = i < n, num = in && x == x;
      bool fast;
      const std::int64_t units_i = FixedPointSum::fast_units(x, fast);
      u[i] = in ? units_i : 0;
      bad[i] = (in && !fast ? 1 : 0) | (in && x != x ? 2 : 0);
      l[i] = num ? x : inf;
      h[i] = num ? x : -inf;
      c[i] = QuantileSketch::code(x);
    }
    for (int w = W / 2; w > 0; w /= 2)
      for (int i = 0; i < w; ++i) {
        l[i] = l[i + w] < l[i] ? l[i + w] : l[i];
        h[i] = h[i + w] > h[i] ? h[i + w] : h[i];
        u[i] += u[i + w];
        bad[i] |= bad[i + w];
      }
    units[row] += u[0];
    lo[row] = l[0] < lo[row] ? l[0] : lo[row];
    hi[row] = h[0] > hi[row] ? h[0] : hi[row];
    nan[row] |= static_cast<std::uint8_t>(bad[0] >> 1);
    if (bad[0]) {
      for (int i = 0; i < n; ++i) {
        bool fast;
        FixedPointSum::fast_units(v[i], fast);
        if (!fast) slow.emplace_back(static_cast<std::uint32_t>(row), v[i]);
      }
    }
  }
};

/// A sink that hands every series of the model (PathModel::series) of a step to a
/// BandFlush: lanes [0, lanes) are the flush's columns col .. col + lanes - 1.
template <int W>
struct BandSink {
  BandFlush* flush;
  std::size_t col;
  int lanes;
  const std::vector<Series>* series;
  __attribute__((always_inline)) void operator()(const StepLanes<W>& st) const {
    alignas(64) double v[W];
    const std::size_t step = static_cast<std::size_t>(st.i);
    for (std::size_t k = 0; k < series->size(); ++k) {
      series_lanes<W>(st, (*series)[k], v);
      flush->add<W>(k * flush->steps + step, col, lanes, v);
      if (flush->values)
        std::memcpy(flush->values + (k * flush->steps + step) * flush->values_stride + col, v,
                    sizeof v);
      if (static_cast<int>(k) == flush->trace_k)
        std::memcpy(flush->trace.data() + step * flush->stride + col, v,
                    sizeof(double) * static_cast<std::size_t>(lanes));
    }
  }
};

}  // namespace capexsim::detail
