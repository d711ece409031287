"""`python3 -m capexsim report`: one self-contained HTML file for a scenario (and a comparison).

The file needs no network: charts are SVG embedded as data: URIs, the CSS is inline, there
are no scripts or web fonts. It leads with one headline output (--headline, the scenario's
[outputs] headline, else funding_need when the run has it, else funding_gap): its cards,
histogram, CDF and "what drives it" (a tornado and rank measures; sensitivity=False or
--no-sensitivity leaves it out). Around it: every output, the funding waterfall and ledger
and the counterparties when the run reports them (looked up by output name), fan charts of
cash, capacity, ARR, debt and ownership with the scenario's dates marked, every input with
its source note, and, with a second scenario, the comparison. docs/report.md lists it all.
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import os
import sys
import tempfile
import time

import numpy as np

from . import plotting, style
from .units import display_order, quantity

HEADLINE = ["funding_gap", "terminal_cash", "capex_total", "runway", "breakeven", "arr_end"]

CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 0;
       background: #fafafa; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 32px 48px; background: #fff;
       overflow-wrap: break-word; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
p, li { font-size: 14px; line-height: 1.45; }
.run { color: #666; font-size: 13px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { flex: 1 1 200px; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; }
.card .label { font-size: 12px; color: #666; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: bold; margin: 4px 0; }
.card .err { font-size: 12px; color: #666; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eee; text-align: right; vertical-align: top; }
.nw, td.n, td.ci { white-space: nowrap; }
@media (max-width: 800px) { main { padding: 16px 12px 32px; } th, td { padding: 3px 4px; }
                            td.n, td.ci { white-space: normal; } }
th { background: #f3f3f3; font-weight: 600; }
td.l, th.l { text-align: left; }
td.note { text-align: left; color: #555; }
table.inputs { table-layout: fixed; }
table.inputs td { overflow-wrap: anywhere; }
table.inputs td code.key { overflow-wrap: normal; }
table.inputs tr.line td { border-bottom: 1px dotted #e4e4e4; }
table.matrix { width: auto; font-size: 12px; margin: 0; }
div.scroll { overflow-x: auto; }
table.matrix td, table.matrix th { padding: 1px 5px; border: 0; background: none;
                                  overflow-wrap: normal; white-space: nowrap; }
.sig { font-weight: bold; }
img.chart { width: 100%; max-width: 960px; display: block; margin: 8px 0 16px; }
.dagger { color: #c0504d; font-weight: bold; }
footer { color: #888; font-size: 12px; margin-top: 32px; }
"""


def _e(x) -> str:
    return html.escape(str(x), quote=True)


def svg_data_uri(ax) -> str:
    """A figure as an SVG data: URI (text drawn as paths: no fonts needed); closes the figure."""
    import matplotlib.pyplot as plt
    fig = ax.figure
    buf = io.BytesIO()
    with style.context():
        fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _img(ax, alt: str) -> str:
    return f'<img class="chart" alt="{_e(alt)}" src="{svg_data_uri(ax)}">'


def _quantity(name: str):
    """quantity(name), or a plain $B amount for an output this package has no schema entry for
    (outputs added by a newer model are shown, labelled by their name)."""
    try:
        return quantity(name)
    except KeyError:
        from .units import Quantity
        return Quantity(name, name.replace("_", " "), "$B", "amount", None, "")


def _tail_note(name: str) -> str:
    q = _quantity(name)
    if q.adverse == "high":
        return "high is adverse: cvar95 is the mean of the worst 5%"
    if q.adverse == "low":
        return "low is adverse: see p5 (cvar95 is the best 5%)"
    return ""


# -- the headline output ----------------------------------------------------------------------
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
    from .errors import ScenarioError
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


