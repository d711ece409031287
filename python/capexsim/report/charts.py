"""The report's charts: matplotlib figures as embedded SVG, the headline's histogram and CDF,
the fan charts it shows."""
from __future__ import annotations

import base64
import io

from .. import plotting, style
from ._html import _e


def svg_data_uri(ax) -> str:
    """A figure as an SVG data: URI (text drawn as paths: no fonts needed); closes the figure."""
    import matplotlib.pyplot as plt
    fig = ax.figure
    buf = io.BytesIO()
    with style.context():
        fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(ax, alt: str) -> str:
    return f'<img class="chart" alt="{_e(alt)}" src="{svg_data_uri(ax)}">'


def _distribution_charts(result, headline: str, q, constant: bool) -> str:
    """The headline's histogram and CDF; for an output with one value on every path, that
    value in words (a histogram of a constant is one bar)."""
    if constant:
        value = result.summary().loc[headline, "p50"]
        return (f"<p>Every path of this run has the same {_e(q.label)}: "
                f"<b>{_e(style.format_value(value, q.unit))}</b>, so there is no distribution to draw.</p>")
    return (_img(plotting.plot_hist(result, headline), f"{q.label} histogram")
            + _img(plotting.plot_cdf(result, headline), f"{q.label} cumulative distribution"))


def _fan_series(result) -> list[str]:
    have = list(getattr(result._core, "series_names", [])) if result._core.has_bands() else []
    wanted = ["cash", "capacity", "arr", "debt", "ownership", "arrears"]
    return [s for s in wanted if s in have]
