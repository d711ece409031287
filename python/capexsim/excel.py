"""Excel export of a result (openpyxl): summary, bands, inputs, per-path outputs, run details."""
from __future__ import annotations

import os
import tempfile

import numpy as np

from . import _core
from .units import display_order, quantity

#: Per-path rows written by default; Excel's own limit is 1,048,575 data rows.
MAX_PATH_ROWS = 100_000

_FORMATS = {"$B": "#,##0.0", "$B/yr": "#,##0.0", "$B per GW": "#,##0.00", "GW": "#,##0.00",
            "years": "0.00", "share": "0.0%"}
_SHARE = "0.0%"
_SHARE_STATS = {"prob_positive", "nan_share"}


def _fmt(unit: str) -> str:
    return _FORMATS.get(unit, "#,##0.00")


def _cell_value(x):
    x = float(x)
    return None if np.isnan(x) else x  # Excel has no NaN: an empty cell


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def export_excel(result, path, scenario=None, max_path_rows: int = MAX_PATH_ROWS,
                 headline: str | None = None) -> None:
    """Write `result` to an .xlsx workbook at `path` (replaced atomically).

    Sheets: "summary" (one row per output, statistics in the output's unit; shares as %; the
    headline first — `headline`, else the scenario's ``[outputs] headline`` — then the run
    table's order: the waterfall, the ledger, counterparties, every other output),
    one "bands SERIES" sheet per series of the run (when the result has bands: year and
    quantiles, the unit in each header; debt and ownership when the scenario has them),
    "counterparties" (when the run has unpaid outputs: ``Result.counterparties()``),
    "inputs" (the scenario's inputs with their sources, when the scenario is known; plain
    numbers stored as numbers), "paths" (per-path outputs when kept, the first `max_path_rows`
    paths) and "about" (scenario, seed, paths, version, what was cut). Undefined values
    (an event that never happens) are empty cells. Numbers are stored with 16 significant
    digits (openpyxl's text for a double; Excel shows 15).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    scenario = scenario if scenario is not None else getattr(result, "scenario", None)
    bold = Font(bold=True)
    wb = Workbook(write_only=True)  # streams rows: the per-path sheet stays fast

    def sheet(title, names, widths=None, freeze="B2"):
        ws = wb.create_sheet(title[:31])
        for j, _ in enumerate(names, 1):
            ws.column_dimensions[get_column_letter(j)].width = (widths or {}).get(j, 14)
        ws.freeze_panes = freeze
        ws.append([cell(ws, n, font=bold) for n in names])
        return ws

    def cell(ws, value, number_format=None, font=None):
        c = WriteOnlyCell(ws, value=value)
        if number_format:
            c.number_format = number_format
        if font:
            c.font = font
        return c

    # summary
    s = result.summary()
    stats = [c for c in s.columns if c != "unit"] + ["ci95_low", "ci95_high"]
    ws = sheet("summary", ["output", "unit"] + stats, {1: 16, 2: 10})
    if headline is None and scenario is not None:
        headline = scenario.to_dict().get("outputs", {}).get("headline") or None
    order = display_order(list(s.index))
    if headline in order:
        order.remove(headline)
        order.insert(0, headline)
    for name in order:
        row = s.loc[name]
        share = row["unit"] == "share"  # ownership and dilution as percent, like the report
        mean, se = float(row["mean"]), float(row["stderr"])
        values = {**{c: row[c] for c in stats[:-2]}, "ci95_low": mean - 1.96 * se, "ci95_high": mean + 1.96 * se}
        ws.append([name, row["unit"]] + [
            cell(ws, _cell_value(values[c]), _SHARE if share or c in _SHARE_STATS else _fmt(row["unit"]))
            for c in stats])
    ws.append([])
    ws.append([
        "stderr: Monte Carlo standard error of the mean; ci95: mean ± 1.96 stderr; cvar95: mean of the "
        "values at or above p95 (the adverse tail for funding_gap and capex_total, the favourable one "
        "for cash and revenue); prob_positive and nan_share are shares of all paths; empty: undefined."])

    # bands
    if result._core.has_bands():
        for series in result._core.series_names:  # debt and ownership too when the run has them
            b = result.bands(series)
            unit = quantity(series).unit
            cols = [c for c in b.columns if c != "t"]
            ws = sheet(f"bands {series}", ["year", "t (years)"] + [f"{c} ({unit})" for c in cols])
            for year, row in b.iterrows():
                ws.append([cell(ws, float(year), "0.000"), cell(ws, float(row["t"]), "0.000")]
                          + [cell(ws, _cell_value(row[c]), _fmt(unit)) for c in cols])

    # counterparties (under [constraint] unpaid = true)
    table = result.counterparties() if any(n.startswith("unpaid_") for n in result.output_names) else None
    if table is not None and len(table):
        cols = list(table.columns)
        ws = sheet("counterparties", ["counterparty"] + [c if c.startswith(("p_", "prob")) else f"{c} ($B)"
                                                         for c in cols], {1: 24})
        for who, row in table.iterrows():
            ws.append([who] + [cell(ws, _cell_value(row[c]) if isinstance(row[c], (int, float, np.floating))
                                    else row[c], _SHARE if c.startswith(("p_", "prob")) else _fmt("$B"))
                               for c in cols])

    # inputs: a plain number is stored as a number, anything else as its text
    if scenario is not None:
        from .inputs import scenario_inputs
        df = scenario_inputs(scenario)
        columns = ["section", "key", "value", "source", "public", "note"]
        ws = sheet("inputs", columns, {1: 20, 2: 26, 3: 30, 4: 12, 5: 8, 6: 80}, freeze="A2")
        for rec in df.itertuples(index=False):
            number = rec.number
            value = rec.value if number is None or (isinstance(number, float) and np.isnan(number)) else number
            value = value.item() if hasattr(value, "item") else value
            ws.append([rec.section, rec.key, value, rec.source, bool(rec.public), rec.note])

    # per-path outputs: plain doubles (a number format on each of ~10^6 cells triples the time)
    written = 0
    if result._core.has_per_path():
        names = result.output_names
        ws = sheet("paths", ["path"] + [f"{n} ({quantity(n).unit})" for n in names])
        written = min(result.n_paths, max_path_rows)
        rows = np.ascontiguousarray(result.per_path[:written]).tolist()
        for k, values in enumerate(rows):
            ws.append([result.first_path + k] + [None if v != v else v for v in values])

    # about
    ws = wb.create_sheet("about")
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 60
    about = [("scenario", result.scenario_name),
             ("scenario file", getattr(scenario, "source", "") if scenario is not None else ""),
             ("scenario hash", result.scenario_fingerprint), ("paths", result.n_paths),
             ("first path", result.first_path), ("seed", result.seed), ("steps", result.steps),
             ("step (years)", result.dt), ("start", result.start_year), ("capexsim version", _core.__version__),
             ("per-path rows written", written if result._core.has_per_path() else "none kept")]
    if result._core.has_per_path() and written < result.n_paths:
        about.append(("per-path rows cut", f"the first {written:,} of {result.n_paths:,} paths "
                                           f"(max_path_rows={max_path_rows:,})"))
    for key, value in about:
        ws.append([cell(ws, key, font=bold), value])

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=folder)
    os.close(fd)
    try:
        wb.save(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
