"""`python3 -m capexsim report`: one self-contained HTML file for a scenario (and a comparison).

The file needs no network: charts are SVG embedded as data: URIs, the CSS is inline, there
are no scripts or web fonts. It holds the headline numbers with their Monte Carlo error, the
funding gap's histogram and CDF, fan charts of cash, capacity and ARR with the scenario's
dates marked, what drives the funding gap (a tornado and rank measures; sensitivity=False or
--no-sensitivity leaves it out), every input with its source note, and, with a second
scenario, the comparison.
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
from .units import quantity

HEADLINE = ["funding_gap", "terminal_cash", "capex_total", "runway", "breakeven", "arr_end"]

CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #222; margin: 0;
       background: #fafafa; }
main { max-width: 1000px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; }
h1 { font-size: 24px; margin: 8px 0 4px; }
h2 { font-size: 18px; margin: 32px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p, li { font-size: 14px; line-height: 1.45; }
.run { color: #666; font-size: 13px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { flex: 1 1 200px; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; }
.card .label { font-size: 12px; color: #666; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: bold; margin: 4px 0; }
.card .err { font-size: 12px; color: #666; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eee; text-align: right; vertical-align: top;
         white-space: nowrap; }
td.note { white-space: normal; }
th { background: #f3f3f3; font-weight: 600; }
td.l, th.l { text-align: left; }
td.note { text-align: left; color: #555; }
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


def _tail_note(name: str) -> str:
    q = quantity(name)
    if q.adverse == "high":
        return "high is adverse: cvar95 is the mean of the worst 5%"
    if q.adverse == "low":
        return "low is adverse: see p5 (cvar95 is the best 5%)"
    return ""


def _cards(result) -> str:
    s = result.summary()
    cards = []

    def card(label, value, err):
        cards.append(f'<div class="card"><div class="label">{_e(label)}</div>'
                     f'<div class="value">{_e(value)}</div><div class="err">{_e(err)}</div></div>')

    g = s.loc["funding_gap"]
    lo, hi = g["mean"] - 1.96 * g["stderr"], g["mean"] + 1.96 * g["stderr"]
    digits = next((d for d in range(3, 7) if style.format_money(lo, d) != style.format_money(hi, d)), 6)
    card("funding gap, mean", style.format_money(g["mean"]),
         f"95% CI {style.format_money(lo, digits)} to {style.format_money(hi, digits)}")
    card("funding gap, 95th percentile", style.format_money(g["p95"]),
         f"worst 5% average {style.format_money(g['cvar95'])}")
    card("needs outside money", f"{g['prob_positive']:.1%}", "share of paths with a funding gap > 0")
    if "breakeven" in s.index:
        b = s.loc["breakeven"]
        card("breakeven, median", f"{b['p50']:.1f} years" if np.isfinite(b["p50"]) else "never",
             f"never within the horizon in {b['nan_share']:.1%} of paths")
    return '<div class="cards">' + "".join(cards) + "</div>"


def _summary_table(result) -> str:
    s = result.summary()
    rows = []
    for name, r in s.iterrows():
        q = quantity(name)
        cells = [f'<td class="l"><b>{_e(q.label)}</b><br><code>{_e(name)}</code></td>',
                 f"<td>{_e(style.format_mean_ci(r['mean'], r['stderr'], q.unit))}</td>"]
        cells += [f"<td>{_e(style.format_value(r[c], q.unit))}</td>" for c in ("p5", "p50", "p95")]
        never = f"{r['nan_share']:.1%}" if q.kind == "time" else ""
        cells += [f"<td>{_e(never)}</td>", f'<td class="note">{_e(_tail_note(name))}</td>']
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = ('<tr><th class="l">output</th><th>mean ± 95% CI</th><th>p5</th><th>p50</th><th>p95</th>'
            '<th>never</th><th class="l">tail</th></tr>')
    return f"<table>{head}{''.join(rows)}</table>"


def _inputs_table(scenario) -> str:
    from .inputs import scenario_inputs
    df = scenario_inputs(scenario)
    rows = []
    for r in df.itertuples(index=False):
        mark = '<span class="dagger" title="public source">†</span> ' if r.public else ""
        rows.append(f'<tr><td class="l">{_e(r.section)}</td><td class="l"><code>{_e(r.key)}</code></td>'
                    f'<td class="l">{_e(r.value)}</td><td class="l">{mark}{_e(r.source)}</td>'
                    f'<td class="note">{_e(r.note)}</td></tr>')
    head = ('<tr><th class="l">section</th><th class="l">input</th><th class="l">value</th>'
            '<th class="l">source</th><th class="l">note</th></tr>')
    n_public = int(df["public"].sum())
    intro = (f"<p>{len(df)} inputs of <code>{_e(scenario.source)}</code>, with defaults filled in; "
             f'{n_public} of them (marked <span class="dagger">†</span>) come from public reporting or an '
             "outside estimate, as the comment on their line in the file says. <i>default</i>: not set in "
             "the file.</p>")
    return intro + f"<table>{head}{''.join(rows)}</table>"


def _compare_section(a, b, table, labels) -> str:
    rows = []
    for name, r in table.iterrows():
        q = quantity(name)
        unit = q.unit
        diff = style.format_mean_ci(r["diff"], r["stderr"], unit)
        sig = ' class="sig"' if r["significant"] else ""
        rows.append(f'<tr><td class="l">{_e(q.label)}</td><td>{_e(style.format_value(r["mean_a"], unit))}</td>'
                    f'<td>{_e(style.format_value(r["mean_b"], unit))}</td><td{sig}>{_e(diff)}</td>'
                    f'<td>{"yes" if r["significant"] else "no"}</td></tr>')
    head = (f'<tr><th class="l">output</th><th>mean A: {_e(labels[0])}</th><th>mean B: {_e(labels[1])}</th>'
            "<th>B − A (paired) ± 95% CI</th><th>beyond 3 stderr</th></tr>")
    text = ("<p>Both scenarios ran with the same seed and paths. With common random numbers, path "
            "<i>p</i> of A and of B share every random number not tied to a changed input, so the "
            "paired difference B − A has a far smaller error than two independent runs would give.</p>")
    charts = (_img(plotting.plot_compare(a, b, "funding_gap", labels=labels), "funding gap CDFs, A and B")
              + _img(plotting.plot_diff(a, b, "funding_gap", labels=labels),
                     "paired differences of the funding gap"))
    return text + f"<table>{head}{''.join(rows)}</table>" + charts


#: Paths per run of the report's tornado (1 + 2 k runs): the report's paths, at most this.
SENSITIVITY_PATHS = 20_000


def _fmt_signed(x: float, digits: int = 2) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:+.{digits}f}".replace("-", "−")


def _sensitivity_section(rank, tornado) -> str:
    """"What drives the funding gap": the tornado chart and the rank table."""
    parts = []
    if tornado is not None and len(tornado):
        a = tornado.attrs
        top = tornado.index[0]
        parts += [f"<p>Each drawn input in turn is pinned at its 10th and then its 90th percentile, every other "
                  f"random number as in the base run (common random numbers, {a['paths']:,} paths per run): "
                  f"the bars run from the base mean to the mean with the input at each end, labelled with the "
                  f"input's value. <code>{_e(top)}</code> moves the mean funding gap most, by "
                  f"{_e(style.format_money(tornado['swing'].iloc[0]))} between its ends.</p>",
                  _img(plotting.plot_tornado(tornado), "tornado of the funding gap")]
    if rank is not None and len(rank):
        r2 = rank.attrs["r2"]
        rows = []
        for name, r in rank.iterrows():
            rows.append(f'<tr><td class="l"><code>{_e(name)}</code></td><td>{_e(_fmt_signed(r["spearman"]))}</td>'
                        f'<td>{_e(_fmt_signed(r["srrc"]))}</td><td>{r["contribution"]:.1%}</td></tr>')
        head = ('<tr><th class="l">input</th><th>Spearman ρ</th><th>SRRC</th>'
                "<th>share of the rank variance</th></tr>")
        parts += [f"<p>Rank measures over the report's own {rank.attrs['paths']:,} paths: the rank correlation "
                  "(Spearman ρ) of each drawn input with the funding gap, the standardised rank-regression "
                  "coefficient (SRRC, the effect of the input with the others held), and the share of the "
                  f"gap's rank variance each explains. Together the inputs explain R² = {r2:.1%}; the rest "
                  "comes from the random paths of build pace, costs, demand and growth, and from effects "
                  "(interactions, non-monotone ones) that a linear fit of ranks misses.</p>",
                  f"<table>{head}{''.join(rows)}</table>"]
    if not parts:
        return ""
    return "<h2>What drives the funding gap</h2>" + "".join(parts)


def build_html(a, scenario, b=None, scenario_b=None, compare_table=None, command: str = "",
               wall_s: float | None = None, rank=None, tornado=None) -> str:
    """The report as one HTML string (see the module docstring)."""
    from . import __version__
    name = a.scenario_name
    parts = [f"<h1>{_e(name)}: funding need and buildout</h1>",
             f'<p class="run">{_e(scenario.source)} · {_e(style.run_line(a))} · scenario hash '
             f"{_e(a.scenario_fingerprint)} · capexsim {_e(__version__)}</p>",
             "<h2>Headline numbers</h2>", _cards(a),
             f"<p>Means are Monte Carlo estimates: ± is their 95% confidence interval (1.96 standard errors "
             f"with {a.n_paths:,} paths); rerunning with more paths narrows it. p5, p50 and p95 are the "
             "spread across paths, not an error. <i>never</i>: share of paths where the event does not "
             "happen within the horizon. Money in US$ (B = billion, T = trillion).</p>",
             _summary_table(a),
             "<h2>The funding gap</h2>",
             "<p>The peak outside money needed: the deepest point of the cash balance on each path.</p>",
             _img(plotting.plot_hist(a, "funding_gap"), "funding gap histogram"),
             _img(plotting.plot_cdf(a, "funding_gap"), "funding gap cumulative distribution"),
             "<h2>Over time</h2>",
             "<p>Shaded: the middle 90% and 50% of paths at each step; solid: median; dashed: mean. "
             "Dotted lines mark the scenario's dates (contract ends, checkpoints).</p>"]
    for series in ("cash", "capacity", "arr"):
        parts.append(_img(plotting.plot_fan(a, series, events=scenario), f"fan chart of {series}"))
    parts.append(_sensitivity_section(rank, tornado))
    if b is not None:
        labels = plotting._names(a, b, None)
        parts += [f"<h2>Comparison: {_e(labels[0])} (A) vs {_e(labels[1])} (B)</h2>",
                  f'<p class="run">B: {_e(scenario_b.source)} · scenario hash {_e(b.scenario_fingerprint)}</p>',
                  _compare_section(a, b, compare_table, labels)]
    parts += ["<h2>Inputs and their sources</h2>", _inputs_table(scenario)]
    if scenario_b is not None:
        parts += [f"<h3>B: {_e(scenario_b.name)}</h3>", _inputs_table(scenario_b)]
    took = f" in {wall_s:.1f} s" if wall_s is not None else ""
    parts.append(f"<footer>Made by <code>{_e(command)}</code>{_e(took)}. The same command gives the same "
                 "numbers, bit for bit.</footer>")
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
           sensitivity: bool = True) -> str:
    """Simulate `scenario` (and `compare`), write the HTML report to `out` and/or the Excel
    workbook to `xlsx`; returns the HTML.

    sensitivity: include "What drives the funding gap": rank measures from the report's own
    run and a tornado (1 + 2 k more runs of min(paths, SENSITIVITY_PATHS) paths each)."""
    import capexsim
    start = time.perf_counter()
    sa = capexsim._as_scenario(scenario)
    a = capexsim.simulate(sa, paths=paths, seed=seed, threads=threads, progress=progress)
    rank = tornado = None
    if sensitivity and a.input_names:  # nothing to rank or pin when every input is fixed
        rank = a.rank("funding_gap")
        tornado = capexsim.sensitivity(sa, "tornado", output="funding_gap", paths=min(paths, SENSITIVITY_PATHS),
                                       seed=seed, threads=threads, progress=progress)
    b = sb = table = None
    if compare is not None:
        sb = capexsim._as_scenario(compare)
        b = capexsim.simulate(sb, paths=paths, seed=seed, threads=threads, progress=progress)
        table = capexsim.compare(sa, sb, paths=paths, seed=seed, threads=threads)
    page = build_html(a, sa, b, sb, table, command=command, wall_s=time.perf_counter() - start,
                      rank=rank, tornado=tornado)
    if out:
        _write_atomic(out, page)
    if xlsx:
        capexsim.export_excel(a, xlsx, scenario=sa)
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
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--no-sensitivity", dest="sensitivity", action="store_false",
                   help="leave out 'What drives the funding gap' (its tornado adds 1 + 2k runs of "
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
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            print(f"capexsim report: {option} {path}: folder does not exist", file=sys.stderr)
            return 2
    command = getattr(args, "command_line", "python3 -m capexsim report")
    try:
        report(args.scenario, out=args.out, compare=args.compare, paths=args.paths, seed=args.seed,
               threads=args.threads or None, xlsx=args.xlsx,
               progress=not args.quiet and sys.stderr.isatty(), command=command,
               sensitivity=args.sensitivity)
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
