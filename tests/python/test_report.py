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
    # The v1 reference's report on its v1 headline (its default is now the gross need).
    proc = _run_cli("report", reference_path, "--compare", cheap, "--paths", PATHS, "--seed", SEED,
                    "--out", html, "--xlsx", xlsx, "--headline", "funding_gap")
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
    from capexsim.report import _ci_html  # the mean and its CI, which may wrap before the ±
    # The table writes a row's money in one unit, the one its largest value needs: this
    # mean ($1.8T) is written "$1,824B" beside a p5 of hundreds of $B, never "$1.82T ± $21B".
    scale = style.money_scale([gap[c] for c in ("mean", "p5", "p50", "p95")])
    assert scale == "B" and gap["mean"] > 1000
    assert _ci_html(style.format_mean_ci(gap["mean"], gap["stderr"], "$B", scale)) in text
    assert _ci_html(style.format_mean_ci(gap["mean"], gap["stderr"], "$B")) not in text.split("What drives")[0] \
        .split("<table>", 1)[1]
    assert "95% confidence interval" in text and f"{PATHS:,} paths" in text
    runway = s.loc["runway"]
    assert _ci_html(style.format_mean_ci(runway["mean"], runway["stderr"], "years")) in text
    assert style.format_money(gap["p95"]) in text
    assert f"never within the horizon in {s.loc['breakeven', 'nan_share']:.1%} of paths" in text
    # which tail is adverse, per output
    # funding gap, breakeven, total capex, sustained breakeven, gross need, the need and the
    # residual by each of 2 checkpoints, and the capex, contract and opex ledger flows
    assert text.count("high is adverse") == 12
    assert "ai-lab-2025: funding need and buildout" in text
    assert made["result"].scenario_fingerprint in text


def test_report_lists_inputs_with_their_sources(made, reference_path):
    text = made["text"]
    # An input's name wraps only after an underscore, never inside a word.
    assert '<code class="key">plan_<wbr>cap_<wbr>gw</code>' in text
    text = text.replace("<wbr>", "").replace('<code class="key">', "<code>")
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
    proc = _run_cli("report", reference_path, "--out", out, "--paths", "1.5", check=False)
    assert proc.returncode == 2 and "whole number" in proc.stderr
    proc = _run_cli("report", reference_path, "--out", tmp_path / "new" / "r.html", "--headline", "nope",
                    check=False)
    assert proc.returncode == 2 and "--headline: unknown output 'nope'" in proc.stderr
    assert "funding_gap, gap_time, runway" in proc.stderr  # the outputs this run has
    proc = _run_cli("report", reference_path, "--out", tmp_path, check=False)
    assert proc.returncode == 2 and "is a folder" in proc.stderr
    assert not out.exists()  # nothing written on any failure
    assert os.listdir(tmp_path) == ["bad.toml"]  # no temporary files or folders left either
    # --out into a folder that does not exist yet: made, as run --out makes its folder
    _run_cli("report", reference_path, "--paths", 200, "--no-sensitivity",
             "--out", tmp_path / "no" / "such" / "r.html", "--xlsx", tmp_path / "other" / "r.xlsx")
    assert (tmp_path / "no" / "such" / "r.html").is_file() and (tmp_path / "other" / "r.xlsx").is_file()


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


# -- the v3 reference: headline, inputs, fans, counterparties ---------------------------------------
@pytest.fixture(scope="module")
def made26(tmp_path_factory, source_dir):
    out = tmp_path_factory.mktemp("report26")
    html, xlsx = out / "ai-lab-2026.html", out / "ai-lab-2026.xlsx"
    # The stress variant: the reference with arrears, so counterparties too.
    path = os.path.join(source_dir, "scenarios", "ai-lab-2026-stress.toml")
    _run_cli("report", path, "--paths", PATHS, "--seed", SEED, "--out", html, "--xlsx", xlsx)
    return {"html": html, "xlsx": xlsx, "text": html.read_text(encoding="utf-8").replace("<wbr>", ""), "path": path,
            "result": capexsim.simulate(path, paths=PATHS, seed=SEED), "dir": out}