def _cards(result, headline: str) -> str:
    s = result.summary()
    cards = []

    def card(label, value, err):
        cards.append(f'<div class="card"><div class="label">{_e(label)}</div>'
                     f'<div class="value">{_e(value)}</div><div class="err">{_e(err)}</div></div>')

    q = _quantity(headline)
    g = s.loc[headline]
    if q.kind == "time":
        card(f"{q.label}, median", style.format_value(g["p50"], q.unit),
             f"never within the horizon in {g['nan_share']:.1%} of paths")
    else:
        lo, hi = g["mean"] - 1.96 * g["stderr"], g["mean"] + 1.96 * g["stderr"]
        digits = next((d for d in range(3, 7)
                       if style.format_value(lo, q.unit, d) != style.format_value(hi, q.unit, d)), 6)
        card(f"{q.label}, mean", style.format_value(g["mean"], q.unit),
             f"95% CI {style.format_value(lo, q.unit, digits)} to {style.format_value(hi, q.unit, digits)}")
    if q.adverse == "low":
        card(f"{q.label}, 5th percentile", style.format_value(g["p5"], q.unit),
             f"median {style.format_value(g['p50'], q.unit)}")
    else:
        card(f"{q.label}, 95th percentile", style.format_value(g["p95"], q.unit),
             f"worst 5% average {style.format_value(g['cvar95'], q.unit)}" if q.adverse == "high"
             else f"median {style.format_value(g['p50'], q.unit)}")
    if q.is_money and q.kind == "amount":
        what = "needs outside money" if headline.startswith(("funding_", "need")) else f"{q.label} > 0"
        card(what, f"{g['prob_positive']:.1%}", f"share of paths with {q.label} > 0")
    if "breakeven" in s.index and headline != "breakeven":
        b = s.loc["breakeven"]
        if b["nan_share"] >= 0.5 or not np.isfinite(b["p50"]):
            # The median path never breaks even: the median of the paths that do would
            # read as the typical path's breakeven.
            card("breakeven, median path", "never",
                 f"{1 - b['nan_share']:.1%} of paths break even within the horizon"
                 + (f" (their median {b['p50']:.1f} years)" if np.isfinite(b["p50"]) else ""))
        else:
            card("breakeven, median", f"{b['p50']:.1f} years",
                 f"never within the horizon in {b['nan_share']:.1%} of paths")
    if "unpaid_total" in s.index and headline != "unpaid_total":
        # Under unpaid = true the stress is what is left unpaid: on the first screen.
        u = s.loc["unpaid_total"]
        card("left unpaid, mean", style.format_value(u["mean"], "$B"),
             f"{u['prob_positive']:.1%} of paths leave something unpaid; p95 {style.format_value(u['p95'], '$B')}")
    return '<div class="cards">' + "".join(cards) + "</div>"


def _output_order(names: list[str]) -> list[str]:
    return display_order(names)


def _scale(unit: str, *values) -> str | None:
    """One unit for a row's money (style.money_scale); None for other units."""
    return style.money_scale(values) if unit.startswith("$B") else None


def _summary_table(result) -> str:
    s = result.summary()
    rows = []
    for name in _output_order(list(s.index)):
        r = s.loc[name]
        q = _quantity(name)
        sc = _scale(q.unit, r["mean"], r["p5"], r["p50"], r["p95"])
        cells = [f'<td class="l"><b>{_e(q.label)}</b><br><code>{_wbr(name)}</code></td>',
                 f'<td class="ci">{_ci_html(style.format_mean_ci(r["mean"], r["stderr"], q.unit, sc))}</td>']
        cells += [f'<td class="n">{_e(style.format_value(r[c], q.unit, trim=False, scale=sc))}</td>'
                  for c in ("p5", "p50", "p95")]
        never = f"{r['nan_share']:.1%}" if q.kind == "time" else ""
        cells += [f'<td class="n">{_e(never)}</td>', f'<td class="note">{_e(_tail_note(name))}</td>']
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = ('<tr><th class="l">output</th><th>mean ± 95% CI</th><th>p5</th><th>p50</th><th>p95</th>'
            '<th>never</th><th class="l">tail</th></tr>')
    return f"<table>{head}{''.join(rows)}</table>"


