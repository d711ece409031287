"""The report's table of every input with its value, source tag and note."""
from __future__ import annotations

from ._html import _display_path, _e, _key_html


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
    from ..inputs import PUBLIC, scenario_inputs
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
