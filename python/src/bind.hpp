// Private header of capexsim._core: the bind_* functions that python/src/core.cpp's
// module definition calls (one file of one role each), and the helpers they share.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include <capexsim/capexsim.hpp>

namespace capexsim_python {

namespace py = pybind11;
using namespace capexsim;

void bind_scenario(py::module_& m);     // bind_scenario.cpp: scenarios, schema, sampling
void bind_result(py::module_& m);       // bind_result.cpp: Result, compare, merges
void bind_simulate(py::module_& m);     // bind_simulate.cpp: simulate, simulate_target
void bind_sensitivity(py::module_& m);  // bind_sensitivity.cpp: rank, tornado, Sobol, calibrate

/// The scenario of `toml`, with its sampling replaced when `sampling` is not empty.
inline Scenario load_with_sampling(const std::string& toml, const std::string& source,
                                   const std::string& sampling) {
  Scenario scenario = parse_scenario(toml, source);
  if (!sampling.empty()) {
    const auto m = sampling_from_name(sampling);
    if (!m)
      throw py::value_error("sampling must be 'random', 'lhs' or 'sobol', got '" + sampling + "'");
    scenario.sampling = *m;
  }
  return scenario;
}

/// Joint runs (docs/model.md §12.6) from (name, lab TOML, lab source) each, into `o`;
/// a bad pair raises ValueError naming the problem.
using Labs = std::vector<std::tuple<std::string, std::string, std::string>>;
inline void add_counterparties(const Scenario& scenario, const Labs& labs, RunOptions& o) {
  for (const auto& [name, lab_toml, lab_source] : labs) {
    try {
      o.counterparties.push_back(joint_run(scenario, parse_scenario(lab_toml, lab_source), name));
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
  }
}

/// Run `work` on a worker thread while this thread, GIL released, waits in 50 ms slices;
/// between slices it takes the GIL to check for Ctrl-C (KeyboardInterrupt) and report
/// progress(done, paths).
template <class Work>
std::invoke_result_t<Work> in_worker(Work&& work, std::atomic<std::uint64_t>& done,
                                     std::atomic<bool>& cancel, std::uint64_t paths,
                                     py::object progress) {
  std::promise<void> finished;
  std::future<void> ready = finished.get_future();
  std::invoke_result_t<Work> result;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      result = work();
    } catch (...) {
      error = std::current_exception();
    }
    finished.set_value();
  });
  auto stop = [&] {
    cancel.store(true);
    py::gil_scoped_release release;
    worker.join();
  };
  while (true) {
    bool complete;
    {
      py::gil_scoped_release release;
      complete = ready.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready;
    }
    if (PyErr_CheckSignals() != 0) {
      stop();
      throw py::error_already_set();
    }
    if (!progress.is_none()) {
      try {
        progress(done.load(), paths);
      } catch (...) {
        stop();
        throw;
      }
    }
    if (complete) break;
  }
  worker.join();
  if (error) std::rethrow_exception(error);
  return result;
}

}  // namespace capexsim_python
