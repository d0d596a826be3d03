"""capsim from Python: run a scenario or a sweep with the engine of the
``capsim`` command, and get its results as Python objects and pandas
DataFrames.

    >>> import capsim
    >>> r = capsim.run("mmc-reference", seed=7, replications=4,
    ...                set={"simulation.duration": "2h"})
    >>> r.summary["latency_ms"]["p99"]["estimate"]    # summary.json, as a dict
    >>> r.timeseries                                  # timeseries.csv, as a DataFrame
    >>> s = capsim.sweep("step-policy", {"tiers.app.scaling.max": [4, 6, 8]})
    >>> s.table                                       # sweep.csv, as a DataFrame

A run gives the same results as ``capsim run`` with the same scenario, seed
and overrides: the same summary.json, byte for byte but for the wall-clock
figures, and the same CSV files. Results stay in memory; the files are made
by the CLI's own exporters when asked for (``Run.file``, the DataFrame
properties) and written only by ``Run.write``. The engine runs with the GIL
released; Ctrl-C stops it at its next step and raises KeyboardInterrupt.

See docs/python.md.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from . import _capsim
from ._errors import BudgetError, CapacityWarning, CapsimError, RunError, ScenarioError

if TYPE_CHECKING:
    import pandas

__version__: str = _capsim.__version__

__all__ = [
    "BudgetError",
    "CapacityWarning",
    "CapsimError",
    "Run",
    "RunError",
    "ScenarioError",
    "Sweep",
    "run",
    "scenarios",
    "seconds",
    "show",
    "sweep",
    "validate",
]

#: A scenario: a file path, a bundled scenario's name, or a dict with the
#: structure of the TOML file (e.g. ``tomllib.loads(capsim.show(name))``).
ScenarioLike = Union[str, "os.PathLike[str]", Mapping[str, Any]]

#: A ``set`` value. A str is the text after ``=`` of ``--set PATH=VALUE``
#: and is read exactly as the CLI reads it (as a TOML value if it is one:
#: ``"4"`` is the integer 4, ``"2h"`` the string "2h"); any other value is
#: that value (``4``, ``0.5``, ``True``, ``["a", "b"]``,
#: ``{"dist": "exponential", "mean": "5ms"}``).
SetValue = Union[str, int, float, bool, Sequence[Any], Mapping[str, Any]]


def _scenario(scenario: ScenarioLike) -> tuple[str | None, str | None]:
    """(name or path, None) or (None, the dict as JSON)."""
    if isinstance(scenario, Mapping):
        return None, _json(scenario)
    if isinstance(scenario, (str, os.PathLike)):
        return os.fspath(scenario), None
    raise TypeError(
        f"scenario must be a path, a bundled scenario's name or a dict, not {type(scenario).__name__}"
    )


def _sets(overrides: Mapping[str, SetValue] | None) -> list[tuple[str, str, bool]]:
    """(path, value text, the text is JSON) for each override, in order."""
    if overrides is None:
        return []
    if not isinstance(overrides, Mapping):
        raise TypeError("set must be a dict of dotted paths to values, e.g. {'tiers.api.servers': 4}")
    out = []
    for path, value in overrides.items():
        if not isinstance(path, str):
            raise TypeError(f"set: a path is a str such as 'tiers.api.servers', not {path!r}")
        if isinstance(value, str):
            out.append((path, value, False))
        else:
            try:
                out.append((path, _json(value), True))
            except (TypeError, ValueError) as e:
                raise TypeError(f"set[{path!r}]: {e}") from None
    return out


def _plain(value: Any) -> Any:
    """A numpy scalar (a value read from a DataFrame) as the Python value."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} {value!r} has no TOML value")


def _json(value: Any) -> str:
    return json.dumps(value, allow_nan=False, default=_plain)


def _threads(threads: int | None) -> int:
    return 0 if threads is None else threads


def _frame(data: bytes) -> pandas.DataFrame:
    """A CSV file's bytes as a DataFrame, parsed as ``pandas.read_csv``
    parses the file."""
    import pandas  # only when a DataFrame is asked for: `import capsim` stays fast

    return pandas.read_csv(io.BytesIO(data))


