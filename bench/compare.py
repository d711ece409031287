"""Time the engine (one thread) and the NumPy baseline on the same scenario and path
count in one run, print the ratio, and check that their distributions agree.

Agreement: for each output and quantile q in (5, 25, 50, 75, 95%), a distribution-free
confidence interval of the quantile from each sample (order statistics at ranks
n q +- 4 sqrt(n q (1-q)), ~4 sigma) must overlap; means must differ by < 4 combined
standard errors. The two use different random numbers, so this is the like-for-like
check, not bit equality.
"""
import argparse
import math
import os
import sys
import time
import tomllib

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy_baseline  # noqa: E402

import capexsim  # noqa: E402

CHECKED = ["funding_gap", "terminal_cash", "capex_total", "arr_end", "runway", "breakeven"]


def quantile_ci(x, q, z=4.0):
    x = np.sort(x)
    n = len(x)
    d = z * math.sqrt(n * q * (1 - q))
    lo = int(max(0, math.floor(n * q - d)))
    hi = int(min(n - 1, math.ceil(n * q + d)))
    return x[lo], x[hi]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--paths", type=float, default=50000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    paths = int(a.paths)
    with open(a.scenario, "rb") as f:
        raw = tomllib.load(f)

    t0 = time.perf_counter()
    res = capexsim.simulate(a.scenario, paths=paths, seed=a.seed, threads=1, bands=False)
    t_engine = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref, n = numpy_baseline.simulate(raw, paths, a.seed)
    t_numpy = time.perf_counter() - t0

    ps = paths * n
    print(f"scenario {a.scenario}: {paths} paths x {n} steps")
    print(f"  engine, 1 thread : {t_engine:7.2f} s  {ps / t_engine / 1e6:8.2f} M path-steps/s")
    print(f"  numpy baseline   : {t_numpy:7.2f} s  {ps / t_numpy / 1e6:8.2f} M path-steps/s")
    print(f"  ratio engine/numpy: {t_numpy / t_engine:.1f}x (target >= 15x)")

    ok = True
    for name in CHECKED:
        x = res.outputs[name]
        y = ref[name]
        x, y = x[~np.isnan(x)], y[~np.isnan(y)]
        se = math.hypot(x.std(ddof=1) / math.sqrt(len(x)), y.std(ddof=1) / math.sqrt(len(y)))
        mean_ok = abs(x.mean() - y.mean()) <= 4 * se + 1e-12
        q_ok = True
        for q in (0.05, 0.25, 0.5, 0.75, 0.95):
            ax, bx = quantile_ci(x, q)
            ay, by = quantile_ci(y, q)
            q_ok &= not (bx < ay or by < ax)
        status = "agree" if mean_ok and q_ok else "DISAGREE"
        ok &= mean_ok and q_ok
        print(f"  {name:14s} mean engine {x.mean():10.3f}  numpy {y.mean():10.3f}  "
              f"(4 se = {4 * se:.3f})  quantiles 5..95%: {status}")
    print("distributions agree within Monte Carlo error" if ok else "DISTRIBUTIONS DISAGREE")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
