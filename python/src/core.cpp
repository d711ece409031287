// capexsim._core: the thin compiled layer under the `capexsim` Python package.
// Scenarios cross this boundary as TOML text (so Python gets the C++ loader's validation
// and messages verbatim); results stay C++ objects whose arrays NumPy views in place.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <thread>

#include <capexsim/capexsim.hpp>

namespace py = pybind11;
using namespace capexsim;

namespace {

py::dict summary_dict(const Summary& s) {
  py::dict d;
  d["mean"] = s.mean;
  d["sd"] = s.sd;
  d["stderr"] = s.std_error;
  for (std::size_t q = 0; q < summary_levels.size(); ++q)
    d[py::str(level_name(summary_levels[q]))] = s.quantiles[q];
  d["prob_positive"] = s.prob_positive;
  d["cvar95"] = s.cvar95;
  d["nan_share"] = s.nan_share;
  d["count"] = s.count;
  d["exact_quantiles"] = s.exact_quantiles;
  return d;
}

Series series_from_name(const std::string& name) {
  for (std::size_t k = 0; k < series_count; ++k)
    if (name == series_name(static_cast<Series>(k))) return static_cast<Series>(k);
  std::string known;
  for (std::size_t k = 0; k < series_count; ++k)
    known += std::string(k ? ", " : "") + series_name(static_cast<Series>(k));
  throw py::value_error("no series named '" + name + "'; expected one of: " + known);
}

py::dict band_dict(const Result& r, const std::string& name) {
  const auto rows = r.band(series_from_name(name));
  const auto n = static_cast<py::ssize_t>(rows.size());
  py::array_t<double> t(n), year(n), mean(n);
  std::vector<py::array_t<double>> q(band_levels.size(), py::array_t<double>(0));
  for (auto& a : q) a = py::array_t<double>(n);
  for (py::ssize_t i = 0; i < n; ++i) {
    t.mutable_at(i) = rows[static_cast<std::size_t>(i)].t;
    year.mutable_at(i) = rows[static_cast<std::size_t>(i)].year;
    mean.mutable_at(i) = rows[static_cast<std::size_t>(i)].mean;
    for (std::size_t k = 0; k < band_levels.size(); ++k)
      q[k].mutable_at(i) = rows[static_cast<std::size_t>(i)].quantiles[k];
  }
  py::dict d;
  d["t"] = t;
  d["year"] = year;
  d["mean"] = mean;
  for (std::size_t k = 0; k < band_levels.size(); ++k)
    d[py::str(level_name(band_levels[k]))] = q[k];
  return d;
}

/// Run on a worker thread while this thread, GIL released, waits in 50 ms slices; between
/// slices it takes the GIL to check for Ctrl-C (KeyboardInterrupt) and report progress.
Result simulate(const std::string& toml, const std::string& source, std::uint64_t paths,
                std::uint64_t seed, int threads, std::uint64_t first_path, bool keep_paths,
                bool bands, py::object progress, std::uint64_t memory_limit) {
  const Scenario scenario = parse_scenario(toml, source);
  const PathModel model(scenario);
  RunOptions o;
  o.paths = paths;
  o.seed = seed;
  o.threads = threads;
  o.first_path = first_path;
  o.keep_paths = keep_paths;
  o.bands = bands;
  o.memory_limit = memory_limit;
  check_memory(model, o);  // MemoryLimitError (Python MemoryError) before anything is allocated
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> cancel{false};
  o.progress = [&](std::uint64_t d, std::uint64_t) {
    done.store(d);
    return !cancel.load();
  };
  std::promise<void> finished;
  std::future<void> ready = finished.get_future();
  Result result;
  std::exception_ptr error;
  std::thread worker([&] {
    try {
      result = run(model, o);
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

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "capexsim's compiled core (use the `capexsim` package instead).";
  m.attr("__version__") = version_string;

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ScenarioError& e) {
      py::object cls = py::module_::import("capexsim.errors").attr("ScenarioError");
      py::object exc = cls(e.what(), e.file(), e.line(), e.column(), e.key(), e.message());
      PyErr_SetObject(cls.ptr(), exc.ptr());
    } catch (const MemoryLimitError& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });

  m.def(
      "resolve",
      [](const std::string& toml, const std::string& source) {
        return to_toml(parse_scenario(toml, source));
      },
      py::arg("toml"), py::arg("source"),
      "Validate TOML text; return the resolved scenario as TOML. Raises ScenarioError.");
  m.def(
      "load", [](const std::string& path) { return to_toml(load_scenario(path)); }, py::arg("path"),
      "Load and validate a scenario file; return it resolved as TOML. Raises ScenarioError.");
  m.def(
      "fingerprint",
      [](const std::string& toml, const std::string& source) {
        return fingerprint(parse_scenario(toml, source));
      },
      py::arg("toml"), py::arg("source"));
  m.def("series_names", [] {
    std::vector<std::string> v;
    for (std::size_t k = 0; k < series_count; ++k) v.push_back(series_name(static_cast<Series>(k)));
    return v;
  });
  m.attr("summary_levels") = std::vector<double>(summary_levels.begin(), summary_levels.end());
  m.attr("band_levels") = std::vector<double>(band_levels.begin(), band_levels.end());

  py::class_<Result>(m, "Result")
      .def_readonly("scenario_name", &Result::scenario_name)
      .def_readonly("scenario_fingerprint", &Result::scenario_fingerprint)
      .def_readonly("seed", &Result::seed)
      .def_readonly("first_path", &Result::first_path)
      .def_readonly("paths", &Result::paths)
      .def_readonly("steps", &Result::steps)
      .def_readonly("dt", &Result::dt)
      .def_readonly("start_year", &Result::start_year)
      .def_readonly("output_names", &Result::output_names)
      .def("has_per_path", &Result::has_per_path)
      .def("has_bands", [](const Result& r) { return !r.bands.empty(); })
      .def_property_readonly(
          "per_path",
          [](py::object self) {
            const Result& r = self.cast<const Result&>();
            // Column-major paths x outputs: a read-only view that keeps the Result alive.
            py::array_t<double> a({r.per_path.rows(), r.per_path.cols()},
                                  {static_cast<py::ssize_t>(sizeof(double)),
                                   static_cast<py::ssize_t>(sizeof(double) * r.per_path.rows())},
                                  r.per_path.data(), self);
            py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
            return a;
          })
      .def(
          "summary", [](const Result& r, std::size_t k) { return summary_dict(r.summary(k)); },
          py::arg("output"))
      .def("band", &band_dict, py::arg("series"))
      .def("to_bytes", [](const Result& r) { return py::bytes(r.to_bytes()); })
      .def_static("from_bytes",
                  [](const py::bytes& b) { return Result::from_bytes(std::string(b)); });

  m.def("merge", &merge, py::arg("a"), py::arg("b"),
        "Merge results of adjacent path ranges of the same scenario and seed.");
  m.def("simulate", &simulate, py::arg("toml"), py::arg("source"), py::arg("paths"),
        py::arg("seed"), py::arg("threads"), py::arg("first_path"), py::arg("keep_paths"),
        py::arg("bands"), py::arg("progress"), py::arg("memory_limit") = 0);
}
