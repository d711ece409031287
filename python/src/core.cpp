// capexsim._core: the thin compiled layer under the `capexsim` Python package.
// Scenarios cross this boundary as TOML text (so Python gets the C++ loader's validation
// and messages verbatim); results stay C++ objects whose arrays NumPy views in place.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <future>
#include <thread>
#include <tuple>
#include <type_traits>

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
std::invoke_result_t<Work> in_worker(Work&& work, std::atomic<std::uint64_t>& done,
                                     std::atomic<bool>& cancel, std::uint64_t paths,
                                     py::object progress);

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

/// Joint runs (docs/model.md §12.6) from (name, lab TOML, lab source) each, into `o`;
/// a bad pair raises ValueError naming the problem.
using Labs = std::vector<std::tuple<std::string, std::string, std::string>>;
void add_counterparties(const Scenario& scenario, const Labs& labs, RunOptions& o) {
  for (const auto& [name, lab_toml, lab_source] : labs) {
    try {
      o.counterparties.push_back(joint_run(scenario, parse_scenario(lab_toml, lab_source), name));
    } catch (const std::invalid_argument& e) {
      throw py::value_error(e.what());
    }
  }
}

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

/// Run `work` on a worker thread (see simulate).
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

// --- Sensitivity (docs/sensitivity.md) ------------------------------------------------

Statistic statistic_of(const std::string& text) {
  return parse_statistic(text);
}

/// Options of a sensitivity run, with a progress hook the worker updates.
struct Progress {
  std::atomic<std::uint64_t> done{0};
  std::atomic<bool> cancel{false};
  std::uint64_t total = 0;
};
RunOptions sensitivity_options(std::uint64_t paths, std::uint64_t seed, int threads, Progress& p) {
  RunOptions o;
  o.paths = paths;
  o.seed = seed;
  o.threads = threads;
  o.progress = [&p](std::uint64_t d, std::uint64_t total) {
    p.done.store(d);
    p.total = total;
    return !p.cancel.load();
  };
  return o;
}

py::dict sobol_rows(const std::vector<SobolIndex>& rows) {
  std::vector<std::string> name;
  std::vector<double> S, S_lo, S_hi, ST, ST_lo, ST_hi;
  for (const auto& r : rows) {
    name.push_back(r.name);
    S.push_back(r.S);
    S_lo.push_back(r.S_lo);
    S_hi.push_back(r.S_hi);
    ST.push_back(r.ST);
    ST_lo.push_back(r.ST_lo);
    ST_hi.push_back(r.ST_hi);
  }
  return py::dict(py::arg("factor") = name, py::arg("S") = S, py::arg("S_lo") = S_lo,
                  py::arg("S_hi") = S_hi, py::arg("ST") = ST, py::arg("ST_lo") = ST_lo,
                  py::arg("ST_hi") = ST_hi);
}

py::dict rank_table(const Result& r, const std::string& output) {
  const RankTable t = rank_sensitivity(r, output);
  std::vector<std::string> factor;
  std::vector<double> rho, srrc, contribution, event;
  for (const auto& row : t.rows) {
    factor.push_back(row.factor);
    rho.push_back(row.spearman);
    srrc.push_back(row.srrc);
    contribution.push_back(row.contribution);
    event.push_back(row.event_spearman);
  }
  py::dict rows(py::arg("factor") = factor, py::arg("spearman") = rho, py::arg("srrc") = srrc,
                py::arg("contribution") = contribution, py::arg("event_spearman") = event);
  return py::dict(py::arg("output") = t.output, py::arg("paths") = t.paths,
                  py::arg("defined") = t.defined, py::arg("nan_share") = t.nan_share,
                  py::arg("r2") = t.r2, py::arg("rows") = rows);
}

