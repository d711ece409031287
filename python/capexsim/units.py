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
    `kind` "amount", "rate", "level" or "time" (years from the start); `adverse` "high"
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


_OUTPUTS = {
    "funding_gap": ("funding gap", "$B", "amount", "high",
                    "peak outside money needed: the deepest point of the cash balance"),
    "gap_time": ("time of the funding gap", "years", "time", None,
                 "years from the start to the deepest point of the cash balance"),
    "runway": ("runway", "years", "time", "low", "years from the start until cash first runs out"),
    "breakeven": ("breakeven", "years", "time", "high",
                  "years from the start to the first positive trailing-year free cash flow"),
    "terminal_cash": ("terminal cash", "$B", "amount", "low", "cash balance at the horizon"),
    "capex_total": ("total capex", "$B", "amount", "high", "construction and hardware refresh spend"),
    "capacity_end": ("capacity at the horizon", "GW", "level", None, "owned GW at the horizon"),
    "arr_end": ("ARR at the horizon", "$B/yr", "rate", "low",
                "annual recurring revenue served at the horizon"),
}

_SERIES = {
    "cash": ("cash balance", "$B", "amount", "low", "cash on hand after each step"),
    "capacity": ("owned capacity", "GW", "level", None, "GW owned and operating"),
    "serving_capacity": ("serving capacity", "GW", "level", None, "owned plus contracted GW"),
    "arr": ("ARR served", "$B/yr", "rate", "low", "annual recurring revenue the capacity serves"),
    "demand": ("demand", "$B/yr", "rate", "low", "annual recurring revenue customers would pay"),
    "capex_rate": ("capex rate", "$B/yr", "rate", "high", "construction and refresh spend per year"),
    "fcf_rate": ("free cash flow rate", "$B/yr", "rate", "low", "free cash flow per year"),
    "cost_per_gw": ("cost per GW", "$B per GW", "level", "high", "construction cost of one GW"),
}

_CHECKPOINT = re.compile(r"arr_at_(\d+(?:\.\d+)?)$")


def quantity(name: str) -> Quantity:
    """The name, unit and adverse tail of an output or series (KeyError if unknown)."""
    if name in _OUTPUTS:
        return Quantity(name, *_OUTPUTS[name])
    if name in _SERIES:
        return Quantity(name, *_SERIES[name])
    m = _CHECKPOINT.match(name)
    if m:
        return Quantity(name, f"ARR in {m.group(1)}", "$B/yr", "rate", "low",
                        f"annual recurring revenue served at {m.group(1)}")
    raise KeyError(f"no output or series named {name!r}")


def output_unit(name: str) -> str:
    """Unit of an output ("$B" for an output this package does not know)."""
    try:
        return quantity(name).unit
    except KeyError:
        return "$B"


def series_unit(name: str) -> str:
    return quantity(name).unit
