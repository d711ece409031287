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
from .plotting import plot_compare, plot_fan, plot_hist
from .result import Result, output_unit
from .scenario import Scenario

__version__ = _core.__version__
__all__ = ["Scenario", "ScenarioError", "Result", "simulate", "compare", "merge", "plot_fan",
           "plot_hist", "plot_compare", "output_unit", "SERIES"]

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
             bands: bool = True, first_path: int = 0, memory_limit: Optional[int] = None) -> Result:
    """Run `paths` Monte Carlo paths of `scenario` with `seed`.

    threads: worker threads (None = all cores); the result does not depend on it.
    progress: True for a tqdm bar, or a callable(done, total).
    keep_paths: keep every path's outputs (exact quantiles, ``Result.outputs``).
    bands: accumulate per-time bands for fan charts.
    first_path: run the shard [first_path, first_path + paths) (merge shards with merge()).
    memory_limit: bytes; a run estimated to need more raises MemoryError before it starts
    (None = 80% of the memory available now).

    The GIL is released for the whole run; Ctrl-C raises KeyboardInterrupt within ~50 ms.
    """
    sc = _as_scenario(scenario)
    paths = _count(paths, "paths", 1)
    seed = _count(seed, "seed", 0)
    first_path = _count(first_path, "first_path", 0)
    threads = 0 if threads is None else _count(threads, "threads", 1)
    limit = 0 if memory_limit is None else _count(memory_limit, "memory_limit", 1)
    callback = None
    bar = None
    if progress is True:
        from tqdm.auto import tqdm
        bar = tqdm(total=paths, unit="path", unit_scale=True, desc=sc.name)

        def callback(done, total, _bar=bar):
            _bar.update(done - _bar.n)
    elif callable(progress):
        callback = progress
    try:
        core = _core.simulate(sc.to_toml(), sc.source, paths, seed, threads, first_path,
                              bool(keep_paths), bool(bands), callback, limit)
    finally:
        if bar is not None:
            bar.close()
    return Result(core)


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
    for name in ra.output_names:
        if name not in rb.output_names:
            continue
        x, y = ra.outputs[name], rb.outputs[name]
        ok = ~(np.isnan(x) | np.isnan(y))
        d = y[ok] - x[ok]
        n = d.size
        diff = d.mean() if n else np.nan
        se = d.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
        z = diff / se if n > 1 and se > 0 else (0.0 if n > 1 and diff == 0 else np.inf if n > 1 else np.nan)
        rows.append({"output": name, "unit": output_unit(name), "mean_a": sa.loc[name, "mean"],
                     "mean_b": sb.loc[name, "mean"], "diff": diff, "stderr": se, "z": z,
                     "significant": bool(np.abs(z) > 3) if not np.isnan(z) else False,
                     "p50_a": sa.loc[name, "p50"], "p50_b": sb.loc[name, "p50"],
                     "nan_share_a": sa.loc[name, "nan_share"], "nan_share_b": sb.loc[name, "nan_share"]})
    return pd.DataFrame(rows).set_index("output")
