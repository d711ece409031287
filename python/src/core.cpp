// capexsim._core: the thin compiled layer under the `capexsim` Python package.
// Scenarios cross this boundary as TOML text (so Python gets the C++ loader's validation
// and messages verbatim); results stay C++ objects whose arrays NumPy views in place.
// Each role's bindings live in a bind_*.cpp file (declared in bind.hpp); this file
// defines the module, its exception translation, and calls them in order (Result is
// registered before the functions that take or return it).

#include "bind.hpp"

namespace py = pybind11;
using namespace capexsim;

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

  capexsim_python::bind_scenario(m);
  capexsim_python::bind_result(m);
  capexsim_python::bind_simulate(m);
  capexsim_python::bind_sensitivity(m);
}