def _ci_html(text: str) -> str:
    """"$655B ± $9.2B" that may break before the ±, never inside a number."""
    parts = text.split(" ± ", 1)
    return " ".join(f'<span class="nw">{_e(p if k == 0 else "± " + p)}</span>' for k, p in enumerate(parts))


def _stat_table(result, names: list[str], first: str = "output", labels=None) -> str:
    """mean, p5, p50, p95 of some outputs, one row each."""
    s = result.summary()
    rows = []
    for name in names:
        r, q = s.loc[name], _quantity(name)
        label = (labels or {}).get(name, q.label)
        sc = _scale(q.unit, *(r[c] for c in ("mean", "p5", "p50", "p95")))
        rows.append(f'<tr><td class="l">{_e(label)}<br><code>{_wbr(name)}</code></td>'
                    + "".join(f'<td class="n">{_e(style.format_value(r[c], q.unit, trim=False, scale=sc))}</td>'
                              for c in ("mean", "p5", "p50", "p95")) + "</tr>")
    head = f'<tr><th class="l">{_e(first)}</th><th>mean</th><th>p5</th><th>p50</th><th>p95</th></tr>'
    return f"<table>{head}{''.join(rows)}</table>"


def _by_date(names: list[str], prefix: str) -> list[str]:
    return sorted((n for n in names if n.startswith(prefix)), key=lambda n: float(n[len(prefix):]))


#: Uses and sources of the ledger (model §13.2), in the order the table shows them.
LEDGER_USES = ["capex", "contracts", "rent", "opex", "interest", "debt_repaid", "arrears_paid"]
LEDGER_SOURCES = ["revenue", "vendor", "scheduled_equity", "warrants", "debt_drawn", "equity_rounds",
                  "arrears_added"]


def _money_cells(r) -> str:
    """mean, p5, p50, p95 of a $B row, in one unit."""
    cols = ("mean", "p5", "p50", "p95")
    sc = style.money_scale([r[c] for c in cols])
    return "".join(f'<td class="n">{_e(style.format_money(r[c], trim=False, scale=sc))}</td>' for c in cols)


def _waterfall_section(result) -> str:
    """Gross need by date, sources and uses, residual: shown for the outputs the run has
    (looked up by name; a run of a model without the waterfall shows none of it)."""
    names = list(result.output_names)
    parts = []
    need = [n for n in ("funding_need", "need_time") if n in names] + _by_date(names, "funding_need_by_")
    if need:
        parts += ["<h3>Gross need</h3>",
                  "<p>The outside money the plan needs before any financing: the deepest point of a "
                  "shadow cash balance that sees the plan's own cash flows and nothing else (no vendor "
                  "money, equity, warrants, debt or rounds), in total and through each checkpoint.</p>",
                  _stat_table(result, need)]
    flows = [n for n in names if n.startswith("flow_")]
    if flows:
        rows = []
        s = result.summary()
        for side, order in (("use", LEDGER_USES), ("source", LEDGER_SOURCES)):
            known = [f"flow_{k}" for k in order if f"flow_{k}" in flows]
            for n in known:
                r = s.loc[n]
                rows.append(f'<tr><td class="l">{side}</td><td class="l">{_e(n[5:].replace("_", " "))}</td>'
                            + _money_cells(r) + "</tr>")
        for n in flows:  # flows this report does not know yet: listed after, as they are named
            if n[5:] not in LEDGER_USES + LEDGER_SOURCES:
                r = s.loc[n]
                rows.append(f'<tr><td class="l"></td><td class="l">{_e(n[5:].replace("_", " "))}</td>'
                            + _money_cells(r) + "</tr>")
        head = ('<tr><th class="l"></th><th class="l">flow</th><th>mean</th><th>p5</th><th>p50</th>'
                "<th>p95</th></tr>")
        parts += ["<h3>Sources and uses</h3>",
                  "<p>Totals over the horizon of every flow, per path (the ledger balances: initial cash "
                  "plus sources less uses is the cash at the horizon).</p>",
                  f"<table>{head}{''.join(rows)}</table>"]
    residual = [n for n in ("funding_gap", "gap_time", "runway") if n in names] + _by_date(names, "funding_gap_by_")
    if need and residual:
        parts += ["<h3>Residual</h3>",
                  "<p>The money still needed beyond the modelled sources (under <code>unpaid = true</code>, "
                  "the peak of arrears).</p>", _stat_table(result, residual)]
    if not parts:
        return ""
    return "<h2>The funding waterfall</h2>" + "".join(parts)


