"""The report's sections: the headline cards, the summary of every output, the funding
waterfall and ledger, the counterparties, the comparison and "what drives it"."""
from __future__ import annotations

import numpy as np

from .. import plotting, style
from ..units import display_order
from ._html import _ci_html, _e, _fmt_signed, _money_cells, _quantity, _scale, _tail_note, _wbr
from .charts import _img


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


LEDGER_USES = ["capex", "contracts", "rent", "opex", "interest", "debt_repaid", "arrears_paid"]
LEDGER_SOURCES = ["revenue", "vendor", "scheduled_equity", "warrants", "debt_drawn", "equity_rounds",
                  "arrears_added"]


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
