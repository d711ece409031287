"""The progress bar of simulate(progress=True), right for terminals and notebooks.

In a terminal: tqdm's text bar on stderr. In a Jupyter kernel: tqdm's widget bar when
ipywidgets can be imported; otherwise no bar at all, since a text bar there would save a
warning and dozens of redrawn frames into the notebook's outputs.
"""
from __future__ import annotations

import importlib.util
import sys


def in_notebook_kernel() -> bool:
    """True inside a Jupyter (ZMQ) kernel, where stderr ends up in the saved notebook."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def has_widgets() -> bool:
    return importlib.util.find_spec("ipywidgets") is not None


def make_bar(total: int, desc: str):
    """A tqdm bar for `total` paths, or None where a bar would only clutter."""
    if in_notebook_kernel():
        if not has_widgets():
            return None
        from tqdm.notebook import tqdm as notebook_tqdm
        return notebook_tqdm(total=total, unit="path", unit_scale=True, desc=desc)
    from tqdm import tqdm
    return tqdm(total=total, unit="path", unit_scale=True, desc=desc)