def _counterparty_section(result) -> str:
    """Counterparties when the run has unpaid outputs (``[constraint] unpaid = true``)."""
    if not any(n.startswith("unpaid_") for n in result.output_names):
        return ""
    table = result.counterparties()
    if not len(table):
        return ""
    cols = list(table.columns)
    def title(c: str) -> str:  # p_paid_in_full -> "P(paid in full)", unpaid_mean -> "unpaid mean"
        return f"P({c[2:].replace('_', ' ')})" if c.startswith("p_") else c.replace("_", " ")
    head = '<tr><th class="l">counterparty</th>' + "".join(f"<th>{_e(title(c))}</th>" for c in cols) + "</tr>"
    rows = []
    for who, r in table.iterrows():
        cells = []
        sc = style.money_scale([r[c] for c in cols if not c.startswith(("p_", "prob"))
                                and isinstance(r[c], (int, float, np.floating))])
        for c in cols:
            v = r[c]
            text = (f"{v:.1%}" if c.startswith(("p_", "prob")) else style.format_money(v, trim=False, scale=sc)) \
                if isinstance(v, (int, float, np.floating)) and np.isfinite(v) else ("–" if v is None else str(v))
            cells.append(f'<td class="n">{_e(text)}</td>')
        rows.append(f'<tr><td class="l">{_e(who)}</td>{"".join(cells)}</tr>')
    summary = result.summary()
    total = ""
    if "unpaid_total" in summary.index:
        u = summary.loc["unpaid_total"]
        total = (f" In all, {style.format_money(u['mean'])} is left unpaid on average "
                 f"({u['prob_positive']:.1%} of paths leave something unpaid; p95 {style.format_money(u['p95'])}).")
    return ("<h2>Counterparties</h2>"
            "<p>Who is left unpaid when a step's cash falls short: the deficit is shared pro rata over the "
            f"step's obligations and carried as arrears.{_e(total)}</p>"
            f"<table>{head}{''.join(rows)}</table>")


def _compare_section(a, b, table, labels, headline: str) -> str:
    rows = []
    for name, r in table.iterrows():
        q = _quantity(name)
        unit = q.unit
        sc = _scale(unit, r["mean_a"], r["mean_b"], r["diff"])
        diff = style.format_mean_ci(r["diff"], r["stderr"], unit, sc)
        sig = ' class="sig n"' if r["significant"] else ' class="n"'
        rows.append(f'<tr><td class="l">{_e(q.label)}<br><code>{_e(name)}</code></td>'
                    f'<td class="n">{_e(style.format_value(r["mean_a"], unit, scale=sc))}</td>'
                    f'<td class="n">{_e(style.format_value(r["mean_b"], unit, scale=sc))}</td><td{sig}>{_e(diff)}</td>'
                    f'<td>{"yes" if r["significant"] else "no"}</td></tr>')
    head = (f'<tr><th class="l">output</th><th>mean A: {_e(labels[0])}</th><th>mean B: {_e(labels[1])}</th>'
            "<th>B − A (paired) ± 95% CI</th><th>beyond 3 stderr</th></tr>")
    text = ("<p>Both scenarios ran with the same seed and paths. With common random numbers, path "
            "<i>p</i> of A and of B share every random number not tied to a changed input, so the "
            "paired difference B − A has a far smaller error than two independent runs would give.</p>")
    label = _quantity(headline).label
    charts = ""
    if headline in b.output_names:
        charts = (_img(plotting.plot_compare(a, b, headline, labels=labels), f"{label} CDFs, A and B")
                  + _img(plotting.plot_diff(a, b, headline, labels=labels), f"paired differences of the {label}"))
    return text + f"<table>{head}{''.join(rows)}</table>" + charts


