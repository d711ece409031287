"""`python3 -m capexsim report`: the HTML report (content, self-contained, rendered by headless
Chromium without a console error) and the Excel export (read back, values equal the result)."""
import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import capexsim
from capexsim import style
from capexsim.inputs import parse_notes, scenario_inputs

CHROMIUM = "/usr/bin/chromium"
PATHS, SEED = 3000, 3


def _run_cli(*args, check=True):
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "capexsim", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def made(tmp_path_factory, reference_path, source_dir):
    out = tmp_path_factory.mktemp("report")
    html, xlsx = out / "report.html", out / "report.xlsx"
    cheap = os.path.join(source_dir, "scenarios", "cheap-compute.toml")
    proc = _run_cli("report", reference_path, "--compare", cheap, "--paths", PATHS, "--seed", SEED,
                    "--out", html, "--xlsx", xlsx)
    assert proc.stdout.splitlines() == [f"wrote {html}", f"wrote {xlsx}"]
    assert proc.stderr == ""  # no progress bar when stderr is not a terminal, no warnings
    result = capexsim.simulate(reference_path, paths=PATHS, seed=SEED)
    return {"html": html, "xlsx": xlsx, "text": html.read_text(encoding="utf-8"), "result": result}


# -- the HTML --------------------------------------------------------------------------------------
def test_report_is_self_contained(made):
    text = made["text"]
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text and "<link" not in text and "@import" not in text and "@font-face" not in text
    srcs = re.findall(r'(?:src|href)="([^"]*)"', text)
    assert len(srcs) == 8  # histogram, CDF, 3 fan charts, tornado, 2 comparison charts
    for src in srcs:
        assert src.startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(src.split(",", 1)[1])
        root = ET.fromstring(svg)  # well-formed SVG
        assert root.tag.endswith("svg")
        assert b"http://" not in svg.replace(b"http://www.w3.org/", b"").replace(b"http://purl.org/", b"") \
            .replace(b"http://creativecommons.org/", b"").replace(b"http://matplotlib.org", b"")
    assert not re.search(r"url\((?!data:)", text)


def test_report_headline_numbers_carry_their_error(made):
    text, s = made["text"], made["result"].summary()
    gap = s.loc["funding_gap"]
    assert style.format_mean_ci(gap["mean"], gap["stderr"], "$B").replace("$", "$") in text
    assert "95% confidence interval" in text and f"{PATHS:,} paths" in text
    runway = s.loc["runway"]
    assert style.format_mean_ci(runway["mean"], runway["stderr"], "years") in text
    assert style.format_money(gap["p95"]) in text
    assert f"never within the horizon in {s.loc['breakeven', 'nan_share']:.1%} of paths" in text
    # which tail is adverse, per output
    # funding gap, breakeven, total capex, sustained breakeven
    assert text.count("high is adverse") == 4
    assert "ai-lab-2025: funding need and buildout" in text
    assert made["result"].scenario_fingerprint in text


def test_report_lists_inputs_with_their_sources(made, reference_path):
    text = made["text"]
    row = re.search(r"<tr><td class=\"l\">build</td><td class=\"l\"><code>plan_cap_gw</code></td>(.*?)</tr>", text)
    assert row, "plan_cap_gw has a row"
    assert "†" in row.group(1) and "reported" in row.group(1)
    assert "~30 GW behind ~$1.4T of commitments" in row.group(1)
    row = re.search(r"<code>lead_time_years</code></td>(.*?)</tr>", text).group(1)
    assert "†" not in row and "assumption" in row and "construction lead time" in row
    df = scenario_inputs(capexsim.Scenario.from_toml(reference_path))
    assert f"{int(df['public'].sum())} of them (marked" in text


def test_report_comparison(made, source_dir, reference_path, tmp_path):
    text = made["text"]
    assert "Comparison: ai-lab-2025 (A) vs cheap-compute (B)" in text
    table = capexsim.compare(reference_path, os.path.join(source_dir, "scenarios", "cheap-compute.toml"),
                             paths=PATHS, seed=SEED)
    gap = table.loc["funding_gap"]
    assert style.format_mean_ci(gap["diff"], gap["stderr"], "$B") in text
    # without --compare: no comparison section
    single = tmp_path / "single.html"
    _run_cli("report", reference_path, "--paths", 500, "--out", single)
    assert "Comparison" not in single.read_text(encoding="utf-8")
    assert single.read_text(encoding="utf-8").count("<img ") == 6


