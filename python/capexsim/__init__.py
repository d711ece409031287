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
from .plotting import (plot_cdf, plot_compare, plot_diff, plot_fan, plot_hist, plot_sobol,
                       plot_sobol_over_time, plot_tornado, scenario_events)
from .report import report as write_report
from .result import Result, output_unit
from .scenario import Scenario
from .sensitivity import Calibration, calibrate, sensitivity, sobol_indices

__version__ = _core.__version__
__all__ = ["Scenario", "ScenarioError", "Result", "simulate", "compare", "merge", "plot_fan",
           "plot_hist", "plot_compare", "output_unit", "SERIES", "plot_cdf", "plot_diff",
           "scenario_events", "export_excel", "write_report", "distributed", "sensitivity",
           "calibrate", "Calibration", "sobol_indices", "plot_tornado", "plot_sobol",
           "plot_sobol_over_time"]

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
    if value >= 2**64:  # every count and the seed are 64-bit in the engine
        raise ValueError(f"{name} must be below 2**64, got {value!r}")
    return int(value)


def _labs(counterparties: Optional[dict]) -> list:
    """``{name: lab}`` as the (name, lab TOML, lab source) list the core takes."""
    if counterparties is None:
        return []
    if not isinstance(counterparties, dict):
        raise ValueError("counterparties must be a dict {name: lab scenario}, got "
                         f"{type(counterparties).__name__}")
    labs = []
    for name, lab in counterparties.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"counterparties: a name must be a non-empty str, got {name!r}")
        lab_sc = _as_scenario(lab)
        labs.append((name, lab_sc.to_toml(), lab_sc.source))
    return labs


def _revenue_contracts(sc: Scenario) -> list:
    return [c.get("name") for c in sc.to_dict().get("revenue_contract", [])]


MAX_THREADS = 4096  # as the command line's --threads


def _threads(value) -> int:
    """threads=: None or 0 (all cores) to 4096, as the command line's --threads."""
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_THREADS:
        raise ValueError(f"threads must be a whole number from 0 (all cores) to {MAX_THREADS}, "
                         f"got {value!r}")
    return int(value)