#: Paths per run of the report's tornado (1 + 2 k runs): the report's paths, at most this.
SENSITIVITY_PATHS = 20_000


def _fmt_signed(x: float, digits: int = 2) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:+.{digits}f}".replace("-", "−")


def _sensitivity_section(rank, tornado, headline: str = "funding_gap", constant: bool = False) -> str:
    """"What drives <the headline>": the tornado chart and the rank table."""
    q = _quantity(headline)
    title = f"<h2>What drives the {_e(q.label)}</h2>"
    if constant:
        return (title + f"<p><code>{_e(headline)}</code> has the same value on every path of this run, so no "
                "input moves it: there is nothing to rank or pin, and no tornado was run. Pick another "
                "output with <code>--headline</code> (or <code>[outputs] headline</code>) to see what "
                "drives it.</p>")
    parts = []
    if tornado is not None and len(tornado):
        a = tornado.attrs
        top = tornado.index[0]
        parts += [f"<p>Each drawn input in turn is pinned at its 10th and then its 90th percentile, every other "
                  f"random number as in the base run (common random numbers, {a['paths']:,} paths per run): "
                  f"the bars run from the base mean to the mean with the input at each end, labelled with the "
                  f"input's value. <code>{_e(top)}</code> moves the mean {_e(q.label)} most, by "
                  f"{_e(style.format_value(tornado['swing'].iloc[0], q.unit))} between its ends.</p>",
                  _img(plotting.plot_tornado(tornado), f"tornado of the {q.label}")]
    if rank is not None and len(rank):
        r2 = rank.attrs["r2"]
        rows = []
        for name, r in rank.iterrows():
            rows.append(f'<tr><td class="l"><code>{_e(name)}</code></td><td>{_e(_fmt_signed(r["spearman"]))}</td>'
                        f'<td>{_e(_fmt_signed(r["srrc"]))}</td><td>{r["contribution"]:.1%}</td></tr>')
        head = ('<tr><th class="l">input</th><th>Spearman ρ</th><th>SRRC</th>'
                "<th>share of the rank variance</th></tr>")
        parts += [f"<p>Rank measures over the report's own {rank.attrs['paths']:,} paths: the rank correlation "
                  f"(Spearman ρ) of each drawn input with the {_e(q.label)}, the standardised rank-regression "
                  "coefficient (SRRC, the effect of the input with the others held), and the share of the "
                  f"output's rank variance each explains. Together the inputs explain R² = {r2:.1%}; the rest "
                  "comes from the random paths of build pace, costs, demand and growth, and from effects "
                  "(interactions, non-monotone ones) that a linear fit of ranks misses.</p>",
                  f"<table>{head}{''.join(rows)}</table>"]
    if not parts:
        return ""
    return title + "".join(parts)


# -- inputs ------------------------------------------------------------------------------------
def _matrix_html(matrix, labels=None) -> str:
    head = ""
    if labels and len(labels) == len(matrix[0]):
        head = "<tr><th></th>" + "".join(f"<th>{_e(x)}</th>" for x in labels) + "</tr>"
    rows = []
    for i, row in enumerate(matrix):
        lead = f'<th class="l">{_e(labels[i])}</th>' if labels and len(labels) == len(matrix) else ""
        rows.append("<tr>" + lead + "".join(f"<td>{_e(f'{float(v):g}')}</td>" for v in row) + "</tr>")
    # in a box that scrolls sideways when the value column is narrower than the matrix
    return f'<div class="scroll"><table class="matrix">{head}{"".join(rows)}</table></div>'


