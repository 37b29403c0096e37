"""The steps a procedure is made of, each reading and writing the case record.

`advancing(case_id)` opens one transaction with the case row locked; the procedure asks
`run.stage(S)` for every stage in order, and ends with wait / send_back / reject / finish.
Every step is idempotent: what is done is found done, what is missing is done now. So a
flow may re-run for any case at any time, after a crash or twice at once, and converge.

A pass runs after every decision, so it reads the case and its tasks once, with prebuilt
Core statements, and writes the case back in one UPDATE at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from approvals import audit
from approvals.calendar import local_date
from approvals.db import session_scope
from approvals.definitions import Definition, Level, Stage
from approvals.models import (
    Case,
    CaseStatus,
    Household,
    Measure,
    MonitoringStatus,
    Objection,
    ObjectionStatus,
    Pairing,
    Place,
    Task,
    TaskStatus,
    Verdict,
)
from approvals.models import Definition as DefinitionRow
from approvals.models.cases import parsed_definition
from workflows import runtime

SYSTEM = "系统"
LEVELS = [Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]  # the order of ids in a place's path
CASES, TASKS = Case.__table__, Task.__table__

_CASE = (select(CASES.c.id, CASES.c.status, CASES.c.household_id, CASES.c.pending_since,
                DefinitionRow.digest, Place.path)
         .join(DefinitionRow, DefinitionRow.id == CASES.c.definition_id)
         .join(Place, Place.id == CASES.c.village_id)
         .where(CASES.c.id == bindparam("case_id")).with_for_update(of=CASES))
_TASKS = (select(TASKS.c.id, TASKS.c.stage, TASKS.c.round, TASKS.c.status, TASKS.c.verdict,
                 TASKS.c.return_to, TASKS.c.reason, TASKS.c.data, TASKS.c.due_at)
          .where(TASKS.c.case_id == bindparam("case_id")).order_by(TASKS.c.id))
_OPEN_TASK = insert(TASKS).returning(TASKS.c.id)
_SET_CASE = update(CASES).where(CASES.c.id == bindparam("case_id"))  # SET from the parameters
_PAIRED = (select(Pairing.cadre_id).where(Pairing.household_id == bindparam("household_id"),
                                          Pairing.ended_on.is_(None))
           .order_by(Pairing.id.desc()).limit(1))


class Outcome(StrEnum):
    WAITING = "waiting"  # a person must act; the flow runs again after they have
    RETURNED = "returned"
    REJECTED = "rejected"
    ENROLLED = "enrolled"
    ELIMINATED = "eliminated"
    CLOSED = "closed"  # nothing left to do


class CaseRun:
    def __init__(self, s: Session, case: Row[Any], definition: Definition,
                 now: dt.datetime) -> None:
        self.s, self.case, self.definition, self.now = s, case, definition, now
        self.conn = s.connection()
        self.tasks = self.conn.execute(_TASKS, {"case_id": case.id}).all()
        self.changes: dict[str, Any] = {}  # written to the case row when the pass ends
        self._last: Row[Any] | None = None

    @property
    def closed(self) -> bool:
        return self.case.status != CaseStatus.OPEN

    @property
    def with_public_notice(self) -> bool:
        return self.definition.procedure.with_public_notice

    def stage(self, stage: Stage) -> Verdict | None:
        """The verdict of this stage's live task, opening the task first if there is none."""
        live = [t for t in self.tasks if t.stage == stage and t.status != TaskStatus.SUPERSEDED]
        if not live:
            self._open(stage)
            return None
        task = self._last = live[-1]
        if task.status == TaskStatus.OPEN and stage == Stage.PUBLIC_NOTICE:
            return self._end_notice_if_due(task)
        return Verdict(task.verdict) if task.verdict else None

    def _open(self, stage: Stage) -> None:
        spec = self.definition.stage(stage)
        rounds = max((t.round for t in self.tasks if t.stage == stage), default=0)
        # the place whose cadres hold this stage: the village, or its township or county
        path = self.case.path.strip("/").split("/")
        place_id = int(path[LEVELS.index(self.definition.level_of(stage))])
        task_id = self.conn.execute(_OPEN_TASK, {
            "case_id": self.case.id, "stage": stage, "round": rounds + 1,
            "status": TaskStatus.OPEN, "role": spec.role, "place_id": place_id,
            "opened_at": self.now, "data": {},
            "due_at": runtime.current().calendar.due(self.now, spec.deadline),
            "assignee_id": self._paired_cadre() if stage == Stage.HOME_VERIFICATION else None,
        }).scalar_one()
        self.changes["stage"] = stage
        audit.append(self.s, actor=SYSTEM, action="task.open", now=self.now, case_id=self.case.id,
                     payload={"task": task_id, "stage": stage, "round": rounds + 1})

    def _paired_cadre(self) -> int | None:
        return self.conn.execute(_PAIRED, {"household_id": self.case.household_id}).scalar()

    def _end_notice_if_due(self, task: Row[Any]) -> Verdict | None:
        """The notice passes by itself once its period is over with no objection open."""
        if self.now < task.due_at:
            return None
        open_objection = self.s.scalar(select(Objection.id).where(
            Objection.task_id == task.id, Objection.status == ObjectionStatus.OPEN))
        if open_objection:
            return None
        self.s.execute(update(Task).where(Task.id == task.id, Task.status == TaskStatus.OPEN)
                       .values(status=TaskStatus.DECIDED, verdict=Verdict.APPROVED,
                               decided_at=self.now, decided_by_name=SYSTEM,
                               reason="公示期满，无异议"))
        audit.append(self.s, actor=SYSTEM, action="decide.approved", now=self.now,
                     case_id=self.case.id, payload={"task": task.id, "stage": Stage.PUBLIC_NOTICE})
        return Verdict.APPROVED

    # -- how a pass ends ---------------------------------------------------------------

    def wait(self) -> Outcome:
        return Outcome.WAITING

    def send_back(self) -> Outcome:
        """Supersede the stages from the named earlier one on; open it again. History stays."""
        returned = self._last
        assert returned is not None and returned.return_to is not None
        order = list(Stage)
        again = order[order.index(returned.return_to):order.index(returned.stage) + 1]
        self.s.execute(update(Task).where(
            Task.case_id == self.case.id, Task.stage.in_(again),
            Task.status != TaskStatus.SUPERSEDED).values(status=TaskStatus.SUPERSEDED))
        self._open(Stage(returned.return_to))
        return Outcome.RETURNED

    def reject(self) -> Outcome:
        assert self._last is not None
        self._close(CaseStatus.REJECTED, self._last.reason)
        return Outcome.REJECTED

    def enroll(self) -> Outcome:
        """纳入监测: category, the paired cadre and the planned measures from the county's form."""
        assert self._last is not None
        form = self._last.data
        household = self.s.get_one(Household, self.case.household_id)
        today = local_date(self.now)
        household.monitoring = MonitoringStatus.MONITORED
        household.category = form["category"]
        household.monitored_since = today
        household.eliminated_on = None
        cadre = form["paired_cadre_id"]
        if self._paired_cadre() != cadre:
            self.s.execute(update(Pairing).where(
                Pairing.household_id == household.id, Pairing.ended_on.is_(None)
            ).values(ended_on=today))
            self.s.add(Pairing(household_id=household.id, cadre_id=cadre, started_on=today))
        for m in form["measures"]:
            self.s.add(Measure(household_id=household.id, case_id=self.case.id, kind=m["kind"],
                               description=m.get("description", ""),
                               planned_on=dt.date.fromisoformat(m["planned_on"])))
        self.changes["category"] = form["category"]
        self._close(CaseStatus.ENROLLED, None)
        return Outcome.ENROLLED

    def eliminate(self) -> Outcome:
        household = self.s.get_one(Household, self.case.household_id)
        household.monitoring = MonitoringStatus.ELIMINATED
        household.eliminated_on = local_date(self.now)
        self._close(CaseStatus.ELIMINATED, None)
        return Outcome.ELIMINATED

    def _close(self, status: CaseStatus, reason: str | None) -> None:
        self.changes.update(status=status, stage=None, closed_at=self.now, outcome_reason=reason)
        audit.append(self.s, actor=SYSTEM, action=f"case.{status}", now=self.now,
                     case_id=self.case.id, payload={"reason": reason})


# Set by `workflows.advance.advance_in`: the pass then joins the caller's transaction (the
# decision's) instead of opening its own.
ambient_session: ContextVar[Session | None] = ContextVar("ambient_session", default=None)


@contextmanager
def _session() -> Iterator[Session]:
    s = ambient_session.get()
    if s is not None:
        yield s
    else:
        with session_scope() as s:
            yield s


@contextmanager
def advancing(case_id: int) -> Iterator[CaseRun]:
    """One pass over one case, in one transaction, with the case row locked."""
    now = runtime.current().clock.now()
    with _session() as s:
        case = s.connection().execute(_CASE, {"case_id": case_id}).one()
        run = CaseRun(s, case, parsed_definition(s, case.digest), now)
        yield run
        if case.pending_since is not None:
            run.changes["pending_since"] = None
        if run.changes:
            s.flush()
            run.conn.execute(_SET_CASE, {"case_id": case_id, **run.changes})
