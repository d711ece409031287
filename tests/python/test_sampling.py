"""Sampling designs, Monte Carlo error columns and exceedance probabilities from Python."""
import numpy as np
import pytest

import capexsim


def test_sampling_methods_run_and_differ(reference_path):
    base = capexsim.simulate(reference_path, paths=1024, seed=3, bands=False)
    lhs = capexsim.simulate(reference_path, paths=1024, seed=3, bands=False, sampling="lhs")
    sob = capexsim.simulate(reference_path, paths=1024, seed=3, bands=False, sampling="sobol")
    assert (base.sampling, lhs.sampling, sob.sampling) == ("random", "lhs", "sobol")
    assert not np.array_equal(base.outputs["funding_gap"], lhs.outputs["funding_gap"])
    assert not np.array_equal(base.outputs["funding_gap"], sob.outputs["funding_gap"])
    assert sob.notes == []  # 1024 is a power of two


def test_shards_of_an_lhs_design_merge_to_the_whole(reference_path):
    whole = capexsim.simulate(reference_path, paths=600, seed=2, bands=False, sampling="lhs")
    a = capexsim.simulate(reference_path, paths=250, seed=2, bands=False, sampling="lhs",
                          design_paths=600)
    b = capexsim.simulate(reference_path, paths=350, first_path=250, seed=2, bands=False,
                          sampling="lhs", design_paths=600)
    merged = capexsim.merge(a, b)
    assert np.array_equal(merged.per_path, whole.per_path, equal_nan=True)


def test_sobol_note_when_not_a_power_of_two(reference_path):
    r = capexsim.simulate(reference_path, paths=1000, bands=False, sampling="sobol")
    assert len(r.notes) == 1 and "power-of-two" in r.notes[0]


def test_bad_sampling_is_a_value_error(reference_path):
    with pytest.raises(ValueError, match="sampling"):
        capexsim.simulate(reference_path, paths=10, sampling="halton")


def test_summary_has_numeric_half_widths(reference_path):
    r = capexsim.simulate(reference_path, paths=2000, bands=False)
    s = r.summary()
    for col in ["mean_ci95", "p95_ci95", "prob_positive_ci95", "cvar95_ci95", "cvar05",
                "cvar05_ci95", "nan_share_ci95"]:
        assert s[col].dtype == np.float64
    gap = s.loc["funding_gap"]
    # The mean's half-width is 1.96 standard errors.
    assert gap["mean_ci95"] == pytest.approx(1.959963984540054 * gap["stderr"])
    assert gap["cvar05"] <= gap["p5"] <= gap["p95"] <= gap["cvar95"]


def test_exceedance_matches_the_per_path_values(reference_path):
    r = capexsim.simulate(reference_path, paths=2000, bands=False,
                          thresholds={"funding_gap": [1000, 2000]})
    e = r.exceedance()
    gap = r.outputs["funding_gap"]
    assert list(e["threshold"]) == [1000.0, 2000.0]
    assert e["prob"].iloc[0] == pytest.approx(np.mean(gap > 1000))
    assert e["prob"].iloc[1] == pytest.approx(np.mean(gap > 2000))
    assert (e["ci95"] > 0).all()
    with pytest.raises(ValueError, match="no output named"):
        capexsim.simulate(reference_path, paths=10, thresholds={"nope": [1]})


def test_target_run_equals_a_fixed_run(reference_path):
    r = capexsim.simulate(reference_path, target=("funding_gap", "p95", 0.01), bands=False,
                          paths=2000, seed=5)
    assert r.target["reached"]
    assert r.target["ci95"] <= r.target["wanted_ci95"]
    assert r.target["paths"] == r.n_paths > 2000
    fixed = capexsim.simulate(reference_path, paths=r.n_paths, bands=False, seed=5)
    assert np.array_equal(fixed.per_path, r.per_path, equal_nan=True)
    assert fixed.summary().equals(r.summary())


def test_target_forms_and_refusals(reference_path):
    r = capexsim.simulate(reference_path, target=("funding_gap", "mean", 0.5, "abs"), bands=False,
                          paths=1024, max_paths=4096, sampling="sobol")
    assert not r.target["reached"]
    assert r.n_paths == 4096
    assert all(b["paths"] in (1024, 2048, 4096) for b in r.target["batches"])
    with pytest.raises(ValueError, match="lhs"):
        capexsim.simulate(reference_path, target="funding_gap.p95:1%", sampling="lhs")
    with pytest.raises(ValueError, match="no statistic named 'sd'"):
        capexsim.simulate(reference_path, target=("funding_gap", "sd", 0.01))
    with pytest.raises(ValueError, match="positive tolerance"):
        capexsim.simulate(reference_path, target="funding_gap.p95:0%")
    with pytest.raises(ValueError, match="max_paths"):
        capexsim.simulate(reference_path, paths=10, max_paths=100)
