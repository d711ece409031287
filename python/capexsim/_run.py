"""simulate() and merge(): one Monte Carlo run of a scenario (a fixed path count, or batches
to a precision target) as a :class:`capexsim.Result`."""
from __future__ import annotations

from typing import Callable, Optional, Union

import numpy as np

from . import _core
from ._args import ScenarioLike, _as_scenario, _count, _labs, _sampling, _threads
from ._progress import progress_callback
from .result import Result
from .scenario import Scenario


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
    sampling = _sampling(sampling)
    design = 0 if design_paths is None else _count(design_paths, "design_paths", 1)
    limit = 0 if memory_limit is None else _count(memory_limit, "memory_limit", 1)
    callback, close = progress_callback(progress, sc.name, total=paths)
    try:
        core = _core.simulate(sc.to_toml(), sc.source, paths, seed, threads, first_path,
                              bool(keep_paths), bool(bands), callback, sampling or "", design, limit,
                              labs)
    finally:
        close()
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
    sampling = _sampling(sampling)
    first = 0 if paths is None else _count(paths, "paths", 1)
    cap = 10_000_000 if max_paths is None else _count(max_paths, "max_paths", 1)
    seed = _count(seed, "seed", 0)
    threads = _threads(threads)
    callback, close = progress_callback(progress, f"{sc.name} (to target)", total=cap)
    try:
        core, info = _core.simulate_target(sc.to_toml(), sc.source, _target_text(target), first,
                                           cap, seed, threads, bool(keep_paths), bool(bands),
                                           callback, sampling or "")
    except BaseException:
        close()
        raise
    close(finished=True)  # a target met before the cap: the bar ends full at the paths run
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