def simulate(scenario: ScenarioLike, paths: Optional[int] = None, seed: int = 1, threads: Optional[int] = None,
             progress: Union[bool, Callable[[int, int], None]] = False, keep_paths: bool = True,
             bands: bool = True, first_path: int = 0, sampling: Optional[str] = None,
             design_paths: Optional[int] = None,
             thresholds: Optional[dict] = None, target=None,
             max_paths: Optional[int] = None, memory_limit: Optional[int] = None,
             counterparties: Optional[dict] = None) -> Result:
    """Run `paths` Monte Carlo paths of `scenario` with `seed`.

    threads: worker threads (None or 0 = all cores); the result does not depend on it.
    progress: True for a progress bar (text on stderr in a terminal; a widget in a notebook
        when ipywidgets 7+ is installed, otherwise none), or a callable(done, total).
    keep_paths: keep every path's outputs (exact quantiles, ``Result.outputs``).
    bands: accumulate per-time bands for fan charts.
    first_path: run the shard [first_path, first_path + paths) (merge shards with merge()).
    sampling: "random", "lhs" or "sobol" for the static inputs (None = the scenario's
        ``simulation.sampling``, else random); see docs/statistics.md.
    design_paths: the whole run's path count when this call is one shard of an lhs/sobol
        run (None = first_path + paths). ``Result.notes`` says when Sobol is not run at a
        power of two.
    thresholds: {output: [v1, ...]} for ``Result.exceedance()``, added to the scenario's
        ``[outputs] thresholds``.
    target: run batches of growing size until a statistic's 95% half-width is within a
        tolerance: ``("funding_gap", "p95", 0.005)`` (relative: 0.5% of the estimate),
        ``("runway", "nan_share", 0.002, "abs")`` (absolute), or the CLI's text
        ``"funding_gap.p95:0.5%"``. ``paths`` is then the first batch (default 10,000;
        8,192 with sobol), ``max_paths`` the cap (default 10,000,000). ``Result.target``
        says whether it was reached, the estimate, half-width and each batch. The result
        equals a fixed run of its final path count, bit for bit. Not with lhs sampling.
    memory_limit: bytes; a run estimated to need more raises MemoryError before it starts
    (None = 80% of the memory available now).
    counterparties: ``{name: lab}`` (one entry today): a joint run (docs/model.md §12.6).
        The lab scenario runs on the same paths, and the scenario's ``[[revenue_contract]]``
        ``name`` is paid, path by path, what the lab paid on its ``[[contract]]`` ``name``
        (arrears included). ValueError names a missing contract or a different time grid.

    The GIL is released for the whole run; Ctrl-C raises KeyboardInterrupt within ~50 ms.
    """
    sc = _as_scenario(scenario)
    if target is not None:
        return _simulate_target(sc, target, paths, max_paths, seed, threads, progress,
                                keep_paths, bands, sampling, thresholds)
    if max_paths is not None:
        raise ValueError("max_paths is the cap of a target run; without target use paths")
    labs = _labs(counterparties)
    paths = _count(100_000 if paths is None else paths, "paths", 1)
    seed = _count(seed, "seed", 0)
    first_path = _count(first_path, "first_path", 0)
    threads = _threads(threads)
    if sampling is not None and sampling not in ("random", "lhs", "sobol"):
        raise ValueError(f"sampling must be 'random', 'lhs' or 'sobol', got {sampling!r}")
    design = 0 if design_paths is None else _count(design_paths, "design_paths", 1)
    limit = 0 if memory_limit is None else _count(memory_limit, "memory_limit", 1)
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
                              bool(keep_paths), bool(bands), callback, sampling or "", design, limit,
                              labs)
    finally:
        if bar is not None:
            bar.close()
    res = Result(core, sc)
    method = sampling or _sampling_of(sc)
    note = _core.sampling_note(method, design or first_path + paths)
    _finish(res, sc, method, note, thresholds)
    return res


def _target_text(target) -> str:
    if isinstance(target, str):
        return target
    if isinstance(target, tuple) and len(target) in (3, 4):
        output, stat, tol = target[:3]
        kind = target[3] if len(target) == 4 else "rel"
        if kind not in ("rel", "abs"):
            raise ValueError(f"target: the 4th element must be 'rel' or 'abs', got {kind!r}")
        if isinstance(tol, bool) or not isinstance(tol, (int, float)):
            raise ValueError(f"target: the tolerance must be a number, got {tol!r}")
        return f"{output}.{stat}:{float(tol) * 100!r}%" if kind == "rel" else f"{output}.{stat}:{float(tol)!r}"
    raise ValueError("target must be 'OUTPUT.STAT:TOL' or (output, statistic, tolerance[, 'abs']), "
                     f"got {target!r}")


def _simulate_target(sc, target, paths, max_paths, seed, threads, progress, keep_paths, bands,
                     sampling, thresholds):
    if sampling is not None and sampling not in ("random", "lhs", "sobol"):
        raise ValueError(f"sampling must be 'random', 'lhs' or 'sobol', got {sampling!r}")
    first = 0 if paths is None else _count(paths, "paths", 1)
    cap = 10_000_000 if max_paths is None else _count(max_paths, "max_paths", 1)
    seed = _count(seed, "seed", 0)
    threads = _threads(threads)
    callback = progress if callable(progress) else None
    bar = None
    if progress is True:
        from tqdm.auto import tqdm
        bar = tqdm(total=cap, unit="path", unit_scale=True, desc=f"{sc.name} (to target)")

        def callback(done, total, _bar=bar):
            _bar.update(done - _bar.n)
    try:
        core, info = _core.simulate_target(sc.to_toml(), sc.source, _target_text(target), first,
                                           cap, seed, threads, bool(keep_paths), bool(bands),
                                           callback, sampling or "")
    finally:
        if bar is not None:
            bar.close()
    res = Result(core, sc)
    method = sampling or _sampling_of(sc)
    note = _core.sampling_note(method, res.n_paths)
    _finish(res, sc, method, note, thresholds)
    res.target = dict(info)
    return res


