"""Type stubs for the compiled module (use the `capexsim` package instead)."""
from typing import Callable, Optional

import numpy as np

__version__: str
summary_levels: list[float]
band_levels: list[float]

def resolve(toml: str, source: str) -> str: ...
def load(path: str) -> str: ...
def fingerprint(toml: str, source: str) -> str: ...
def series_names(optional: bool = False) -> list[str]: ...

class Result:
    scenario_name: str
    scenario_fingerprint: str
    seed: int
    first_path: int
    paths: int
    steps: int
    dt: float
    start_year: float
    output_names: list[str]
    series_names: list[str]
    per_path: np.ndarray
    #: The drawn static inputs as "<section>.<key>".
    input_names: list[str]
    #: Read-only (paths, len(input_names)) view of each path's drawn inputs (Fortran order);
    #: (0, k) when the run kept no per-path values.
    inputs: np.ndarray
    def has_per_path(self) -> bool: ...
    def has_bands(self) -> bool: ...
    def summary(self, output: int) -> dict[str, float]: ...
    def band(self, series: str) -> dict[str, np.ndarray]: ...
    def exceedance(self, output: int, threshold: float) -> tuple[float, float]: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(b: bytes) -> "Result": ...

def merge(a: Result, b: Result) -> Result: ...
def merge_bytes(shards: list) -> Result: ...
def compare(a: Result, b: Result) -> list[dict[str, object]]: ...
def simulate(toml: str, source: str, paths: int, seed: int, threads: int, first_path: int,
             keep_paths: bool, bands: bool,
             progress: Optional[Callable[[int, int], None]], sampling: str = "",
             design_paths: int = 0, memory_limit: int = ...,
             counterparties: list[tuple[str, str, str]] = ...) -> Result: ...
def sampling_note(method: str, design_paths: int) -> str: ...
def scenario_sampling(toml: str, source: str) -> str: ...
def simulate_target(toml: str, source: str, target: str, first_paths: int, max_paths: int,
                    seed: int, threads: int, keep_paths: bool, bands: bool,
                    progress: Optional[Callable[[int, int], None]],
                    sampling: str = "") -> tuple[Result, dict]: ...

def describe_output(name: str) -> dict[str, str]: ...
def describe_series(name: str) -> dict[str, str]: ...

# -- sensitivity (include/capexsim/sensitivity.hpp); SensitivityError arrives as ValueError --
Progress = Optional[Callable[[int, int], None]]

def sensitivity_rank(result: Result, output: str) -> dict:
    """{"output", "paths", "defined", "nan_share", "r2", "rows": {"factor", "spearman", "srrc",
    "contribution", "event_spearman"}}"""
    ...
def sensitivity_tornado(toml: str, source: str, output: str, stat: str, paths: int, seed: int,
                        threads: int, low: float, high: float, vary: list[str],
                        progress: Progress,
                        counterparties: list[tuple[str, str, str]] = ...) -> dict:
    """{"output", "statistic", "base", "base_ci95", "paths", "rows": {"factor", "low_input",
    "high_input", "stat_low", "stat_base", "stat_high", "swing"}}"""
    ...
def sensitivity_sobol(toml: str, source: str, output: str, stat: str, paths: int, seed: int,
                      threads: int, bootstrap: int, over_time: str, progress: Progress,
                      counterparties: list[tuple[str, str, str]] = ...) -> dict:
    """{"output", "statistic", "base_paths", "total_paths", "mean", "variance", "rows", "years",
    "over_time": [rows per year]}; rows = {"factor", "S", "S_lo", "S_hi", "ST", "ST_lo", "ST_hi"}"""
    ...
def assumption_ranges(toml: str, source: str, file_text: str, share: float,
                      all: bool) -> tuple[list[tuple[str, float, float]], list[str]]:
    """Fixed keys tagged [assumption] in file_text (every fixed numeric key with all=True)
    as (key, value (1 - share), value (1 + share)), and "key: why" for those not moved."""
    ...


def calibrate(toml: str, source: str, vary: str, output: str, stat: str, target: float, paths: int,
              seed: int, threads: int, progress: Progress) -> dict:
    """{"key", "output", "statistic", "target", "value", "value_ci95", "achieved",
    "achieved_ci95", "runs", "evaluated_values", "evaluated_statistics", "toml"}"""
    ...
def sobol_indices(f: Callable[[np.ndarray], np.ndarray], dims: int, n: int, seed: int,
                  bootstrap: int, level: float, names: list[str]) -> dict[str, list]:
    """{"factor", "S", "S_lo", "S_hi", "ST", "ST_lo", "ST_hi"}"""
    ...