class Run:
    """The results of :func:`run`, in memory.

    ``summary`` is summary.json as a dict; ``timeseries``, ``latency``,
    ``events`` and ``replications_table`` are timeseries.csv, latency.csv,
    events.csv and replications.csv as DataFrames. A scenario run in
    ``[windows]`` has ``kind == "windows"``: its ``summary`` is windows.json
    and ``windows`` is windows.csv. Each is made once, when first used.
    """

    def __init__(self, native: _capsim.NativeRun) -> None:
        self._native = native

    @property
    def kind(self) -> str:
        """``"run"`` (one horizon) or ``"windows"`` (a chain of windows)."""
        return self._native.kind

    @property
    def files(self) -> list[str]:
        """The names :meth:`file` takes."""
        return self._native.files

    def file(self, name: str) -> bytes:
        """The bytes of one of the files ``capsim run --out DIR`` writes
        (plots aside), e.g. ``"summary.json"`` or ``"timeseries.csv"``."""
        return self._native.file(name)

    def write(self, directory: str | os.PathLike[str]) -> list[Path]:
        """Writes every file ``capsim run --out DIR`` writes, plots included,
        each atomically, into ``directory`` (created if missing); returns
        their paths."""
        return [Path(p) for p in self._native.write(Path(directory))]

    @cached_property
    def summary(self) -> dict[str, Any]:
        """summary.json (windows.json for a windowed run) as a dict."""
        return json.loads(self.file(self.files[0]))

    @property
    def scenario(self) -> str:
        return self.summary["scenario"]

    @property
    def seed(self) -> int:
        return self.summary["seed"]

    @property
    def replications(self) -> int:
        return self.summary["replications"]

    def _run_file(self, name: str) -> pandas.DataFrame:
        if self.kind != "run":
            raise AttributeError(f"a run in [windows] has no {name}: see .windows and .summary")
        return _frame(self.file(name))

    @cached_property
    def timeseries(self) -> pandas.DataFrame:
        """timeseries.csv: one row per interval and tier, class and all."""
        return self._run_file("timeseries.csv")

    @cached_property
    def latency(self) -> pandas.DataFrame:
        """latency.csv: latency quantiles per class, all classes and tier."""
        return self._run_file("latency.csv")

    @cached_property
    def events(self) -> pandas.DataFrame:
        """events.csv: scaling actions, failures and objective breaches."""
        return self._run_file("events.csv")

    @cached_property
    def replications_table(self) -> pandas.DataFrame:
        """replications.csv: every figure of summary.json per replication."""
        return self._run_file("replications.csv")

    @cached_property
    def windows(self) -> pandas.DataFrame:
        """windows.csv, for a scenario run in ``[windows]``."""
        if self.kind != "windows":
            raise AttributeError("only a scenario run in [windows] has .windows")
        return _frame(self.file("windows.csv"))

    @property
    def slos(self) -> dict[str, Any]:
        """The objectives' verdicts: summary.json's ``slos`` (name -> met,
        replications breached, breach minutes, first breach, budget used)."""
        return self.summary.get("slos", {})

    @property
    def breached(self) -> list[str]:
        """The objectives breached, each with how many replications (or
        windows) breached it, as ``capsim run --check`` names them."""
        return self._native.breached

    @property
    def met(self) -> bool:
        """True when no objective was breached."""
        return not self.breached

    @property
    def expectations(self) -> list[dict[str, Any]]:
        """The scenario's ``[[expectations]]`` judged on this run:
        summary.json's ``expectations`` (claim, source, metric, expected,
        found, verdict, why), empty when it declares none."""
        return self.summary.get("expectations", [])

    @property
    def contradicted(self) -> list[dict[str, Any]]:
        """The expectations this run disagrees with."""
        return [e for e in self.expectations if e["verdict"] == "disagrees"]

    @property
    def assumptions(self) -> list[dict[str, Any]]:
        """The scenario's ``[[assumptions]]``: input, its value in this run,
        why."""
        return self.summary.get("assumptions", [])

    @property
    def check(self) -> bool:
        """What ``capsim run --check`` decides: True (exit 0) when no
        objective was breached and no expectation contradicted."""
        return self.met and not self.contradicted

    @property
    def text(self) -> str:
        """The table ``capsim run`` prints."""
        return self._native.table

    @property
    def event_count(self) -> int:
        """Kernel events handled, over every replication."""
        return self._native.events

    @property
    def wall_seconds(self) -> float:
        return self._native.wall_seconds

    @property
    def threads(self) -> int:
        return self._native.threads

    def __repr__(self) -> str:
        return f"<capsim.Run {self.scenario!r} seed {self.seed}, {self.replications} replications>"