def _finish(res, sc, method, note, thresholds):
    res.sampling = method
    res.notes = [note] if note else []
    merged = {k: list(v) for k, v in _thresholds_of(sc).items()}
    for name, values in (thresholds or {}).items():
        values = list(values) if isinstance(values, (list, tuple)) else [values]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not np.isfinite(v):
                raise ValueError(f"thresholds: {name}: {v!r} is not a finite number")
        merged.setdefault(name, []).extend(float(v) for v in values)
    for name in merged:
        if name not in res.output_names:
            raise ValueError(f"thresholds: no output named {name!r}; expected one of: "
                             f"{', '.join(res.output_names)}")
    res.thresholds = merged


def _thresholds_of(sc: Scenario) -> dict:
    return dict(sc.to_dict().get("outputs", {}).get("thresholds", {}))


def _sampling_of(sc: Scenario) -> str:
    # The engine's own reading of [simulation] sampling, not a second parser here.
    return _core.scenario_sampling(sc.to_toml(), sc._source)


def merge(a: Result, b: Result) -> Result:
    """Merge the results of two adjacent path ranges (shards) of one scenario and seed."""
    return a.merge(b)


def compare(a: ScenarioLike, b: ScenarioLike, paths: int = 100_000, seed: int = 1,
            threads: Optional[int] = None, counterparties: Optional[dict] = None,
            counterparties_a: Optional[dict] = None,
            counterparties_b: Optional[dict] = None) -> pd.DataFrame:
    """Run both scenarios with common random numbers; paired differences per output.

    Columns: unit, mean_a, mean_b, diff (mean of B - A over paths where both are defined),
    stderr (paired), z = diff / stderr, significant (|z| > 3), p50_a, p50_b,
    nan_share_a, nan_share_b.

    counterparties: ``{name: lab}``: joint runs (docs/model.md §12.6) on each side whose
        scenario has the ``[[revenue_contract]]`` ``name`` (as ``simulate(...,
        counterparties=)``; a name neither side has raises ValueError).
    counterparties_a, counterparties_b: ``{name: lab}`` for A or B only (an entry wins over
        ``counterparties`` of the same name). Each side takes one lab today. A missing
        contract, a different time grid or a bad entry raises ValueError.
    """
    sa, sb = _as_scenario(a), _as_scenario(b)
    if counterparties is not None and not isinstance(counterparties, dict):
        raise ValueError("counterparties must be a dict {name: lab scenario}")
    shared = dict(counterparties or {})
    for name in shared:
        if name not in _revenue_contracts(sa) and name not in _revenue_contracts(sb):
            raise ValueError(f"counterparties: neither A ({sa.name}) nor B ({sb.name}) has a "
                             f'[[revenue_contract]] named "{name}"')

    def side(sc, own, which):
        if own is not None and not isinstance(own, dict):
            raise ValueError(f"counterparties_{which} must be a dict {{name: lab scenario}}")
        labs = dict(own or {})
        for name, lab in shared.items():
            if name in _revenue_contracts(sc) and name not in labs:
                labs[name] = lab
        if len(labs) > 1:
            raise ValueError(f"{which.upper()} gets {len(labs)} counterparty labs "
                             f"({', '.join(labs)}); one per run today")
        return labs or None

    la, lb = side(sa, counterparties_a, "a"), side(sb, counterparties_b, "b")
    ra = simulate(sa, paths=paths, seed=seed, threads=threads, bands=False, counterparties=la)
    rb = simulate(sb, paths=paths, seed=seed, threads=threads, bands=False, counterparties=lb)
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
