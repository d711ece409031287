"""`python3 -m capexsim report`: one self-contained HTML file for a scenario (and a comparison).

The file needs no network: charts are SVG embedded as data: URIs, the CSS is inline, there
are no scripts or web fonts. It leads with one headline output (--headline, the scenario's
[outputs] headline, else funding_need when the run has it, else funding_gap): its cards,
histogram, CDF and "what drives it" (a tornado and rank measures; sensitivity=False or
--no-sensitivity leaves it out). Around it: every output, the funding waterfall and ledger
and the counterparties when the run reports them (looked up by output name), fan charts of
cash, capacity, ARR, debt and ownership with the scenario's dates marked, every input with
its source note, and, with a second scenario, the comparison. docs/report.md lists it all.

One module per role: ``page`` (build_html and report()), ``sections`` (the cards, tables,
waterfall, counterparties, comparison and "what drives it"), ``inputs_table``, ``charts`` (SVG
figures), ``headline`` (the output it leads with), ``_html`` (CSS, escaping, cells) and ``cli``
(the command). Every name stays ``capexsim.report.<name>``.
"""
from __future__ import annotations

from ._html import (CSS, _ci_html, _display_command, _display_path, _e, _fmt_signed,  # noqa: F401
                    _key_html, _money_cells, _quantity, _scale, _tail_note, _wbr)
from .charts import _distribution_charts, _fan_series, _img, svg_data_uri  # noqa: F401
from .cli import _count, add_parser, run  # noqa: F401
from .headline import HEADLINE, _constant, _scenario_headline, check_headline, headline_output  # noqa: F401
from .inputs_table import _inputs_table, _matrix_html, _pairs_html, _source_html  # noqa: F401
from .page import build_html, report  # noqa: F401
from .sections import (LEDGER_SOURCES, LEDGER_USES, SENSITIVITY_PATHS, _by_date,  # noqa: F401
                       _cards, _compare_section, _counterparty_section, _output_order,
                       _sensitivity_section, _stat_table, _summary_table, _waterfall_section)
from .._files import _write_atomic  # noqa: F401  (was report._write_atomic)

__all__ = ["report", "build_html", "headline_output", "check_headline", "svg_data_uri",
           "add_parser", "run"]
