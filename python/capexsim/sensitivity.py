"""What drives an output: rank measures, a tornado, Sobol indices, and goal seek.

Every method is a set of ordinary runs of the C++ engine (same seed, other switches), so it
is as reproducible as :func:`capexsim.simulate`: the same arguments give the same table,
bit for bit, on any number of threads.

>>> import capexsim
>>> capexsim.sensitivity("scenarios/ai-lab-2025.toml", "rank")          # one run, 100,000 paths
>>> capexsim.sensitivity("scenarios/ai-lab-2025.toml", "tornado")       # 1 + 2 k runs
>>> capexsim.sensitivity("scenarios/ai-lab-2025.toml", "sobol")         # pick-freeze, N (k + 2) paths
>>> capexsim.calibrate("scenarios/ai-lab-2025.toml", "revenue.growth0=0.3:1.5",
...                    "arr_at_2030.p50=100")

The methods (the C++ layer's, include/capexsim/sensitivity.hpp):

- ``rank``: Spearman correlation of each drawn input with the output over one run's paths,
  the standardised rank-regression coefficients (srrc), each input's share of the rank
  variance (``contribution``, summing to R²) and the rank correlation with "the output is
  defined" (``event_spearman``, for event times that may never happen).
- ``tornado``: one at a time, each drawn input pinned at its ``low`` and ``high`` quantile
  (each ``vary`` key at its LO and HI), every other random number as in the base run
  (common random numbers); the statistic at each end and the swing between them.
- ``sobol``: first-order (S) and total (ST) Sobol indices of the drawn inputs and of the
  model's process groups (pace, cost, demand, growth and one per source of financing
  draws), by pick-freeze, with bootstrap intervals.
"""
from __future__ import annotations

import dataclasses
import math
import os
from typing import Callable, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _core
from ._args import _as_scenario, _count, _labs, _threads
from ._files import _write_atomic
from ._progress import progress_callback
from ._run import simulate
from .scenario import Scenario

# The vocabulary and the frames live in _tables (shared with result, plotting and
# distributed); imported here under their old names, which capexsim.sensitivity keeps.
from ._tables import (DEFAULT_PATHS, METHODS, PROCESS_GROUPS, RANK_COLUMNS,  # noqa: F401
                      SOBOL_COLUMNS, TORNADO_COLUMNS, _bootstrap_count, _frame, _rank_frame,
                      _sobol_frame, _tornado_frame)


# -- argument helpers --------------------------------------------------------------------
def _number_text(x, what: str) -> str:
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise ValueError(f"{what}: expected a number, got {x!r}")
    return repr(float(x))


def _vary_text(v) -> str:
    """One vary range as the C++ layer's "KEY=LO:HI"."""
    if isinstance(v, str):
        return v
    if isinstance(v, (tuple, list)) and len(v) == 3 and isinstance(v[0], str):
        key, lo, hi = v
        return f"{key}={_number_text(lo, key)}:{_number_text(hi, key)}"
    raise ValueError(f"vary: expected 'KEY=LO:HI' or (key, lo, hi), got {v!r}")


def _vary_list(vary) -> list[str]:
    """vary as given to sensitivity(): None, {key: (lo, hi)}, "KEY=LO:HI", or a list of
    "KEY=LO:HI" strings / (key, lo, hi) tuples."""
    if vary is None:
        return []
    if isinstance(vary, str):
        return [vary]
    if isinstance(vary, dict):
        out = []
        for key, rng in vary.items():
            if not isinstance(rng, (tuple, list)) or len(rng) != 2:
                raise ValueError(f"vary[{key!r}]: expected (lo, hi), got {rng!r}")
            out.append(_vary_text((key, rng[0], rng[1])))
        return out
    if isinstance(vary, (list, tuple)):
        if len(vary) == 3 and isinstance(vary[0], str) and not isinstance(vary[1], str):
            return [_vary_text(tuple(vary))]  # one (key, lo, hi)
        return [_vary_text(v) for v in vary]
    raise ValueError(f"vary: expected a dict {{key: (lo, hi)}} or a list of 'KEY=LO:HI', got {vary!r}")