def test_report_headline_default_key_and_option(tmp_path, reference_path):
    from capexsim import report as rp
    r = capexsim.simulate(reference_path, paths=300, seed=1)

    class Stub:  # a run of a model with the waterfall outputs (they are looked up by name)
        output_names = ["funding_gap", "funding_need", "runway"]
        scenario = None
    assert rp.headline_output(r) == "funding_need"  # every v3 run has the gross need
    assert rp.headline_output(Stub()) == "funding_need"
    with pytest.raises(ValueError, match="expected one of: funding_gap, funding_need, runway"):
        rp.headline_output(Stub(), headline="nope")
    # [outputs] headline in the file, and --headline over it
    sc = capexsim.Scenario.from_toml(reference_path)
    sc["outputs"] = {**sc.to_dict().get("outputs", {}), "headline": "capex_total"}
    page = capexsim.write_report(sc, paths=400, seed=2)
    assert "<h2>What drives the total capex</h2>" in page and "TOTAL CAPEX" not in page
    assert '<div class="label">total capex, mean</div>' in page
    assert 'alt="tornado of the total capex"' in page and 'alt="total capex histogram"' in page
    page = capexsim.write_report(sc, paths=400, seed=2, headline="arr_end")
    assert "<h2>What drives the ARR at the horizon</h2>" in page
    tornado = capexsim.sensitivity(sc, "tornado", output="arr_end", paths=400, seed=2)
    assert f"<code>{tornado.index[0]}</code> moves the mean ARR at the horizon most" in page
    with pytest.raises(capexsim.ScenarioError, match="--headline: unknown output 'gap'"):
        capexsim.write_report(sc, paths=10, headline="gap")


def test_report_constant_headline_is_not_ranked(made26):
    # The residual by 2028 is $0 on every path of the reference: as a headline it is
    # explained, not ranked (a tornado of a constant says nothing).
    sc = capexsim.Scenario.from_toml(made26["path"])
    s = capexsim.simulate(sc, paths=400, seed=2).summary()
    assert s.loc["funding_gap_by_2028", "sd"] == 0
    page = capexsim.write_report(sc, paths=400, seed=2, headline="funding_gap_by_2028")
    assert "has the same value on every path of this run" in page and "--headline" in page
    assert "Spearman" not in page


def test_report_inputs_and_numbers_read_correctly(made26, source_dir):
    text, s = made26["text"], made26["result"].summary()
    assert "{&#x27;" not in text and "{'" not in text  # no Python dicts
    # warrant tranches: one row per line of the value, each with its own line's tag
    lines = re.findall(r'<tr class="line">(.*?)</tr>', text)
    assert len(lines) == 4
    assert "gw = 1, share = 0.25, price_hurdle = 0" in re.sub("<[^>]+>", "", lines[0])
    assert '<span class="nw">price_hurdle = 0</span>' in lines[0]  # a pair never breaks inside
    assert "†" in lines[0] and "reported" in lines[0]
    for line in lines[1:3]:
        assert "assumption" in line and "†" not in line
    assert "split and hurdles" in lines[1]
    assert "†" in lines[3] and "6 GW in all" in lines[3]
    df = scenario_inputs(capexsim.Scenario.from_toml(made26["path"]))
    tranches = df[df["key"] == "tranches"].iloc[0]
    assert tranches["source"].split("\n") == ["reported", "assumption", "assumption", "reported"]
    assert not tranches["public"]  # not every line is public
    # the correlation matrix as a table with the shock names
    matrix = re.search(r'<table class="matrix">(.*?)</table>', text).group(1)
    assert matrix.count("<tr>") == 5 and "<th>growth</th>" in matrix and "<td>0.3</td>" in matrix
    # dilution in percent; p5/p50/p95 of capex with the same precision
    row = re.search(r"<code>dilution</code></td>(.*?)</tr>", text).group(1)
    d = s.loc["dilution"]
    assert f">{d['p50']:.1%}<" in row and f">{d['mean']:.1%}</span>" in row and "share" not in row
    row = re.search(r"<code>capex_total</code></td>(.*?)</tr>", text).group(1)
    cells = re.findall(r"<td class=\"n\">([^<]*)</td>", row)[:3]
    assert cells == [style.format_value(s.loc["capex_total", c], "$B", trim=False) for c in ("p5", "p50", "p95")]
    assert style.format_money(1000.4, trim=False) == "$1.00T" and style.format_money(1000.4) == "$1T"
    # no folder of the machine that made it
    assert source_dir not in text and str(made26["dir"]) not in text
    assert "<footer>Made by <code>python3 -m capexsim report scenarios/ai-lab-2026-stress.toml" in text \
        or "<footer>Made by <code>python3 -m capexsim report ai-lab-2026-stress.toml" in text


