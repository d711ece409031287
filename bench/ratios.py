"""Regression guard of issue 25: prints the performance ratios and their targets.

    /usr/bin/python3 bench/ratios.py [--build build] [--dask-paths N] [--strict]

Each ratio is taken within one benchmark invocation (medians of repetitions), never
across runs, so it holds on a shared, noisy machine (bench/README.md):

- full / stream engine, monthly and weekly, 1 thread   (target <= 1.5), on the v1
  reference (ai-lab-2025) and the v3 reference (ai-lab-2026)
- stream engine / RNG floor, monthly                    (informational; the NumPy ratio)
- Sobol at default N / a plain run of its paths         (target <= 1.3)
- tornado at default size / a plain run of its paths    (target <= 1.1)
- Dask (2 worker processes) / one process, with --dask-paths N (target <= 1.25);
  bench/dask_overhead.py, a minute or more at 2,000,000 paths

Not a timed unit test: it prints, and exits non-zero only with --strict when a target is
missed.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def medians(binary, filt, reps):
    out = subprocess.run([binary, f"--benchmark_filter={filt}", f"--benchmark_repetitions={reps}",
                          "--benchmark_report_aggregates_only=true", "--benchmark_format=json"],
                         check=True, capture_output=True, text=True).stdout
    # Medians of the repetitions; with one repetition Google Benchmark reports no
    # aggregates, so the single run's figures.
    res = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median" or (reps == 1 and b.get("run_type") == "iteration"):
            res[b["run_name"]] = b["real_time"]
            res[b["run_name"].split("/")[0]] = b["real_time"]  # the bare name, for short lookups
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--dask-paths", type=int, default=0)
    ap.add_argument("--engine-only", action="store_true",
                    help="only the engine rows (skips capexsim_bench_sensitivity)")
    ap.add_argument("--strict", action="store_true")
    a = ap.parse_args()
    rows = []  # (name, value, target or None)

    eng = medians(os.path.join(a.build, "bench", "capexsim_bench"),
                  r"rng_floor/(monthly|weekly)$|engine/(v3_)?(monthly|weekly)_(stream|full)/1/",
                  a.reps)
    for grid in ("monthly", "weekly"):
        full = eng[f"engine/{grid}_full/1/real_time"]
        stream = eng[f"engine/{grid}_stream/1/real_time"]
        rows.append((f"full / stream, {grid}, 1 thread", full / stream, 1.5))
        rows.append((f"stream / RNG floor, {grid}", stream / eng[f"rng_floor/{grid}"], None))
    for grid in ("monthly", "weekly"):
        full = eng[f"engine/v3_{grid}_full/1/real_time"]
        stream = eng[f"engine/v3_{grid}_stream/1/real_time"]
        rows.append((f"v3 (ai-lab-2026) full / stream, {grid}, 1 thread", full / stream, 1.5))

    if not a.engine_only:
        sens = medians(os.path.join(a.build, "bench", "capexsim_bench_sensitivity"), ".", 1)
        rows.append(("Sobol (N = 65,536) / plain run of its paths",
                     sens["sobol_default"] / sens["plain_run_of_sobol_paths"], 1.3))
        rows.append(("tornado (50,000 paths) / plain run of its paths",
                     sens["tornado_default"] / sens["plain_run_of_tornado_paths"], 1.1))

    if a.dask_paths:
        env = dict(os.environ, PYTHONPATH=os.path.join(a.build, "python"))
        out = subprocess.run([sys.executable, os.path.join(HERE, "dask_overhead.py"),
                              "--paths", str(a.dask_paths)], cwd=ROOT, env=env, check=True,
                             capture_output=True, text=True).stdout
        print(out, end="")
        m = re.search(r"overhead of Dask: (-?\d+)%", out)
        rows.append((f"Dask, 2 processes / one process, {a.dask_paths} paths",
                     1 + int(m.group(1)) / 100, 1.25))

    missed = 0
    print(f"{'ratio':52s} {'value':>7s} {'target':>8s}")
    for name, value, target in rows:
        ok = "" if target is None else ("met" if value <= target else "MISSED")
        missed += ok == "MISSED"
        print(f"{name:52s} {value:7.2f} {'' if target is None else f'<= {target}':>8s} {ok}")
    if a.strict and missed:
        sys.exit(1)


if __name__ == "__main__":
    main()
