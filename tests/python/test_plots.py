"""Charts, checked by content rather than golden images: labels, units, legends, tick text,
titles, and that labels and legends stay clear of each other and of the data."""
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest

import capexsim
from capexsim import style
from capexsim.units import quantity

MONEY_TICK = re.compile(r"^(\$0|−?\$\d{1,3}(,\d{3})*(\.\d+)?[BT])$")


@pytest.fixture(scope="module")
def results(reference_path, source_dir):
    a = capexsim.simulate(reference_path, paths=1500, seed=2)
    b = capexsim.simulate(f"{source_dir}/scenarios/cheap-compute.toml", paths=1500, seed=2)
    return a, b


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _draw(ax):
    ax.figure.canvas.draw()
    return ax.figure.canvas.get_renderer()


def _ticks(axis):
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def _box(artist, renderer):
    return artist.get_window_extent(renderer)


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _assert_legend_below_axes(ax, renderer):
    legend, frame = _box(ax.get_legend(), renderer), ax.get_window_extent(renderer)
    assert legend.y1 < frame.y0, "the legend sits under the plot area, not on the data"
    xlabel = _box(ax.xaxis.label, renderer)
    assert not _overlap(legend, xlabel)


def _marker_texts(ax):
    return [t for t in ax.texts if t.get_gid() != "subtitle"]


# -- number formats ----------------------------------------------------------------------------
@pytest.mark.parametrize("value,text", [(1200, "$1.2T"), (850, "$850B"), (1834.6, "$1.83T"), (-42.5, "−$42.5B"),
                                        (0, "$0B"), (999.4, "$999B"), (999.6, "$1T"), (2_345_678, "$2,346T"),
                                        (0.456, "$0.456B"), (float("nan"), "n/a")])
def test_format_money(value, text):
    assert style.format_money(value) == text


@pytest.mark.parametrize("locs,texts", [
    ([0, 500, 1000, 1500], ["$0", "$0.5T", "$1.0T", "$1.5T"]),
    ([0, 1000, 2000], ["$0", "$1T", "$2T"]),
    ([0, 250, 500, 750], ["$0", "$250B", "$500B", "$750B"]),
    ([-3000, -2500, -2000], ["−$3.0T", "−$2.5T", "−$2.0T"]),
    ([1000, 1250, 1500], ["$1.00T", "$1.25T", "$1.50T"]),
    ([0, 0.5, 1.0], ["$0", "$0.5B", "$1.0B"]),
])
def test_money_ticks_share_one_suffix_and_enough_decimals(locs, texts):
    f = style.money_formatter()
    f.set_locs(locs)
    assert [f(x) for x in locs] == texts


def test_mean_with_its_error():
    assert style.format_mean_ci(1834.6, 1.84, "$B") == "$1.83T ± $3.6B"
    assert style.format_mean_ci(0.6434, 0.00029, "years") == "0.6434 ± 0.00057 years"
    assert style.format_mean_ci(30.0, 0.0, "GW") == "30.0 ± 0 GW"


# -- fan charts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("series", capexsim.SERIES)
def test_fan_chart_content(results, series, tmp_path):
    ax = results[0].plot_fan(series)
    renderer = _draw(ax)
    q = quantity(series)
    assert ax.get_xlabel() == "year"
    assert ax.get_ylabel() == style.axis_label(q)
    assert ("US$" in ax.get_ylabel()) == q.is_money and ("GW" in ax.get_ylabel()) == (q.unit.endswith("GW"))
    assert ax.get_title(loc="left") == f"ai-lab-2025: {q.label}"
    assert style.subtitle_of(ax) == "1,500 paths · seed 2 · 120 monthly steps from 2026"
    assert _legend_texts(ax) == ["5–95% of paths", "25–75% of paths", "median", "mean"]
    _assert_legend_below_axes(ax, renderer)
    assert all(re.fullmatch(r"20\d\d", t) for t in _ticks(ax.xaxis))  # years: no "2,030"
    if q.is_money:
        assert all(MONEY_TICK.match(t) for t in _ticks(ax.yaxis)), _ticks(ax.yaxis)
    path = tmp_path / f"{series}.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 10_000


