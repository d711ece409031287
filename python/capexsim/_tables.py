"""The sensitivity tables' vocabulary and their DataFrames: the methods, their default paths,
the process groups of Sobol analysis, each method's columns, and the frames built from the
C++ layer's tables (``_core.sensitivity_*`` and the shard merges of ``distributed``).

Shared by ``sensitivity`` (which keeps every name importable, as ``distributed`` imports
them from there), ``result`` (Result.rank) and ``plotting`` (the process groups); it imports
none of them (no import circle).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from . import _core
from ._args import _count

METHODS = ("rank", "tornado", "sobol")
#: Default paths of each method (as the CLI's): one run, per run, base paths.
DEFAULT_PATHS = {"rank": 100_000, "tornado": 50_000, "sobol": 65_536}
#: The process groups of Sobol analysis (factors that are not drawn inputs).
PROCESS_GROUPS = ("pace", "cost", "demand", "growth", "debt_rates", "valuation", "equity_capacity", "warrant_price", "deal_terms", "plan_coverage", "revenue_defaults")

RANK_COLUMNS = ["spearman", "srrc", "contribution", "event_spearman"]
TORNADO_COLUMNS = ["low_input", "high_input", "stat_low", "stat_base", "stat_high", "swing"]
SOBOL_COLUMNS = ["S", "S_lo", "S_hi", "ST", "ST_lo", "ST_hi"]


def _frame(rows: dict, columns: Sequence[str]) -> pd.DataFrame:
    df = pd.DataFrame({c: np.asarray(rows[c], dtype=float) for c in columns},
                      index=pd.Index(list(rows["factor"]), name="factor"))
    return df


def _bootstrap_count(bootstrap) -> int:
    """The resamples of a model's Sobol intervals: at least 100 (as the CLI)."""
    b = _count(bootstrap, "bootstrap", 0)
    if b < 100:
        raise ValueError(f"bootstrap must be at least 100 resamples for 95% percentile intervals, "
                         f"got {b}")
    return b


def _tornado_frame(t: dict, paths: int, low, high, varies) -> pd.DataFrame:
    """The DataFrame of a tornado table (``_core.sensitivity_tornado`` or
    ``tornado_from_shards``): the numeric columns, then ``kind`` ("pin" for a drawn input
    pinned at its quantiles, "vary" for a ``vary`` key)."""
    df = _frame(t["rows"], TORNADO_COLUMNS)
    df["kind"] = list(t["rows"]["kind"])
    df.attrs.update(method="tornado", output=t["output"], statistic=t["statistic"],
                    base=float(t["base"]), base_ci95=float(t["base_ci95"]),
                    base_nan_share=float(t["base_nan_share"]), paths=paths,
                    low=float(low), high=float(high), vary=varies)
    return df


def _sobol_frame(t: dict, over_time, bootstrap: int) -> pd.DataFrame:
    """The DataFrame of a Sobol table (``_core.sensitivity_sobol`` or ``sobol_from_shards``)."""
    if over_time:
        blocks = [_frame(rows, SOBOL_COLUMNS) for rows in t["over_time"]]
        years = [float(y) for y in t["years"]]
        if blocks:
            df = pd.concat(blocks, keys=years, names=["year", "factor"])
        else:
            df = pd.DataFrame(columns=SOBOL_COLUMNS, dtype=float,
                              index=pd.MultiIndex.from_arrays([[], []], names=["year", "factor"]))
        df.attrs.update(series=over_time, years=years,
                        means=[float(x) for x in t["year_means"]],
                        variances=[float(x) for x in t["year_variances"]])
    else:
        df = _frame(t["rows"], SOBOL_COLUMNS)
        df.attrs.update(mean=float(t["mean"]), variance=float(t["variance"]))
    # "input" for a drawn input (<section>.<key>), "process" for a process group
    df["kind"] = ["process" if f in PROCESS_GROUPS else "input"
                  for f in df.index.get_level_values("factor")]
    df.attrs.update(method="sobol", output=t["output"], statistic=t["statistic"],
                    paths=int(t["base_paths"]), total_paths=int(t["total_paths"]),
                    bootstrap=bootstrap, level=0.95)
    return df


def _rank_frame(core_result, output: str, scenario_name: str = "") -> pd.DataFrame:
    """The rank table of `output` against a _core.Result's kept inputs."""
    t = _core.sensitivity_rank(core_result, output)
    df = _frame(t["rows"], RANK_COLUMNS)
    df.attrs.update(method="rank", output=t["output"], statistic="rank", paths=int(t["paths"]),
                    defined=int(t["defined"]), nan_share=float(t["nan_share"]), r2=float(t["r2"]),
                    seed=int(core_result.seed), scenario=scenario_name or core_result.scenario_name)
    return df
