"""The output the report leads with (--headline, the scenario's ``[outputs] headline``, else
funding_need, else funding_gap), checked before anything runs."""
from __future__ import annotations

import numpy as np


HEADLINE = ["funding_gap", "terminal_cash", "capex_total", "runway", "breakeven", "arr_end"]


def _scenario_headline(scenario) -> str | None:
    if scenario is None:
        return None
    return scenario.to_dict().get("outputs", {}).get("headline") or None


def headline_output(result, scenario=None, headline: str | None = None) -> str:
    """The output the report leads with: `headline` if given, else the scenario's
    ``[outputs] headline``, else ``funding_need`` when the run has it, else ``funding_gap``.
    A name the run does not have is a ValueError listing the run's outputs."""
    names = list(result.output_names)
    name = headline or _scenario_headline(scenario if scenario is not None else getattr(result, "scenario", None))
    if name is None:
        return "funding_need" if "funding_need" in names else "funding_gap"
    if name not in names:
        raise ValueError(f"headline {name!r} is not an output of this run; expected one of: {', '.join(names)}")
    return name


def check_headline(scenario, headline: str) -> None:
    """Refuse a --headline that is not an output of `scenario`'s run before anything runs: the
    library checks it as it checks ``[outputs] headline`` (the model's own list of outputs)."""
    from ..errors import ScenarioError
    probe = scenario.copy()
    outputs = dict(probe.to_dict().get("outputs", {}))
    outputs["headline"] = headline
    try:
        probe["outputs"] = outputs
    except ScenarioError as e:
        message = e.message.replace("unknown output", "--headline: unknown output", 1)
        raise ScenarioError(f"{scenario.source}: {message}", scenario.source, 0, 0, "--headline", message) from None


def _constant(result, name: str) -> bool:
    """True when every path has (nearly) the same value of `name`: nothing to rank or pin."""
    x = result.outputs[name] if result._core.has_per_path() else None
    if x is not None:
        x = x[np.isfinite(x)]
        if x.size == 0:
            return True
        spread = float(x.max() - x.min())
        return spread <= 1e-12 * max(1.0, float(np.abs(x).max()))
    return not float(result.summary().loc[name, "sd"]) > 0