def test_fan_chart_event_markers(results):
    ax = results[0].plot_fan("cash", events=True)  # the scenario the result was run from
    renderer = _draw(ax)
    labels = _marker_texts(ax)
    # azure (2026 + 6) and oracle (2027 + 5) both end in 2032: one marker, one label
    assert sorted(t.get_text() for t in labels) == ["aws ends", "azure, oracle end", "checkpoint 2028",
                                                    "checkpoint 2030"]
    xs = sorted(round(line.get_xdata()[0], 6) for line in ax.lines if line.get_linestyle() == ":")
    assert xs == [2028.0, 2030.0, 2032.0, 2033.0]
    boxes = [_box(t, renderer) for t in labels]
    frame = ax.get_window_extent(renderer)
    for i, a in enumerate(boxes):
        assert frame.x0 <= a.x0 and a.x1 <= frame.x1 + 1 and a.y1 <= frame.y1 + 1
        assert not any(_overlap(a, b) for b in boxes[i + 1:])
    # The labels sit above every band: the top band's highest value is below them.
    top = ax.transData.transform((2030, results[0].bands("cash")["p95"].max()))[1]
    assert min(b.y0 for b in boxes) > top
    custom = results[0].plot_fan("arr", events=[(2029.5, "IPO")])
    assert [t.get_text() for t in _marker_texts(custom)] == ["IPO"]
    none = results[0].plot_fan("arr")
    assert _marker_texts(none) == []


# -- histograms ------------------------------------------------------------------------------------
def test_histogram_shares_labels_and_cdf(results, tmp_path):
    r = results[0]
    ax = r.plot_hist("funding_gap")
    renderer = _draw(ax)
    assert ax.get_xlabel() == "funding gap (US$)"
    assert ax.get_ylabel() == "share of paths"
    assert all(t.endswith("%") for t in _ticks(ax.yaxis))
    assert all(MONEY_TICK.match(t) for t in _ticks(ax.xaxis)), _ticks(ax.xaxis)
    assert any(t.endswith("T") for t in _ticks(ax.xaxis))
    heights = np.array([p.get_height() for p in ax.patches])
    assert heights.sum() == pytest.approx(1.0)  # shares of all paths, no NaN in the gap
    assert ax.get_title(loc="left") == "ai-lab-2025: funding gap"
    twin = next(a for a in ax.figure.axes if a is not ax)
    assert twin.get_ylabel() == "cumulative share of paths"
    assert _ticks(twin.yaxis) == ["0%", "25%", "50%", "75%", "100%"]
    assert _legend_texts(ax) == ["share of paths in each bin", "cumulative share of paths (right axis)"]
    _assert_legend_below_axes(ax, renderer)

    s = r.summary().loc["funding_gap"]
    texts = {t.get_text().split(" ")[0]: t for t in _marker_texts(ax)}
    assert set(texts) == {"p5", "mean", "p95"}
    assert texts["mean"].get_text() == f"mean {style.format_money(s['mean'])}"
    assert texts["p95"].get_text() == f"p95 {style.format_money(s['p95'])}"
    boxes = {k: _box(t, renderer) for k, t in texts.items()}
    assert not _overlap(boxes["p5"], boxes["mean"]) and not _overlap(boxes["mean"], boxes["p95"])
    assert not _overlap(boxes["p5"], boxes["p95"])
    for key, box in boxes.items():  # no label is struck through by its own line
        x = ax.transData.transform((s[key], 0))[0]
        assert not box.x0 <= x <= box.x1, key
    bar_top = ax.transData.transform((0, heights.max()))[1]
    assert min(b.y0 for b in boxes.values()) > bar_top  # labels above the bars
    ax.figure.savefig(tmp_path / "hist.png")


