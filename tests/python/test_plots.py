import matplotlib.pyplot as plt
import pytest

import capexsim


@pytest.fixture(scope="module")
def results(reference_path, source_dir):
    a = capexsim.simulate(reference_path, paths=1500, seed=2)
    b = capexsim.simulate(f"{source_dir}/scenarios/cheap-compute.toml", paths=1500, seed=2)
    return a, b


@pytest.mark.parametrize("series", capexsim.SERIES)
def test_fan_chart_renders(results, series, tmp_path):
    ax = results[0].plot_fan(series)
    assert ax.get_xlabel() == "year"
    assert "$B" in ax.get_ylabel() or "GW" in ax.get_ylabel()
    assert series.replace("_", " ") in ax.get_title()
    path = tmp_path / f"{series}.png"
    ax.figure.savefig(path)
    assert path.stat().st_size > 1000
    plt.close(ax.figure)


def test_histogram_with_cdf(results, tmp_path):
    ax = results[0].plot_hist("funding_gap")
    assert ax.get_xlabel() == "funding gap ($B)"
    labels = [t.get_text() for t in ax.texts]
    assert any(l.startswith("mean") for l in labels) and any(l.startswith("p95") for l in labels)
    ax.figure.savefig(tmp_path / "hist.png")
    plt.close(ax.figure)
    ax = results[0].plot_hist("breakeven")  # with NaN (never) values
    assert "never" in ax.get_title()
    plt.close(ax.figure)


def test_plot_compare(results, tmp_path):
    ax = capexsim.plot_compare(results[0], results[1], "funding_gap")
    assert len(ax.get_legend().get_texts()) == 2
    ax.figure.savefig(tmp_path / "cmp.png")
    plt.close(ax.figure)
