"""Simulation results as NumPy arrays and pandas tables."""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from . import _core, plotting
from .units import output_unit, series_unit

#: Names of the per-time series available to Result.bands() (capexsim.SERIES).
SERIES = list(_core.series_names())
#: Units of each series, for tables and axes (from capexsim.units, i.e. the schema).
SERIES_UNITS = {name: series_unit(name) for name in _core.series_names(True)}

SUMMARY_COLUMNS = ["mean", "sd", "stderr", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95",
                   "p99", "prob_positive", "cvar95", "nan_share", "cvar05"]
#: 95% Monte Carlo half-widths, one per statistic (docs/statistics.md).
CI95_COLUMNS = ["mean_ci95", "p1_ci95", "p5_ci95", "p10_ci95", "p25_ci95", "p50_ci95", "p75_ci95",
                "p90_ci95", "p95_ci95", "p99_ci95", "prob_positive_ci95", "cvar95_ci95",
                "nan_share_ci95", "cvar05_ci95"]


class Result:
    """The outcome of :func:`capexsim.simulate`.

    - ``outputs``: dict of NumPy arrays, one per output, viewing the C++ memory (no copy;
      read-only).
    - ``summary()``: DataFrame, one row per output, the statistics of docs/model.md.
    - ``bands(series)``: DataFrame indexed by calendar year: t, mean, p5, p25, p50, p75, p95.
    - ``paths``: DataFrame of per-path outputs, indexed by path number; ``inputs``: the
      drawn inputs per path; ``path_table()``: both; ``rank(output)``: rank measures.
    - pickles (its bytes are the C++ result's, bit for bit) and merges with adjacent shards.
    """

    #: How the static inputs were sampled ("random", "lhs", "sobol").
    sampling: str = "random"
    #: Notes about the run that are not errors (e.g. Sobol at a path count that is not a
    #: power of two); empty when there is nothing to say.
    notes: list[str] = []
    #: Thresholds of exceedance(): {output: [values]}.
    thresholds: dict = {}
    #: For a target run: {"target", "reached", "paths", "estimate", "ci95", "wanted_ci95",
    #: "batches"}; None otherwise.
    target = None

    def __init__(self, core: "_core.Result", scenario=None):
        self._core = core
        self._scenario = scenario

    @property
    def scenario(self):
        """The Scenario this result was run from (None when not known, e.g. after merge)."""
        return self._scenario

    # -- identity ----------------------------------------------------------------------
    @property
    def scenario_name(self) -> str:
        return self._core.scenario_name

    @property
    def scenario_fingerprint(self) -> str:
        return self._core.scenario_fingerprint

    @property
    def seed(self) -> int:
        return self._core.seed

    @property
    def n_paths(self) -> int:
        return self._core.paths

    @property
    def first_path(self) -> int:
        return self._core.first_path

    @property
    def steps(self) -> int:
        return self._core.steps

    @property
    def dt(self) -> float:
        return self._core.dt

    @property
    def start_year(self) -> float:
        return self._core.start_year

    @property
    def output_names(self) -> list[str]:
        return list(self._core.output_names)

    # -- data --------------------------------------------------------------------------
    @property
    def per_path(self) -> np.ndarray:
        """paths x outputs (Fortran order), a read-only view of the C++ array."""
        if not self._core.has_per_path():
            raise ValueError("this result kept no per-path outputs (simulate(..., keep_paths=True))")
        return self._core.per_path

    @property
    def outputs(self) -> dict[str, np.ndarray]:
        a = self.per_path
        return {name: a[:, k] for k, name in enumerate(self.output_names)}

    @property
    def paths(self) -> pd.DataFrame:
        index = pd.RangeIndex(self.first_path, self.first_path + self.n_paths, name="path")
        return pd.DataFrame(self.per_path, columns=self.output_names, index=index)

    @property
    def input_names(self) -> list[str]:
        """The drawn static inputs (those given as distributions), as "<section>.<key>"."""
        return list(self._core.input_names)

    @property
    def inputs(self) -> pd.DataFrame:
        """Each path's drawn static inputs: one column per input (``input_names``), indexed
        by path number (from ``first_path``). Kept with ``simulate(..., keep_paths=True)``;
        no columns when every input is a fixed number."""
        index = pd.RangeIndex(self.first_path, self.first_path + self.n_paths, name="path")
        names = self.input_names
        if not names:
            return pd.DataFrame(index=index)
        a = self._core.inputs
        if a.shape[0] != self.n_paths:
            raise ValueError("this result kept no per-path inputs (simulate(..., keep_paths=True))")
        return pd.DataFrame(a, columns=names, index=index, copy=False)

    def path_table(self, inputs: bool = True) -> pd.DataFrame:
        """``paths`` (every output per path) and, with inputs=True, the drawn inputs as
        ``input.<name>`` columns after them (the columns of the CLI's paths.csv)."""
        df = self.paths
        if inputs and self.input_names:
            df = pd.concat([df, self.inputs.add_prefix("input.")], axis=1)
        return df

    def rank(self, output: str = "funding_gap") -> pd.DataFrame:
        """Rank measures of `output` against the drawn inputs of this run (see
        :func:`capexsim.sensitivity` with method="rank"): spearman, srrc, contribution,
        event_spearman per input; R² and the NaN share in ``attrs``."""
        from ._tables import _rank_frame
        return _rank_frame(self._core, output, self.scenario_name)

    def summary(self) -> pd.DataFrame:
        rows = [self._core.summary(k) for k in range(len(self.output_names))]
        df = pd.DataFrame(rows, index=pd.Index(self.output_names, name="output"))
        # None (undefined) -> NaN; every statistic column numeric
        df = df.reindex(columns=SUMMARY_COLUMNS + CI95_COLUMNS).astype(float)
        df.insert(0, "unit", [output_unit(n) for n in self.output_names])
        return df[["unit"] + SUMMARY_COLUMNS + CI95_COLUMNS].astype(
            {c: float for c in SUMMARY_COLUMNS + CI95_COLUMNS})

    def _stat(self, name: str) -> dict:
        return self._core.summary(self.output_names.index(name))

    def waterfall(self) -> pd.DataFrame:
        """The funding waterfall (docs/model.md §13.1), one row per layer and date:
        ``gross need`` (funding_need: outside money the plan needs before any financing),
        ``coverage`` (what the modelled sources provide: need - residual, per path) and
        ``residual`` (funding_gap: money still needed beyond them; under ``[constraint]
        unpaid = true`` the peak of arrears), through each checkpoint and over the horizon.

        Index: (layer, through) with ``through`` the checkpoint year as text or
        "horizon". Columns: output, mean, p5, p50, p95, prob_positive ($B; P(> 0)).
        Coverage's quantiles need per-path outputs (NaN without them).
        """
        dates = [("horizon", "funding_need", "funding_gap")]
        for n in self.output_names:
            if n.startswith("funding_need_by_"):
                y = n[len("funding_need_by_"):]
                dates.insert(len(dates) - 1, (y, n, "funding_gap_by_" + y))
        per_path = self._core.has_per_path()
        rows = []
        for layer in ("gross need", "coverage", "residual"):
            for through, need, gap in dates:
                if layer != "coverage":
                    name = need if layer == "gross need" else gap
                    s = self._stat(name)
                    rows.append({"layer": layer, "through": through, "output": name,
                                 "mean": s["mean"], "p5": s["p5"], "p50": s["p50"],
                                 "p95": s["p95"], "prob_positive": s["prob_positive"]})
                    continue
                mean = self._stat(need)["mean"] - self._stat(gap)["mean"]
                row = {"layer": layer, "through": through, "output": f"{need} - {gap}",
                       "mean": mean, "p5": np.nan, "p50": np.nan, "p95": np.nan,
                       "prob_positive": np.nan}
                if per_path:
                    c = np.asarray(self.outputs[need]) - np.asarray(self.outputs[gap])
                    row.update(p5=float(np.quantile(c, 0.05)), p50=float(np.quantile(c, 0.5)),
                               p95=float(np.quantile(c, 0.95)),
                               prob_positive=float(np.mean(c > 0)))
                rows.append(row)
        return pd.DataFrame(rows).set_index(["layer", "through"])

    #: The ledger's lines (docs/model.md §13.2): output, side, label.
    LEDGER = [("flow_revenue", "source", "revenue (incl. resale)"),
              ("flow_vendor", "source", "vendor financing"),
              ("flow_scheduled_equity", "source", "scheduled equity"),
              ("flow_warrants", "source", "warrants sold"),
              ("flow_debt_drawn", "source", "debt drawn"),
              ("flow_equity_rounds", "source", "equity rounds"),
              ("flow_arrears_added", "source", "arrears added (unpaid)"),
              ("flow_capex", "use", "capex (incl. refresh)"),
              ("flow_contracts", "use", "contracts"),
              ("flow_rent", "use", "rent"),
              ("flow_opex", "use", "opex"),
              ("flow_interest", "use", "interest"),
              ("flow_debt_repaid", "use", "debt repaid"),
              ("flow_arrears_paid", "use", "arrears repaid")]

    def ledger(self) -> pd.DataFrame:
        """Sources and uses over the horizon (docs/model.md §13.2), $B: one row per flow
        this run has, indexed by output, with side ("source"/"use"), label, mean, p5, p50,
        p95. Per path, terminal cash = initial cash + sources - uses (to rounding).
        ``attrs``: sources and uses (means) and terminal_cash (mean)."""
        rows = []
        for name, side, label in self.LEDGER:
            if name not in self.output_names:
                continue
            s = self._stat(name)
            rows.append({"output": name, "side": side, "label": label, "mean": s["mean"],
                         "p5": s["p5"], "p50": s["p50"], "p95": s["p95"]})
        df = pd.DataFrame(rows, columns=["output", "side", "label", "mean", "p5", "p50",
                                         "p95"]).set_index("output")
        df.attrs["sources"] = float(df.loc[df.side == "source", "mean"].sum())
        df.attrs["uses"] = float(df.loc[df.side == "use", "mean"].sum())
        df.attrs["terminal_cash"] = self._stat("terminal_cash")["mean"]
        return df

    def counterparties(self) -> pd.DataFrame:
        """Under ``[constraint] unpaid = true`` (docs/model.md §13.3): per class of
        obligation (each contract, then builders (capex), opex, lenders (debt), landlords
        (rent) where present, then the total): P(never in arrears), P(paid in full by the
        horizon), the mean and 95th percentile still unpaid and the mean recovered, $B.
        Empty when the run carries no arrears."""
        cols = ["counterparty", "p_never_in_arrears", "p_paid_in_full", "unpaid_mean",
                "unpaid_p95", "recovered_mean"]
        if "unpaid_total" not in self.output_names:
            return pd.DataFrame(columns=cols).set_index("counterparty")
        fixed = {"total", "capex", "opex", "debt", "rent"}
        classes = [(n[len("deferred_"):], n[len("deferred_"):]) for n in self.output_names
                   if n.startswith("deferred_") and n[len("deferred_"):] not in fixed]
        classes += [("builders (capex)", "capex"), ("opex", "opex"), ("lenders (debt)", "debt"),
                    ("landlords (rent)", "rent"), ("total", "total")]
        rows = []
        for who, cls in classes:
            u, d = "unpaid_" + cls, "deferred_" + cls
            if u not in self.output_names or d not in self.output_names:
                continue
            su, sd = self._stat(u), self._stat(d)
            rows.append({"counterparty": who, "p_never_in_arrears": 1 - sd["prob_positive"],
                         "p_paid_in_full": 1 - su["prob_positive"], "unpaid_mean": su["mean"],
                         "unpaid_p95": su["p95"], "recovered_mean": sd["mean"] - su["mean"]})
        return pd.DataFrame(rows, columns=cols).set_index("counterparty")

    def exceedance(self, thresholds: "dict[str, list[float]] | None" = None) -> pd.DataFrame:
        """P(output > threshold) over all paths (a NaN never exceeds) with its 95% half-width.

        thresholds: {output: [v1, v2, ...]}; None = those given to simulate() (and the
        scenario's ``[outputs] thresholds``). Columns: output, threshold, prob, ci95.
        """
        if thresholds is None:
            thresholds = self.thresholds
        rows = []
        for name, values in thresholds.items():
            if name not in self.output_names:
                raise ValueError(f"no output named {name!r}; expected one of: {', '.join(self.output_names)}")
            k = self.output_names.index(name)
            for v in (values if isinstance(values, (list, tuple)) else [values]):
                if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                        or not np.isfinite(v):
                    raise ValueError(f"thresholds: {name}: {v!r} is not a finite number")
                prob, ci = self._core.exceedance(k, float(v))
                rows.append({"output": name, "threshold": float(v), "prob": prob, "ci95": ci})
        return pd.DataFrame(rows, columns=["output", "threshold", "prob", "ci95"])

    def bands(self, series: str = "cash") -> pd.DataFrame:
        if not self._core.has_bands():
            raise ValueError("this result has no bands (simulate(..., bands=True))")
        d = self._core.band(series)
        df = pd.DataFrame({k: v for k, v in d.items() if k != "year"},
                          index=pd.Index(d["year"], name="year"))
        df.attrs["series"] = series
        df.attrs["unit"] = series_unit(series)
        return df

    def merge(self, other: "Result") -> "Result":
        """Merge with the result of an adjacent path range (same scenario and seed)."""
        return Result(_core.merge(self._core, other._core), self._scenario)

    # -- plots and files --------------------------------------------------------------
    def plot_fan(self, series: str = "cash", ax=None, **kw):
        """Fan chart of a series (see capexsim.plot_fan); events=True marks the scenario's dates."""
        return plotting.plot_fan(self, series, ax=ax, **kw)

    def plot_hist(self, output: str = "funding_gap", ax=None, **kw):
        """Histogram and CDF of an output (see capexsim.plot_hist)."""
        return plotting.plot_hist(self, output, ax=ax, **kw)

    def to_excel(self, path, **kw) -> None:
        """Write an .xlsx workbook (see capexsim.export_excel)."""
        from .excel import export_excel
        export_excel(self, path, **kw)

    # -- pickling ----------------------------------------------------------------------
    def __getstate__(self):
        data = self._core.to_bytes()
        return {"bytes": data, "sha256": hashlib.sha256(data).hexdigest(),
                "scenario": self._scenario}

    def __setstate__(self, state):
        data = state["bytes"]
        if hashlib.sha256(data).hexdigest() != state.get("sha256"):
            raise ValueError("corrupted pickled capexsim Result: its checksum does not match "
                             "its bytes (the data changed after it was pickled)")
        self._core = _core.Result.from_bytes(data)
        self._scenario = state.get("scenario")

    def __repr__(self) -> str:
        return (f"Result(scenario={self.scenario_name!r}, paths={self.n_paths}, seed={self.seed}, "
                f"steps={self.steps})")