def test_histogram_of_an_event_time_with_never(results):
    r = results[0]
    ax = r.plot_hist("breakeven")
    never = r.summary().loc["breakeven", "nan_share"]
    assert 0 < never < 1
    assert f"never within the horizon in {never:.0%} of paths" in style.subtitle_of(ax)
    assert ax.get_xlabel() == "breakeven (years from start)"
    heights = np.array([p.get_height() for p in ax.patches])
    assert heights.sum() == pytest.approx(1 - never)  # bars are shares of all paths


def test_histogram_of_a_constant_output(results):
    ax = results[0].plot_hist("capacity_end")  # 30 GW on every path
    labels = [t.get_text() for t in _marker_texts(ax)]
    assert labels == ["p5 = mean = p95 = 30.0 GW"]
    assert ax.get_xlabel() == "capacity at the horizon (GW)"
    assert max(p.get_height() for p in ax.patches) == pytest.approx(1.0)
    assert all(float(t.rstrip("%")) <= 100 for t in _ticks(ax.yaxis))


# -- comparisons ------------------------------------------------------------------------------------
def test_compare_overlays_cdfs_with_a_legend(results, tmp_path):
    a, b = results
    ax = capexsim.plot_compare(a, b, "funding_gap")
    renderer = _draw(ax)
    mean_a, mean_b = (r.summary().loc["funding_gap", "mean"] for r in results)
    assert _legend_texts(ax) == [f"ai-lab-2025 (mean {style.format_money(mean_a)})",
                                 f"cheap-compute (mean {style.format_money(mean_b)})"]
    _assert_legend_below_axes(ax, renderer)
    assert ax.get_ylabel() == "share of paths at or below"
    assert ax.get_xlabel() == "funding gap (US$)"
    assert ax.get_title(loc="left") == "funding gap: ai-lab-2025 vs cheap-compute"
    assert style.subtitle_of(ax).endswith("each")
    curves = [l for l in ax.lines if l.get_label().startswith(("ai-lab", "cheap"))]
    assert [c.get_ydata()[-1] for c in curves] == [1.0, 1.0]
    same = capexsim.plot_compare(a, a, "funding_gap")
    assert [t.split(" (mean")[0] for t in _legend_texts(same)] == ["ai-lab-2025 (A)", "ai-lab-2025 (B)"]
    ax.figure.savefig(tmp_path / "cmp.png")


def test_paired_difference_histogram(results, reference_path):
    a, b = results
    ax = capexsim.plot_diff(a, b, "funding_gap", labels=("reference", "cheap"))
    d = b.outputs["funding_gap"] - a.outputs["funding_gap"]
    heights = np.array([p.get_height() for p in ax.patches])
    assert heights.sum() == pytest.approx(1.0)
    assert ax.get_ylabel() == "share of paths"
    assert ax.get_xlabel() == "cheap − reference: funding gap (US$)"
    se = d.std(ddof=1) / np.sqrt(d.size)
    label = [t.get_text() for t in _marker_texts(ax)]
    assert label == [f"mean {style.format_money(d.mean())} ± {style.format_money(1.96 * se)}"]
    assert "paired" in style.subtitle_of(ax)
    assert capexsim.plot_compare(a, b, kind="diff").get_ylabel() == "share of paths"
    other = capexsim.simulate(reference_path, paths=1000, seed=2)
    with pytest.raises(ValueError, match="same seed, first path and paths"):
        capexsim.plot_diff(a, other)
    with pytest.raises(ValueError, match="kind"):
        capexsim.plot_compare(a, b, kind="violin")


def test_charts_draw_into_given_axes(results):
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    assert results[0].plot_fan("cash", ax=axes[0]) is axes[0]
    assert results[0].plot_hist("funding_gap", ax=axes[1], cdf=False) is axes[1]
    assert len(fig.axes) == 2  # no twin axis without the CDF
