"""What the procedures' passes need besides the database: the clock and the working-day
calendar.

Whoever drives the flows passes one (the worker, the command line, the demo, tests with a
clock they move): a batch reads `now` from its clock once, and that moment and the calendar
its deadlines are counted in travel together into every pass. Flows take only ids and this,
so they can re-run from the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from approvals.record.calendar import Clock, WorkCalendar


@dataclass(frozen=True)
class Runtime:
    clock: Clock
    calendar: WorkCalendar
