"""The steps a procedure is made of, each reading and writing the case record.

`advancing(case_id)` opens one transaction with the case row locked; the procedure asks
`run.stage(S)` for every stage in order, and ends with wait / send_back / reject / finish.
Every step is idempotent: what is done is found done, what is missing is done now. So a
flow may re-run for any case at any time, after a crash or twice at once, and converge.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from sqlalchemy import insert, select, update
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
TASKS = Task.__table__
LEVELS = [Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]  # the order of ids in a place's path


class Outcome(StrEnum):
    WAITING = "waiting"  # a person must act; the flow runs again after they have
    RETURNED = "returned"
    REJECTED = "rejected"
    ENROLLED = "enrolled"
    ELIMINATED = "eliminated"
    CLOSED = "closed"  # nothing left to do


class CaseRun:
    def __init__(self, s: Session, case: Case, definition: Definition, village_path: str,
                 now: dt.datetime) -> None:
        self.s, self.case, self.definition, self.now = s, case, definition, now
        self.village_path = village_path
        self._last: Task | None = None
        # every task of the case, oldest first: a pass reads them once
        self.tasks: list[Task] = list(s.scalars(
            select(Task).where(Task.case_id == case.id).order_by(Task.id)))

    @property
    def closed(self) -> bool:
        return self.case.status != CaseStatus.OPEN

    @property
    def with_public_notice(self) -> bool:
        return self.definition.procedure.with_public_notice

    def stage(self, stage: Stage) -> Verdict | None:
        """The verdict of this stage's live task, opening the task first if there is none."""
        live = [t for t in self.tasks if t.stage == stage and t.status != TaskStatus.SUPERSEDED]
        task = live[-1] if live else None
        if task is None:
            self._open(stage)
            return None
        self._last = task
        if task.status == TaskStatus.OPEN and stage == Stage.PUBLIC_NOTICE:
            return self._end_notice_if_due(task)
        return task.verdict

    def _open(self, stage: Stage) -> None:
        spec = self.definition.stage(stage)
        rounds = max((t.round for t in self.tasks if t.stage == stage), default=0)
        # the place whose cadres hold this stage: the village, or its township or county
        place_id = int(self.village_path.strip("/").split("/")[LEVELS.index(
            self.definition.level_of(stage))])
        task_id = self.s.execute(insert(TASKS).returning(TASKS.c.id).values(
            case_id=self.case.id, stage=stage, round=rounds + 1, status=TaskStatus.OPEN,
            role=spec.role, place_id=place_id, opened_at=self.now, data={},
            due_at=runtime.current().calendar.due(self.now, spec.deadline),
            assignee_id=self._paired_cadre() if stage == Stage.HOME_VERIFICATION else None,
        )).scalar_one()
        self.case.stage = stage
        audit.append(self.s, actor=SYSTEM, action="task.open", now=self.now, case_id=self.case.id,
                     payload={"task": task_id, "stage": stage, "round": rounds + 1})

    def _paired_cadre(self) -> int | None:
        return self.s.scalar(select(Pairing.cadre_id).where(
            Pairing.household_id == self.case.household_id, Pairing.ended_on.is_(None))
            .order_by(Pairing.id.desc()).limit(1))

    def _end_notice_if_due(self, task: Task) -> Verdict | None:
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
        self._open(returned.return_to)
        return Outcome.RETURNED

    def reject(self) -> Outcome:
        assert self._last is not None
        self._close(CaseStatus.REJECTED, self._last.reason)
        return Outcome.REJECTED

    def enroll(self) -> Outcome:
        """纳入监测: category, the paired cadre and the planned measures from the county's form."""
        form = self._last.data if self._last else {}
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
        self.case.category = form["category"]
        self._close(CaseStatus.ENROLLED, None)
        return Outcome.ENROLLED

    def eliminate(self) -> Outcome:
        household = self.s.get_one(Household, self.case.household_id)
        household.monitoring = MonitoringStatus.ELIMINATED
        household.eliminated_on = local_date(self.now)
        self._close(CaseStatus.ELIMINATED, None)
        return Outcome.ELIMINATED

    def _close(self, status: CaseStatus, reason: str | None) -> None:
        self.case.status = status
        self.case.stage = None
        self.case.closed_at = self.now
        self.case.outcome_reason = reason
        self.s.flush()
        audit.append(self.s, actor=SYSTEM, action=f"case.{status}", now=self.now,
                     case_id=self.case.id, payload={"reason": reason})


@contextmanager
def advancing(case_id: int) -> Iterator[CaseRun]:
    """One pass over one case, in one transaction, with the case row locked."""
    now = runtime.current().clock.now()
    with session_scope() as s:
        case, digest, village_path = s.execute(
            select(Case, DefinitionRow.digest, Place.path)
            .join(DefinitionRow, DefinitionRow.id == Case.definition_id)
            .join(Place, Place.id == Case.village_id)
            .where(Case.id == case_id).with_for_update(of=Case)).one()
        run = CaseRun(s, case, parsed_definition(s, digest), village_path, now)
        yield run
        if case.pending_since is not None:
            case.pending_since = None
