"""What the procedures' passes need: the database, the clock and the working-day calendar.

Whoever drives the flows passes one (the worker, the command line, the demo, tests with a
clock they move): a batch opens its transaction in the runtime's database, reads `now` from
its clock once, and that moment and the calendar its deadlines are counted in travel together
into every pass. Flows take only ids and this, so they can re-run from the record.
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