def _target_parts(target) -> tuple[str, str, float]:
    """(output, statistic, value) of "OUTPUT.STAT=VALUE" or (output, stat, value)."""
    if isinstance(target, str):
        left, eq, value = target.rpartition("=")
        output, dot, stat = left.rpartition(".")
        if not eq or not dot or not output or not stat:
            raise ValueError(f"target {target!r}: expected OUTPUT.STAT=VALUE, e.g. arr_at_2030.p50=100")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"target {target!r}: the value {value!r} is not a number") from None
        return output, stat, number
    if isinstance(target, (tuple, list)) and len(target) == 3:
        output, stat, value = target
        return str(output), str(stat), float(_number_text(value, "target"))
    raise ValueError(f"target: expected 'OUTPUT.STAT=VALUE' or (output, stat, value), got {target!r}")


# -- sensitivity ---------------------------------------------------------------------------
def sensitivity(scenario, method: str = "rank", output: str = "funding_gap", stat: str = "mean",
                paths: Optional[int] = None, seed: int = 1, threads: Optional[int] = None,
                low: float = 0.1, high: float = 0.9, vary=None, over_time: Optional[str] = None,
                bootstrap: int = 1000, assumptions: Optional[float] = None, assumptions_all: bool = False,
                progress: Union[bool, Callable[[int, int], None]] = False,
                counterparties: Optional[dict] = None) -> pd.DataFrame:
    """What drives `output` of `scenario`: a DataFrame indexed by factor.

    scenario: a Scenario, a dict or a path to a TOML file (as :func:`capexsim.simulate`).
    method:
        ``"rank"`` (one run of ``paths`` = 100,000): columns spearman, srrc, contribution,
        event_spearman, sorted by |srrc|; ``attrs`` r2, nan_share, paths, defined,
        statistic ("rank").
        ``"tornado"`` (1 + 2 k runs of ``paths`` = 50,000 each, k = drawn inputs + vary
        keys): columns low_input, high_input, stat_low, stat_base, stat_high, swing, kind
        ("pin": a drawn input pinned at its quantiles; "vary": a ``vary`` key), sorted by
        swing, largest first; ``attrs`` base, base_ci95, base_nan_share, statistic, paths.
        ``"sobol"`` (``paths`` = 65,536 base paths, N (k + 2) paths in all): columns S,
        S_lo, S_hi, ST, ST_lo, ST_hi (bootstrap interval at 95%), kind ("input" or
        "process"); the drawn inputs, then the process groups (pace, cost, demand,
        growth, then the financing sources the scenario draws: debt_rates, valuation,
        equity_capacity, warrant_price, deal_terms, plan_coverage, revenue_defaults); an
        output constant on every path is refused; ``attrs`` mean,
        variance (of the output over the A and B runs), paths (N), total_paths, statistic
        ("value" or "prob_positive").
    stat: the statistic of a tornado: "mean", "pNN" (p50, p95, p2.5; "median" = p50),
        "prob_positive" or "nan_share";
        of sobol: "mean" (the output itself) or "prob_positive" (the indicator output > 0).
        Rank measures have none (only "mean", the default, is accepted).
    low, high: tornado quantiles at which each drawn input is pinned.
    vary: tornado only: extra fixed keys with explicit ranges (a drawn input is refused:
        the tornado pins it at its quantiles already):
        ``{"build.plan_cap_gw": (20, 40)}`` or ``["build.plan_cap_gw=20:40"]``; keys as
        ``<section>.<key>``, ``contract.<name>.<term>``, ``vendor_financing.<name>.<term>``.
    assumptions: tornado only: a share (0.2 = ±20%): every fixed numeric key whose line in
        the scenario file carries an ``[assumption]`` tag in its comment is moved to
        value × (1 ∓ share) as a "vary" row (common random numbers, as ``vary``); keys not
        tagged, drawn inputs, calendar years and zeros are left alone. The keys moved are
        in ``attrs["assumptions"]``, those a move would make invalid (a share above 1) in
        ``attrs["assumptions_skipped"]``. An explicit ``vary`` of the same key wins.
    assumptions_all: with ``assumptions`` (default 0.2 when only this is given): every fixed
        numeric key, tagged or not.
    over_time: sobol only: a series (e.g. "cash"); the indices at each checkpoint year
        inside the horizon. The DataFrame then has a MultiIndex (year, factor), one block
        of rows per year; ``df["ST"].unstack("factor")`` is a years x factors table ready
        for ``.plot()`` (see :func:`capexsim.plot_sobol_over_time`); ``attrs`` years,
        series, and the output's means and variances per year.
    bootstrap: sobol: bootstrap resamples for the intervals (at least 100).
    progress: True for a progress bar over all the runs, or a callable(done, total).
    counterparties: ``{name: lab}`` (one entry today): every evaluation is a joint run
        (docs/model.md §12.6): the lab runs on the same paths and pays the scenario's
        ``[[revenue_contract]]`` ``name``, so common random numbers hold for the pair. A
        tornado pins a drawn input in the lab too, at the same quantile of the lab's own
        distribution; Sobol switches the lab's variates with the provider's, and an input
        the lab draws is a factor even where the scenario fixes it. ``attrs`` then has
        ``counterparties`` (the names). ValueError as ``simulate(..., counterparties=)``.

    Every table carries its metadata in ``df.attrs`` (method, output, statistic, paths,
    seed, scenario, and the method's own figures above). Bad input (unknown method,
    output, statistic or key, LO >= HI, a lognormal input in vary) raises ValueError.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of: {', '.join(METHODS)}")
    sc = _as_scenario(scenario)
    paths = _count(DEFAULT_PATHS[method] if paths is None else paths, "paths", 1)
    seed = _count(seed, "seed", 0)
    threads = _threads(threads)
    if not isinstance(output, str):
        raise ValueError(f"output must be an output's name, got {output!r}")
    if not isinstance(stat, str):
        raise ValueError(f"stat must be 'mean', 'pNN' or 'prob_positive', got {stat!r}")
    varies = _vary_list(vary)
    assumed, skipped = _assumption_vary(sc, assumptions, assumptions_all, method)
    given = {v.split("=", 1)[0] for v in varies}
    varies += [v for v in assumed if v.split("=", 1)[0] not in given]
    if varies and method != "tornado":
        raise ValueError(f"vary applies to method='tornado' (and calibrate), not {method!r}")
    if over_time is not None and method != "sobol":
        raise ValueError(f"over_time applies to method='sobol', not {method!r}")
    if method != "tornado" and (low, high) != (0.1, 0.9):
        raise ValueError(f"low and high apply to method='tornado', not {method!r}")
    labs = _labs(counterparties)
    callback, close = progress_callback(progress, f"{sc.name} ({method})")
    try:
        if method == "rank":
            if stat != "mean":
                raise ValueError(f"stat {stat!r} does not apply to rank measures (they rank the "
                                 "per-path output itself); use method='tornado' for a statistic")
            res = simulate(sc, paths=paths, seed=seed, threads=threads, progress=progress,
                           keep_paths=True, bands=False, counterparties=counterparties)
            df = _rank_frame(res._core, output, sc.name)
        elif method == "tornado":
            for name, q in (("low", low), ("high", high)):
                if isinstance(q, bool) or not isinstance(q, (int, float, np.integer, np.floating)):
                    raise ValueError(f"{name} must be a quantile level in (0, 1), got {q!r}")
            t = _core.sensitivity_tornado(sc.to_toml(), sc.source, output, stat, paths, seed, threads,
                                          float(low), float(high), varies, callback, labs)
            df = _tornado_frame(t, paths, low, high, varies)
        else:
            bootstrap = _bootstrap_count(bootstrap)
            t = _core.sensitivity_sobol(sc.to_toml(), sc.source, output, stat, paths, seed, threads,
                                        bootstrap, over_time or "", callback, labs)
            df = _sobol_frame(t, over_time, bootstrap)
    finally:
        close()
    df.attrs.setdefault("paths", paths)
    df.attrs.update(seed=seed, scenario=sc.name)
    if labs:
        df.attrs.update(counterparties=[name for name, _, _ in labs])
    if assumed:
        df.attrs.update(assumptions=[v.split("=", 1)[0] for v in assumed], assumptions_skipped=skipped)
    return df


def _assumption_vary(sc, assumptions, assumptions_all: bool, method: str) -> tuple[list[str], list[str]]:
    """The "KEY=LO:HI" texts of sensitivity(assumptions=, assumptions_all=), and the keys
    not moved with why."""
    if assumptions is None and not assumptions_all:
        return [], []
    if method != "tornado":
        raise ValueError(f"assumptions apply to method='tornado', not {method!r}")
    share = 0.2 if assumptions is None else assumptions
    if isinstance(share, bool) or not isinstance(share, (int, float, np.integer, np.floating)):
        raise ValueError(f"assumptions must be a share such as 0.2, got {assumptions!r}")
    text = ""
    if sc.source and os.path.isfile(sc.source):
        with open(sc.source, encoding="utf-8") as f:
            text = f.read()
    ranges, skipped = _core.assumption_ranges(sc.to_toml(), sc.source, text, float(share), bool(assumptions_all))
    if not ranges:
        raise ValueError("assumptions: no fixed numeric key to move" if assumptions_all else
                         f"assumptions: no fixed numeric key of {sc.source} is tagged [assumption] in its "
                         "line's comment (assumptions_all=True moves every fixed numeric key)")
    return [f"{k}={lo!r}:{hi!r}" for k, lo, hi in ranges], list(skipped)


# -- calibrate -----------------------------------------------------------------------------
@dataclasses.dataclass(repr=False)
class Calibration:
    """The outcome of :func:`calibrate`: the value of ``key`` at which ``statistic`` of
    ``output`` equals ``target``, with its Monte Carlo error.

    value_ci95: 95% half-width of ``value`` (the statistic's half-width over the local slope).
    achieved, achieved_ci95: the statistic at ``value`` and its 95% half-width.
    runs: runs of ``paths`` paths each; evaluations: one row per run (value, statistic).
    scenario: the calibrated Scenario (``key`` set to ``value``; a distribution is shifted
    so that its mean is ``value``).
    """
    key: str
    value: float
    value_ci95: float
    output: str
    statistic: str
    target: float
    achieved: float
    achieved_ci95: float
    runs: int
    evaluations: pd.DataFrame
    scenario: "object"
    paths: int = 0
    seed: int = 1
    lo: float = math.nan
    hi: float = math.nan

    def __getitem__(self, name: str):
        if name not in self.keys():
            raise KeyError(name)
        return getattr(self, name)

    def keys(self) -> list[str]:
        return [f.name for f in dataclasses.fields(self)]

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.keys()}

    def __repr__(self) -> str:
        def g(x):
            return "n/a" if not np.isfinite(x) else f"{x:.6g}"
        return (f"Calibration: {self.key} = {g(self.value)} ± {g(self.value_ci95)} (95%, Monte Carlo)\n"
                f"  puts {self.output}.{self.statistic} at {g(self.achieved)} ± {g(self.achieved_ci95)} "
                f"(target {self.target:g})\n"
                f"  {self.runs} runs of {self.paths:,} paths, seed {self.seed}, common random numbers, "
                f"searched [{self.lo:g}, {self.hi:g}]")


def calibrate(scenario, vary, target, paths: int = 20_000, seed: int = 1,
              threads: Optional[int] = None, progress: Union[bool, Callable[[int, int], None]] = False,
              write: Union[str, os.PathLike, None] = None) -> Calibration:
    """Goal seek: the value of one key at which a statistic of an output hits `target`.

    vary: "KEY=LO:HI" or (key, lo, hi): the key and the range searched (keys as in
        :func:`sensitivity`'s vary).
    target: "OUTPUT.STAT=VALUE" (e.g. "arr_at_2030.p50=100") or (output, stat, value);
        stat is "mean", "pNN", "prob_positive" or "nan_share" (the share of paths where the
        event never happens, as ``simulate(target=)`` reads it).
    Every run uses the same seed and paths (common random numbers), so the statistic is a
    deterministic function of the key, found by TOMS 748 bracketing. A target the range
    cannot reach raises ValueError saying it is outside (with the statistic at both ends).
    write: a path: write the calibrated scenario's TOML there.
    """
    sc = _as_scenario(scenario)
    paths = _count(paths, "paths", 1)
    seed = _count(seed, "seed", 0)
    threads = _threads(threads)
    if isinstance(vary, (list, tuple)) and len(vary) == 1:
        vary = vary[0]
    vary_text = _vary_text(vary)
    output, stat, value = _target_parts(target)
    if write is not None:  # a folder that cannot take the file is an error before any run
        folder = os.path.dirname(os.path.abspath(os.fspath(write)))
        if not os.path.isdir(folder):
            raise ValueError(f"write={os.fspath(write)!r}: the folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise ValueError(f"write={os.fspath(write)!r}: the folder {folder} is not writable")
    callback, close = progress_callback(progress, f"{sc.name} (calibrate)")
    try:
        d = _core.calibrate(sc.to_toml(), sc.source, vary_text, output, stat, value, paths, seed,
                            threads, callback)
    except BaseException:
        close()
        raise
    close(finished=True)
    evaluations = pd.DataFrame({"value": np.asarray(d["evaluated_values"], dtype=float),
                                "statistic": np.asarray(d["evaluated_statistics"], dtype=float)},
                               index=pd.RangeIndex(1, len(d["evaluated_values"]) + 1, name="run"))
    source = f"{sc.source} (calibrated: {d['key']})"
    calibrated = Scenario.from_string(d["toml"], source)
    lo_hi = vary_text.rpartition("=")[2].split(":")
    result = Calibration(key=d["key"], value=float(d["value"]), value_ci95=float(d["value_ci95"]),
                         output=d["output"], statistic=d["statistic"], target=float(d["target"]),
                         achieved=float(d["achieved"]), achieved_ci95=float(d["achieved_ci95"]),
                         runs=int(d["runs"]), evaluations=evaluations, scenario=calibrated,
                         paths=paths, seed=seed, lo=float(lo_hi[0]), hi=float(lo_hi[1]))
    if write is not None:  # as the CLI's --write: a comment line, then the resolved TOML
        header = (f"# {sc.name} calibrated by capexsim: {d['key']} = {float(d['value'])!r} puts "
                  f"{d['output']}.{d['statistic']} at {float(d['achieved'])!r} (target {value!r})\n")
        _write_atomic(os.fspath(write), header + d["toml"])
    return result


# -- Sobol indices of any function ----------------------------------------------------------
def sobol_indices(f: Callable[[np.ndarray], np.ndarray], dims: int, n: int, seed: int = 1,
                  bootstrap: int = 1000, level: float = 0.95,
                  names: Optional[Sequence[str]] = None) -> pd.DataFrame:
    """First-order and total Sobol indices of a function of `dims` independent uniforms.

    f: maps an (m, dims) array of uniforms in [0, 1) to m outputs (vectorised; called a few
       times with m up to n (dims + 2)).
    n: base sample size (the estimator evaluates f on n (dims + 2) points).
    Returns one row per dimension (index: names, default x1, x2, ...), columns S, S_lo,
    S_hi, ST, ST_lo, ST_hi, the interval a bootstrap one at `level`.
    """
    dims = _count(dims, "dims", 1)
    n = _count(n, "n", 2)
    seed = _count(seed, "seed", 0)
    bootstrap = _count(bootstrap, "bootstrap", 0)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    names = [f"x{i + 1}" for i in range(dims)] if names is None else [str(x) for x in names]
    if len(names) != dims:
        raise ValueError(f"names: expected {dims} names, got {len(names)}")
    if not callable(f):
        raise ValueError(f"f must be callable, got {f!r}")
    rows = _core.sobol_indices(f, dims, n, seed, bootstrap, float(level), names)
    df = _frame(rows, SOBOL_COLUMNS) if len(rows["factor"]) else pd.DataFrame(
        columns=SOBOL_COLUMNS, dtype=float, index=pd.Index([], name="factor"))
    df.attrs.update(method="sobol", n=n, dims=dims, seed=seed, bootstrap=bootstrap, level=float(level))
    return df
