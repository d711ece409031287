"""Names, units and adverse tails of outputs and over-time series, read through `quantity()`.

Every table, chart, report and spreadsheet of the package asks `quantity(name)`; nothing
else knows a unit. When the library exposes its own schema, `quantity` is the one function
to repoint at it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Quantity:
    """What a number is: `unit` as in tables ("$B", "$B/yr", "GW", "years", ...);
    `kind` "amount", "level" or "time" (years from the start); `adverse` "high"
    or "low": the tail that is bad news (None when neither is)."""

    name: str
    label: str
    unit: str
    kind: str
    adverse: str | None
    description: str

    @property
    def is_money(self) -> bool:
        return self.unit.startswith("$B")


#: Display labels (a presentation concern); units, kinds, adverse tails and descriptions
#: come from the library's schema (include/capexsim/schema.hpp) through _core.
_LABELS = {
    "funding_gap": "funding gap",
    "gap_time": "time of the funding gap",
    "runway": "runway",
    "breakeven": "breakeven",
    "breakeven_sustained": "sustained breakeven",
    "terminal_cash": "terminal cash",
    "capex_total": "total capex",
    "capacity_end": "capacity at the horizon",
    "arr_end": "ARR at the horizon",
    "debt_peak": "peak debt",
    "interest_total": "interest paid",
    "equity_raised": "equity raised",
    "dilution": "dilution",
    "rounds": "equity rounds",
    "warrant_proceeds": "warrant proceeds",
    "default_time": "time of default",
    "unpaid_total": "unpaid obligations",
    "unpaid_capex": "unpaid capex",
    "gw_not_started": "GW not started",
    "cash": "cash balance",
    "capacity": "owned capacity",
    "serving_capacity": "serving capacity",
    "arr": "ARR served",
    "demand": "demand",
    "capex_rate": "capex rate",
    "fcf_rate": "free cash flow rate",
    "cost_per_gw": "cost per GW",
    "debt": "debt balance",
    "ownership": "ownership",
    "leased": "leased capacity",
    "arrears": "arrears outstanding",
    "leased_gw_end": "leased capacity at the end",
}

_CHECKPOINT = re.compile(r"arr_at_(\d+(?:\.\d+)?)$")


def _label(name: str) -> str:
    if name in _LABELS:
        return _LABELS[name]
    m = _CHECKPOINT.match(name)
    if m:
        return f"ARR in {m.group(1)}"
    if name.startswith("unpaid_"):
        return f"unpaid to {name[7:]}"
    # Dates said outright (docs/model.md §12.1, §13.5): a checkpoint is 1 January of its
    # year, a calendar-year output runs through 31 December; "by 2030" next to "2030" read
    # as one date when they are a year apart.
    m = _BY_DATE.match(name)
    if m:
        return f"{m.group(1).replace('_', ' ')} to 1 Jan {_year(m.group(2))}"
    m = _YEARLY.match(name)
    if m:
        what = {"need": "gross need through", "revenue": "revenue in", "fcf": "free cash flow in",
                "capex": "capex in"}[m.group(1)]
        return f"{what} {'end ' if m.group(1) == 'need' else ''}{m.group(2)}"
    return name.replace("_", " ")


_BY_DATE = re.compile(r"(funding_need|funding_gap)_by_(\d+(?:\.\d+)?)$")
_YEARLY = re.compile(r"(need|revenue|fcf|capex)_(\d{4})$")


def _year(text: str) -> str:
    return text[:-2] if text.endswith(".0") else text


def quantity(name: str) -> Quantity:
    """The name, unit and adverse tail of an output or series (KeyError if unknown)."""
    from . import _core  # the compiled schema

    info = None
    for describe in (_core.describe_output, _core.describe_series):
        try:
            info = describe(name)
            break
        except (IndexError, ValueError):
            continue
    if info is None:
        raise KeyError(f"no output or series named {name!r}")
    adverse = None if info["adverse_tail"] == "none" else info["adverse_tail"]
    return Quantity(name, _label(name), info["unit"], info["kind"], adverse, info["description"])


def output_unit(name: str) -> str:
    """Unit of an output ("$B" for an output this package does not know)."""
    try:
        return quantity(name).unit
    except KeyError:
        return "$B"


def series_unit(name: str) -> str:
    return quantity(name).unit


_WATERFALL_FIRST = ("funding_need", "need_time", "funding_gap", "gap_time", "runway")


def display_order(names: list[str]) -> list[str]:
    """The run table's order (docs/model.md §12.1): the waterfall (need, need by date,
    residual, residual by date, runway), the ledger, counterparties, then every other output."""
    def rank(n: str):
        if n in _WATERFALL_FIRST[:2]:
            return (0, _WATERFALL_FIRST.index(n))
        if n.startswith("funding_need_by_"):
            return (1, 0)
        if n in ("funding_gap", "gap_time"):
            return (2, _WATERFALL_FIRST.index(n))
        if n.startswith("funding_gap_by_"):
            return (3, 0)
        if n == "runway":
            return (4, 0)
        if n.startswith("flow_"):
            return (5, 0)
        if n.startswith("unpaid_") or n in ("deferred_total", "recovered_total", "default_time"):
            return (6, 0)
        return (7, 0)
    return sorted(names, key=lambda n: (rank(n), names.index(n)))

