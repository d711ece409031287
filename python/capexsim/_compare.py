"""compare(): two scenarios on common random numbers, their paired differences per output."""
from __future__ import annotations

from typing import Optional

import pandas as pd

from . import _core
from ._args import ScenarioLike, _as_scenario, _revenue_contracts
from ._run import simulate
from .units import output_unit


def compare(a: ScenarioLike, b: ScenarioLike, paths: int = 100_000, seed: int = 1,
            threads: Optional[int] = None, counterparties: Optional[dict] = None,
            counterparties_a: Optional[dict] = None,
            counterparties_b: Optional[dict] = None) -> pd.DataFrame:
    """Run both scenarios with common random numbers; paired differences per output.

    Columns: unit, mean_a, mean_b, diff (mean of B - A over paths where both are defined),
    stderr (paired), z = diff / stderr, significant (|z| > 3), p50_a, p50_b,
    nan_share_a, nan_share_b.

    counterparties: ``{name: lab}``: joint runs (docs/model.md §12.6) on each side whose
        scenario has the ``[[revenue_contract]]`` ``name`` (as ``simulate(...,
        counterparties=)``; a name neither side has raises ValueError).
    counterparties_a, counterparties_b: ``{name: lab}`` for A or B only (an entry wins over
        ``counterparties`` of the same name). Each side takes one lab today. A missing
        contract, a different time grid or a bad entry raises ValueError.
    """
    sa, sb = _as_scenario(a), _as_scenario(b)
    if counterparties is not None and not isinstance(counterparties, dict):
        raise ValueError("counterparties must be a dict {name: lab scenario}")
    shared = dict(counterparties or {})
    for name in shared:
        if name not in _revenue_contracts(sa) and name not in _revenue_contracts(sb):
            raise ValueError(f"counterparties: neither A ({sa.name}) nor B ({sb.name}) has a "
                             f'[[revenue_contract]] named "{name}"')

    def side(sc, own, which):
        if own is not None and not isinstance(own, dict):
            raise ValueError(f"counterparties_{which} must be a dict {{name: lab scenario}}")
        labs = dict(own or {})
        for name, lab in shared.items():
            if name in _revenue_contracts(sc) and name not in labs:
                labs[name] = lab
        if len(labs) > 1:
            raise ValueError(f"{which.upper()} gets {len(labs)} counterparty labs "
                             f"({', '.join(labs)}); one per run today")
        return labs or None

    la, lb = side(sa, counterparties_a, "a"), side(sb, counterparties_b, "b")
    ra = simulate(sa, paths=paths, seed=seed, threads=threads, bands=False, counterparties=la)
    rb = simulate(sb, paths=paths, seed=seed, threads=threads, bands=False, counterparties=lb)
    sa, sb = ra.summary(), rb.summary()
    rows = []
    for d in _core.compare(ra._core, rb._core):  # the library's paired statistics (as the CLI's)
        name = d["output"]
        rows.append({"output": name, "unit": output_unit(name), "mean_a": sa.loc[name, "mean"],
                     "mean_b": sb.loc[name, "mean"], "diff": d["diff"], "stderr": d["stderr"],
                     "z": d["z"], "significant": d["significant"],
                     "p50_a": sa.loc[name, "p50"], "p50_b": sb.loc[name, "p50"],
                     "nan_share_a": sa.loc[name, "nan_share"], "nan_share_b": sb.loc[name, "nan_share"]})
    return pd.DataFrame(rows).set_index("output")
