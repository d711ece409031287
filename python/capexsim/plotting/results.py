"""Charts of results: fan charts, histograms, CDFs and comparisons of two runs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence, Union

import numpy as np

from .. import style
from ..units import quantity
from ._common import _defined, _edges, _names, _place_labels, _quantile_curve
from .events import Event, _merge_events, scenario_events

if TYPE_CHECKING:
    from ..scenario import Scenario

#: Charts take a capexsim.result.Result but never import it, not even for type checking:
#: result imports plotting for its plot_* methods, and the package has no import circle
#: (tests/python/test_imports.py).
Result = Any


def plot_fan(result: "Result", series: str = "cash", ax=None, color=None,
             events: Union[bool, "Scenario", Sequence[Event], None] = None, title: str | None = None):
    """Fan chart of a series over calendar years: 5-95% and 25-75% of paths shaded, median
    line, mean dashed.

    events: dated markers, as (year, label) pairs, or a Scenario (its contract ends,
    checkpoints and equity raises), or True for the scenario the result was run from.
    """
    q = quantity(series)
    color = color or style.COLORS[0]
    with style.context():
        ax = style.new_axes(ax)
        b = result.bands(series)
        years = b.index.to_numpy()
        ax.fill_between(years, b["p5"], b["p95"], color=color, alpha=0.16, lw=0, label="5–95% of paths")
        ax.fill_between(years, b["p25"], b["p75"], color=color, alpha=0.32, lw=0, label="25–75% of paths")
        ax.plot(years, b["p50"], color=color, lw=2, label="median")
        ax.plot(years, b["mean"], color=style.INK, lw=1.1, ls="--", label="mean")
        lo, hi = float(np.nanmin(b["p5"])), float(np.nanmax(b["p95"]))
        if lo < 0 < hi or series in ("cash", "fcf_rate"):
            ax.axhline(0, color=style.INK, lw=0.8, zorder=1)
        ax.set_xlim(years[0], years[-1] + result.dt)
        style.frame(ax)
        ax.set_xlabel("year")
        ax.xaxis.set_major_formatter(style.year_formatter())
        style.format_axis(ax.yaxis, q)
        if events is True:
            events = getattr(result, "scenario", None)
        if events is not None and events is not False and not isinstance(events, (list, tuple)):
            events = scenario_events(events)
        events = [e for e in _merge_events(events or []) if years[0] <= e[0] <= years[-1] + result.dt]
        if events:
            y0, y1 = ax.get_ylim()
            ax.set_ylim(y0, y1 + 0.22 * (y1 - y0))  # a free band on top for the event labels
            for year, _ in events:
                ax.axvline(year, color=style.MUTED, lw=0.9, ls=":", zorder=1)
            _place_labels(ax, [(y, label, "right") for y, label in events], fontsize=8, color=style.MUTED)
        if q.unit == "share":  # no tick above 100% (the band above 1 holds event labels only)
            y0, y1 = ax.get_ylim()
            ax.set_yticks([t for t in ax.get_yticks() if y0 <= t <= 1.0 + 1e-9])
            ax.set_ylim(y0, y1)
        style.titles(ax, title or f"{result.scenario_name}: {q.label}", style.run_line(result))
        style.legend_below(ax)
    return ax


def plot_hist(result: "Result", output: str = "funding_gap", ax=None, bins: int = 60, color=None,
              cdf: bool = True, title: str | None = None):
    """Histogram of an output as shares of paths, its cumulative share on a right axis, the
    mean and the 5th/95th percentiles marked and labelled."""
    q = quantity(output)
    color = color or style.COLORS[0]
    x = _defined(result, output)
    n = result.n_paths
    s = result.summary().loc[output]
    with style.context():
        ax = style.new_axes(ax)
        handles = []
        if x.size:
            heights, edges, patches = ax.hist(x, bins=_edges(x, q, bins, result.dt), weights=np.full(x.size, 1.0 / n),
                                              color=color, alpha=0.75, edgecolor="white", linewidth=0.4)
            handles.append((patches[0], "share of paths in each bin"))
            ax.set_ylim(0, float(heights.max()) * 1.4)  # the top ~30% stays free for the labels
            if heights.max() * 1.4 > 1:
                ax.set_yticks(np.linspace(0, 1, 6))  # no "120% of paths"
            ax.set_xlim(edges[0], edges[-1])
        ax.set_ylabel("share of paths")
        ax.yaxis.set_major_formatter(style.share_formatter())
        style.frame(ax)
        style.format_axis(ax.xaxis, q)
        if cdf and x.size:
            twin = ax.twinx()
            cx, cy = _quantile_curve(x, n)
            (line,) = twin.plot(cx, cy, color=style.CDF_COLOR, lw=1.6, drawstyle="steps-post")
            twin.set_ylim(0, 1.4)
            twin.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
            twin.yaxis.set_major_formatter(style.share_formatter())
            twin.spines["right"].set_visible(True)
            twin.spines["top"].set_visible(False)
            twin.set_ylabel("cumulative share of paths", color=style.CDF_COLOR)
            twin.tick_params(axis="y", labelcolor=style.CDF_COLOR)
            handles.append((line, "cumulative share of paths (right axis)"))
        marks = []
        same = len({style.format_value(s[k], q.unit) for k in ("p5", "mean", "p95")}) == 1
        for key, label, ls, side in (("p5", "p5", ":", "left"), ("mean", "mean", "-", "right"),
                                     ("p95", "p95", ":", "right")):
            value = s[key]
            if same and key != "mean":
                continue  # one label, not three on one line
            if np.isfinite(value):
                ax.axvline(value, color=style.INK, ls=ls, lw=1.1)
                text = "p5 = mean = p95 =" if same else label
                marks.append((value, f"{text} {style.format_value(value, q.unit)}", side))
        _place_labels(ax, marks, fontsize=8.5, color=style.INK,
                      bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.0))
        sub = style.run_line(result)
        if s["nan_share"] > 0:
            sub += f" · never within the horizon in {s['nan_share']:.0%} of paths"
        style.titles(ax, title or f"{result.scenario_name}: {q.label}", sub)
        if handles:
            style.legend_below(ax, [h for h, _ in handles], [l for _, l in handles])
    return ax


def plot_cdf(results: Union["Result", Sequence["Result"]], output: str = "funding_gap", ax=None,
             labels: Sequence[str] | None = None, title: str | None = None):
    """Cumulative share of paths at or below each value, one curve per result, with a legend.
    Curves end at 1 − (share of paths where the output is undefined)."""
    if not isinstance(results, (list, tuple)):
        results = [results]
    q = quantity(output)
    labels = list(labels or [r.scenario_name for r in results])
    if len(set(labels)) < len(labels):
        labels = [f"{l} ({chr(65 + i)})" for i, l in enumerate(labels)]
    with style.context():
        ax = style.new_axes(ax)
        for i, (r, label) in enumerate(zip(results, labels)):
            x = _defined(r, output)
            if not x.size:
                continue
            cx, cy = _quantile_curve(x, r.n_paths)
            mean = r.summary().loc[output, "mean"]
            ax.plot(cx, cy, color=style.COLORS[i % len(style.COLORS)], lw=2, drawstyle="steps-post",
                    label=f"{label} (mean {style.format_value(mean, q.unit)})")
        ax.axhline(0.5, color=style.MUTED, lw=0.8, ls=":", zorder=1)
        ax.set_ylim(0, 1.02)
        ax.set_ylabel("share of paths at or below")
        ax.yaxis.set_major_formatter(style.share_formatter())
        style.frame(ax)
        style.format_axis(ax.xaxis, q)
        r0 = results[0]
        same = all(r.n_paths == r0.n_paths and r.seed == r0.seed for r in results)
        sub = style.run_line(r0) + (" each" if len(results) > 1 and same else "")
        if len(results) == 2:
            default = f"{q.label}: {labels[0]} vs {labels[1]}"
        else:
            default = f"{results[0].scenario_name}: {q.label}, cumulative"
        style.titles(ax, title or default, sub)
        style.legend_below(ax, ncol=min(len(results), 2))
    return ax


def plot_compare(a: "Result", b: "Result", output: str = "funding_gap", ax=None, labels=None,
                 kind: str = "cdf", bins: int = 60, title: str | None = None):
    """Two results of one output: kind "cdf" overlays their CDFs; "diff" is the histogram of
    the paired differences B − A (see plot_diff)."""
    if kind == "cdf":
        return plot_cdf([a, b], output, ax=ax, labels=_names(a, b, labels), title=title)
    if kind == "diff":
        return plot_diff(a, b, output, ax=ax, labels=labels, bins=bins, title=title)
    raise ValueError(f"kind must be 'cdf' or 'diff', got {kind!r}")


def plot_diff(a: "Result", b: "Result", output: str = "funding_gap", ax=None, labels=None,
              bins: int = 60, title: str | None = None):
    """Histogram of the paired differences B − A over paths where both are defined, as shares
    of paths; the mean difference is marked with its 95% confidence interval.

    Needs two runs of the same paths (same seed, first path and path count): with common
    random numbers, path p of A and of B share their random numbers.
    """
    if (a.seed, a.first_path, a.n_paths) != (b.seed, b.first_path, b.n_paths):
        raise ValueError("paired differences need the same seed, first path and paths in both runs; got "
                         f"seed {a.seed}/{b.seed}, paths {a.n_paths}/{b.n_paths}, "
                         f"first_path {a.first_path}/{b.first_path}")
    q = quantity(output)
    labels = _names(a, b, labels)
    xa, xb = np.asarray(a.outputs[output]), np.asarray(b.outputs[output])
    ok = ~(np.isnan(xa) | np.isnan(xb))
    d = xb[ok] - xa[ok]
    with style.context():
        ax = style.new_axes(ax)
        handles = []
        if d.size:
            mean = float(d.mean())
            se = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")
            heights, edges, patches = ax.hist(d, bins=_edges(d, q, bins, a.dt),
                                              weights=np.full(d.size, 1.0 / a.n_paths), color=style.COLORS[1],
                                              alpha=0.75, edgecolor="white", linewidth=0.4)
            handles.append((patches[0], "share of paths in each bin"))
            ax.set_ylim(0, float(heights.max()) * 1.35)
            ax.set_xlim(min(edges[0], 0), max(edges[-1], 0))
            if ax.get_xlim()[0] < 0 < ax.get_xlim()[1]:
                ax.axvline(0, color=style.MUTED, lw=0.9)
            ax.axvline(mean, color=style.INK, lw=1.2)
            ci = f" ± {style.format_value(1.96 * se, q.unit)}" if np.isfinite(se) else ""
            _place_labels(ax, [(mean, f"mean {style.format_value(mean, q.unit)}{ci}", "right")],
                          fontsize=8.5, color=style.INK,
                          bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=1.0))
        ax.set_ylabel("share of paths")
        ax.yaxis.set_major_formatter(style.share_formatter())
        style.frame(ax)
        style.format_axis(ax.xaxis, q)
        ax.set_xlabel(f"{labels[1]} − {labels[0]}: " + ax.get_xlabel())
        sub = style.run_line(a) + " · same random numbers in both (paired)"
        if ok.sum() < a.n_paths:
            sub += f" · {1 - ok.mean():.0%} of paths undefined in A or B"
        style.titles(ax, title or f"{q.label}: {labels[1]} − {labels[0]}, path by path", sub)
        if handles:
            style.legend_below(ax, [h for h, _ in handles], [l for _, l in handles])
    return ax
