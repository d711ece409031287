"""`python3 -m capexsim report ...`: the commands that need Python (the rest is the C++ CLI)."""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m capexsim",
                                     description="capexsim commands written in Python (see docs/cli.md).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    from . import report
    report.add_parser(sub)
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)
    args.command_line = "python3 -m capexsim " + " ".join(argv)
    if args.command == "report":
        import matplotlib
        matplotlib.use("Agg")  # files only, never a window
        return report.run(args)
    return 2  # unreachable: argparse refuses unknown commands


if __name__ == "__main__":
    sys.exit(main())
