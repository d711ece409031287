"""capexsim: Monte Carlo of an AI lab's compute buildout and its funding gap.

>>> import capexsim
>>> sc = capexsim.Scenario.from_toml("scenarios/ai-lab-2025.toml")
>>> res = capexsim.simulate(sc, paths=100_000, seed=1)
>>> res.summary().loc["funding_gap", ["mean", "p5", "p50", "p95"]]
>>> res.plot_fan("cash")

Money in $B, capacity in GW, time in years. A run is a pure function of
(scenario, seed, paths): the same numbers, bit for bit, as the C++ library and CLI.
"""
from __future__ import annotations

import os
from typing import Callable, Optional, Union

import numpy as np
import pandas as pd

from . import _core
from .errors import ScenarioError
from .excel import export_excel
from .plotting import plot_cdf, plot_compare, plot_diff, plot_fan, plot_hist, scenario_events
from .report import report as write_report
from .result import Result, output_unit
from .scenario import Scenario

__version__ = _core.__version__
__all__ = ["Scenario", "ScenarioError", "Result", "simulate", "compare", "merge", "plot_fan",
           "plot_hist", "plot_compare", "output_unit", "SERIES", "plot_cdf", "plot_diff",
           "scenario_events", "export_excel", "write_report", "distributed"]

#: Names of the per-time series available to Result.bands().
SERIES = list(_core.series_names())

ScenarioLike = Union[Scenario, dict, str, os.PathLike]


def _as_scenario(s: ScenarioLike) -> Scenario:
    if isinstance(s, Scenario):
        return s
    if isinstance(s, dict):
        return Scenario.from_dict(s)
    if isinstance(s, (str, os.PathLike)):
        return Scenario.from_toml(s)
    raise TypeError(f"expected a Scenario, a dict or a path to a TOML file, got {type(s).__name__}")


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # paths=1e6
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def simulate(scenario: ScenarioLike, paths: int = 100_000, seed: int = 1, threads: Optional[int] = None,
             progress: Union[bool, Callable[[int, int], None]] = False, keep_paths: bool = True,
             bands: bool = True, first_path: int = 0) -> Result:
    """Run `paths` Monte Carlo paths of `scenario` with `seed`.

    threads: worker threads (None or 0 = all cores); the result does not depend on it.
    progress: True for a progress bar (text on stderr in a terminal; a widget in a notebook
        when ipywidgets 7+ is installed, otherwise none), or a callable(done, total).
    keep_paths: keep every path's outputs (exact quantiles, ``Result.outputs``).
    bands: accumulate per-time bands for fan charts.
    first_path: run the shard [first_path, first_path + paths) (merge shards with merge()).

    The GIL is released for the whole run; Ctrl-C raises KeyboardInterrupt within ~50 ms.
    """
    sc = _as_scenario(scenario)
    paths = _count(paths, "paths", 1)
    seed = _count(seed, "seed", 0)
    first_path = _count(first_path, "first_path", 0)
    threads = 0 if threads is None else _count(threads, "threads", 0)
    callback = None
    bar = None
    if progress is True:
        from ._progress import make_bar
        bar = make_bar(paths, sc.name)
        if bar is not None:
            def callback(done, total, _bar=bar):
                _bar.update(done - _bar.n)
    elif callable(progress):
        callback = progress
    try:
        core = _core.simulate(sc.to_toml(), sc.source, paths, seed, threads, first_path,
                              bool(keep_paths), bool(bands), callback)
    finally:
        if bar is not None:
            bar.close()
    return Result(core, sc)


def merge(a: Result, b: Result) -> Result:
    """Merge the results of two adjacent path ranges (shards) of one scenario and seed."""
    return a.merge(b)


def compare(a: ScenarioLike, b: ScenarioLike, paths: int = 100_000, seed: int = 1,
            threads: Optional[int] = None) -> pd.DataFrame:
    """Run both scenarios with common random numbers; paired differences per output.

    Columns: unit, mean_a, mean_b, diff (mean of B - A over paths where both are defined),
    stderr (paired), z = diff / stderr, significant (|z| > 3), p50_a, p50_b,
    nan_share_a, nan_share_b.
    """
    ra = simulate(a, paths=paths, seed=seed, threads=threads, bands=False)
    rb = simulate(b, paths=paths, seed=seed, threads=threads, bands=False)
    sa, sb = ra.summary(), rb.summary()
    rows = []
    for d in _core.compare(ra._core, rb._core):  # the library's paired statistics (as the CLI's)
        name = d["output"]
        rows.append({"output": name, "unit": output_unit(name), "mean_a": sa.loc[name, "mean"],
                     "mean_b": sb.loc[name, "mean"], "diff": d["diff"], "stderr": d["stderr"],
                     "z": d["z"], "significant": d["significant"],
                     "p50_a": sa.loc[name, "p50"], "p50_b": sb.loc[name, "p50"],
                     "nan_share_a": sa.loc[name, "nan_share"], "nan_share_b": sb.loc[name, "nan_share"]})
    return pd.DataFrame(rows).set_index("output")


# Imported last (it uses the helpers above); Dask itself is imported only when used.
from . import distributed  # noqa: E402
