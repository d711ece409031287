"""matplotlib charts of results: fan charts, histograms, CDFs, comparisons. Each returns its Axes.

Every chart takes its names and units from :func:`capexsim.units.quantity` and its look from
:mod:`capexsim.style`; money is written in $B / $T, frequencies as shares of paths.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence, Union

import numpy as np

from . import style
from .units import quantity

if TYPE_CHECKING:  # plotting needs only the Result interface; no import at run time
    from .result import Result
    from .scenario import Scenario

Event = tuple  # (year, label)


# -- helpers -------------------------------------------------------------------------------
def _renderer(fig):
    try:
        return fig.canvas.get_renderer()
    except AttributeError:  # a backend without one: lay out with Agg's
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        return FigureCanvasAgg(fig).get_renderer()


def _lay_out(fig) -> None:
    """Run the layout engine now, so label positions computed next are final."""
    fig.draw_without_rendering()


def _place_labels(ax, items, rows=(0.965, 0.895, 0.825), pad_px=6, **text_kw):
    """Write labels next to vertical marker lines without overlaps.

    items: (x in data units, text, side) with side "left" or "right" of the line. Each label
    takes the first row (axes fraction, top down) where it overlaps no label already placed;
    the caller keeps that band free of data. Returns the Text objects.
    """
    from matplotlib.transforms import offset_copy
    if not items:
        return []
    fig = ax.figure
    _lay_out(fig)
    renderer = _renderer(fig)
    placed = []  # (row, x0, x1) in pixels
    texts = []
    x_lo, x_hi = ax.get_window_extent(renderer).x0, ax.get_window_extent(renderer).x1
    for x, text, side in sorted(items, key=lambda it: it[0]):
        t = ax.text(x, rows[0], text, transform=ax.get_xaxis_transform(), va="top",
                    ha="left" if side == "right" else "right", **text_kw)
        width = t.get_window_extent(renderer).width
        xp = ax.transData.transform((x, 0))[0]
        # Keep the label inside the axes: flip to the other side of its line if needed.
        if side == "right" and xp + pad_px + width > x_hi:
            side = "left"
        elif side == "left" and xp - pad_px - width < x_lo:
            side = "right"
        x0 = xp + pad_px if side == "right" else xp - pad_px - width
        t.set_ha("left" if side == "right" else "right")
        t.set_transform(offset_copy(ax.get_xaxis_transform(), fig=fig,
                                    x=(pad_px if side == "right" else -pad_px), units="dots"))
        row = 0
        while row < len(rows) - 1 and any(r == row and not (x0 + width + 4 < a or x0 > b + 4)
                                          for r, a, b in placed):
            row += 1
        t.set_y(rows[row])
        placed.append((row, x0, x0 + width))
        texts.append(t)
    return texts


def _defined(result, output: str) -> np.ndarray:
    x = np.asarray(result.outputs[output])
    return x[~np.isnan(x)]


def _edges(x: np.ndarray, q, bins: int, dt: float) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    if q.kind == "time":
        # Event times sit on the step grid: bins a whole number of steps wide, centred on it.
        width = dt * max(1, int(np.ceil((hi - lo) / dt / bins)))
        start = np.floor(lo / dt) * dt - dt / 2
        return np.arange(start, hi + width, width)
    if hi - lo <= 1e-9 * max(1.0, abs(lo)):  # every path the same, up to rounding
        half = max(abs(lo) * 0.01, 0.5)
        return np.linspace(lo - half, hi + half, 4)
    return np.linspace(lo, hi, bins + 1)


def _names(a, b, labels):
    labels = list(labels or (a.scenario_name, b.scenario_name))
    if labels[0] == labels[1]:
        labels = [labels[0] + " (A)", labels[1] + " (B)"]
    return labels


def _quantile_curve(x: np.ndarray, n_total: int, points: int = 800):
    """(values, cumulative share of all paths) at most `points` long: enough for a smooth curve,
    small enough for an SVG."""
    xs = np.sort(x)
    share = np.arange(1, xs.size + 1) / n_total
    if xs.size > points:
        idx = np.unique(np.linspace(0, xs.size - 1, points).round().astype(int))
        xs, share = xs[idx], share[idx]
    return np.concatenate([[xs[0]], xs]), np.concatenate([[0.0], share])


# -- events ------------------------------------------------------------------------------------
def _typical(value) -> float | None:
    """A scenario number, or the middle of a distribution's support ("triangular": its mode)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict) and len(value) == 1:
        (shape, p), = value.items()
        if isinstance(p, (int, float)):
            return float(p)
        if shape == "triangular" and len(p) == 3:
            return float(p[1])
        if len(p) == 2 and shape in ("uniform", "normal"):
            return float(p[0] + p[1]) / 2 if shape == "uniform" else float(p[0])
    return None


