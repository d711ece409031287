"""The look of every capexsim chart: colours, fonts, number formats, titles, legends.

Money is carried in $B everywhere in the package; on charts and in cards it is written
"$850B" below a thousand billion and "$1.2T" from there. A table row is written in one unit
(money_scale: "$1,250B ± $8.3B | $390B", thousands separated), never $T beside $B.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np

from .units import Quantity

#: Scenario A, scenario B, then further series.
COLORS = ["#1f4e79", "#c0504d", "#4f8a3c", "#8064a2", "#d98c1f"]
INK = "#222222"
MUTED = "#666666"
GRID = "#e3e3e3"
CDF_COLOR = "#b5452f"

RC = {
    "font.size": 10,
    "axes.titlesize": 12,
    "axes.labelsize": 10,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "legend.frameon": False,
    "legend.fontsize": 9,
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "svg.fonttype": "path",
    "text.parse_math": False,  # "$1.2T to $2.9T" is money, not mathtext
    "svg.hashsalt": "capexsim",  # same bytes for the same chart
}

FIGSIZE = (8.0, 4.8)


@contextlib.contextmanager
def context():
    """matplotlib settings of capexsim charts, for the duration of one chart."""
    import matplotlib as mpl
    # Save and restore only these keys: matplotlib's rc_context restores every key,
    # "backend" included, and that drops the figures a notebook's inline backend holds.
    saved = {k: mpl.rcParams[k] for k in RC}
    mpl.rcParams.update(RC)
    try:
        yield
    finally:
        mpl.rcParams.update(saved)


def new_axes(ax=None):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    _, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    return ax


# -- numbers -----------------------------------------------------------------------------
def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


_SCALES = {"M": 0.001, "B": 1.0, "T": 1000.0}


def money_scale(values) -> str:
    """The one unit a table row writes all its money in ("M", "B" or "T"), from its largest
    finite magnitude: "$1,984B ± $8.3B | $390B" rather than "$1.98T ± $8.3B | $390B", and
    "$1.03M" rather than "$0.00103B". $B up to $10,000B, $T beyond; $M below $1B."""
    finite = [abs(float(v)) for v in values if v is not None and np.isfinite(v)]
    m = max(finite, default=0.0)
    return "T" if m >= 9999.5 else ("B" if m >= 0.9995 or m == 0 else "M")


def format_money(value_bn: float, digits: int = 3, trim: bool = True, scale: str | None = None) -> str:
    """$B value as text with about `digits` significant digits: "$850B", "$1.84T", "−$42.5B".
    trim=False keeps trailing zeros ("$1.00T"), so values side by side in a table read alike.
    `scale` ("M", "B", "T"; see money_scale) fixes the unit, so a table row reads in one unit
    ("$1,984B", thousands separated)."""
    if value_bn is None or not np.isfinite(value_bn):
        return "n/a"
    sign = "−" if value_bn < 0 else ""
    v = abs(float(value_bn))
    if scale is None:
        scale = "T" if v >= 999.5 else "B"
    if scale not in _SCALES:
        raise ValueError(f"scale must be one of {sorted(_SCALES)}, got {scale!r}")
    suffix = scale
    v /= _SCALES[scale]
    decimals = 0 if v == 0 else max(0, digits - 1 - int(math.floor(math.log10(v))))
    text = f"{v:,.{decimals}f}"
    return f"{sign}${_trim(text) if trim else text}{suffix}"


def format_value(value: float, unit: str, digits: int = 3, trim: bool = True,
                 scale: str | None = None) -> str:
    """A value with its unit, for labels and tables: "$1.84T", "$234B/yr", "30.0 GW", "6.5 years",
    "23.5%" (a share)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if unit.startswith("$B"):
        rest = unit[2:]
        return format_money(value, digits, trim, scale) + (rest if rest.startswith("/") else f" {rest.strip()}" if rest else "")
    if unit == "share":
        return f"{value:.1%}"
    if unit == "years":
        return f"{value:,.2f} years"
    return f"{value:,.1f} {unit}"


def format_mean_ci(mean: float, stderr: float, unit: str, scale: str | None = None) -> str:
    """A Monte Carlo mean and its 95% confidence half-width (1.96 stderr), the unit once:
    "$1.83T ± $3.6B", "$234B/yr ± $0.71B", "0.64 ± 0.0019 years"."""
    if mean is None or not np.isfinite(mean):
        return "n/a"
    half = 1.96 * float(stderr) if stderr is not None and np.isfinite(stderr) else float("nan")
    if unit.startswith("$B"):
        err = f" ± {format_money(half, 2, scale=scale)}" if np.isfinite(half) else ""
        return format_value(mean, unit, scale=scale) + err
    if unit == "share":  # as percent: "28.1% ± 0.64%"
        err = f" ± {100 * half:.2g}%" if np.isfinite(half) else ""
        return format_value(mean, unit) + err
    if not np.isfinite(half):
        return format_value(mean, unit)
    if half > 0:
        decimals = min(4, max(2, 1 - int(math.floor(math.log10(half)))))
        err = f"{half:.2g}"
    else:
        decimals, err = (2 if unit == "years" else 1), "0"
    return f"{mean:,.{decimals}f} ± {err} {unit}"


