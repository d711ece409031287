#!/usr/bin/env bash
# Engine (1 thread) vs the NumPy baseline, same scenario and paths, in one run:
#   bench/compare.sh [SCENARIO.toml] [--paths N] [--seed S]
# Needs the build tree (cmake --build build) for the Python package.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
scenario="${1:-$root/scenarios/ai-lab-2025.toml}"
shift || true
PYTHONPATH="$root/build/python${PYTHONPATH:+:$PYTHONPATH}" exec /usr/bin/python3 "$here/compare.py" "$scenario" "$@"
