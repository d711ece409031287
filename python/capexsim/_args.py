"""Checks of the arguments that simulate(), compare(), sensitivity(), calibrate() and the
distributed runs share: a scenario-like, a whole count, threads, counterparty labs.

Private helpers in a module of their own, so that every module that needs them imports this
one and not the package's ``__init__`` (which imports them all): no import circle.
"""
from __future__ import annotations

import os
from typing import Optional, Union

import numpy as np

from .scenario import Scenario

ScenarioLike = Union[Scenario, dict, str, os.PathLike]

MAX_THREADS = 4096  # as the command line's --threads


def _as_scenario(s: ScenarioLike) -> Scenario:
    if isinstance(s, Scenario):
        return s
    if isinstance(s, dict):
        return Scenario.from_dict(s)
    if isinstance(s, (str, os.PathLike)):
        return Scenario.from_toml(s)
    raise TypeError(f"expected a Scenario, a dict or a path to a TOML file, got {type(s).__name__}")


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # paths=1e6
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    if value >= 2**64:  # every count and the seed are 64-bit in the engine
        raise ValueError(f"{name} must be below 2**64, got {value!r}")
    return int(value)


def _labs(counterparties: Optional[dict]) -> list:
    """``{name: lab}`` as the (name, lab TOML, lab source) list the core takes."""
    if counterparties is None:
        return []
    if not isinstance(counterparties, dict):
        raise ValueError("counterparties must be a dict {name: lab scenario}, got "
                         f"{type(counterparties).__name__}")
    labs = []
    for name, lab in counterparties.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"counterparties: a name must be a non-empty str, got {name!r}")
        lab_sc = _as_scenario(lab)
        labs.append((name, lab_sc.to_toml(), lab_sc.source))
    return labs


def _revenue_contracts(sc: Scenario) -> list:
    return [c.get("name") for c in sc.to_dict().get("revenue_contract", [])]


def _threads(value) -> int:
    """threads=: None or 0 (all cores) to 4096, as the command line's --threads."""
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_THREADS:
        raise ValueError(f"threads must be a whole number from 0 (all cores) to {MAX_THREADS}, "
                         f"got {value!r}")
    return int(value)


def _sampling(value) -> Optional[str]:
    """sampling=: None (the scenario's) or one of the engine's methods."""
    if value is not None and value not in ("random", "lhs", "sobol"):
        raise ValueError(f"sampling must be 'random', 'lhs' or 'sobol', got {value!r}")
    return value
