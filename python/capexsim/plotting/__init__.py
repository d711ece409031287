"""matplotlib charts of results: fan charts, histograms, CDFs, comparisons. Each returns its Axes.

Every chart takes its names and units from :func:`capexsim.units.quantity` and its look from
:mod:`capexsim.style`; money is written in $B / $T, frequencies as shares of paths.

One module per role: ``results`` (charts of a run or two), ``sensitivity`` (charts of the
sensitivity tables), ``events`` (a scenario's dated events on a fan chart) and ``_common``
(layout helpers). Every chart stays ``capexsim.plotting.<name>``.
"""
from __future__ import annotations

from ._common import (_defined, _edges, _lay_out, _names, _place_labels,  # noqa: F401
                      _quantile_curve, _renderer)
from .events import Event, _merge_events, _typical, scenario_events  # noqa: F401
from .results import plot_cdf, plot_compare, plot_diff, plot_fan, plot_hist
from .sensitivity import (_PROCESS_GROUPS, _expect_table, _format_input, _run_of,  # noqa: F401
                          _sobol_order, _stat_label, plot_sobol, plot_sobol_over_time,
                          plot_tornado)

__all__ = ["plot_fan", "plot_hist", "plot_cdf", "plot_compare", "plot_diff", "plot_tornado",
           "plot_sobol", "plot_sobol_over_time", "scenario_events"]
