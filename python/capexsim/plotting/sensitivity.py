"""Charts of sensitivity tables: a tornado, Sobol indices and Sobol indices over time."""
from __future__ import annotations

import numpy as np

from .. import style
from .._tables import PROCESS_GROUPS
from ..units import quantity


#: Sobol factors that are the model's random processes, not drawn inputs.
_PROCESS_GROUPS = PROCESS_GROUPS  # one list, sensitivity's (capexsim._tables)


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