def _pairs_html(line: str) -> str:
    """"gw = 1, share = 0.25" with each "key = value" kept on one line (breaks between pairs)."""
    return ", ".join(f'<span class="nw">{_e(p)}</span>' for p in line.split(", "))


def _source_html(source: str, public: bool) -> str:
    mark = '<span class="dagger" title="public source">†</span> ' if public else ""
    return f"{mark}{_e(source)}"


def _inputs_table(scenario) -> str:
    from .inputs import PUBLIC, scenario_inputs
    df = scenario_inputs(scenario)
    data = scenario.to_dict()
    rows = []
    for r in df.itertuples(index=False):
        value = r.value
        raw = data.get(r.section, {}).get(r.key) if isinstance(data.get(r.section), dict) else None
        if isinstance(raw, list) and raw and all(isinstance(x, list) for x in raw):
            labels = data.get(r.section, {}).get("shocks") if r.key == "matrix" else None
            if r.section == "input_correlation":
                labels = data["input_correlation"].get("inputs")
            if r.section == "correlation" and labels is None:
                labels = ["pace", "cost", "arr", "growth"]
            value_html = _matrix_html(raw, labels)
        else:
            value_html = _e(value)
        lines = value.split("\n")
        if "\n" in r.source and len(lines) == len(r.source.split("\n")):
            # One row per line of a value written over several lines (warrant tranches),
            # each with its own line's tag and note, as the file's comments say.
            sources, notes = r.source.split("\n"), r.note.split("\n")
            n = len(lines)
            for k, (line, source, note) in enumerate(zip(lines, sources, notes)):
                lead = (f'<td class="l" rowspan="{n}">{_e(r.section)}</td>'
                        f'<td class="l" rowspan="{n}">{_key_html(r.key)}</td>') if k == 0 else ""
                rows.append(f'<tr class="line">{lead}<td class="l">{_pairs_html(line)}</td>'
                            f'<td class="l">{_source_html(source, source in PUBLIC or source == "public")}</td>'
                            f'<td class="note">{_e(note)}</td></tr>')
            continue
        if "\n" in value and 'class="matrix"' not in value_html:
            value_html = "<br>".join(_e(v) for v in lines)
        source_html = _source_html(r.source, r.public)
        note_html = _e(r.note)
        rows.append(f'<tr><td class="l">{_e(r.section)}</td><td class="l">{_key_html(r.key)}</td>'
                    f'<td class="l">{value_html}</td><td class="l">{source_html}</td>'
                    f'<td class="note">{note_html}</td></tr>')
    head = ('<colgroup><col style="width:13%"><col style="width:20%"><col style="width:27%">'
            '<col style="width:12%"><col style="width:28%"></colgroup>'
            '<tr><th class="l">section</th><th class="l">input</th><th class="l">value</th>'
            '<th class="l">source</th><th class="l">note</th></tr>')
    n_public = int(df["public"].sum())
    intro = (f"<p>{len(df)} inputs of <code>{_e(_display_path(scenario.source))}</code>, with defaults filled in; "
             f'{n_public} of them (marked <span class="dagger">†</span>) come from public reporting or an '
             "outside estimate, as the comment on their line in the file says (a value over several lines "
             "takes each line's own tag). <i>default</i>: not set in the file.</p>")
    return intro + f'<table class="inputs">{head}{"".join(rows)}</table>'


def _wbr(name: str) -> str:
    """A name that may wrap after an underscore, on narrow screens."""
    return _e(name).replace("_", "_<wbr>")


def _key_html(key: str) -> str:
    """An input's name that wraps only after an underscore ("fixed_opex_long_run_<wbr>growth"),
    never inside a word ("…_gro/wth")."""
    return f'<code class="key">{_wbr(key)}</code>'