def test_report_fans_counterparties_and_events(made26, reference_path):
    text = made26["text"]
    for series in ("cash", "capacity", "arr", "debt", "ownership", "arrears"):
        assert f'alt="fan chart of {series}"' in text
    # The arrears fan (unpaid = true): its last step is what is left unpaid, path by path,
    # so its mean (an exact fixed-point sum, to 2.3e-10 a value) is unpaid_total's mean.
    r = made26["result"]
    last = r.bands("arrears")["mean"].iloc[-1]
    assert abs(last - r.summary().loc["unpaid_total", "mean"]) <= 1e-9 * max(1.0, abs(last))
    assert (r.bands("arrears")[["p5", "p50", "p95"]].to_numpy() >= 0).all()
    section = text.split("<h2>Counterparties</h2>")[1].split("<h2>")[0]
    table = made26["result"].counterparties()
    for who, r in table.iterrows():
        assert (f'<td class="l">{who}</td><td class="n">{r["p_never_in_arrears"]:.1%}</td>'
                f'<td class="n">{r["p_paid_in_full"]:.1%}</td>') in section
    # contract ends count their renewals: azure 2026 + 6 x 2, oracle 2027 + 5 x 2, aws 2026 + 7 x 2
    events = dict((label, year) for year, label in capexsim.plotting.scenario_events(made26["result"].scenario))
    assert events["azure ends"] == 2038 and events["oracle ends"] == 2037 and events["aws ends"] == 2040
    # the debt fan's cliff: the project-finance facility's maturity is marked
    assert events["project-finance matures (rolls if current)"] == 2034.0
    # without unpaid outputs, no counterparty section
    assert "Counterparties" not in capexsim.write_report(reference_path, paths=200, sensitivity=False)


def test_report_first_screen_units_and_dates_read_as_an_analyst_expects(made26):
    """Findings of a user test of the stress pack: one money unit per table row, dates said
    outright, a breakeven card that does not read a minority's median as the typical path,
    and what is left unpaid on the first screen."""
    text, s = made26["text"], made26["result"].summary()
    # One unit per row: "$1,954B ± $18B | $389B | ..." not "$1.95T ± $18B | $389B".
    assert style.money_scale([1984.3, 390.2, 1646.3, 4529.5]) == "B"
    assert style.format_money(1984.3, trim=False, scale="B") == "$1,984B"
    assert style.money_scale([0.00103, 0.0, 0.0]) == "M" and style.format_money(0.00103, scale="M") == "$1.03M"
    assert style.money_scale([12_000.0]) == "T" and style.money_scale([]) == "B"
    row = re.search(r"<code>flow_revenue</code></td>(.*?)</tr>", text).group(1)
    cells = re.findall(r">(−?\$[0-9.,]+[MBT])<", row)
    assert len(cells) >= 4 and {c[-1] for c in cells} == {"B"}, cells
    # Dates: a checkpoint is 1 January, a calendar-year output runs through 31 December.
    assert "funding need to 1 Jan 2030" in text and "gross need through end 2030" in text
    assert capexsim.units.quantity("funding_gap_by_2028").label == "funding gap to 1 Jan 2028"
    # Breakeven: most stress paths never break even, so the median path's card says "never".
    b = s.loc["breakeven"]
    assert b["nan_share"] > 0.5
    assert '<div class="label">breakeven, median path</div><div class="value">never</div>' in text
    assert f"{1 - b['nan_share']:.1%} of paths break even within the horizon" in text
    # Left unpaid (unpaid = true) among the cards.
    cards = text.split('<div class="cards">')[1].split("</div></div></div>")[0]
    u = s.loc["unpaid_total"]
    assert "left unpaid, mean" in cards and style.format_value(u["mean"], "$B") in cards
    assert f"{u['prob_positive']:.1%} of paths leave something unpaid" in cards


def test_ownership_fan_reads_in_percent_without_ticks_above_100(made26):
    ax = capexsim.plotting.plot_fan(made26["result"], "ownership", events=True)
    ax.figure.canvas.draw()
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and max(ticks) <= 1.0 + 1e-9
    assert labels and all(l.endswith("%") for l in labels), labels
    assert ax.get_ylabel().endswith("(%)")


