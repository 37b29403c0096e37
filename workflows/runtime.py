"""What flows need: the database, the clock, the working-day calendar.

The wiring installs one Runtime at start-up (web, worker, CLI); tests install their own with
a clock they move. Flows take only ids as parameters, so they can re-run from the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from approvals.record.calendar import Clock, WorkCalendar
from approvals.record.db import Database


@dataclass(frozen=True)
class Runtime:
    clock: Clock
    calendar: WorkCalendar
    database: Database


_current: Runtime | None = None


def install(runtime: Runtime) -> None:
    global _current
    _current = runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("workflows.runtime.install() was not called")
    return _current
