"""The example notebook runs headless, top to bottom, without an error in any cell."""
import os

import nbformat
import pytest
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
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # histogram, three fan charts, the comparison
    text = "".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for o in outputs)
    assert "funding_gap" in text
    assert "rejected: <dict>: build.lead_time_years" in text