def test_excel_summary_leads_with_the_headline_and_shares_as_percent(made26):
    from openpyxl import load_workbook
    wb = load_workbook(made26["xlsx"], read_only=True)
    ws = wb["summary"]
    rows = list(ws.iter_rows(min_row=1, max_row=ws.max_row))
    names = [r[0].value for r in rows[1:] if r and r[0].value]
    headline = capexsim.Scenario.from_toml(made26["path"]).to_dict()["outputs"]["headline"]
    assert names[0] == headline
    # then the run table's order: the gross need before the residual
    assert names.index("funding_need") < names.index("funding_gap") < names.index("flow_revenue")
    dilution = next(r for r in rows if r[0].value == "dilution")
    assert all(c.number_format == "0.0%" for c in dilution[2:] if c.value is not None)
    wb.close()


def test_report_waterfall_sections_light_up_by_name():
    """The waterfall, ledger and residual sections look their outputs up by name: a run that
    has them (the v3 model) shows them, one without shows none."""
    import pandas as pd
    from capexsim import report as rp
    names = ["funding_gap", "gap_time", "runway", "funding_need", "need_time", "funding_need_by_2030",
             "funding_need_by_2028", "funding_gap_by_2028", "flow_capex", "flow_revenue", "flow_debt_drawn",
             "flow_new_thing"]

    class Stub:
        output_names = names

        def summary(self):
            return pd.DataFrame({c: [float(k + 1) for k in range(len(names))] for c in ("mean", "p5", "p50", "p95")},
                                index=names)
    html = rp._waterfall_section(Stub())
    assert html.startswith("<h2>The funding waterfall</h2>")
    html = html.replace("<wbr>", "")  # names may wrap after an underscore
    assert html.index("funding_need_by_2028") < html.index("funding_need_by_2030")
    assert "<h3>Sources and uses</h3>" in html and ">use</td><td class=\"l\">capex<" in html
    assert ">source</td><td class=\"l\">debt drawn<" in html and "new thing" in html
    assert "<h3>Residual</h3>" in html and "funding_gap_by_2028" in html
    assert rp._output_order(names)[:5] == ["funding_need", "need_time", "funding_need_by_2030",
                                           "funding_need_by_2028", "funding_gap"]

    class Old(Stub):
        output_names = ["funding_gap", "gap_time", "runway"]
    assert rp._waterfall_section(Old()) == ""


# -- the browser -------------------------------------------------------------------------------------
#: Run in the page: the main column's content width and, per table, its scrollWidth and
#: where it starts, plus the page's own scrollWidth (a table that overflows its column or a
#: page wider than the window shows here).
LAYOUT_JS = """JSON.stringify((() => {
  const main = document.querySelector('main');
  const cs = getComputedStyle(main);
  const column = main.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const tables = Array.from(document.querySelectorAll('main > table'), (t, i) => ({
    i, scroll: t.scrollWidth, width: t.getBoundingClientRect().width,
    head: (t.querySelector('th') || {}).textContent || ''}));
  // cells whose content spills out of them (a nested table wider than its cell)
  const spills = Array.from(document.querySelectorAll('main > table > tbody > tr > td'))
    .filter(td => td.scrollWidth > td.clientWidth + 1).map(td => td.textContent.slice(0, 40));
  return {column, tables, spills, page: document.documentElement.scrollWidth,
          window: window.innerWidth, height: document.documentElement.scrollHeight};
})())"""


