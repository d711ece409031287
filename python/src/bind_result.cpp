// capexsim._core: the Result class (NumPy views of its arrays, summaries, bands, bytes),
// paired comparison and the merges of path ranges (merge, merge_bytes).

#include "bind.hpp"

namespace capexsim_python {

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

}  // namespace

void bind_result(py::module_& m) {
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
}

}  // namespace capexsim_python