py::dict tornado_table_dict(const TornadoTable& t, std::uint64_t paths) {
  std::vector<std::string> factor, kind;
  std::vector<double> lo, hi, s_lo, s_base, s_hi, swing;
  for (const auto& r : t.rows) {
    factor.push_back(r.factor);
    lo.push_back(r.low_input);
    hi.push_back(r.high_input);
    s_lo.push_back(r.stat_low);
    s_base.push_back(r.stat_base);
    s_hi.push_back(r.stat_high);
    swing.push_back(r.swing);
    kind.push_back(r.varied ? "vary" : "pin");
  }
  py::dict rows(py::arg("factor") = factor, py::arg("low_input") = lo, py::arg("high_input") = hi,
                py::arg("stat_low") = s_lo, py::arg("stat_base") = s_base,
                py::arg("stat_high") = s_hi, py::arg("swing") = swing, py::arg("kind") = kind);
  return py::dict(py::arg("output") = t.output, py::arg("statistic") = t.statistic,
                  py::arg("base") = t.base, py::arg("base_ci95") = t.base_ci95,
                  py::arg("base_nan_share") = t.base_nan_share, py::arg("paths") = paths,
                  py::arg("rows") = rows);
}

TornadoOptions tornado_options(double low, double high, const std::vector<std::string>& vary) {
  TornadoOptions to;
  to.low = low;
  to.high = high;
  for (const auto& v : vary) to.vary.push_back(parse_vary(v));
  return to;
}

py::dict tornado_dict(const std::string& toml, const std::string& source, const std::string& output,
                      const std::string& stat, std::uint64_t paths, std::uint64_t seed, int threads,
                      double low, double high, const std::vector<std::string>& vary,
                      py::object progress, const Labs& labs) {
  const Scenario scenario = parse_scenario(toml, source);
  const Statistic st = statistic_of(stat);
  const TornadoOptions to = tornado_options(low, high, vary);
  Progress p;
  RunOptions o = sensitivity_options(paths, seed, threads, p);
  add_counterparties(scenario, labs, o);
  std::size_t drawn = 0;
  for (const auto& d : scenario.params) drawn += d.is_fixed() ? 0 : 1;
  const std::uint64_t total = paths * (1 + 2 * (drawn + to.vary.size()));
  TornadoTable t = in_worker([&] { return tornado(scenario, output, st, o, to); }, p.done, p.cancel,
                             total, progress);
  return tornado_table_dict(t, paths);
}

/// tornado assumptions=: ([(key, lo, hi)], ["key: why not moved"]).
py::tuple assumptions_of(const std::string& toml, const std::string& source,
                         const std::string& file_text, double share, bool all) {
  const Scenario scenario = parse_scenario(toml, source);
  const AssumptionRanges a = assumption_ranges(scenario, file_text, share, all);
  py::list ranges;
  for (const VaryRange& r : a.ranges) ranges.append(py::make_tuple(r.key, r.lo, r.hi));
  return py::make_tuple(ranges, a.skipped);
}

/// One path range of a tornado, as bytes (TornadoSamples::to_bytes).
py::bytes tornado_samples_bytes(const std::string& toml, const std::string& source,
                                const std::string& output, std::uint64_t paths,
                                std::uint64_t first_path, std::uint64_t seed, int threads,
                                double low, double high, const std::vector<std::string>& vary,
                                const Labs& labs) {
  const Scenario scenario = parse_scenario(toml, source);
  const TornadoOptions to = tornado_options(low, high, vary);
  RunOptions o;
  o.paths = paths;
  o.first_path = first_path;
  o.seed = seed;
  o.threads = threads;
  add_counterparties(scenario, labs, o);
  std::string bytes;
  {
    py::gil_scoped_release release;
    bytes = tornado_samples(scenario, output, o, to).to_bytes();
  }
  return py::bytes(bytes);
}

/// The tornado table of `stat` from the samples of every path range.
py::dict tornado_from_shards(const std::vector<py::bytes>& shards, const std::string& stat) {
  if (shards.empty()) throw py::value_error("tornado_from_shards: no shards");
  const Statistic st = statistic_of(stat);
  std::vector<TornadoSamples> parts;
  for (const auto& b : shards) parts.push_back(TornadoSamples::from_bytes(std::string(b)));
  std::sort(parts.begin(), parts.end(), [](const TornadoSamples& x, const TornadoSamples& y) {
    return x.first_path < y.first_path;
  });
  TornadoSamples all = parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) all = merge(all, parts[i]);
  return tornado_table_dict(tornado_table(all, st), all.paths);
}