def _chromium_render(url: str, width: int, height: int, timeout: float = 90, full_page: bool = False):
    """Load `url` in headless Chromium over the DevTools protocol (--remote-debugging-pipe: JSON
    messages ending in NUL on fds 3 and 4, no port, no network) and return (png bytes, images'
    [complete, naturalWidth, naturalHeight], every protocol event seen while loading, the
    page's layout as LAYOUT_JS measures it). full_page: the screenshot is the whole page
    (the window is resized to the page's height), not the top `height` pixels.

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
            layout = json.loads(call("Runtime.evaluate", {"expression": LAYOUT_JS, "returnByValue": True},
                                     session=session)["result"]["value"])
            if full_page:
                call("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": layout["height"], "deviceScaleFactor": 1, "mobile": False},
                     session=session)
            shot = {"format": "png"}
            if full_page:  # the whole page at the window's width, whatever a scrollbar did to the layout
                shot.update(captureBeyondViewport=True,
                            clip={"x": 0, "y": 0, "width": width, "height": layout["height"], "scale": 1})
            png = base64.b64decode(call("Page.captureScreenshot", shot, session=session)["data"])
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
    return png, json.loads(images), events, layout


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed "
                    "(scripts/install-deps.sh installs it); the report is not checked in a browser")
def test_report_renders_in_headless_chromium(made):
    from PIL import Image
    width, height = 1200, 4500  # the waterfall's tables come before the charts
    png, images, events, _ = _chromium_render(made["html"].as_uri(), width, height)

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
    assert ["build", "plan_cap_gw", 30, "reported", True, "~30 GW behind ~$1.4T of commitments"] in inputs
    about = dict((row[0], row[1]) for row in _sheet_rows(wb["about"]))
    assert about["scenario"] == "ai-lab-2025" and about["seed"] == SEED and about["paths"] == PATHS
    assert about["scenario hash"] == r.scenario_fingerprint
    wb.close()


def test_excel_v3_reference_numbers_bands_and_counterparties(made26):
    from openpyxl import load_workbook
    r = made26["result"]
    wb = load_workbook(made26["xlsx"], read_only=True)
    assert wb.sheetnames == (["summary"] + [f"bands {s}" for s in capexsim.SERIES + ["debt", "ownership", "leased", "arrears"]]
                             + ["counterparties", "inputs", "paths", "about"])
    for series in ("debt", "ownership"):
        rows = _sheet_rows(wb[f"bands {series}"])
        b = r.bands(series)
        got = np.array(rows[1:], dtype=float)
        assert np.array_equal(got[:, 2:], _as_written(b[["mean", "p5", "p25", "p50", "p75", "p95"]].to_numpy()))
    rows = _sheet_rows(wb["counterparties"])
    table = r.counterparties()
    assert rows[0] == ["counterparty", "p_never_in_arrears", "p_paid_in_full", "unpaid_mean ($B)",
                       "unpaid_p95 ($B)", "recovered_mean ($B)"]
    assert [row[0] for row in rows[1:]] == list(table.index)
    for row in rows[1:]:
        assert row[1:] == [_as_written(table.loc[row[0], c]) for c in table.columns]
    inputs = {(row[0], row[1]): row for row in _sheet_rows(wb["inputs"])}
    assert inputs[("build", "plan_cap_gw")][2] == 21.5  # a number, not the text "21.5"
    assert inputs[("simulation", "start")][2] == 2026 and inputs[("contract azure", "renewals")][2] == 1
    assert inputs[("build", "max_pace_gw_per_week")][2] == "triangular(0.25, 0.6, 1)"
    assert inputs[("constraint", "unpaid")][2] == "true"
    tranches = inputs[("warrant amd", "tranches")]
    assert tranches[2].split("\n")[1] == "gw = 3, share = 0.25, price_hurdle = 300"
    assert tranches[3].split("\n") == ["reported", "assumption", "assumption", "reported"]
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


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed "
                    "(scripts/install-deps.sh installs it); the report is not checked in a browser")
@pytest.mark.parametrize("width", [1920, 1200, 800, 640])
def test_report_whole_page_has_no_table_wider_than_its_column(made26, width):
    """The whole page of the v3 reference (warrant tranches, a correlation matrix, long notes),
    screenshotted top to bottom: no table is wider than the main column, the page is no wider
    than the window, and the screenshot is the whole page, not blank."""
    from PIL import Image
    png, images, events, layout = _chromium_render(made26["html"].as_uri(), width, 1000, full_page=True)
    shot = made26["html"].with_name(f"whole-page-{width}.png")
    shot.write_bytes(png)
    target = os.environ.get("CAPEXSIM_REPORT_SCREENSHOT_DIR")
    if target:
        shutil.copy(shot, os.path.join(target, shot.name))
    column = layout["column"]
    assert column > 0.5 * width - 100
    too_wide = [(t["head"], t["scroll"]) for t in layout["tables"] if t["scroll"] > column + 0.5]
    assert too_wide == [], f"tables wider than the {column}px column: {too_wide}"
    assert len(layout["tables"]) >= 3  # outputs, counterparties, inputs
    assert layout["spills"] == []  # nor does any cell's content spill over its neighbours
    assert layout["page"] <= layout["window"]  # nothing pushes the page sideways either
    with Image.open(shot) as im:
        assert im.size == (width, layout["height"]) and layout["height"] > 5000  # the whole page
        pixels = np.asarray(im.convert("L"))
    bottom = pixels[-400:]  # the inputs table's end and the footer are in the picture
    # (Chromium captures at most 16,384 px: a longer page ends blank, so not there.)
    if layout["height"] <= 16384:
        assert (bottom < 200).mean() > 0.002
    assert all(complete and w > 0 for complete, w, _ in images)