def scenario_events(scenario: "Scenario") -> list[Event]:
    """Dated events of a scenario for fan charts: contract ends (after their renewals),
    checkpoints, equity raises, debt maturities. A term or start drawn from a distribution is marked at its
    middle value."""
    d = scenario.to_dict()
    events = []
    for c in d.get("contract", []):
        start, years = _typical(c["start"]), _typical(c["years"])
        if start is None or years is None:
            continue
        events.append((start + years * (1 + int(c.get("renewals", 0))), f"{c['name']} ends"))
    for year in d.get("outputs", {}).get("checkpoints", []):
        events.append((float(year), f"checkpoint {year:g}"))
    for e in d.get("equity", []):
        if e.get("amount", 0) > 0:
            events.append((e["at"], f"equity {style.format_money(e['amount'])}"))
    for f in d.get("debt", []):
        # A balance repaid at maturity is the debt fan's cliff (into arrears where cash is
        # short); a facility with refinance_years rolls instead when the lab is current
        # (docs/model.md §12.4).
        if f.get("maturity") is not None:
            rolls = f.get("refinance_years") is not None
            events.append((float(f["maturity"]), f"{f['name']} matures{' (rolls if current)' if rolls else ''}"))
    return events


def _merge_events(events: Iterable[Event], tol: float = 0.05) -> list[Event]:
    """One marker per date: "azure ends" + "oracle ends" -> "azure, oracle end"."""
    by_year: dict[float, list[str]] = {}
    for year, label in sorted(events, key=lambda e: e[0]):
        key = next((k for k in by_year if abs(k - year) <= tol), year)
        by_year.setdefault(key, []).append(label)
    merged = []
    for year, labels in by_year.items():
        ends = [l[:-5] for l in labels if l.endswith(" ends")]
        rest = [l for l in labels if not l.endswith(" ends")]
        if len(ends) > 1:
            rest.insert(0, ", ".join(ends) + " end")
        else:
            rest = labels
        merged.append((year, "; ".join(rest)))
    return merged


# -- charts ---------------------------------------------------------------------------------------
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


# -- sensitivity ------------------------------------------------------------------------------
#: Sobol factors that are the model's random processes, not drawn inputs.
_PROCESS_GROUPS = ("pace", "cost", "demand", "growth", "debt_rates", "valuation", "equity_capacity", "warrant_price", "deal_terms", "plan_coverage", "revenue_defaults")


def _stat_label(statistic: str) -> str:
    """"mean", "p95" -> "95th percentile", "prob_positive" -> "share of paths above 0"."""
    if statistic == "prob_positive":
        return "share of paths above 0"
    if statistic.startswith("p") and statistic[1:].replace(".", "", 1).isdigit():
        if statistic == "p50":
            return "median"
        n = statistic[1:]
        last = n[-1]
        suffix = "th"
        if last == "1" and not n.endswith("11"):
            suffix = "st"
        elif last == "2" and not n.endswith("12"):
            suffix = "nd"
        elif last == "3" and not n.endswith("13"):
            suffix = "rd"
        return f"{n}{suffix} percentile" if "." not in n else f"{n}th percentile"
    return statistic


