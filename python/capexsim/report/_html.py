"""The page's HTML building blocks: the CSS, escaping, names that wrap, numbers in cells, paths
as the report shows them (relative, never the folders of the machine that made it)."""
from __future__ import annotations

import html
import os

import numpy as np

from .. import style
from ..units import quantity


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


def _quantity(name: str):
    """quantity(name), or a plain $B amount for an output this package has no schema entry for
    (outputs added by a newer model are shown, labelled by their name)."""
    try:
        return quantity(name)
    except KeyError:
        from ..units import Quantity
        return Quantity(name, name.replace("_", " "), "$B", "amount", None, "")


def _tail_note(name: str) -> str:
    q = _quantity(name)
    if q.adverse == "high":
        return "high is adverse: cvar95 is the mean of the worst 5%"
    if q.adverse == "low":
        return "low is adverse: see p5 (cvar95 is the best 5%)"
    return ""


def _scale(unit: str, *values) -> str | None:
    """One unit for a row's money (style.money_scale); None for other units."""
    return style.money_scale(values) if unit.startswith("$B") else None


def _ci_html(text: str) -> str:
    """"$655B ± $9.2B" that may break before the ±, never inside a number."""
    parts = text.split(" ± ", 1)
    return " ".join(f'<span class="nw">{_e(p if k == 0 else "± " + p)}</span>' for k, p in enumerate(parts))


def _money_cells(r) -> str:
    """mean, p5, p50, p95 of a $B row, in one unit."""
    cols = ("mean", "p5", "p50", "p95")
    sc = style.money_scale([r[c] for c in cols])
    return "".join(f'<td class="n">{_e(style.format_money(r[c], trim=False, scale=sc))}</td>' for c in cols)


def _fmt_signed(x: float, digits: int = 2) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:+.{digits}f}".replace("-", "−")


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
