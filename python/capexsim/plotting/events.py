"""The dated events of a scenario (its plan's milestones, contracts, debt), marked on fan charts."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from .. import style

if TYPE_CHECKING:
    from ..scenario import Scenario

Event = tuple  # (year, label)


def _typical(value) -> float | None:
    """A scenario number, or the middle of a distribution's support ("triangular": its mode)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict) and len(value) == 1:
        (shape, p), = value.items()
        if isinstance(p, (int, float)):
            return float(p)
        if shape == "triangular" and len(p) == 3:
            return float(p[1])
        if len(p) == 2 and shape in ("uniform", "normal"):
            return float(p[0] + p[1]) / 2 if shape == "uniform" else float(p[0])
    return None


def scenario_events(scenario: "Scenario") -> list[Event]:
    """Dated events of a scenario for fan charts: contract ends (after their renewals),
    checkpoints, equity raises, debt maturities. A term or start drawn from a distribution is marked at its
    middle value."""
    d = scenario.to_dict()
    events = []
    for c in d.get("contract", []):
        start, years = _typical(c["start"]), _typical(c["years"])
        if start is None or years is None:
            continue
        events.append((start + years * (1 + int(c.get("renewals", 0))), f"{c['name']} ends"))
    for year in d.get("outputs", {}).get("checkpoints", []):
        events.append((float(year), f"checkpoint {year:g}"))
    for e in d.get("equity", []):
        if e.get("amount", 0) > 0:
            events.append((e["at"], f"equity {style.format_money(e['amount'])}"))
    for f in d.get("debt", []):
        # A balance repaid at maturity is the debt fan's cliff (into arrears where cash is
        # short); a facility with refinance_years rolls instead when the lab is current
        # (docs/model.md §12.4).
        if f.get("maturity") is not None:
            rolls = f.get("refinance_years") is not None
            events.append((float(f["maturity"]), f"{f['name']} matures{' (rolls if current)' if rolls else ''}"))
    return events


def _merge_events(events: Iterable[Event], tol: float = 0.05) -> list[Event]:
    """One marker per date: "azure ends" + "oracle ends" -> "azure, oracle end"."""
    by_year: dict[float, list[str]] = {}
    for year, label in sorted(events, key=lambda e: e[0]):
        key = next((k for k in by_year if abs(k - year) <= tol), year)
        by_year.setdefault(key, []).append(label)
    merged = []
    for year, labels in by_year.items():
        ends = [l[:-5] for l in labels if l.endswith(" ends")]
        rest = [l for l in labels if not l.endswith(" ends")]
        if len(ends) > 1:
            rest.insert(0, ", ".join(ends) + " end")
        else:
            rest = labels
        merged.append((year, "; ".join(rest)))
    return merged
