"""The example notebook runs headless, top to bottom: no error, nothing on stderr, and its
text matches what it computes."""
import os

import nbformat
from nbclient import NotebookClient


def test_funding_gap_notebook_executes(source_dir, monkeypatch):
    monkeypatch.delenv("MPLBACKEND", raising=False)  # let the kernel use its inline backend
    path = os.path.join(source_dir, "examples", "notebooks", "funding_gap.ipynb")
    nb = nbformat.read(path, as_version=4)
    env_path = os.environ.get("PYTHONPATH", "")
    assert "python" in env_path, "run through ctest so the kernel finds the built package"
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": source_dir}})
    client.execute()  # raises CellExecutionError on the first failing cell
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not any(o.get("output_type") == "error" for o in outputs)
    # Nothing on stderr: no TqdmWarning, no text progress frames (simulate(progress=True) in a
    # kernel without ipywidgets shows no bar), no matplotlib warnings.
    stderr = [o.get("text", "") for o in outputs if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    assert stderr == []
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    # histogram, three fan charts, CDFs, paired differences, counterparties, debt, ownership
    assert len(images) >= 9
    text = "".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for o in outputs)
    assert "funding_gap" in text
    assert "p_paid_in_full" in text and "builders (capex)" in text  # the counterparty table
    assert "rejected: <dict>: build.lead_time_years" in text
    assert "it/s" not in text and "path/s" not in text  # no progress frames on stdout either


def test_notebook_text_says_which_tail_is_adverse(source_dir):
    """cvar95 is the mean of the highest 5%: the worst 5% for the funding gap, the best for
    terminal cash. The notebook's prose must say so for both."""
    import capexsim
    from capexsim.units import quantity
    nb = nbformat.read(os.path.join(source_dir, "examples", "notebooks", "funding_gap.ipynb"), as_version=4)
    prose = " ".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "mean of the worst 5%" not in prose.replace("*", "")  # the old, wrong-for-cash wording
    assert "*highest* 5%" in prose and "*best* 5%" in prose
    assert quantity("funding_gap").adverse == "high"
    for name in ("terminal_cash", "runway", "arr_end"):
        assert quantity(name).adverse == "low"
        assert f"`{name}`" in prose  # named among the outputs where cvar95 is the favourable tail
    # and the claim holds on numbers: cvar95 of terminal cash lies above its median (best tail)
    r = capexsim.simulate(os.path.join(source_dir, "scenarios", "ai-lab-2025.toml"), paths=2000, seed=1)
    s = r.summary()
    assert s.loc["terminal_cash", "cvar95"] > s.loc["terminal_cash", "p95"] > s.loc["terminal_cash", "p50"]
    assert s.loc["funding_gap", "cvar95"] > s.loc["funding_gap", "p95"]


def test_progress_in_a_kernel_without_ipywidgets_writes_nothing(reference_path, monkeypatch, capsys):
    import capexsim
    from capexsim import _progress
    monkeypatch.setattr(_progress, "in_notebook_kernel", lambda: True)
    monkeypatch.setattr(_progress, "has_widgets", lambda: False)
    r = capexsim.simulate(reference_path, paths=3000, seed=1, progress=True)
    assert r.n_paths == 3000
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_progress_in_a_kernel_with_ipywidgets_uses_the_widget_bar(reference_path, monkeypatch, capsys):
    import sys
    import types

    import capexsim
    from capexsim import _progress

    bars = []

    class WidgetBar:  # stands in for tqdm.notebook.tqdm (ipywidgets is not a test dependency)
        def __init__(self, total, **kw):
            self.total, self.n, self.closed, self.kw = total, 0, False, kw
            bars.append(self)

        def update(self, k):
            self.n += k

        def close(self):
            self.closed = True

    monkeypatch.setitem(sys.modules, "tqdm.notebook", types.SimpleNamespace(tqdm=WidgetBar))
    monkeypatch.setattr(_progress, "in_notebook_kernel", lambda: True)
    monkeypatch.setattr(_progress, "has_widgets", lambda: True)
    capexsim.simulate(reference_path, paths=3000, seed=1, progress=True)
    assert len(bars) == 1
    assert bars[0].total == 3000 and bars[0].n == 3000 and bars[0].closed
    assert bars[0].kw["desc"] == "ai-lab-2025"
    assert capsys.readouterr().err == ""


def test_progress_in_a_terminal_is_tqdms_text_bar(reference_path, capsys):
    import capexsim
    from capexsim import _progress
    assert not _progress.in_notebook_kernel()  # pytest is no kernel
    capexsim.simulate(reference_path, paths=3000, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "100%" in err and "3.00k/3.00k" in err


def test_widget_bar_needs_ipywidgets_7(monkeypatch):
    """Debian 12's ipywidgets 6 speaks a widget protocol nbclient fails on: no bar with it."""
    import importlib.machinery
    import sys
    import types

    from capexsim import _progress

    def fake(version):
        m = types.ModuleType("ipywidgets")
        m.__spec__ = importlib.machinery.ModuleSpec("ipywidgets", None)
        m.version_info = version
        monkeypatch.setitem(sys.modules, "ipywidgets", m)

    fake((6, 0, 0))
    assert not _progress.has_widgets()
    fake((8, 1, 0))
    assert _progress.has_widgets()
    monkeypatch.setattr(_progress, "in_notebook_kernel", lambda: True)
    fake((6, 0, 0))
    assert _progress.make_bar(10, "x") is None


def test_every_run_draws_progress_through_one_path(reference_path, monkeypatch, capsys):
    """simulate, a target run, sensitivity and calibrate all make their bar with
    _progress.make_bar: in a kernel without widgets none of them writes a text bar."""
    import capexsim
    from capexsim import _progress
    made = []
    make_bar = _progress.make_bar
    monkeypatch.setattr(_progress, "in_notebook_kernel", lambda: True)
    monkeypatch.setattr(_progress, "has_widgets", lambda: False)
    monkeypatch.setattr(_progress, "make_bar", lambda total, desc: made.append(desc) or make_bar(total, desc))
    capexsim.simulate(reference_path, paths=2000, seed=1, progress=True)
    capexsim.simulate(reference_path, paths=2000, seed=1, progress=True,
                      target=("funding_gap", "mean", 0.5), max_paths=4000)
    capexsim.sensitivity(reference_path, "rank", paths=2000, progress=True)
    capexsim.calibrate(reference_path, "revenue.growth0=0.3:1.5", "arr_at_2030.p50=100",
                       paths=500, progress=True)
    assert made == ["ai-lab-2025", "ai-lab-2025 (to target)", "ai-lab-2025",
                    "ai-lab-2025 (calibrate)"]
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_no_module_but_progress_imports_tqdm(source_dir):
    import ast
    root = os.path.join(source_dir, "python", "capexsim")
    for folder, _, files in os.walk(root):
        for f in files:
            if not f.endswith(".py") or f == "_progress.py":
                continue
            with open(os.path.join(folder, f), encoding="utf-8") as fh:
                tree = ast.parse(fh.read())
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                assert not any(n.split(".")[0] == "tqdm" for n in names), f
