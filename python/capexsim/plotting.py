"""matplotlib helpers: fan charts, histograms with CDFs, comparisons. Each returns the Axes."""
from __future__ import annotations

import numpy as np

from .result import SERIES_UNITS, Result, output_unit


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt
        _, ax = plt.subplots(figsize=(8, 4.5))
    return ax


def _title(name: str) -> str:
    return name.replace("_", " ")


def plot_fan(result: Result, series: str = "cash", ax=None, color="C0"):
    """Quantile bands of a series over calendar years: 5-95% and 25-75% shaded, median line."""
    ax = _axes(ax)
    b = result.bands(series)
    years = b.index.to_numpy()
    ax.fill_between(years, b["p5"], b["p95"], color=color, alpha=0.18, label="5-95%")
    ax.fill_between(years, b["p25"], b["p75"], color=color, alpha=0.35, label="25-75%")
    ax.plot(years, b["p50"], color=color, lw=2, label="median")
    ax.plot(years, b["mean"], color=color, lw=1, ls="--", label="mean")
    if series in ("cash", "fcf_rate"):
        ax.axhline(0, color="black", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel(f"{_title(series)} ({SERIES_UNITS[series]})")
    ax.set_title(f"{result.scenario_name}: {_title(series)} ({result.n_paths:,} paths)")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    return ax


def plot_hist(result: Result, output: str = "funding_gap", ax=None, bins: int = 60, color="C0"):
    """Histogram of an output with its CDF on a second axis; mean and p5/p95 marked."""
    ax = _axes(ax)
    x = result.outputs[output]
    x = x[~np.isnan(x)]
    unit = output_unit(output)
    ax.hist(x, bins=bins, color=color, alpha=0.6, density=True)
    s = result.summary().loc[output]
    for value, label, style in ((s["mean"], "mean", "-"), (s["p5"], "p5", ":"), (s["p95"], "p95", ":")):
        ax.axvline(value, color="black", ls=style, lw=1)
        ax.annotate(f"{label} {value:,.1f}", (value, 1), xycoords=("data", "axes fraction"),
                    rotation=90, va="top", ha="right", fontsize="small")
    ax.set_xlabel(f"{_title(output)} ({unit})")
    ax.set_ylabel("density")
    twin = ax.twinx()
    xs = np.sort(x)
    twin.plot(xs, np.arange(1, len(xs) + 1) / len(xs), color="C3", lw=1.5)
    twin.set_ylabel("cumulative probability", color="C3")
    twin.set_ylim(0, 1)
    never = s["nan_share"]
    extra = f", never in {never:.0%} of paths" if never > 0 else ""
    ax.set_title(f"{result.scenario_name}: {_title(output)} ({result.n_paths:,} paths{extra})")
    return ax


def plot_compare(a: Result, b: Result, output: str = "funding_gap", ax=None, labels=None, bins: int = 60):
    """Two results' distributions of one output, overlaid, with their CDFs."""
    ax = _axes(ax)
    labels = labels or (a.scenario_name, b.scenario_name)
    if labels[0] == labels[1]:
        labels = (labels[0] + " (A)", labels[1] + " (B)")
    xa, xb = a.outputs[output], b.outputs[output]
    xa, xb = xa[~np.isnan(xa)], xb[~np.isnan(xb)]
    lo = min(xa.min(initial=np.inf), xb.min(initial=np.inf))
    hi = max(xa.max(initial=-np.inf), xb.max(initial=-np.inf))
    edges = np.linspace(lo, hi, bins + 1) if hi > lo else bins
    twin = ax.twinx()
    for x, label, color in ((xa, labels[0], "C0"), (xb, labels[1], "C1")):
        ax.hist(x, bins=edges, color=color, alpha=0.45, density=True, label=f"{label} (mean {x.mean():,.1f})")
        xs = np.sort(x)
        twin.plot(xs, np.arange(1, len(xs) + 1) / len(xs), color=color, lw=1.5)
    twin.set_ylim(0, 1)
    twin.set_ylabel("cumulative probability")
    ax.set_xlabel(f"{_title(output)} ({output_unit(output)})")
    ax.set_ylabel("density")
    ax.set_title(f"{_title(output)}: {labels[0]} vs {labels[1]}")
    ax.legend(loc="upper left", fontsize="small")
    return ax
