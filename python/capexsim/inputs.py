"""A scenario's inputs as a table, with the source note its file gives each number.

Scenario files say where each number comes from in a comment on its line: `[reported]`
(public reporting), `[outside]` (an outside estimate) or `[assumption]`; a `†` also marks a
number from a public source. Values come from the resolved scenario (defaults filled in);
notes from the file's comments.
"""
from __future__ import annotations

import os
import re

import pandas as pd

_TAG = re.compile(r"\[(reported|outside|assumption)\]")
PUBLIC = {"reported", "outside"}


def _split_comment(line: str) -> tuple[str, str]:
    """(code, comment) of a TOML line: the first # outside a string starts the comment."""
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif line.startswith(quote, i):
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            return line[:i], line[i + 1:].strip()
        i += 1
    return line, ""


def _depth(code: str) -> int:
    return code.count("[") + code.count("{") - code.count("]") - code.count("}")


def _walk(text: str, lines: bool = False):
    """(path, comment, is_key) for each table header and key of a TOML text:
    ("build", "", False), ("build.plan_cap_gw", "[reported] ...", True), ("contract[1].total", ...).
    lines=True adds a fourth item: the comment of each line the key's value spans (one item
    for a one-line value), yielded once the value is complete."""
    section = ""
    counts: dict[str, int] = {}
    depth = 0
    pending = None  # (path, first comment, [comment per line]) of a value spanning lines
    for raw in text.splitlines():
        code, comment = _split_comment(raw)
        stripped = code.strip()
        if depth > 0:  # inside a value spanning lines (a matrix, tranches)
            depth += _depth(code)
            pending[2].append(comment)
            if depth <= 0 and lines:
                yield pending[0], pending[1], True, pending[2]
            continue
        if stripped.startswith("[["):
            name = stripped.strip("[] ")
            counts[name] = counts.get(name, -1) + 1
            section = f"{name}[{counts[name]}]"
            yield (section, comment, False) + (([comment],) if lines else ())
        elif stripped.startswith("["):
            section = stripped.strip("[] ")
            yield (section, comment, False) + (([comment],) if lines else ())
        elif "=" in stripped:
            key, value = stripped.split("=", 1)
            path = f"{section}.{key.strip()}" if section else key.strip()
            depth = max(0, _depth(value))
            if depth > 0:
                pending = (path, comment, [comment])
                if not lines:
                    yield path, comment, True
            else:
                yield (path, comment, True) + (([comment],) if lines else ())


def parse_line_notes(text: str) -> dict[str, list[str]]:
    """{"warrant[0].tranches": [comment of each line of its value], ...} for values that span
    lines and carry a comment on more than their first line."""
    return {path: comments for path, _, _, comments in _walk(text, lines=True)
            if len(comments) > 1 and any(comments[1:])}


def parse_notes(text: str) -> dict[str, str]:
    """{"build.plan_cap_gw": comment, "contract[1].total": comment, "contract[1]": header comment}."""
    return {path: comment for path, comment, _ in _walk(text) if comment}


def format_input(value) -> str:
    """Scenario values as text: "triangular(40, 50, 60)", "2028, 2030", a matrix one row a line
    ("1, 0.3\n0.3, 1"), an array of tables one table a line ("gw = 1, share = 0.25\n...")."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(next(iter(value.values())), (list, int, float)) \
            and not isinstance(next(iter(value.values())), bool):
        (shape, params), = value.items()
        if isinstance(params, list):
            return f"{shape}({', '.join(format_input(p) for p in params)})"
        return f"{shape}({format_input(params)})"
    if isinstance(value, dict):
        return ", ".join(f"{k} = {format_input(v)}" for k, v in value.items())
    if isinstance(value, list):
        if value and all(isinstance(v, (list, dict)) for v in value):
            return "\n".join(format_input(v) for v in value)
        return ", ".join(format_input(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.10g}"  # no thousands separator: years are inputs too
    return str(value)


def _number(value):
    """The value as a number when it is one (a workbook stores it as a number), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def source_of(comment: str) -> str:
    """"reported", "outside", "assumption", "public" (a † only) or "" (no tag)."""
    m = _TAG.search(comment)
    if m:
        return m.group(1)
    return "public" if "†" in comment else ""


def _note(comment: str) -> str:
    return _TAG.sub("", comment, count=1).replace("†", "").strip(" ;,")


def scenario_inputs(scenario) -> pd.DataFrame:
    """One row per input of the resolved scenario: section, key, value, source, public, note,
    number.

    value is text (format_input; a matrix or an array of tables one row a line); number the
    value itself when it is a plain number (else None), for a workbook to store as a number.
    source is the tag of the comment on the input's line ("reported", "outside",
    "assumption", "public" for a †), "default" for an input the file leaves out, "" for
    one without a tag; public is True for reported/outside/† numbers. A value written over
    several lines whose lines carry their own comments (warrant tranches) takes each line's
    tag and note: source and note then hold one line per line of the value, and public is
    True only when every line is public.
    """
    data = scenario.to_dict()
    text = ""
    src = getattr(scenario, "source", "")
    if src and os.path.isfile(src):
        with open(src, encoding="utf-8") as f:
            text = f.read()
    notes = parse_notes(text)
    line_notes = parse_line_notes(text)
    in_file = {path for path, _, is_key in _walk(text) if is_key}
    rows = []

    def add(section: str, table: dict, header: str):
        header_note = notes.get(section, "")
        for key, value in table.items():
            path = f"{section}.{key}"
            comment = notes.get(path, "")
            if text and path not in in_file:
                source, note, public = "default", "", False
            elif path in line_notes:
                tags = [source_of(c) or source_of(header_note) for c in line_notes[path]]
                source = "\n".join(tags)
                note = "\n".join(_note(c) for c in line_notes[path])
                public = all(t in PUBLIC or t == "public" for t in tags)
            else:
                source = source_of(comment) or source_of(header_note)
                note = _note(comment)
                public = source in PUBLIC or source == "public"
            rows.append({"section": header, "key": key, "value": format_input(value),
                         "source": source, "public": public, "note": note, "number": _number(value)})
        if header_note and rows:
            first = next(r for r in rows if r["section"] == header)
            first["note"] = "; ".join(x for x in (_note(header_note), first["note"]) if x)

    for section, value in data.items():
        if isinstance(value, dict):
            add(section, value, section)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for i, table in enumerate(value):
                label = f"{section} {table['name']}" if "name" in table else f"{section} {i + 1}"
                add(f"{section}[{i}]", table, label)
        else:
            rows.append({"section": "", "key": section, "value": format_input(value), "source": "",
                         "public": False, "note": "", "number": _number(value)})
    return pd.DataFrame(rows, columns=["section", "key", "value", "source", "public", "note", "number"])
