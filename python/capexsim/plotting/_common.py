"""Helpers the charts share: layout of a figure, labels that do not overlap, the defined
values of an output, histogram edges, quantile curves."""
from __future__ import annotations

import numpy as np


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