class Sweep:
    """The results of :func:`sweep`: ``table`` is sweep.csv and ``pareto``
    pareto.csv as DataFrames, ``summary`` is sweep.json as a dict."""

    def __init__(self, native: _capsim.NativeSweep) -> None:
        self._native = native

    def file(self, name: str) -> bytes:
        """The bytes of ``"sweep.csv"``, ``"pareto.csv"`` or ``"sweep.json"``,
        as ``capsim sweep --out DIR`` writes them."""
        return self._native.file(name)

    @cached_property
    def table(self) -> pandas.DataFrame:
        """sweep.csv: one row per point, the baseline (point 0) first."""
        return _frame(self.file("sweep.csv"))

    @cached_property
    def pareto(self) -> pandas.DataFrame:
        """pareto.csv: the points on the Pareto front, cheapest first."""
        return _frame(self.file("pareto.csv"))

    @cached_property
    def summary(self) -> dict[str, Any]:
        """sweep.json as a dict."""
        return json.loads(self.file("sweep.json"))

    @property
    def cheapest(self) -> int | None:
        """The point of least cost among those meeting every objective (the
        lower point on a tie), or None when none does."""
        return self.summary["cheapest_meeting_slos"]

    @property
    def met(self) -> bool:
        """True when some point meets every objective (``capsim sweep
        --check`` would exit 0)."""
        return self.cheapest is not None

    @property
    def verdict(self) -> str:
        """The verdict ``capsim sweep`` prints under its table."""
        return self._native.verdict

    @property
    def text(self) -> str:
        """The table ``capsim sweep`` prints."""
        return self._native.table

    @property
    def written(self) -> list[Path]:
        """The files written when the sweep ran in a directory (``out``)."""
        return [Path(p) for p in self._native.written]

    @property
    def wall_seconds(self) -> float:
        return self._native.wall_seconds

    def __repr__(self) -> str:
        s = self.summary
        return f"<capsim.Sweep {s['scenario']!r}: {len(s['points'])} points × {s['replications']} replications>"


def _input(
    scenario: ScenarioLike,
    set: Mapping[str, SetValue] | None,
    variant: str | None,
    seed: int | None,
    replications: int | None,
    interval: str | None,
    window: int | None,
) -> _capsim.Input:
    """What selects and changes a scenario, for the native run and validate."""
    name, as_json = _scenario(scenario)
    return {
        "scenario": name,
        "scenario_json": as_json,
        "sets": _sets(set),
        "variant": variant,
        "seed": seed,
        "replications": replications,
        "interval": interval,
        "window": window,
    }


def run(
    scenario: ScenarioLike,
    *,
    set: Mapping[str, SetValue] | None = None,
    variant: str | None = None,
    seed: int | None = None,
    replications: int | None = None,
    interval: str | None = None,
    window: int | None = None,
    threads: int | None = None,
    force: bool = False,
) -> Run:
    """Runs a scenario, as ``capsim run``.

    scenario: a scenario file, a bundled scenario's name (``"black-friday"``)
        or a dict with the TOML file's structure (messages then name it
        ``<dict>``).
    set: dotted paths to values, each as ``--set PATH=VALUE``, applied in
        order after the variant: ``{"tiers.api.servers": 4,
        "simulation.duration": "2h"}``. A str value is read as the CLI reads
        the text after ``=``.
    variant: apply the scenario's ``[variants.NAME]`` first (``--variant``).
    seed, replications, interval: ``--seed``, ``--replications`` and
        ``--interval`` (the time series' interval, e.g. ``"30s"``).
    window: of a scenario in ``[windows]``, run window K (from 1) alone.
    threads: worker threads; None or 0 for one per core. Results do not
        depend on it.
    force: run even over the event budget (``--force``).

    Raises ScenarioError for bad input (with the CLI's located message),
    BudgetError over the budget, RunError if the run fails, and
    KeyboardInterrupt on Ctrl-C. A tier offered more than its capacity is a
    CapacityWarning.
    """
    native = _capsim.run(
        _input(scenario, set, variant, seed, replications, interval, window), _threads(threads), force
    )
    for w in native.warnings:
        warnings.warn(w, CapacityWarning, stacklevel=2)
    result = Run(native)
    if native.interrupted is not None:
        raise BudgetError(native.interrupted, result)
    return result


