"""What a screening hit does to the record.

For each household hit: no open case and not monitored, a rule whose action is `open_case`:
an identification case opens (source 部门筛查预警) with the evidence, marked for the worker's
pass, which opens 入户核实 for the village cadre like any case; an open case already: the
evidence is added to it, no second case; monitored already, or a `visit` rule: the household
is listed for its paired (else village) cadre's next visit, with the evidence. A hit whose
fingerprint the household already has changes nothing, so a rerun on the same files adds
nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from approvals.record.calendar import WorkCalendar
from approvals.record.definitions import Definition
from approvals.screening.engine import Hit
from approvals.screening.rules import Rule


@dataclass
class Applied:
    opened: list[int] = field(default_factory=list)  # case ids
    added: int = 0  # hits added to an open case
    listed: int = 0  # hits listed for a visit
    repeated: int = 0  # hits the household already had (a rerun)


def apply(s: Session, hits: Sequence[Hit], *, run_id: int, rules: Mapping[str, Rule],
          as_of: dt.date, now: dt.datetime, definition: Definition,
          calendar: WorkCalendar) -> Applied:
    """Record the run's hits (see the module's docstring); `definition` is the
    identification procedure's, as config.yaml gives it today."""
    raise NotImplementedError
