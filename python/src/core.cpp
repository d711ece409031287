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
  d["cvar05"] = s.cvar05;
  d["mean_ci95"] = s.mean_ci95;
  for (std::size_t q = 0; q < summary_levels.size(); ++q)
    d[py::str(level_name(summary_levels[q]) + "_ci95")] = s.quantiles_ci95[q];
  d["prob_positive_ci95"] = s.prob_positive_ci95;
  d["cvar95_ci95"] = s.cvar95_ci95;
  d["cvar05_ci95"] = s.cvar05_ci95;
  d["nan_share_ci95"] = s.nan_share_ci95;
  return d;
}

Series series_from_name(const std::string& name) {
  try {
    return series_by_name(name);
  } catch (const std::out_of_range& e) {
    throw py::value_error(e.what());
  }
}

py::dict band_dict(const Result& r, const std::string& name) {
  series_from_name(name);  // a ValueError listing every series for an unknown name
  std::vector<BandRow> rows;
  try {
    rows = r.band(name);
  } catch (const std::out_of_range& e) {
    throw py::value_error(e.what());
  }
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

template <class Work>
Result in_worker(Work&& work, std::atomic<std::uint64_t>& done, std::atomic<bool>& cancel,
                 std::uint64_t paths, py::object progress);

/// The scenario of `toml`, with its sampling replaced when `sampling` is not empty.
Scenario load_with_sampling(const std::string& toml, const std::string& source,
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

/// Run on a worker thread while this thread, GIL released, waits in 50 ms slices; between
/// slices it takes the GIL to check for Ctrl-C (KeyboardInterrupt) and report progress.
Result simulate(const std::string& toml, const std::string& source, std::uint64_t paths,
                std::uint64_t seed, int threads, std::uint64_t first_path, bool keep_paths,
                bool bands, py::object progress, const std::string& sampling,
                std::uint64_t design_paths, std::uint64_t memory_limit) {
  const Scenario scenario = load_with_sampling(toml, source, sampling);
  const PathModel model(scenario);
  RunOptions o;
  o.design_paths = design_paths;
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
  return in_worker([&] { return run(model, o); }, done, cancel, paths, progress);
}

/// Run `work` on a worker thread (see simulate).
template <class Work>
Result in_worker(Work&& work, std::atomic<std::uint64_t>& done, std::atomic<bool>& cancel,
                 std::uint64_t paths, py::object progress) {
  std::promise<void> finished;
  std::future<void> ready = finished.get_future();
  Result result;
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

/// run_to_target on a worker thread; progress(paths so far, max_paths) after each batch.
py::tuple simulate_target(const std::string& toml, const std::string& source,
                          const std::string& target_text, std::uint64_t first_paths,
                          std::uint64_t max_paths, std::uint64_t seed, int threads, bool keep_paths,
                          bool bands, py::object progress, const std::string& sampling) {
  const Scenario scenario = load_with_sampling(toml, source, sampling);
  Target target;
  try {
    target = parse_target(target_text);
  } catch (const std::invalid_argument& e) {
    throw py::value_error(e.what());
  }
  RunOptions o;
  o.seed = seed;
  o.threads = threads;
  o.keep_paths = keep_paths;
  o.bands = bands;
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> cancel{false};
  o.progress = [&](std::uint64_t, std::uint64_t) { return !cancel.load(); };
  TargetOptions to;
  to.first_paths = first_paths;
  to.max_paths = max_paths;
  to.on_batch = [&](const TargetProgress& p) {
    done.store(p.paths);
    return !cancel.load();
  };
  TargetResult t;
  Result r = in_worker(
      [&] {
        try {
          t = run_to_target(scenario, o, target, to);
        } catch (const std::invalid_argument& e) {
          throw py::value_error(e.what());
        }
        return std::move(t.result);
      },
      done, cancel, max_paths, progress);
  py::list batches;
  for (const auto& b : t.batches)
    batches.append(py::dict(py::arg("paths") = b.paths, py::arg("estimate") = b.estimate,
                            py::arg("ci95") = b.half_width, py::arg("wanted_ci95") = b.wanted));
  py::dict info(py::arg("target") = target.to_string(), py::arg("reached") = t.reached,
                py::arg("paths") = t.final.paths, py::arg("estimate") = t.final.estimate,
                py::arg("ci95") = t.final.half_width, py::arg("wanted_ci95") = t.final.wanted,
                py::arg("batches") = batches);
  return py::make_tuple(std::move(r), info);
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
  auto info_dict = [](const QuantityInfo& q) {
    py::dict d;
    d["name"] = q.name;
    d["unit"] = q.unit;
    d["kind"] = kind_name(q.kind);
    d["adverse_tail"] = tail_name(q.adverse);
    d["description"] = q.description;
    return d;
  };
  m.def(
      "describe_output", [=](const std::string& name) { return info_dict(describe_output(name)); },
      py::arg("name"), "Unit, kind, adverse tail and description of an output (the schema).");
  m.def(
      "describe_series",
      [=](const std::string& name) { return info_dict(series_info(series_by_name(name))); },
      py::arg("name"), "Unit, kind, adverse tail and description of a series (the schema).");
  m.def(
      "series_names",
      [](bool optional) {
        std::vector<std::string> v;
        const std::size_t n = optional ? series_count : base_series_count;
        for (std::size_t k = 0; k < n; ++k) v.push_back(series_name(static_cast<Series>(k)));
        return v;
      },
      py::arg("optional") = false,
      "Series every run bands; with optional=True also those of optional features.");
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
      .def_readonly("series_names", &Result::series_names)
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
      .def(
          "exceedance",
          [](const Result& r, std::size_t k, double v) {
            const Exceedance e = r.exceedance(k, v);
            return std::make_pair(e.prob, e.ci95);
          },
          py::arg("output"), py::arg("threshold"))
      .def("to_bytes", [](const Result& r) { return py::bytes(r.to_bytes()); })
      .def_static("from_bytes",
                  [](const py::bytes& b) { return Result::from_bytes(std::string(b)); });

  m.def(
      "compare",
      [](const Result& a, const Result& b) {
        py::list rows;
        for (const PairedDifference& d : compare(a, b)) {
          py::dict row;
          row["output"] = d.output;
          row["count"] = d.count;
          row["diff"] = d.mean;
          row["stderr"] = d.se;
          row["z"] = d.z;
          row["significant"] = d.significant;
          rows.append(row);
        }
        return rows;
      },
      py::arg("a"), py::arg("b"),
      "Paired differences B - A per common output (capexsim::compare), one dict per output.");
  m.def("merge", &merge, py::arg("a"), py::arg("b"),
        "Merge results of adjacent path ranges of the same scenario and seed.");
  m.def("simulate", &simulate, py::arg("toml"), py::arg("source"), py::arg("paths"),
        py::arg("seed"), py::arg("threads"), py::arg("first_path"), py::arg("keep_paths"),
        py::arg("bands"), py::arg("progress"), py::arg("sampling") = "",
        py::arg("design_paths") = 0, py::arg("memory_limit") = 0);
  m.def("simulate_target", &simulate_target, py::arg("toml"), py::arg("source"), py::arg("target"),
        py::arg("first_paths"), py::arg("max_paths"), py::arg("seed"), py::arg("threads"),
        py::arg("keep_paths"), py::arg("bands"), py::arg("progress"), py::arg("sampling") = "");
  m.def(
      "sampling_note",
      [](const std::string& method, std::uint64_t n) {
        const auto m = sampling_from_name(method);
        return m ? sampling_note(*m, n) : std::string();
      },
      py::arg("method"), py::arg("design_paths"));
}