def test_report_what_drives_the_funding_gap(made, reference_path, tmp_path):
    text = made["text"]
    assert "<h2>What drives the funding gap</h2>" in text
    assert 'alt="tornado of the funding gap"' in text
    # the rank table is the report's own run's
    rank = made["result"].rank("funding_gap")
    assert f"R² = {rank.attrs['r2']:.1%}" in text
    section = text.split("<h2>What drives the funding gap</h2>")[1].split("<h2>")[0]
    rows = re.findall(r'<tr><td class="l"><code>([\w.]+)</code></td><td>([^<]+)</td>', section)
    assert [name for name, _ in rows] == list(rank.index)
    for name, rho in rows:
        assert rho == f"{rank.loc[name, 'spearman']:+.2f}".replace("-", "−")
    tornado = capexsim.sensitivity(reference_path, "tornado", paths=PATHS, seed=SEED)
    assert f"<code>{tornado.index[0]}</code> moves the mean funding gap most" in section
    assert style.format_money(tornado["swing"].iloc[0]) in section
    # --no-sensitivity leaves the section (and its runs) out
    plain = tmp_path / "plain.html"
    _run_cli("report", reference_path, "--paths", 500, "--no-sensitivity", "--out", plain)
    body = plain.read_text(encoding="utf-8")
    assert "What drives" not in body and body.count("<img ") == 5


def test_report_same_command_same_bytes(reference_path, tmp_path):
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    _run_cli("report", reference_path, "--paths", 400, "--seed", 9, "--out", a)
    _run_cli("report", reference_path, "--paths", 400, "--seed", 9, "--out", b)
    body = lambda p: p.read_text(encoding="utf-8").split("<footer>")[0]  # footer: command and wall time
    assert body(a) == body(b)


def test_report_bad_input(tmp_path, reference_path):
    out = tmp_path / "r.html"
    proc = _run_cli("report", tmp_path / "missing.toml", "--out", out, check=False)
    assert proc.returncode == 2 and "missing.toml" in proc.stderr and "cannot open" in proc.stderr
    bad = tmp_path / "bad.toml"
    with open(reference_path) as f:
        bad.write_text(f.read().replace("it_share = 0.6", "it_share = 1.6"))
    proc = _run_cli("report", bad, "--out", out, check=False)
    assert proc.returncode == 2 and "cost.it_share" in proc.stderr and f"{bad}:" in proc.stderr
    proc = _run_cli("report", reference_path, check=False)
    assert proc.returncode == 2 and "--out" in proc.stderr
    proc = _run_cli("report", reference_path, "--out", tmp_path / "no" / "such" / "r.html", check=False)
    assert proc.returncode == 2 and "folder does not exist" in proc.stderr
    proc = _run_cli("report", reference_path, "--out", out, "--paths", "1.5", check=False)
    assert proc.returncode == 2 and "whole number" in proc.stderr
    assert not out.exists()  # nothing written on any failure
    assert os.listdir(tmp_path) == ["bad.toml"]  # no temporary files left either


def test_source_notes_parser():
    text = '''# header
name = "x#y"                  # [reported] a # inside a comment
[build]
a = { triangular = [1, 2, 3] }  # [outside] Epoch AI
b = 2                         # assumption without a tag
[[contract]]                  # [reported] cloud deals
name = "azure"
[correlation]
matrix = [[1.0, 0.3],         # [assumption] a matrix
          [0.3, 1.0]]
c = 1 # † a public number
'''
    notes = parse_notes(text)
    assert notes == {"name": "[reported] a # inside a comment", "build.a": "[outside] Epoch AI",
                     "build.b": "assumption without a tag", "contract[0]": "[reported] cloud deals",
                     "correlation.matrix": "[assumption] a matrix", "correlation.c": "† a public number"}