def _display_path(path: str) -> str:
    """A path as the report shows it: relative to the working folder when inside it, else its
    file name, so a report never carries the folders of the machine that made it."""
    if not path or not os.path.isabs(path):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return os.path.basename(path)
    return os.path.basename(path) if rel.startswith("..") else rel


def _display_command(command: str) -> str:
    return " ".join(_display_path(w) if os.path.isabs(w) else
                    (w.split("=", 1)[0] + "=" + _display_path(w.split("=", 1)[1])
                     if "=" in w and os.path.isabs(w.split("=", 1)[1]) else w)
                    for w in command.split(" "))


def _distribution_charts(result, headline: str, q, constant: bool) -> str:
    """The headline's histogram and CDF; for an output with one value on every path, that
    value in words (a histogram of a constant is one bar)."""
    if constant:
        value = result.summary().loc[headline, "p50"]
        return (f"<p>Every path of this run has the same {_e(q.label)}: "
                f"<b>{_e(style.format_value(value, q.unit))}</b>, so there is no distribution to draw.</p>")
    return (_img(plotting.plot_hist(result, headline), f"{q.label} histogram")
            + _img(plotting.plot_cdf(result, headline), f"{q.label} cumulative distribution"))


def _fan_series(result) -> list[str]:
    have = list(getattr(result._core, "series_names", [])) if result._core.has_bands() else []
    wanted = ["cash", "capacity", "arr", "debt", "ownership", "arrears"]
    return [s for s in wanted if s in have]


def build_html(a, scenario, b=None, scenario_b=None, compare_table=None, command: str = "",
               wall_s: float | None = None, rank=None, tornado=None, headline: str | None = None,
               constant_headline: bool = False, show_drivers: bool = True) -> str:
    """The report as one HTML string (see the module docstring). constant_headline: say that
    "what drives it" was not run because the headline output is the same on every path."""
    from . import __version__
    name = a.scenario_name
    headline = headline_output(a, scenario, headline)
    q = _quantity(headline)
    parts = [f"<h1>{_e(name)}: funding need and buildout</h1>",
             f'<p class="run">{_e(_display_path(scenario.source))} · {_e(style.run_line(a))} · scenario hash '
             f"{_e(a.scenario_fingerprint)} · capexsim {_e(__version__)}</p>",
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


def _write_atomic(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # as an ordinary file, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
    import capexsim
    start = time.perf_counter()
    sa = capexsim._as_scenario(scenario)
    if headline is not None:
        check_headline(sa, headline)
    a = capexsim.simulate(sa, paths=paths, seed=seed, threads=threads, progress=progress)
    name = headline_output(a, sa, headline)
    rank = tornado = None
    constant = _constant(a, name)
    if sensitivity:
        if a.input_names and not constant:  # nothing to rank or pin when every input is fixed
            rank = a.rank(name)
            tornado = capexsim.sensitivity(sa, "tornado", output=name, paths=min(paths, SENSITIVITY_PATHS),
                                           seed=seed, threads=threads, progress=progress)
    b = sb = table = None
    if compare is not None:
        sb = capexsim._as_scenario(compare)
        b = capexsim.simulate(sb, paths=paths, seed=seed, threads=threads, progress=progress)
        table = capexsim.compare(sa, sb, paths=paths, seed=seed, threads=threads)
    page = build_html(a, sa, b, sb, table, command=command, wall_s=time.perf_counter() - start,
                      rank=rank, tornado=tornado, headline=name, constant_headline=constant,
                      show_drivers=sensitivity)
    for path in (out, xlsx):
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if out:
        _write_atomic(out, page)
    if xlsx:
        capexsim.export_excel(a, xlsx, scenario=sa, headline=headline)
    return page


# -- command line ---------------------------------------------------------------------------
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
    from .errors import ScenarioError
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
