"""The progress bar of every run with progress=True (simulate, a target run, sensitivity,
calibrate, the report): one path, progress_callback() over make_bar(), right for terminals
and notebooks.

In a terminal: tqdm's text bar on stderr. In a Jupyter kernel: tqdm's widget bar when
ipywidgets 7+ can be imported; otherwise no bar at all, since a text bar there would save a
warning and dozens of redrawn frames into the notebook's outputs.
"""
from __future__ import annotations

import importlib.util
import sys
import warnings


def in_notebook_kernel() -> bool:
    """True inside a Jupyter (ZMQ) kernel, where stderr ends up in the saved notebook."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def has_widgets() -> bool:
    """ipywidgets 7 or later imports. A package missing a dependency counts as absent, and so
    does ipywidgets 6 (Debian 12's python3-ipywidgets): its comm messages make nbclient, and
    with it any headless run of the notebook, fail (KeyError 'state')."""
    if importlib.util.find_spec("ipywidgets") is None:
        return False
    try:
        import ipywidgets
        return tuple(ipywidgets.version_info[:1]) >= (7,)
    except Exception:
        return False


def make_bar(total: int, desc: str):
    """A tqdm bar for `total` paths, or None where a bar would only clutter."""
    if in_notebook_kernel():
        if not has_widgets():
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # an ipywidgets version tqdm warns about: still a bar
                from tqdm.notebook import tqdm as notebook_tqdm
                return notebook_tqdm(total=total, unit="path", unit_scale=True, desc=desc)
        except ImportError:  # tqdm found no usable widget ("IProgress not found")
            return None
    from tqdm import tqdm
    return tqdm(total=total, unit="path", unit_scale=True, desc=desc)


def progress_callback(progress, desc: str, total: int | None = None):
    """The one way a run shows progress: ``(callback for the C++ layer, close)`` for
    ``progress=`` False, True or a callable(done, total).

    With True the bar comes from make_bar(): at once for `total` paths when it is given,
    otherwise on the first report, when the C++ layer's total is known. ``close(finished=True)``
    after a run that stopped short of the total (calibrate's cap of 40 runs, a target met
    before max_paths) ends the bar full at the paths run; ``close()`` leaves it as it is."""
    if callable(progress):
        return progress, lambda finished=False: None
    if progress is not True:
        return None, lambda finished=False: None
    state = {"made": total is not None, "bar": make_bar(total, desc) if total is not None else None}

    def callback(done, total):
        if not state["made"]:
            state["made"] = True
            state["bar"] = make_bar(total, desc)
        bar = state["bar"]
        if bar is not None:
            bar.update(done - bar.n)

    def close(finished: bool = False):
        bar = state["bar"]
        if bar is not None:
            if finished and bar.n < bar.total:
                bar.total = bar.n
                bar.refresh()
            bar.close()
    return callback, close