def _format_input(x: float) -> str:
    if not np.isfinite(x):
        return "n/a"
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.3g}"
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _run_of(df, per_run: str = "") -> str:
    a = df.attrs
    parts = []
    if "paths" in a:
        parts.append(f"{a['paths']:,} paths{per_run}")
    if "seed" in a:
        parts.append(f"seed {a['seed']}")
    return " · ".join(parts)


def plot_tornado(df, ax=None, title: str | None = None, top: int | None = None):
    """Tornado chart of :func:`capexsim.sensitivity` (method="tornado"): one row per input,
    largest swing on top; bars run from the base statistic to its value with the input at
    its low (P10) and at its high (P90) value, each labelled with that input value; the
    base is the vertical line. top: show only the `top` largest swings."""
    from matplotlib.patches import Patch
    _expect_table(df, "tornado", ["low_input", "high_input", "stat_low", "stat_high", "swing"])
    if top is not None and (isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1):
        raise ValueError(f"top must be a whole number >= 1, got {top!r}")
    a = df.attrs
    output = a.get("output", "funding_gap")
    q = quantity(output)
    stat = a.get("statistic", "mean")
    d = df.sort_values("swing", ascending=False, kind="stable")
    if top is not None:
        d = d.head(top)
    varied = "kind" in d.columns and (d["kind"] == "vary").any()
    base = float(a.get("base", d["stat_base"].iloc[0] if len(d) else np.nan))
    lo_name = f"P{a.get('low', 0.1) * 100:g}"
    hi_name = f"P{a.get('high', 0.9) * 100:g}"
    c_low, c_high = style.COLORS[1], style.COLORS[0]
    n = len(d)
    with style.context():
        if ax is None:
            import matplotlib.pyplot as plt
            _, ax = plt.subplots(figsize=(style.FIGSIZE[0], max(3.2, 1.6 + 0.42 * n)), layout="constrained")
        y = np.arange(n)[::-1]  # the largest swing on top
        values = np.concatenate([d["stat_low"].to_numpy(), d["stat_high"].to_numpy(), [base]])
        values = values[np.isfinite(values)]
        span = float(values.max() - values.min()) if values.size else 1.0
        span = span if span > 0 else max(abs(base), 1.0) * 0.1
        height = 0.62
        for yi, (factor, r) in zip(y, d.iterrows()):
            if r["stat_low"] == base and r["stat_high"] == base:  # no effect at all: say so
                ax.text(base + 0.01 * span, yi,
                        f"no change ({_format_input(r['low_input'])} to {_format_input(r['high_input'])})",
                        va="center", ha="left", fontsize=8, color=style.MUTED)
                continue
            ends = [(r["stat_low"], c_low, r["low_input"]), (r["stat_high"], c_high, r["high_input"])]
            # the longer bar first, so that a shorter one on the same side stays visible
            ends.sort(key=lambda e: -abs(e[0] - base) if np.isfinite(e[0]) else 0)
            same_side = np.sign(r["stat_low"] - base) == np.sign(r["stat_high"] - base)
            for k, (v, color, x_in) in enumerate(ends):
                if not np.isfinite(v):
                    continue
                h = height if not (same_side and k == 1) else height * 0.55
                ax.barh(yi, v - base, left=base, height=h, color=color, alpha=0.85, lw=0)
                right = v >= base
                label = _format_input(x_in)
                if same_side and k == 1:  # inside the longer bar, at the shorter one's end
                    ax.text(v, yi, f" {label} ", va="center", ha="right" if right else "left", fontsize=8,
                            color="white")
                else:
                    ax.text(v + (0.01 if right else -0.01) * span, yi, label, va="center",
                            ha="left" if right else "right", fontsize=8, color=style.INK)
        ax.axvline(base, color=style.INK, lw=1.1, zorder=3)
        ax.set_yticks(y)
        kinds = list(d["kind"]) if "kind" in d.columns else ["pin"] * n
        ax.set_yticklabels([f"{f} (vary)" if k == "vary" else f for f, k in zip(d.index, kinds)])
        ax.set_ylim(-0.7, n + 0.1)  # a free band on top for the base label
        lo_v, hi_v = (float(values.min()), float(values.max())) if values.size else (base - 1, base + 1)
        ax.set_xlim(lo_v - 0.16 * span, hi_v + 0.16 * span)  # room for the input labels
        ax.set_axisbelow(True)
        ax.grid(axis="x", color=style.GRID, lw=0.8)
        ax.grid(axis="y", visible=False)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if stat == "prob_positive":
            from matplotlib.ticker import PercentFormatter
            ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))  # as many decimals as needed
            ax.set_xlabel(f"share of paths with {q.label} above 0")
        else:
            style.format_axis(ax.xaxis, q)
            ax.set_xlabel(f"{_stat_label(stat)} of " + ax.get_xlabel())
        ax.tick_params(axis="y", length=0)
        base_text = (f"{base:.1%}" if stat == "prob_positive" else style.format_value(base, q.unit))
        ax.text(base, n - 0.55, f"base {base_text}", ha="center", va="bottom", fontsize=8.5,
                color=style.INK, bbox=dict(facecolor="white", edgecolor="none", alpha=0.9, pad=1.0))
        sub = (f"inputs one at a time at {lo_name} / {hi_name}, all else as in the base run · "
               + _run_of(df, " per run"))
        if varied:
            sub = sub.replace(", all else", " ((vary): over their range), all else")
            sub = sub.replace(" · ", "\n", 1)
        what = f"P({q.label} > 0)" if stat == "prob_positive" else (
            f"the mean {q.label}" if stat == "mean" else f"the {_stat_label(stat)} of {q.label}")
        style.titles(ax, title or f"{a.get('scenario', '')}: what moves {what}".lstrip(": "), sub)
        handles = [Patch(color=c_low, alpha=0.85), Patch(color=c_high, alpha=0.85),
                   ax.lines[-1] if ax.lines else Patch(color=style.INK)]
        labels = [f"input at its {lo_name} (low)" + (" or LO" if varied else ""),
                  f"input at its {hi_name} (high)" + (" or HI" if varied else ""), "base run"]
        style.legend_below(ax, handles, labels, ncol=3)
    return ax