py::dict sobol_table_dict(const SobolTable& t);

py::dict sobol_dict(const std::string& toml, const std::string& source, const std::string& output,
                    const std::string& stat, std::uint64_t paths, std::uint64_t seed, int threads,
                    int bootstrap, const std::string& over_time, py::object progress,
                    const Labs& labs) {
  const Scenario scenario = parse_scenario(toml, source);
  const Statistic st = statistic_of(stat);
  Progress p;
  RunOptions o = sensitivity_options(paths, seed, threads, p);
  add_counterparties(scenario, labs, o);
  SobolModelOptions so;
  so.estimator.bootstrap = bootstrap;
  so.over_time = over_time;
  const std::uint64_t total = paths * (sobol_factors(scenario, o.counterparties).size() + 2);
  SobolTable t = in_worker([&] { return sobol_sensitivity(scenario, output, st, o, so); }, p.done,
                           p.cancel, total, progress);
  return sobol_table_dict(t);
}

/// The evaluations of a Sobol analysis over paths [first_path, first_path + paths), as
/// bytes (SobolSamples::to_bytes): one shard of the analysis (capexsim.distributed).
py::bytes sobol_samples_bytes(const std::string& toml, const std::string& source,
                              const std::string& output, const std::string& stat,
                              std::uint64_t paths, std::uint64_t first_path, std::uint64_t seed,
                              int threads, const std::string& over_time, const Labs& labs) {
  const Scenario scenario = parse_scenario(toml, source);
  const Statistic st = statistic_of(stat);
  Progress p;
  RunOptions o = sensitivity_options(paths, seed, threads, p);
  add_counterparties(scenario, labs, o);
  o.first_path = first_path;
  o.progress = nullptr;
  std::string bytes;
  {
    py::gil_scoped_release release;
    bytes = sobol_samples(scenario, output, st, o, over_time).to_bytes();
  }
  return py::bytes(bytes);
}

/// The indices of the merged samples of every shard (any order).
py::dict sobol_from_shards(const std::vector<py::bytes>& shards, int bootstrap) {
  if (shards.empty()) throw py::value_error("sobol_from_shards: no shards");
  std::vector<SobolSamples> parts;
  for (const auto& b : shards) parts.push_back(SobolSamples::from_bytes(std::string(b)));
  std::sort(parts.begin(), parts.end(), [](const SobolSamples& x, const SobolSamples& y) {
    return x.first_path < y.first_path;
  });
  SobolSamples all = parts[0];
  for (std::size_t i = 1; i < parts.size(); ++i) all = merge(all, parts[i]);
  SobolOptions so;
  so.bootstrap = bootstrap;
  SobolTable t;
  {
    py::gil_scoped_release release;
    t = sobol_table(all, so);
  }
  return sobol_table_dict(t);
}

py::dict sobol_table_dict(const SobolTable& t) {
  py::list over;
  for (const auto& rows : t.over_time) over.append(sobol_rows(rows));
  return py::dict(py::arg("output") = t.output, py::arg("statistic") = t.statistic,
                  py::arg("base_paths") = t.base_paths, py::arg("total_paths") = t.total_paths,
                  py::arg("mean") = t.mean, py::arg("variance") = t.variance,
                  py::arg("rows") = sobol_rows(t.rows), py::arg("years") = t.years,
                  py::arg("over_time") = over, py::arg("year_means") = t.year_means,
                  py::arg("year_variances") = t.year_variances);
}

