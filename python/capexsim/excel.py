"""Excel export of a result (openpyxl): summary, bands, inputs, per-path outputs, run details."""
from __future__ import annotations

import os
import tempfile

import numpy as np

from .units import quantity

#: Per-path rows written by default; Excel's own limit is 1,048,575 data rows.
MAX_PATH_ROWS = 100_000

_FORMATS = {"$B": "#,##0.0", "$B/yr": "#,##0.0", "$B per GW": "#,##0.00", "GW": "#,##0.00",
            "years": "0.00"}
_SHARE = "0.0%"
_SHARE_STATS = {"prob_positive", "nan_share"}


def _fmt(unit: str) -> str:
    return _FORMATS.get(unit, "#,##0.00")


def _cell_value(x):
    x = float(x)
    return None if np.isnan(x) else x  # Excel has no NaN: an empty cell


def export_excel(result, path, scenario=None, max_path_rows: int = MAX_PATH_ROWS) -> None:
    """Write `result` to an .xlsx workbook at `path` (replaced atomically).

    Sheets: "summary" (one row per output, statistics in the output's unit; shares as %),
    one "bands SERIES" sheet per series (when the result has bands: year and quantiles, the
    unit in each header), "inputs" (the scenario's inputs with their sources, when the
    scenario is known), "paths" (per-path outputs when kept, the first `max_path_rows`
    paths) and "about" (scenario, seed, paths, version, what was cut). Undefined values
    (an event that never happens) are empty cells.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from . import __version__
    scenario = scenario if scenario is not None else getattr(result, "scenario", None)
    bold = Font(bold=True)
    wb = Workbook()

    def header(ws, names, widths=None):
        ws.append(names)
        for j, _ in enumerate(names, 1):
            ws.cell(row=1, column=j).font = bold
            ws.column_dimensions[get_column_letter(j)].width = (widths or {}).get(j, 14)
        ws.freeze_panes = "B2"

    # summary
    ws = wb.active
    ws.title = "summary"
    s = result.summary()
    stats = [c for c in s.columns if c != "unit"]
    header(ws, ["output", "unit"] + stats + ["ci95_low", "ci95_high"], {1: 16, 2: 10})
    for i, (name, row) in enumerate(s.iterrows(), start=2):
        mean, se = float(row["mean"]), float(row["stderr"])
        values = [float(row[c]) for c in stats] + [mean - 1.96 * se, mean + 1.96 * se]
        ws.append([name, row["unit"]] + [_cell_value(v) for v in values])
        for j, stat in enumerate(stats + ["ci95_low", "ci95_high"], start=3):
            ws.cell(row=i, column=j).number_format = _SHARE if stat in _SHARE_STATS else _fmt(row["unit"])
    note_row = len(s) + 3
    ws.cell(row=note_row, column=1, value=(
        "stderr: Monte Carlo standard error of the mean; ci95: mean ± 1.96 stderr; cvar95: mean of the "
        "values at or above p95 (the adverse tail for funding_gap and capex_total, the favourable one "
        "for cash and revenue); prob_positive and nan_share are shares of all paths; empty: undefined."))
    ws.cell(row=note_row, column=1).alignment = Alignment(wrap_text=False)

    # bands
    if result._core.has_bands():
        from . import SERIES
        for series in SERIES:
            b = result.bands(series)
            unit = quantity(series).unit
            ws = wb.create_sheet(f"bands {series}"[:31])
            cols = [c for c in b.columns if c != "t"]
            header(ws, ["year", "t (years)"] + [f"{c} ({unit})" for c in cols])
            for k, (year, row) in enumerate(b.iterrows(), start=2):
                ws.append([float(year), float(row["t"])] + [_cell_value(row[c]) for c in cols])
                ws.cell(row=k, column=1).number_format = "0.000"
                ws.cell(row=k, column=2).number_format = "0.000"
                for j in range(3, 3 + len(cols)):
                    ws.cell(row=k, column=j).number_format = _fmt(unit)

    # inputs
    if scenario is not None:
        from .inputs import scenario_inputs
        ws = wb.create_sheet("inputs")
        df = scenario_inputs(scenario)
        header(ws, list(df.columns), {1: 20, 2: 26, 3: 26, 4: 12, 5: 8, 6: 80})
        for rec in df.itertuples(index=False):
            ws.append(list(rec))

    # per-path outputs
    written = 0
    if result._core.has_per_path():
        ws = wb.create_sheet("paths")
        names = result.output_names
        header(ws, ["path"] + [f"{n} ({quantity(n).unit})" for n in names])
        per_path = result.per_path
        written = min(result.n_paths, max_path_rows)
        for k in range(written):
            ws.append([result.first_path + k] + [_cell_value(v) for v in per_path[k]])
        for j, n in enumerate(names, start=2):
            fmt = _fmt(quantity(n).unit)
            for row in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                row[0].number_format = fmt

    # about
    ws = wb.create_sheet("about")
    about = [("scenario", result.scenario_name),
             ("scenario file", getattr(scenario, "source", "") if scenario is not None else ""),
             ("scenario hash", result.scenario_fingerprint), ("paths", result.n_paths),
             ("first path", result.first_path), ("seed", result.seed), ("steps", result.steps),
             ("step (years)", result.dt), ("start", result.start_year), ("capexsim version", __version__),
             ("per-path rows written", written if result._core.has_per_path() else "none kept")]
    if result._core.has_per_path() and written < result.n_paths:
        about.append(("per-path rows cut", f"the first {written:,} of {result.n_paths:,} paths "
                                           f"(max_path_rows={max_path_rows:,})"))
    for row in about:
        ws.append(list(row))
        ws.cell(row=ws.max_row, column=1).font = bold
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 60

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(suffix=".xlsx", dir=folder)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