def sweep(
    scenario: ScenarioLike,
    params: Mapping[str, Sequence[Any] | str] | None = None,
    *,
    sample: str | None = None,
    set: Mapping[str, SetValue] | None = None,
    variant: str | None = None,
    seed: int | None = None,
    replications: int | None = None,
    metric: str | None = None,
    threads: int | None = None,
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> Sweep:
    """Runs a sweep, as ``capsim sweep``.

    scenario: a scenario (file, bundled name or dict) or a sweep file (TOML
        with a ``[sweep]`` table; see docs/sweeps.md).
    params: the fields to vary: a path to a list of values for a grid
        (``{"tiers.app.scaling.max": [4, 6, 8]}``), or to ``"LOW..HIGH"``
        with ``sample="latin:N"``; added to a sweep file's.
    sample: ``"grid"`` (default) or ``"latin:N"``.
    set, variant, seed, replications, threads, force: as for :func:`run`,
        for every point and the baseline.
    metric: the latency figure of the Pareto front and the verdict: mean,
        p50, p90, p95, p99 (default) or p999.
    out: a directory to run in as the CLI does: it writes every file of
        ``capsim sweep --out`` and resumes the points a run there finished.
        Without it the sweep runs in memory and writes nothing.
    """
    name, as_json = _scenario(scenario)
    texts = []
    for path, values in (params or {}).items():
        if isinstance(values, str):
            texts.append(f"{path}={values}")
        else:
            texts.append(f"{path}={','.join(_value_text(v) for v in values)}")
    native = _capsim.sweep(
        name,
        as_json,
        texts,
        _sets(set),
        sample,
        variant,
        seed,
        replications,
        metric,
        _threads(threads),
        None if out is None else Path(out),
        force,
    )
    return Sweep(native)


def _value_text(v: Any) -> str:
    """A grid value as ``--param`` lists it."""
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def validate(
    scenario: ScenarioLike,
    *,
    set: Mapping[str, SetValue] | None = None,
    variant: str | None = None,
    seed: int | None = None,
    replications: int | None = None,
    interval: str | None = None,
    window: int | None = None,
    threads: int | None = None,
) -> str:
    """Checks a scenario without running it and returns what ``capsim
    validate`` prints: its size, the capacity check and the estimated cost of
    running it. Raises ScenarioError if it is not valid."""
    return _capsim.validate(
        _input(scenario, set, variant, seed, replications, interval, window), _threads(threads)
    )


def scenarios() -> dict[str, dict[str, Any]]:
    """The bundled scenarios: name -> ``{"description": ..., "variants":
    {variant: description}}``, as ``capsim scenarios list`` lists them."""
    return {
        name: {"description": description, "variants": dict(variants)}
        for name, description, variants in _capsim.scenarios()
    }


def show(name: str) -> str:
    """A bundled scenario's file (TOML text), as ``capsim scenarios show``
    prints it; ``tomllib.loads(capsim.show(name))`` is a dict :func:`run`
    takes."""
    return _capsim.show(name)


def seconds(text: str) -> float:
    """A duration as scenario files write it (``"200ms"``, ``"1h30m"``,
    ``"1.5s"``), in seconds, read by capsim's own parser."""
    return _capsim.seconds(text)
