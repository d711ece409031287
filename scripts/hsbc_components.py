#!/usr/bin/env python3
"""HSBC's components from scenarios/hsbc-2030.toml (docs/validation-sources.md).

One deterministic path (every volatility is off) run twice with the CLI: as written, and
with no rent (rent_per_gw_year = 0 and the "existing" contract's total = 0). The yearly
outputs give revenue and FCF by calendar year; the difference of the two runs' FCF is
the rent. Usage, from the repository root after building:

    python3 scripts/hsbc_components.py [build/capexsim]
"""
import csv
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
CLI = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "build" / "capexsim")
TEXT = (ROOT / "scenarios" / "hsbc-2030.toml").read_text()


def run(text: str, tmp: pathlib.Path, tag: str) -> dict:
    path = tmp / f"{tag}.toml"
    path.write_text(text)
    out = tmp / tag
    subprocess.run([CLI, "run", str(path), "--paths", "1", "--threads", "1", "--out", str(out),
                    "--per-path", "--quiet"], check=True, capture_output=True)
    with open(out / "paths.csv") as f:
        return {k: float(v) for k, v in next(csv.DictReader(f)).items()}


def without_rent(text: str) -> str:
    text, n = re.subn(r"(?m)^rent_per_gw_year = [0-9.]+", "rent_per_gw_year = 0.0", text)
    text, m = re.subn(r"(?m)^total = [0-9.]+", "total = 0.0", text, count=1)
    assert n == 1 and m == 1, "scenarios/hsbc-2030.toml changed shape"
    return text


def by_year(row: dict, kind: str) -> dict:
    return {int(k[len(kind) + 1:]): v for k, v in row.items() if k.startswith(kind + "_")}


with tempfile.TemporaryDirectory() as d:
    tmp = pathlib.Path(d)
    base, no_rent = run(TEXT, tmp, "base"), run(without_rent(TEXT), tmp, "no_rent")

revenue = by_year(base, "revenue")
fcf, fcf_before_rent = by_year(base, "fcf"), by_year(no_rent, "fcf")
rent = {y: fcf_before_rent[y] - fcf[y] for y in fcf}
rows = [
    ("data-centre rent, H2 2025-2030", 792.0, sum(rent.values())),
    ("free cash flow before rent, H2 2025-2030", 282.0, sum(fcf_before_rent.values())),
    ("revenue in 2030", 213.0, revenue[2030]),
    ("need from the parts (792 - 282 - 26 - 24 - 17.5)", 442.5, base["funding_gap"]),
    ("HSBC's headline need by 2030", 207.0, base["funding_gap"]),
]
print(f"{'component':52s} {'HSBC':>8s} {'tool':>8s} {'diff':>8s}")
for name, anchor, tool in rows:
    print(f"{name:52s} {anchor:8.1f} {tool:8.1f} {100 * (tool / anchor - 1):7.1f}%")
print("\nby calendar year      " + "".join(f"{y:>8d}" for y in sorted(rent)))
for name, series in (("revenue", revenue), ("rent", rent), ("FCF before rent", fcf_before_rent),
                     ("FCF after rent", fcf)):
    print(f"{name:22s}" + "".join(f"{series[y]:8.1f}" for y in sorted(series)))