def _expect_table(df, method: str, columns) -> None:
    """A clear error when `df` is not a table of sensitivity(..., method=`method`)."""
    have = getattr(df, "columns", [])
    missing = [c for c in columns if c not in have]
    if missing:
        got = getattr(df, "attrs", {}).get("method", "a table without them")
        raise ValueError(f"expected the table of sensitivity(..., method={method!r}) with columns "
                         f"{', '.join(columns)}; got {got!r} (missing {', '.join(missing)})")


def _sobol_order(df):
    """Inputs first, then process groups, each by ST, largest first."""
    names = list(df.index)
    inputs = [f for f in names if f not in _PROCESS_GROUPS]
    groups = [f for f in names if f in _PROCESS_GROUPS]
    key = lambda f: -float(df.loc[f, "ST"]) if np.isfinite(df.loc[f, "ST"]) else 0.0  # noqa: E731
    return sorted(inputs, key=key) + sorted(groups, key=key)


def plot_sobol(df, ax=None, title: str | None = None):
    """Sobol indices of :func:`capexsim.sensitivity` (method="sobol"): per factor, the
    first-order index S (the share of the output's variance the factor explains alone) and
    the total index ST (with all its interactions) side by side, the bootstrap interval as
    error bars. The model's process groups (its random paths: pace, cost, demand, growth,
    and one per source of financing draws) are hatched and sit below the drawn inputs."""
    from matplotlib.patches import Patch
    import pandas as pd
    if isinstance(getattr(df, "index", None), pd.MultiIndex):
        raise ValueError("this is a table over time (sensitivity(..., over_time=SERIES)): plot it "
                         "with plot_sobol_over_time, or one year of it with plot_sobol(df.loc[year])")
    _expect_table(df, "sobol", ["S", "S_lo", "S_hi", "ST", "ST_lo", "ST_hi"])
    a = df.attrs
    order = _sobol_order(df)
    d = df.loc[order]
    n = len(d)
    groups = [f in _PROCESS_GROUPS for f in order]
    c_s, c_t = style.COLORS[0], style.COLORS[4]
    with style.context():
        if ax is None:
            import matplotlib.pyplot as plt
            _, ax = plt.subplots(figsize=(style.FIGSIZE[0], max(3.4, 1.9 + 0.46 * n)), layout="constrained")
        y = np.arange(n)[::-1].astype(float)
        h = 0.38
        for col, lo, hi, off, color in (("S", "S_lo", "S_hi", h / 2, c_s), ("ST", "ST_lo", "ST_hi", -h / 2, c_t)):
            v = d[col].to_numpy(dtype=float)
            err = np.vstack([np.clip(v - d[lo].to_numpy(dtype=float), 0, None),
                             np.clip(d[hi].to_numpy(dtype=float) - v, 0, None)])
            bars = ax.barh(y + off, v, height=h, color=color, alpha=0.9, lw=0.6, edgecolor="white",
                           xerr=err, error_kw=dict(ecolor=style.INK, elinewidth=0.9, capsize=2.5))
            for bar, is_group in zip(bars, groups):
                if is_group:
                    bar.set_hatch("///")
                    bar.set_edgecolor("white")
                    bar.set_alpha(0.55)
        ax.set_yticks(y)
        ax.set_yticklabels([f"{f} (process)" if g else f for f, g in zip(order, groups)])
        for t, g in zip(ax.get_yticklabels(), groups):
            if g:
                t.set_style("italic")
        if any(groups) and not all(groups):
            split = y[groups.index(True)] + 0.5
            ax.axhline(split, color=style.MUTED, lw=0.8, ls="--")
        ax.axvline(0, color=style.INK, lw=0.8)
        hi_all = np.nanmax(np.concatenate([d["ST_hi"].to_numpy(dtype=float), d["S_hi"].to_numpy(dtype=float),
                                           d["ST"].to_numpy(dtype=float), [0.05]]))
        lo_all = np.nanmin(np.concatenate([d["S_lo"].to_numpy(dtype=float), d["S"].to_numpy(dtype=float), [0.0]]))
        ax.set_xlim(min(0.0, lo_all * 1.1), min(1.05, hi_all * 1.12) if hi_all <= 1 else hi_all * 1.05)
        ax.set_ylim(-0.7, n - 0.3)
        ax.xaxis.set_major_formatter(style.share_formatter())
        q = quantity(a["output"]) if "output" in a and a["output"] else None
        what = q.label if q else "the output"
        if a.get("statistic") == "prob_positive":
            what = f"P({what} > 0)"
        ax.set_xlabel(f"share of the variance of {what}")
        ax.set_axisbelow(True)
        ax.grid(axis="x", color=style.GRID, lw=0.8)
        ax.grid(axis="y", visible=False)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="y", length=0)
        level = a.get("level", 0.95)
        sub = f"pick-freeze, N = {_run_of(df)}"
        if "total_paths" in a:
            sub += f" ({a['total_paths']:,} paths in all)"
        same = bool(np.all(d["S_lo"] == d["S_hi"]) and np.all(d["ST_lo"] == d["ST_hi"]))
        style.titles(ax, title or f"{a.get('scenario', '')}: what drives the variance of the {what}".lstrip(": "),
                     sub)
        handles = [Patch(color=c_s, alpha=0.9), Patch(color=c_t, alpha=0.9),
                   Patch(facecolor=style.MUTED, alpha=0.55, hatch="///", edgecolor="white")]
        labels = ["S: first order (the factor alone)", "ST: total (with its interactions)",
                  "hatched: a process group (random paths)"]
        if not same:
            from matplotlib.lines import Line2D
            handles.append(Line2D([], [], color=style.INK, lw=0.9, marker="|", markersize=6))
            labels.append(f"{level:.0%} bootstrap interval")
        style.legend_below(ax, handles, labels, ncol=2)
    return ax