def axis_label(q: Quantity) -> str:
    """Axis label naming the quantity and its unit; money axes carry $B/$T on the ticks."""
    unit = q.unit
    if unit == "$B":
        unit = "US$"
    elif unit == "$B/yr":
        unit = "US$ per year"
    elif unit.startswith("$B"):
        unit = "US$" + unit[2:]
    elif unit == "share":
        unit = "%"
    elif unit == "years" and q.kind == "time":
        unit = "years from start"
    return f"{q.label} ({unit})"


def money_formatter():
    """Tick formatter for axes in $B: one suffix ($B or $T) per axis, as few decimals as the
    ticks need to stay distinct: "$0", "$500B", "$1.5T", "−$2T"."""
    from matplotlib.ticker import Formatter

    class MoneyFormatter(Formatter):
        def _scale(self):
            locs = np.asarray(self.locs if len(self.locs) else [0.0], dtype=float)
            big = np.nanmax(np.abs(locs)) >= 1000
            scale, suffix = (1000.0, "T") if big else (1.0, "B")
            scaled = locs / scale
            for decimals in range(0, 4):
                if np.allclose(np.round(scaled, decimals), scaled, rtol=0, atol=1e-9 * max(1, np.abs(scaled).max())):
                    return scale, suffix, decimals
            return scale, suffix, 3

        def __call__(self, x, pos=None):
            scale, suffix, decimals = self._scale()
            v = x / scale
            if abs(v) < 0.5 * 10.0 ** (-decimals):
                return "$0"
            sign = "−" if v < 0 else ""
            return f"{sign}${abs(v):,.{decimals}f}{suffix}"

    return MoneyFormatter()


def plain_formatter(decimals: int | None = None):
    """Thousands separators, no scientific notation (not for calendar years)."""
    from matplotlib.ticker import FuncFormatter

    def fmt(x, pos=None):
        if decimals is None:
            return f"{x:,.10g}" if abs(x) < 1e15 else f"{x:.3g}"
        return f"{x:,.{decimals}f}"
    return FuncFormatter(fmt)


def year_formatter():
    from matplotlib.ticker import FuncFormatter
    return FuncFormatter(lambda x, pos=None: f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}")


def share_formatter():
    from matplotlib.ticker import PercentFormatter
    return PercentFormatter(xmax=1.0, decimals=0)


def format_axis(axis, q: Quantity) -> None:
    """Label an axis (ax.xaxis / ax.yaxis) with a quantity and format its ticks."""
    axis.set_label_text(axis_label(q))
    if q.is_money:
        axis.set_major_formatter(money_formatter())
    elif q.unit == "share":  # ownership 0.4 reads "40%", as the tables print it
        from matplotlib.ticker import PercentFormatter
        axis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:
        axis.set_major_formatter(plain_formatter())


# -- titles, legends, frame ---------------------------------------------------------------
def titles(ax, title: str, subtitle: str | None = None) -> None:
    """A bold left-aligned title and, under it, a grey subtitle (paths, seed, ...)."""
    # The title sits above the subtitle, whatever its number of lines.
    lines = subtitle.count("\n") + 1 if subtitle else 0
    ax.set_title(title, loc="left", fontweight="bold", pad=8 + 12 * lines if subtitle else 8, color=INK)
    if subtitle:
        ax.text(0, 1.02, subtitle, transform=ax.transAxes, ha="left", va="bottom",
                fontsize=9, color=MUTED, gid="subtitle")


def subtitle_of(ax) -> str | None:
    """The subtitle written by `titles` (for tests and reports)."""
    for t in ax.texts:
        if t.get_gid() == "subtitle":
            return t.get_text()
    return None


def run_line(result) -> str:
    """"100,000 paths · seed 1 · 120 monthly steps from 2026"."""
    steps = {1 / 12: "monthly", 1 / 52: "weekly", 0.25: "quarterly"}
    kind = next((v for k, v in steps.items() if abs(result.dt - k) < 1e-9), f"{result.dt:g}-year")
    start = f"{result.start_year:g}"
    return f"{result.n_paths:,} paths · seed {result.seed} · {result.steps} {kind} steps from {start}"


def legend_below(ax, handles=None, labels=None, ncol=None):
    """A legend under the plot area, where it cannot cover data."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    from matplotlib.transforms import ScaledTranslation
    ncol = ncol or min(len(handles), 4)
    # 40 points under the axes: clear of tick labels and the x-axis label at any figure size.
    below = ax.transAxes + ScaledTranslation(0, -40 / 72, ax.figure.dpi_scale_trans)
    return ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0), bbox_transform=below,
                     ncol=ncol, frameon=False, handlelength=1.8, columnspacing=1.6)


def frame(ax) -> None:
    """Light horizontal grid behind the data, no top/right spines."""
    ax.set_axisbelow(True)
    ax.grid(axis="y", color=GRID, lw=0.8)
    ax.grid(axis="x", visible=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


#: Further colours after COLORS, for charts with many series (factors of a Sobol chart).
MORE_COLORS = ["#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#000000", "#6d597a"]


def palette(n: int) -> list[str]:
    """n distinct colours: COLORS, then MORE_COLORS, then repeating."""
    colors = COLORS + MORE_COLORS
    return [colors[i % len(colors)] for i in range(n)]
