"""Scenarios: load from TOML or a dict, change inputs by item access, validated by C++."""
from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import MutableMapping
from typing import Any, Iterator

import tomli_w

from . import _core
from .errors import ScenarioError


def _untomlable(value, path: str):
    """The key path and value of the first entry TOML cannot hold (None, an object), or None."""
    if isinstance(value, dict):
        for k, v in value.items():
            found = _untomlable(v, f"{path}.{k}" if path else str(k))
            if found:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _untomlable(v, f"{path}[{i}]")
            if found:
                return found
        return None
    if value is None or not isinstance(value, (str, int, float, bool)):
        return path, value
    return None


def _dumps(data: dict) -> str:
    bad = _untomlable(data, "")
    if bad:
        key, value = bad
        message = (f"expected a number, string, boolean, table or array, got {value!r} "
                   f"({type(value).__name__}); to use a key's default, delete the key")
        raise ScenarioError(f"<dict>: {key}: {message}", "<dict>", 0, 0, key, message)
    try:
        return tomli_w.dumps(data)
    except TypeError as e:  # anything else TOML cannot hold
        raise ScenarioError(f"<dict>: cannot be written as TOML: {e}", "<dict>", 0, 0, "", str(e)) from None


def _resolve_dict(data: dict) -> str:
    """Validate a scenario dict with the C++ loader; return the resolved TOML."""
    try:
        return _core.resolve(_dumps(data), "<dict>")
    except ScenarioError as e:
        # Line numbers would point into generated TOML: report the key path only.
        text = f"<dict>: {e.key}: {e.message}" if e.key else f"<dict>: {e.message}"
        raise ScenarioError(text, "<dict>", 0, 0, e.key, e.message) from None


class Scenario:
    """A validated scenario (format: docs/model.md §8).

    >>> sc = Scenario.from_toml("scenarios/ai-lab-2025.toml")
    >>> sc["cost"]["cost_per_gw"] = {"triangular": [40, 45, 55]}
    >>> sc["build"]["lead_time_years"] = -1     # raises ScenarioError naming build.lead_time_years

    Every change is validated at once by the same C++ loader as files; an invalid change
    raises :class:`ScenarioError` and leaves the scenario as it was.
    """

    def __init__(self, data: dict, source: str = "<dict>"):
        resolved = _resolve_dict(data)
        self._data = tomllib.loads(resolved)
        self._source = source

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> "Scenario":
        """Load a scenario file; errors name the file, line and key."""
        resolved = _core.load(os.fspath(path))
        sc = cls.__new__(cls)
        sc._data = tomllib.loads(resolved)
        sc._source = os.fspath(path)
        return sc

    @classmethod
    def from_dict(cls, data: dict) -> "Scenario":
        """A scenario from a dict shaped like the TOML file (missing keys take defaults)."""
        if not isinstance(data, dict):
            raise TypeError(f"Scenario.from_dict expects a dict shaped like the TOML file, got "
                            f"{type(data).__name__}")
        return cls(copy.deepcopy(data))

    @classmethod
    def from_string(cls, text: str, source: str = "<string>") -> "Scenario":
        resolved = _core.resolve(text, source)
        sc = cls.__new__(cls)
        sc._data = tomllib.loads(resolved)
        sc._source = source
        return sc

    # -- views -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The resolved scenario (every default filled in) as a plain dict (a copy)."""
        return tomllib.loads(self.to_toml())

    def to_toml(self) -> str:
        """The resolved scenario as TOML; Scenario.from_string(s.to_toml()) == s."""
        return _core.resolve(_dumps(self._data), self._source)

    @property
    def name(self) -> str:
        return self._data["name"]

    @property
    def source(self) -> str:
        return self._source

    def fingerprint(self) -> str:
        """Hash of the resolved scenario (as in summary.json's scenario_hash)."""
        return _core.fingerprint(_dumps(self._data), self._source)

    def copy(self) -> "Scenario":
        sc = Scenario.__new__(Scenario)
        sc._data = copy.deepcopy(self._data)
        sc._source = self._source
        return sc

    def _commit(self, change) -> None:
        """Apply `change` to the data, validate, and roll back on error."""
        before = copy.deepcopy(self._data)
        try:
            change()
            _resolve_dict(self._data)
        except BaseException:
            self._data.clear()
            self._data.update(before)
            raise

    # -- item access -------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        if isinstance(value, dict):
            return _Section(self, (key,))
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return [_Section(self, (key, i)) for i in range(len(value))]
        return copy.deepcopy(value)

    def __setitem__(self, key: str, value: Any) -> None:
        self._commit(lambda: self._data.__setitem__(key, copy.deepcopy(value)))

    def __delitem__(self, key: str) -> None:
        self._commit(lambda: self._data.__delitem__(key))

    def __contains__(self, key: str) -> bool:
        return key in self._data

    def keys(self):
        return self._data.keys()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scenario) and self.to_toml() == other.to_toml()

    def __repr__(self) -> str:
        return f"Scenario(name={self.name!r}, source={self._source!r})"

    # pickling: the resolved TOML
    def __getstate__(self):
        return {"toml": self.to_toml(), "source": self._source}

    def __setstate__(self, state):
        self._data = tomllib.loads(state["toml"])
        self._source = state["source"]


class _Section(MutableMapping):
    """A live view of one table of a Scenario; assignments are validated."""

    def __init__(self, owner: Scenario, path: tuple):
        self._owner = owner
        self._path = path

    def _table(self) -> dict:
        node: Any = self._owner._data
        for p in self._path:
            node = node[p]
        return node

    def __getitem__(self, key: str) -> Any:
        value = self._table()[key]
        if isinstance(value, dict) and not _is_distribution(value):
            return _Section(self._owner, self._path + (key,))
        return copy.deepcopy(value)

    def __setitem__(self, key: str, value: Any) -> None:
        self._owner._commit(lambda: self._table().__setitem__(key, copy.deepcopy(value)))

    def __delitem__(self, key: str) -> None:
        self._owner._commit(lambda: self._table().__delitem__(key))

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._table()))

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return repr(self._table())


_SHAPES = {"uniform", "triangular", "pert", "normal", "lognormal", "choice"}


def _is_distribution(d: dict) -> bool:
    return bool(_SHAPES & set(d))
