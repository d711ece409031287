"""The engine against an independent oracle: the NumPy implementation of the model in
bench/numpy_baseline.py (its own code, written from docs/model.md, with NumPy's own random
numbers). The C++ reference and block kernels share one code (detail::simulate_lanes), so
their bit equality cannot catch a wrong formula they share; this test can: every output of
every shipped scenario must have the same distribution in both.

Both samples are independent draws of the same distribution when the code is right, so
each comparison is a two-sample test with a tolerance derived from standard errors:

- mean: |m1 - m2| <= K * sqrt(s1^2/n1 + s2^2/n2) (the SE of a difference of means);
- distribution: at the pooled sample's 5/25/50/75/95% quantiles q, the fractions of each
  sample at or below q, F1 and F2, differ by <= K * sqrt(F(1-F)(1/n1 + 1/n2)) with F the
  pooled fraction (the SE of a difference of binomial proportions); a point mass (e.g.
  capacity at the plan cap) is compared with a relative tolerance of 1e-9 on q, since the
  two codes add the same numbers in different orders;
- the share of paths where an event never happens (NaN): the same binomial SE.

K = 4.5: a two-sided normal tail of 6.8e-6 per comparison; with about 250 comparisons the
chance that a correct model fails somewhere is below 0.2%. Seeds are fixed, so the test
is deterministic: it either always passes or always fails for a given build.
"""
import math
import os
import pathlib
import sys
import tomllib

import numpy as np
import pytest

import capexsim

SOURCE = pathlib.Path(os.environ.get("CAPEXSIM_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
sys.path.insert(0, str(SOURCE / "bench"))
import numpy_baseline  # noqa: E402

K = 4.5
PATHS = 40_000
SCENARIOS = ["ai-lab-2025.toml", "one-gw-per-week.toml", "ai-cloud.toml", "cheap-compute.toml"]


def compare(name, a, b):
    """Assertion messages for every statistic of output `name` that differs beyond K SE."""
    bad = []
    na, nb = np.isnan(a), np.isnan(b)
    n1, n2 = len(a), len(b)
    share = (na.sum() + nb.sum()) / (n1 + n2)
    se = math.sqrt(share * (1 - share) * (1 / n1 + 1 / n2))
    if abs(na.mean() - nb.mean()) > K * se + 1e-12:
        bad.append(f"{name}: never-share {na.mean():.4f} vs {nb.mean():.4f} (SE {se:.4f})")
    a, b = a[~na], b[~nb]
    if len(a) < 100 or len(b) < 100:
        return bad
    n1, n2 = len(a), len(b)
    se = math.sqrt(a.var(ddof=1) / n1 + b.var(ddof=1) / n2)
    if abs(a.mean() - b.mean()) > K * se + 1e-9 * abs(a.mean()):
        bad.append(f"{name}: mean {a.mean():.6g} vs {b.mean():.6g} (SE {se:.3g})")
    pooled = np.concatenate([a, b])
    for level in (0.05, 0.25, 0.5, 0.75, 0.95):
        q = np.quantile(pooled, level)
        edge = q + 1e-9 * max(1.0, abs(q))
        f1, f2 = (a <= edge).mean(), (b <= edge).mean()
        f = (pooled <= edge).mean()
        se = math.sqrt(f * (1 - f) * (1 / n1 + 1 / n2))
        if abs(f1 - f2) > K * se + 1e-12:
            bad.append(f"{name}: P(x <= p{round(level * 100)} = {q:.6g}) {f1:.4f} vs {f2:.4f} "
                       f"(SE {se:.4f})")
    return bad


@pytest.mark.parametrize("file", SCENARIOS)
def test_engine_matches_the_numpy_oracle(file):
    path = SOURCE / "scenarios" / file
    with open(path, "rb") as f:
        oracle, _ = numpy_baseline.simulate(tomllib.load(f), PATHS, 20261124)
    engine = capexsim.simulate(capexsim.Scenario.from_toml(str(path)), paths=PATHS, seed=7)
    names = list(engine.output_names)
    assert sorted(names) == sorted(oracle), "the oracle and the engine report different outputs"
    bad = []
    for name in names:
        bad += compare(name, np.asarray(engine.outputs[name]), oracle[name])
    assert not bad, f"{file}: the engine and the NumPy oracle disagree:\n" + "\n".join(bad)


def test_the_comparison_detects_a_small_shift():
    """The test has power: a 2% shift of one sample's values is flagged."""
    rng = np.random.default_rng(3)
    a = rng.lognormal(7, 0.4, PATHS)
    b = rng.lognormal(7, 0.4, PATHS)
    assert compare("x", a, b) == []
    assert compare("x", a, b * 1.02) != []
