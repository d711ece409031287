"""`python3 -m capexsim report`: its options and its run."""
from __future__ import annotations

import argparse
import os
import sys

from .page import report
from .sections import SENSITIVITY_PATHS


def _count(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not value.is_integer() or value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(value)


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="write an HTML report (and/or an Excel workbook) of a scenario",
                       description="Simulate SCENARIO and write one self-contained HTML file: headline "
                                   "numbers with their Monte Carlo error, charts, inputs and sources.")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario TOML file")
    p.add_argument("--compare", metavar="B.toml", help="second scenario to compare with (same seed and paths)")
    p.add_argument("--paths", "-n", type=_count, default=100_000, help="paths (default 100000; 1e6 is accepted)")
    p.add_argument("--seed", "-s", type=_count, default=1, help="seed (default 1)")
    p.add_argument("--threads", "-t", type=_count, default=0, help="worker threads, 0 = all cores (default)")
    p.add_argument("--out", "-o", metavar="REPORT.html", help="HTML file to write")
    p.add_argument("--xlsx", metavar="FILE.xlsx", help="also write an Excel workbook of the result")
    p.add_argument("--headline", metavar="OUTPUT",
                   help="output the cards, histogram, CDF and 'what drives it' use (default: the "
                        "scenario's [outputs] headline, else funding_need when the run has it, else funding_gap)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--no-sensitivity", dest="sensitivity", action="store_false",
                   help="leave out 'What drives ...' (its tornado adds 1 + 2k runs of "
                        f"at most {SENSITIVITY_PATHS:,} paths)")


def run(args) -> int:
    from ..errors import ScenarioError
    if not args.out and not args.xlsx:
        print("capexsim report: nothing to write: give --out REPORT.html and/or --xlsx FILE.xlsx",
              file=sys.stderr)
        return 2
    if args.paths < 1:
        print("capexsim report: --paths must be at least 1", file=sys.stderr)
        return 2
    for option, path in (("--out", args.out), ("--xlsx", args.xlsx)):
        if path and os.path.isdir(path):
            print(f"capexsim report: {option} {path}: is a folder; give a file name", file=sys.stderr)
            return 2
    command = getattr(args, "command_line", "python3 -m capexsim report")
    try:
        report(args.scenario, out=args.out, compare=args.compare, paths=args.paths, seed=args.seed,
               threads=args.threads or None, xlsx=args.xlsx,
               progress=not args.quiet and sys.stderr.isatty(), command=command,
               sensitivity=args.sensitivity, headline=args.headline)
    except ScenarioError as e:
        print(f"capexsim report: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"capexsim report: cannot write: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    for path in (args.out, args.xlsx):
        if path:
            print(f"wrote {path}")
    return 0
