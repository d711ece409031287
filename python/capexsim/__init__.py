"""capexsim: Monte Carlo of an AI lab's compute buildout and its funding gap.

>>> import capexsim
>>> sc = capexsim.Scenario.from_toml("scenarios/ai-lab-2025.toml")
>>> res = capexsim.simulate(sc, paths=100_000, seed=1)
>>> res.summary().loc["funding_gap", ["mean", "p5", "p50", "p95"]]
>>> res.plot_fan("cash")

Money in $B, capacity in GW, time in years. A run is a pure function of
(scenario, seed, paths): the same numbers, bit for bit, as the C++ library and CLI.

This file is the package's face only: imports, ``__all__`` and the version. The code lives
in modules by role (``_run``: simulate and merge; ``_compare``; ``result``; ``sensitivity``;
``plotting``; ``report``; ``excel``; ``distributed``); the private helpers they share in
``_args``, ``_progress``, ``_files`` and ``_tables``, which import none of them back
(tests/python/test_imports.py checks that the package has no import circle).
"""
from __future__ import annotations

from . import _core
from ._args import MAX_THREADS, ScenarioLike, _as_scenario, _count, _labs, _threads  # noqa: F401
from ._compare import compare
from ._run import _finish, _sampling_of, merge, simulate  # noqa: F401
from .errors import ScenarioError
from .excel import export_excel
from .plotting import (plot_cdf, plot_compare, plot_diff, plot_fan, plot_hist, plot_sobol,
                       plot_sobol_over_time, plot_tornado, scenario_events)
from .report import report as write_report
from .result import SERIES, Result, output_unit
from .scenario import Scenario
from .sensitivity import Calibration, calibrate, sensitivity, sobol_indices
from . import distributed  # noqa: E402,I100  (Dask itself is imported only when used)

__version__ = _core.__version__
__all__ = ["Scenario", "ScenarioError", "Result", "simulate", "compare", "merge", "plot_fan",
           "plot_hist", "plot_compare", "output_unit", "SERIES", "plot_cdf", "plot_diff",
           "scenario_events", "export_excel", "write_report", "distributed", "sensitivity",
           "calibrate", "Calibration", "sobol_indices", "plot_tornado", "plot_sobol",
           "plot_sobol_over_time"]
