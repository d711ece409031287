"""The whole page (build_html) and report(): run the scenario (and the comparison), write the
HTML and/or the workbook."""
from __future__ import annotations

import os
import time

from .. import _core, plotting, style
from .._args import _as_scenario
from .._compare import compare as compare_scenarios
from .._files import _write_atomic
from .._run import simulate
from ..excel import export_excel
from ..sensitivity import sensitivity as sensitivity_table
from ._html import CSS, _display_command, _display_path, _e, _quantity
from .charts import _distribution_charts, _fan_series, _img
from .headline import _constant, check_headline, headline_output
from .inputs_table import _inputs_table
from .sections import (SENSITIVITY_PATHS, _cards, _compare_section, _counterparty_section,
                       _sensitivity_section, _summary_table, _waterfall_section)


def build_html(a, scenario, b=None, scenario_b=None, compare_table=None, command: str = "",
               wall_s: float | None = None, rank=None, tornado=None, headline: str | None = None,
               constant_headline: bool = False, show_drivers: bool = True) -> str:
    """The report as one HTML string (see the module docstring). constant_headline: say that
    "what drives it" was not run because the headline output is the same on every path."""
    name = a.scenario_name
    headline = headline_output(a, scenario, headline)
    q = _quantity(headline)
    parts = [f"<h1>{_e(name)}: funding need and buildout</h1>",
             f'<p class="run">{_e(_display_path(scenario.source))} · {_e(style.run_line(a))} · scenario hash '
             f"{_e(a.scenario_fingerprint)} · capexsim {_e(_core.__version__)}</p>",
             "<h2>Headline numbers</h2>", _cards(a, headline),
             f"<p>The headline output is <code>{_e(headline)}</code> ({_e(q.description or q.label)}). "
             f"Means are Monte Carlo estimates: ± is their 95% confidence interval (1.96 standard errors "
             f"with {a.n_paths:,} paths); rerunning with more paths narrows it. p5, p50 and p95 are the "
             "spread across paths, not an error. <i>never</i>: share of paths where the event does not "
             "happen within the horizon. Money in US$ (B = billion, T = trillion).</p>",
             _summary_table(a),
             _waterfall_section(a),
             f"<h2>The {_e(q.label)}</h2>",
             f"<p>{_e((q.description or q.label)[:1].upper() + (q.description or q.label)[1:])}.</p>",
             _distribution_charts(a, headline, q, constant_headline),
             _counterparty_section(a),
             "<h2>Over time</h2>",
             "<p>Shaded: the middle 90% and 50% of paths at each step; solid: median; dashed: mean. "
             "Dotted lines mark the scenario's dates (contract ends after their renewals, checkpoints).</p>"]
    for series in _fan_series(a):
        parts.append(_img(plotting.plot_fan(a, series, events=scenario), f"fan chart of {series}"))
    if rank is not None or tornado is not None or constant_headline:
        parts.append(_sensitivity_section(rank, tornado, headline, constant=constant_headline and show_drivers))
    if b is not None:
        labels = plotting._names(a, b, None)
        parts += [f"<h2>Comparison: {_e(labels[0])} (A) vs {_e(labels[1])} (B)</h2>",
                  f'<p class="run">B: {_e(_display_path(scenario_b.source))} · scenario hash '
                  f"{_e(b.scenario_fingerprint)}</p>",
                  _compare_section(a, b, compare_table, labels, headline)]
    parts += ["<h2>Inputs and their sources</h2>", _inputs_table(scenario)]
    if scenario_b is not None:
        parts += [f"<h3>B: {_e(scenario_b.name)}</h3>", _inputs_table(scenario_b)]
    took = f" in {wall_s:.1f} s" if wall_s is not None else ""
    parts.append(f"<footer>Made by <code>{_e(_display_command(command))}</code>{_e(took)}. The same command "
                 "gives the same numbers, bit for bit.</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(name)} — capexsim report</title><style>{CSS}</style></head>"
            f"<body><main>{''.join(parts)}</main></body></html>\n")


def report(scenario, out: str | None = None, compare=None, paths: int = 100_000, seed: int = 1,
           threads: int | None = None, xlsx: str | None = None, progress=False, command: str = "",
           sensitivity: bool = True, headline: str | None = None) -> str:
    """Simulate `scenario` (and `compare`), write the HTML report to `out` and/or the Excel
    workbook to `xlsx`; returns the HTML. A missing folder of `out` or `xlsx` is created.

    headline: the output the cards, histogram, CDF and "what drives it" use (default: the
    scenario's ``[outputs] headline``, else ``funding_need`` when the run has it, else
    ``funding_gap``); a name that is not an output of the run is a ScenarioError, raised
    before anything runs.
    sensitivity: include "What drives <headline>": rank measures from the report's own
    run and a tornado (1 + 2 k more runs of min(paths, SENSITIVITY_PATHS) paths each). An
    output that is the same on every path gets a sentence saying so instead of the runs."""
    start = time.perf_counter()
    sa = _as_scenario(scenario)
    if headline is not None:
        check_headline(sa, headline)
    a = simulate(sa, paths=paths, seed=seed, threads=threads, progress=progress)
    name = headline_output(a, sa, headline)
    rank = tornado = None
    constant = _constant(a, name)
    if sensitivity:
        if a.input_names and not constant:  # nothing to rank or pin when every input is fixed
            rank = a.rank(name)
            tornado = sensitivity_table(sa, "tornado", output=name,
                                        paths=min(paths, SENSITIVITY_PATHS), seed=seed,
                                        threads=threads, progress=progress)
    b = sb = table = None
    if compare is not None:
        sb = _as_scenario(compare)
        b = simulate(sb, paths=paths, seed=seed, threads=threads, progress=progress)
        table = compare_scenarios(sa, sb, paths=paths, seed=seed, threads=threads)
    page = build_html(a, sa, b, sb, table, command=command, wall_s=time.perf_counter() - start,
                      rank=rank, tornado=tornado, headline=name, constant_headline=constant,
                      show_drivers=sensitivity)
    for path in (out, xlsx):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if out:
        _write_atomic(out, page)
    if xlsx:
        export_excel(a, xlsx, scenario=sa, headline=headline)
    return page