# -- the browser -------------------------------------------------------------------------------------
def _chromium_render(url: str, width: int, height: int, timeout: float = 90):
    """Load `url` in headless Chromium over the DevTools protocol (--remote-debugging-pipe: JSON
    messages ending in NUL on fds 3 and 4, no port, no network) and return (png bytes, images'
    [complete, naturalWidth, naturalHeight], every protocol event seen while loading).

    The protocol reports what the --screenshot flag cannot: console messages with their level,
    uncaught exceptions, failed loads (Log/Network events) and whether each image decoded.
    DNS resolves nothing (--host-resolver-rules), so a page that needed the network fails."""
    r3, w3 = os.pipe()
    r4, w4 = os.pipe()

    def child():  # Chromium reads on fd 3 and writes on fd 4, whatever numbers the pipes have here
        a, b = fcntl.fcntl(r3, fcntl.F_DUPFD, 10), fcntl.fcntl(w4, fcntl.F_DUPFD, 10)
        os.dup2(a, 3)
        os.dup2(b, 4)

    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--remote-debugging-pipe", "--host-resolver-rules=MAP * ~NOTFOUND",
             f"--window-size={width},{height}", "about:blank"],
            pass_fds=(3, 4), preexec_fn=child, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r3)
        os.close(w4)
        to_chromium, from_chromium = os.fdopen(w3, "wb", buffering=0), os.fdopen(r4, "rb", buffering=0)
        deadline = time.monotonic() + timeout
        pending, events, ids = b"", [], iter(range(1, 1 << 30))

        def read_message():
            nonlocal pending
            while b"\0" not in pending:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([from_chromium], [], [], left)[0]:
                    raise TimeoutError("chromium did not answer in time")
                chunk = from_chromium.read(1 << 20)
                if not chunk:
                    raise RuntimeError("chromium closed the DevTools pipe")
                pending += chunk
            message, pending = pending.split(b"\0", 1)
            return json.loads(message)

        def call(method, params=None, session=None):
            message_id = next(ids)
            message = {"id": message_id, "method": method, "params": params or {}}
            if session:
                message["sessionId"] = session
            to_chromium.write(json.dumps(message).encode() + b"\0")
            while True:
                reply = read_message()
                if reply.get("id") == message_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply["result"]
                events.append(reply)

        def wait_for(method):
            while not any(e.get("method") == method for e in events):
                events.append(read_message())

        try:
            target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                call(f"{domain}.enable", session=session)
            call("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
            events.clear()
            call("Page.navigate", {"url": url}, session=session)
            wait_for("Page.loadEventFired")
            images = call("Runtime.evaluate", {
                "expression": "JSON.stringify(Array.from(document.images, i => [i.complete, i.naturalWidth, "
                              "i.naturalHeight]))", "returnByValue": True}, session=session)["result"]["value"]
            png = base64.b64decode(call("Page.captureScreenshot", {"format": "png"}, session=session)["data"])
            try:
                call("Browser.close")
            except RuntimeError:
                pass
        finally:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            to_chromium.close()
            from_chromium.close()
    return png, json.loads(images), events


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed "
                    "(scripts/install-deps.sh installs it); the report is not checked in a browser")
def test_report_renders_in_headless_chromium(made):
    from PIL import Image
    width, height = 1200, 3000
    png, images, events = _chromium_render(made["html"].as_uri(), width, height)

    problems = []
    for e in events:
        method, p = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            problems.append(f"console.{p['type']}: {p.get('args')}")
        elif method == "Runtime.exceptionThrown":
            problems.append(f"exception: {p['exceptionDetails'].get('text')}")
        elif method == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
            problems.append(f"log {p['entry']['level']}: {p['entry']['text']}")
        elif method == "Network.loadingFailed":
            problems.append(f"load failed: {p.get('errorText')}")
        elif method == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if not url.startswith(("data:", "file:")):
                problems.append(f"network request: {url}")
    assert problems == []
    assert len(images) == 8
    for complete, w, h in images:  # every chart decoded, at the size matplotlib drew it
        assert complete and w > 700 and h > 400

    shot = tmp = made["html"].with_suffix(".png")
    shot.write_bytes(png)
    with Image.open(tmp) as im:
        assert im.size == (width, height)
        pixels = np.asarray(im.convert("RGB"), dtype=np.int16)
    ink = (np.abs(pixels - 255).sum(axis=2) > 60).mean()  # share of clearly non-white pixels
    assert ink > 0.03, f"page looks blank ({ink:.1%} ink)"
    colours = len(np.unique(pixels.reshape(-1, 3)[::7], axis=0))
    assert colours > 50  # text, charts and tables, not a flat error page
    # The charts' blue reaches the screen (the histogram's bars, drawn in style.COLORS[0]).
    blue = np.array([int(style.COLORS[0][i:i + 2], 16) for i in (1, 3, 5)])
    near_blue = (np.abs(pixels - blue).sum(axis=2) < 90).mean()
    assert near_blue > 0.001
    target = os.environ.get("CAPEXSIM_REPORT_SCREENSHOT")
    if target:  # docs/report.md's picture: CAPEXSIM_REPORT_SCREENSHOT=docs/report.png ctest -R python
        with Image.open(tmp) as im:
            im.crop((0, 0, width, 2000)).save(target, optimize=True)


