#pragma once
// The band sink: copies each banded series of a step into the per-block band buffer that
// BandAccumulator::add_block consumes (src/block.cpp, src/engine.cpp).

#include <cstddef>
#include <cstring>
#include <vector>

#include "capexsim/detail/step_lanes.hpp"

namespace capexsim::detail {

/// A sink that writes every series of the model (PathModel::series) of a step into a band
/// buffer laid out bands[(k * steps + step) * stride + lane], k the series' band index
/// (BandAccumulator::add_block's layout).
template <int W>
struct BandSink {
  double* bands;
  std::size_t steps, stride;
  const std::vector<Series>* series;
  __attribute__((always_inline)) void operator()(const StepLanes<W>& st) const {
    alignas(64) double v[W];
    for (std::size_t k = 0; k < series->size(); ++k) {
      series_lanes<W>(st, (*series)[k], v);
      std::memcpy(bands + (k * steps + static_cast<std::size_t>(st.i)) * stride, v, sizeof v);
    }
  }
};

}  // namespace capexsim::detail
