// capexsim._core: scenarios (validate, resolve, load, fingerprint), the output and
// series schema, the quantile levels and the sampling note.

#include "bind.hpp"

namespace capexsim_python {

void bind_scenario(py::module_& m) {
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
  m.def(
      "sampling_note",
      [](const std::string& method, std::uint64_t n) {
        const auto m = sampling_from_name(method);
        return m ? sampling_note(*m, n) : std::string();
      },
      py::arg("method"), py::arg("design_paths"));
}

}  // namespace capexsim_python
