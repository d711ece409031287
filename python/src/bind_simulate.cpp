// capexsim._core: simulate and simulate_target, each run on a worker thread that
// Ctrl-C and a progress callback can stop.

#include "bind.hpp"

namespace capexsim_python {

namespace {

/// Run on a worker thread while this thread, GIL released, waits in 50 ms slices; between
/// slices it takes the GIL to check for Ctrl-C (KeyboardInterrupt) and report progress.
Result simulate(const std::string& toml, const std::string& source, std::uint64_t paths,
                std::uint64_t seed, int threads, std::uint64_t first_path, bool keep_paths,
                bool bands, py::object progress, const std::string& sampling,
                std::uint64_t design_paths, std::uint64_t memory_limit,
                const std::vector<std::tuple<std::string, std::string, std::string>>& labs) {
  const Scenario scenario = load_with_sampling(toml, source, sampling);
  const PathModel model(scenario);
  RunOptions o;
  add_counterparties(scenario, labs, o);  // joint runs: (name, lab TOML, lab source) each
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

void bind_simulate(py::module_& m) {
  m.def(
      "simulate", &simulate, py::arg("toml"), py::arg("source"), py::arg("paths"), py::arg("seed"),
      py::arg("threads"), py::arg("first_path"), py::arg("keep_paths"), py::arg("bands"),
      py::arg("progress"), py::arg("sampling") = "", py::arg("design_paths") = 0,
      py::arg("memory_limit") = 0,
      py::arg("counterparties") = std::vector<std::tuple<std::string, std::string, std::string>>{});
  m.def("simulate_target", &simulate_target, py::arg("toml"), py::arg("source"), py::arg("target"),
        py::arg("first_paths"), py::arg("max_paths"), py::arg("seed"), py::arg("threads"),
        py::arg("keep_paths"), py::arg("bands"), py::arg("progress"), py::arg("sampling") = "");
}

}  // namespace capexsim_python