py::dict calibrate_dict(const std::string& toml, const std::string& source, const std::string& vary,
                        const std::string& output, const std::string& stat, double target,
                        std::uint64_t paths, std::uint64_t seed, int threads, py::object progress) {
  const Scenario scenario = parse_scenario(toml, source);
  const Statistic st = statistic_of(stat);
  const VaryRange range = parse_vary(vary);
  Progress p;
  RunOptions o = sensitivity_options(paths, seed, threads, p);
  CalibrateResult r = in_worker([&] { return calibrate(scenario, range, output, st, target, o); },
                                p.done, p.cancel, paths * 40, progress);
  std::vector<double> xs, ys;
  for (const auto& [x, y] : r.evaluations) xs.push_back(x), ys.push_back(y);
  return py::dict(py::arg("key") = r.key, py::arg("output") = r.output,
                  py::arg("statistic") = r.statistic, py::arg("target") = r.target,
                  py::arg("value") = r.value, py::arg("value_ci95") = r.value_ci95,
                  py::arg("achieved") = r.achieved, py::arg("achieved_ci95") = r.achieved_ci95,
                  py::arg("runs") = r.runs, py::arg("evaluated_values") = xs,
                  py::arg("evaluated_statistics") = ys, py::arg("toml") = to_toml(r.scenario));
}

