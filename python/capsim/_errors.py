"""capsim's exceptions. The native module raises them by the kind of the
error, never by its text; the message is what the ``capsim`` command prints
after ``error:``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import Run


class CapsimError(Exception):
    """Base class of every error capsim raises."""


class ScenarioError(CapsimError, ValueError):
    """Bad input: the scenario file, a ``set`` entry, a variant or another
    argument is wrong (the CLI's exit code 2).

    ``str(e)`` is the CLI's message, one problem per line, each located
    (``FILE:LINE:COLUMN: field `PATH`: ...``, or ``(--set PATH=VALUE)`` when
    an override is at fault). ``source`` names the scenario (a path,
    ``bundled scenario "NAME"``, or ``<dict>``), and ``diagnostics`` holds each
    problem as a dict with ``line``, ``column``, ``field``, ``set`` (the
    override at fault) and ``message``; both are empty for a problem with an
    argument rather than with the scenario."""

    def __init__(
        self,
        message: str,
        source: str | None = None,
        diagnostics: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        super().__init__(message)
        self.source = source
        self.diagnostics = [dict(d) for d in diagnostics]


class BudgetError(CapsimError, ValueError):
    """The run would take, or took, more events or memory than the limits
    (``CAPSIM_MAX_EVENTS``, ``CAPSIM_MAX_MEMORY_GIB``); ``force=True`` lifts
    the event limit. When the budget stopped a run part way, ``result`` holds
    the replications that finished (else it is None)."""

    def __init__(self, message: str, result: Run | None = None) -> None:
        super().__init__(message)
        self.result = result


class RunError(CapsimError, RuntimeError):
    """The run itself failed: files could not be written, a plot could not be
    drawn, worker threads could not start (the CLI's exit code 3)."""


class CapacityWarning(UserWarning):
    """A tier is offered more than its capacity at the peak (the capacity
    check the CLI prints as ``warning:`` before a run)."""
