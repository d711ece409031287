// capexsim._core: sensitivity (docs/sensitivity.md): rank measures, tornado, Sobol
// (whole runs and path-range shards), calibrate and sobol_indices of a Python function.

#include "bind.hpp"

namespace capexsim_python {

namespace {

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

void bind_sensitivity(py::module_& m) {
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
}

}  // namespace capexsim_python