def plot_sobol_over_time(df, ax=None, index: str = "ST", title: str | None = None, min_share: float = 0.02):
    """Sobol indices at each checkpoint year (:func:`capexsim.sensitivity` with
    method="sobol", over_time=SERIES): one line per factor of `index` ("S" or "ST") against
    the year, the bootstrap interval shaded; drawn inputs solid, process groups dashed.
    Factors whose index stays below `min_share` in every year are left out (named in the
    subtitle). Each factor keeps its colour between the S and the ST chart."""
    if index not in ("S", "ST"):
        raise ValueError(f"index must be 'S' or 'ST', got {index!r}")
    import pandas as pd
    if not isinstance(getattr(df, "index", None), pd.MultiIndex):
        raise ValueError("expected the table of sensitivity(..., method='sobol', over_time=SERIES) "
                         "(a (year, factor) MultiIndex)")
    a = df.attrs
    factors = list(dict.fromkeys(df.index.get_level_values("factor")))
    table = df[index].unstack("factor").reindex(columns=factors)
    lo = df[f"{index}_lo"].unstack("factor").reindex(columns=factors)
    hi = df[f"{index}_hi"].unstack("factor").reindex(columns=factors)
    years = table.index.to_numpy(dtype=float)
    peak = table.max(axis=0)
    shown = [f for f in factors if np.isfinite(peak[f]) and peak[f] >= min_share]
    hidden = [f for f in factors if f not in shown]
    # One colour per factor by its place in the table (not by rank), so the S and ST charts
    # of one analysis colour each factor alike.
    colors = dict(zip(factors, style.palette(len(factors))))
    shown.sort(key=lambda f: -float(peak[f]))
    series = a.get("series", a.get("output", ""))
    try:
        label = quantity(series).label
    except KeyError:
        label = series
    with style.context():
        ax = style.new_axes(ax)
        for f in shown:
            is_group = f in _PROCESS_GROUPS
            color = colors[f]
            ax.plot(years, table[f], color=color, lw=2, ls="--" if is_group else "-", marker="o", markersize=4,
                    label=f"{f} (process)" if is_group else f)
            if not np.allclose(lo[f], hi[f], equal_nan=True):
                ax.fill_between(years, lo[f], hi[f], color=color, alpha=0.12, lw=0)
        ax.set_xticks(years)
        ax.xaxis.set_major_formatter(style.year_formatter())
        pad = 0.3 if len(years) > 1 else 0.5
        ax.set_xlim(years.min() - pad, years.max() + pad)
        ax.set_ylim(min(0.0, float(np.nanmin(table.to_numpy())) * 1.1),
                    max(0.1, float(np.nanmax(table.to_numpy())) * 1.12))
        ax.yaxis.set_major_formatter(style.share_formatter())
        ax.set_xlabel("checkpoint year")
        name = "total index ST" if index == "ST" else "first-order index S"
        ax.set_ylabel(f"{name} (share of variance)")
        style.frame(ax)
        sub = f"pick-freeze, N = {_run_of(df)} · solid: drawn inputs, dashed: process groups"
        if hidden:
            names = ", ".join(hidden[:3]) + (f" and {len(hidden) - 3} more" if len(hidden) > 3 else "")
            sub += f"\nbelow {min_share:.0%} in every year, not shown: {names}"
        style.titles(ax, title or f"{a.get('scenario', '')}: what drives the {label}, year by year".lstrip(": "),
                     sub)
        style.legend_below(ax, ncol=3)
    return ax