/// capexsim::sobol_indices over a Python function f((m, dims) array) -> m values.
py::dict sobol_of_function(py::function f, std::size_t dims, std::uint64_t n, std::uint64_t seed,
                           int bootstrap, double level, std::vector<std::string> names) {
  SobolOptions so;
  so.seed = seed;
  so.bootstrap = bootstrap;
  so.level = level;
  const SobolBatch batch = [&](const double* u, std::size_t m, std::size_t d, double* y) {
    py::array_t<double> x({static_cast<py::ssize_t>(m), static_cast<py::ssize_t>(d)});
    std::copy(u, u + m * d, x.mutable_data());
    py::array_t<double, py::array::c_style | py::array::forcecast> out =
        py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(f(x));
    if (!out || out.ndim() != 1 || static_cast<std::size_t>(out.shape(0)) != m)
      throw py::value_error("sobol_indices: f must return a 1-D array of " + std::to_string(m) +
                            " values (one per row of its (m, dims) input)");
    std::copy(out.data(), out.data() + m, y);
  };
  return sobol_rows(sobol_indices(batch, dims, n, so, std::move(names)));
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
    } catch (const SensitivityError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
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
      "scenario_sampling",
      [](const std::string& toml, const std::string& source) {
        return std::string(sampling_name(parse_scenario(toml, source).sampling));
      },
      py::arg("toml"), py::arg("source"),
      "The scenario's [simulation] sampling: 'random', 'lhs' or 'sobol'. Raises ScenarioError.");
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
      .def_readonly("input_names", &Result::input_names)
      .def_property_readonly(
          "inputs",
          [](py::object self) {
            const Result& r = self.cast<const Result&>();
            // Column-major paths x drawn inputs, read-only, keeping the Result alive.
            py::array_t<double> a({r.inputs.rows(), r.inputs.cols()},
                                  {static_cast<py::ssize_t>(sizeof(double)),
                                   static_cast<py::ssize_t>(sizeof(double) * r.inputs.rows())},
                                  r.inputs.data(), self);
            py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
            return a;
          })
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
  m.def("merge", static_cast<Result (*)(const Result&, const Result&)>(&merge), py::arg("a"),
        py::arg("b"), "Merge results of adjacent path ranges of the same scenario and seed.");
  m.def(
      "merge_bytes",
      [](const py::list& shards) {
        // Views of the Python objects' memory (bytes, mmap, memoryview: any buffer; no
        // copy), held until the merge, which copies each per-path array once, without the GIL.
        std::vector<py::buffer_info> held;
        std::vector<std::string_view> views;
        held.reserve(shards.size());
        views.reserve(shards.size());
        for (const py::handle h : shards) {
          held.push_back(py::reinterpret_borrow<py::buffer>(h).request());
          const py::buffer_info& b = held.back();
          if (b.ndim != 1 || b.itemsize != 1)
            throw py::type_error("merge_bytes: each shard must be bytes-like");
          views.emplace_back(static_cast<const char*>(b.ptr), static_cast<std::size_t>(b.size));
        }
        py::gil_scoped_release release;
        return merge_bytes(views);
      },
      py::arg("shards"),
      "Merge the bytes (Result.to_bytes; bytes or any buffer, e.g. an mmap) of results of "
      "adjacent path ranges, in any order: "
      "merge() of them all, with each per-path array copied once.");
  m.def(
      "simulate", &simulate, py::arg("toml"), py::arg("source"), py::arg("paths"), py::arg("seed"),
      py::arg("threads"), py::arg("first_path"), py::arg("keep_paths"), py::arg("bands"),
      py::arg("progress"), py::arg("sampling") = "", py::arg("design_paths") = 0,
      py::arg("memory_limit") = 0,
      py::arg("counterparties") = std::vector<std::tuple<std::string, std::string, std::string>>{});
  m.def("simulate_target", &simulate_target, py::arg("toml"), py::arg("source"), py::arg("target"),
        py::arg("first_paths"), py::arg("max_paths"), py::arg("seed"), py::arg("threads"),
        py::arg("keep_paths"), py::arg("bands"), py::arg("progress"), py::arg("sampling") = "");
  m.def("sensitivity_rank", &rank_table, py::arg("result"), py::arg("output"),
        "Rank measures of an output against a result's kept inputs.");
  m.def("tornado_samples", &tornado_samples_bytes, py::arg("toml"), py::arg("source"),
        py::arg("output"), py::arg("paths"), py::arg("first_path"), py::arg("seed"),
        py::arg("threads"), py::arg("low"), py::arg("high"), py::arg("vary"),
        py::arg("counterparties") = Labs{},
        "One path range of a tornado: its evaluations as bytes (see tornado_from_shards).");
  m.def("tornado_from_shards", &tornado_from_shards, py::arg("shards"), py::arg("stat"),
        "The tornado table of a statistic from the samples of every path range.");
  m.def("sensitivity_tornado", &tornado_dict, py::arg("toml"), py::arg("source"), py::arg("output"),
        py::arg("stat"), py::arg("paths"), py::arg("seed"), py::arg("threads"), py::arg("low"),
        py::arg("high"), py::arg("vary"), py::arg("progress"), py::arg("counterparties") = Labs{});
  m.def("assumption_ranges", &assumptions_of, py::arg("toml"), py::arg("source"),
        py::arg("file_text"), py::arg("share"), py::arg("all"),
        "Fixed keys tagged [assumption] in file_text (or all fixed numeric keys) as "
        "(key, value (1 - share), value (1 + share)), and the keys not moved with why.");
  m.def("sensitivity_sobol", &sobol_dict, py::arg("toml"), py::arg("source"), py::arg("output"),
        py::arg("stat"), py::arg("paths"), py::arg("seed"), py::arg("threads"),
        py::arg("bootstrap"), py::arg("over_time"), py::arg("progress"),
        py::arg("counterparties") = Labs{});
  m.def("sobol_samples", &sobol_samples_bytes, py::arg("toml"), py::arg("source"),
        py::arg("output"), py::arg("stat"), py::arg("paths"), py::arg("first_path"),
        py::arg("seed"), py::arg("threads"), py::arg("over_time"),
        py::arg("counterparties") = Labs{},
        "One path range of a Sobol analysis: its evaluations as bytes (merge with "
        "sobol_from_shards).");
  m.def("sobol_from_shards", &sobol_from_shards, py::arg("shards"), py::arg("bootstrap"),
        "Sobol indices from the samples of every path range of one analysis.");
  m.def("calibrate", &calibrate_dict, py::arg("toml"), py::arg("source"), py::arg("vary"),
        py::arg("output"), py::arg("stat"), py::arg("target"), py::arg("paths"), py::arg("seed"),
        py::arg("threads"), py::arg("progress"));
  m.def("sobol_indices", &sobol_of_function, py::arg("f"), py::arg("dims"), py::arg("n"),
        py::arg("seed"), py::arg("bootstrap"), py::arg("level"), py::arg("names"),
        "capexsim::sobol_indices over a Python function of an (m, dims) array of uniforms.");
  m.def(
      "sampling_note",
      [](const std::string& method, std::uint64_t n) {
        const auto m = sampling_from_name(method);
        return m ? sampling_note(*m, n) : std::string();
      },
      py::arg("method"), py::arg("design_paths"));
}