# -- Excel ----------------------------------------------------------------------------------------------
def _sheet_rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


# openpyxl writes a double as 16 significant digits ("%.16g"; Excel shows 15): the workbook
# holds exactly this rounding of every value, within 1e-16 relative of the result.
_as_written = np.vectorize(lambda v: float("%.16g" % v) if np.isfinite(v) else v, otypes=[float])


def test_excel_values_equal_the_result(made):
    from openpyxl import load_workbook
    r = made["result"]
    wb = load_workbook(made["xlsx"], read_only=True)
    names = ["summary"] + [f"bands {s}" for s in capexsim.SERIES] + ["inputs", "paths", "about"]
    assert wb.sheetnames == names

    rows = _sheet_rows(wb["summary"])
    header = rows[0]
    s = r.summary()
    assert header[:4] == ["output", "unit", "mean", "sd"] and header[-2:] == ["ci95_low", "ci95_high"]
    for row in rows[1:1 + len(s)]:
        name = row[0]
        assert row[1] == s.loc[name, "unit"]
        for col, value in zip(header[2:-2], row[2:-2]):
            expected = s.loc[name, col]
            assert (value is None and np.isnan(expected)) or value == _as_written(expected), (name, col)
        assert row[-2] == _as_written(s.loc[name, "mean"] - 1.96 * s.loc[name, "stderr"])

    for series in capexsim.SERIES:
        rows = _sheet_rows(wb[f"bands {series}"])
        unit = capexsim.units.quantity(series).unit
        assert rows[0] == ["year", "t (years)"] + [f"{c} ({unit})" for c in ["mean", "p5", "p25", "p50", "p75", "p95"]]
        b = r.bands(series)
        got = np.array(rows[1:], dtype=float)
        assert got.shape == (r.steps, 8)
        assert np.array_equal(got[:, 0], _as_written(b.index.to_numpy()))
        assert np.array_equal(got[:, 2:], _as_written(b[["mean", "p5", "p25", "p50", "p75", "p95"]].to_numpy()))

    rows = _sheet_rows(wb["paths"])
    assert rows[0] == ["path"] + [f"{n} ({capexsim.units.quantity(n).unit})" for n in r.output_names]
    got = np.array([[np.nan if v is None else v for v in row] for row in rows[1:]], dtype=float)
    assert got.shape == (PATHS, 1 + len(r.output_names))
    assert np.array_equal(got[:, 0], np.arange(PATHS))
    assert np.array_equal(got[:, 1:], _as_written(r.per_path), equal_nan=True)  # NaN as empty cells

    inputs = _sheet_rows(wb["inputs"])
    assert inputs[0] == ["section", "key", "value", "source", "public", "note"]
    assert ["build", "plan_cap_gw", "30", "reported", True, "~30 GW behind ~$1.4T of commitments"] in inputs
    about = dict((row[0], row[1]) for row in _sheet_rows(wb["about"]))
    assert about["scenario"] == "ai-lab-2025" and about["seed"] == SEED and about["paths"] == PATHS
    assert about["scenario hash"] == r.scenario_fingerprint
    wb.close()


def test_excel_row_cap_and_streaming_results(made, tmp_path, reference_path):
    from openpyxl import load_workbook
    r = made["result"]
    path = tmp_path / "capped.xlsx"
    r.to_excel(path, max_path_rows=100)
    wb = load_workbook(path, read_only=True)
    assert len(_sheet_rows(wb["paths"])) == 1 + 100
    about = dict((row[0], row[1]) for row in _sheet_rows(wb["about"]))
    assert about["per-path rows written"] == 100
    assert about["per-path rows cut"] == f"the first 100 of {PATHS:,} paths (max_path_rows=100)"
    wb.close()
    lean = capexsim.simulate(reference_path, paths=500, seed=1, keep_paths=False, bands=False)
    capexsim.export_excel(lean, tmp_path / "lean.xlsx")
    wb = load_workbook(tmp_path / "lean.xlsx", read_only=True)
    assert wb.sheetnames == ["summary", "inputs", "about"]
    wb.close()
