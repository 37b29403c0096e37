"""The steps a procedure is made of, each reading and writing the case record.

A procedure runs a pass over a case inside `advancing(case_id)`: it asks `run.stage(S)` for
every stage in order and ends with wait / send_back / reject / enroll / eliminate. Every
step is idempotent: what is done is found done, what is missing is done now, so a flow may
re-run for any case at any time, after a crash or twice at once, and converge.

Passes run in batches (`Batch`): one transaction locks the batch's cases, reads them and
all their tasks in a few queries, runs each case's procedure against those rows, and writes
what the passes decided in a handful of statements. A pass only buffers its writes, so a
case whose procedure fails writes nothing and stays marked for the next run; the others go
on. A single case is a batch of one.

On SQLite the lock is the whole database's, and cadres' decisions wait while a batch holds
it. The worker's batches are therefore optimistic there: they read and run the passes
without the lock, then take it, read the same rows again and write only if nothing
changed; otherwise (`Stale`) the batch runs again the locking way.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Executable, Row, bindparam, insert, select, update
from sqlalchemy.orm import Session

from approvals.record import audit
from approvals.record.calendar import local_date
from approvals.record.db import AnyRow
from approvals.record.definitions import Definition, Level, Stage
from approvals.record.models import (
    Cadre,
    Case,
    CaseStatus,
    Household,
    Measure,
    Member,
    MonitoringStatus,
    Objection,
    ObjectionStatus,
    Pairing,
    Place,
    Source,
    Task,
    TaskStatus,
    Verdict,
)
from approvals.record.models import Definition as DefinitionRow
from approvals.record.models.cases import case_number, parsed_definition
from notifications import outbox, reminders
from workflows import runtime

SYSTEM = "系统"
LEVELS = [Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]  # the order of ids in a place's path
CASES, TASKS = Case.__table__, Task.__table__

_READ_CASES = (select(CASES.c.id, CASES.c.status, CASES.c.household_id, CASES.c.pending_since,
                      CASES.c.opened_at, CASES.c.source, DefinitionRow.digest, Place.path)
               .join(DefinitionRow, DefinitionRow.id == CASES.c.definition_id)
               .join(Place, Place.id == CASES.c.village_id)
               .where(CASES.c.id.in_(bindparam("ids", expanding=True)))
               .order_by(CASES.c.id))
_CASES = _READ_CASES.with_for_update(of=CASES)
_TASKS = (select(TASKS.c.id, TASKS.c.case_id, TASKS.c.stage, TASKS.c.round, TASKS.c.status,
                 TASKS.c.verdict, TASKS.c.return_to, TASKS.c.reason, TASKS.c.data,
                 TASKS.c.due_at, TASKS.c.awaits_pass)
          .where(TASKS.c.case_id.in_(bindparam("ids", expanding=True))).order_by(TASKS.c.id))
_PAIRED = (select(Pairing.household_id, Pairing.cadre_id)
           .where(Pairing.household_id.in_(bindparam("ids", expanding=True)),
                  Pairing.ended_on.is_(None)).order_by(Pairing.id))
_OBJECTED = (select(Objection.task_id)
             .where(Objection.task_id.in_(bindparam("ids", expanding=True)),
                    Objection.status == ObjectionStatus.OPEN).order_by(Objection.task_id))
_OPEN_TASKS = insert(TASKS).returning(TASKS.c.id, sort_by_parameter_order=True)
# UPDATEs take their SET columns from each row's parameters
_SET_CASE = update(CASES).where(CASES.c.id == bindparam("case_id"))
_PASSED = update(TASKS).where(TASKS.c.id == bindparam("task_id"))
_SET_HOUSEHOLD = update(Household.__table__).where(
    Household.__table__.c.id == bindparam("household_id"))
_END_PAIRING = update(Pairing.__table__).where(
    Pairing.__table__.c.household_id == bindparam("paired_household"),
    Pairing.__table__.c.ended_on.is_(None))
_NEW_PAIRING = insert(Pairing.__table__)
_NEW_MEASURE = insert(Measure.__table__)


class Outcome(StrEnum):
    WAITING = "waiting"  # a person must act; the flow runs again after they have
    RETURNED = "returned"
    REJECTED = "rejected"
    ENROLLED = "enrolled"
    ELIMINATED = "eliminated"
    CLOSED = "closed"  # nothing left to do


@dataclass
class Writes:
    """What passes decided, written when the batch ends."""

    first: list[Callable[[Session], object]] = field(default_factory=list)  # rare, row by row
    tasks: list[dict[str, Any]] = field(default_factory=list)  # inserted, ids returned
    audit: list[tuple[audit.Entry, dict[str, Any] | None]] = field(default_factory=list)
    rows: list[tuple[Executable, dict[str, Any]]] = field(default_factory=list)  # executemany
    notices: list[Notice] = field(default_factory=list)  # to the household, via the outbox

    def extend(self, other: Writes) -> None:
        self.first += other.first
        self.tasks += other.tasks
        self.audit += other.audit
        self.rows += other.rows
        self.notices += other.notices


@dataclass(frozen=True)
class Notice:
    """The household is told: returned, enrolled or rejected (notifications.wording)."""

    key: str
    household_id: int
    event: str
    params: dict[str, Any]
    cadre_id: int | None = None  # whose name and phone to add (the paired cadre)


class CaseRun:
    """One pass over one case, against the rows its batch read."""

    def __init__(self, case: Row[Any], tasks: list[Row[Any]], paired: int | None,
                 objected: set[int], definition: Definition, now: dt.datetime) -> None:
        self.case, self.tasks, self.paired, self.objected = case, tasks, paired, objected
        self.definition, self.now = definition, now
        self.writes = Writes()
        self.changes: dict[str, Any] = {}  # for the case row
        self._last: Row[Any] | None = None
        self._passed: Row[Any] | None = None  # a stage approved since the last pass

    @property
    def closed(self) -> bool:
        return bool(self.case.status != CaseStatus.OPEN)

    @property
    def with_public_notice(self) -> bool:
        return self.definition.procedure.with_public_notice

    @property
    def stages(self) -> tuple[str, ...]:
        """The case's stages in the order its definition gives them (config.yaml's)."""
        return self.definition.order

    def stage(self, stage: str) -> Verdict | None:
        """The verdict of this stage's live task, opening the task first if there is none."""
        live = [t for t in self.tasks if t.stage == stage and t.status != TaskStatus.SUPERSEDED]
        if not live:
            self._open(stage)
            return None
        task = self._last = live[-1]
        if task.status == TaskStatus.OPEN and stage == Stage.PUBLIC_NOTICE:
            verdict = self._end_notice_if_due(task)
            self._passed = task if verdict else None
            return verdict
        if task.awaits_pass and task.verdict == Verdict.APPROVED:
            self._passed = task
        return Verdict(task.verdict) if task.verdict else None

    def _open(self, stage: str) -> None:
        spec = self.definition.stage(stage)
        if self._passed is not None:  # the household hears of each step in plain words
            passed = self._passed
            self._tell(f"passed:{passed.stage}:{passed.round}", "stage_passed",
                       passed=self.definition.stage(passed.stage).label, next=spec.label)
        elif not self.tasks and self.case.source != Source.WECHAT:  # filed for them
            self._tell("received", "case_received", next=spec.label)
        rounds = max((t.round for t in self.tasks if t.stage == stage), default=0)
        # the place whose cadres hold this stage: the village, or its township or county
        path = self.case.path.strip("/").split("/")
        task = {"case_id": self.case.id, "stage": stage, "round": rounds + 1,
                "status": TaskStatus.OPEN, "role": spec.role, "opened_at": self.now,
                "place_id": int(path[LEVELS.index(self.definition.level_of(stage))]),
                "due_at": runtime.current().calendar.due(self.now, spec.deadline), "data": {},
                "assignee_id": self.paired if stage == Stage.HOME_VERIFICATION else None}
        self.writes.tasks.append(task)
        self.changes["stage"] = stage
        self._record("task.open", {"stage": stage, "round": rounds + 1}, task)

    def _record(self, action: str, payload: dict[str, Any],
                task: dict[str, Any] | None = None) -> None:
        self.writes.audit.append((audit.Entry(SYSTEM, action, self.case.id, payload), task))

    def _end_notice_if_due(self, task: Row[Any]) -> Verdict | None:
        """The notice passes by itself once its period is over with no objection open (the
        batch read them; recording an objection locks the case row, so none slips in)."""
        if self.now < task.due_at or task.id in self.objected:
            return None
        now = self.now
        self.writes.first.append(lambda s: s.execute(
            update(Task).where(Task.id == task.id, Task.status == TaskStatus.OPEN)
            .values(status=TaskStatus.DECIDED, verdict=Verdict.APPROVED, decided_at=now,
                    decided_by_name=SYSTEM, reason="公示期满，无异议")))
        self._record("decide.approved", {"task": task.id, "stage": Stage.PUBLIC_NOTICE})
        return Verdict.APPROVED

    # -- how a pass ends ---------------------------------------------------------------

    def wait(self) -> Outcome:
        return Outcome.WAITING

    def send_back(self) -> Outcome:
        """Supersede the stages from the named earlier one on; open it again. History stays."""
        returned = self._last
        assert returned is not None and returned.return_to is not None
        order = self.definition.order  # decide() let it return only to an earlier stage
        again = order[order.index(returned.return_to):order.index(returned.stage) + 1]
        case_id = self.case.id
        self.writes.first.append(lambda s: s.execute(update(Task).where(
            Task.case_id == case_id, Task.stage.in_(again),
            Task.status != TaskStatus.SUPERSEDED).values(status=TaskStatus.SUPERSEDED)))
        self._open(returned.return_to)
        self._tell(f"returned:{returned.id}", "case_returned", reason=returned.reason,
                   stage=self.definition.stage(returned.return_to).label)
        return Outcome.RETURNED

    def reject(self) -> Outcome:
        assert self._last is not None
        self._close(CaseStatus.REJECTED, self._last.reason)
        self._tell("rejected", "case_rejected", reason=self._last.reason)
        return Outcome.REJECTED

    def enroll(self) -> Outcome:
        """纳入监测: category, the paired cadre and the planned measures from the county's form."""
        assert self._last is not None
        form, case, today = self._last.data, self.case, local_date(self.now)
        paired = self.paired

        hh, rows = case.household_id, self.writes.rows
        rows.append((_SET_HOUSEHOLD, {
            "household_id": hh, "monitoring": MonitoringStatus.MONITORED,
            "category": form["category"], "monitored_since": today, "eliminated_on": None}))
        if paired != form["paired_cadre_id"]:  # one pairing at a time (帮扶责任不脱钩)
            rows.append((_END_PAIRING, {"paired_household": hh, "ended_on": today}))
            rows.append((_NEW_PAIRING, {"household_id": hh, "cadre_id": form["paired_cadre_id"],
                                        "started_on": today, "ended_on": None}))
        rows += [(_NEW_MEASURE, {"household_id": hh, "case_id": case.id, "kind": m["kind"],
                                 "description": m.get("description", ""), "done_on": None,
                                 "planned_on": dt.date.fromisoformat(m["planned_on"])})
                 for m in form["measures"]]
        self.changes["category"] = form["category"]
        self._close(CaseStatus.ENROLLED, None)
        self._tell("enrolled", "case_enrolled", cadre_id=form["paired_cadre_id"])
        return Outcome.ENROLLED

    def eliminate(self) -> Outcome:
        self.writes.rows.append((_SET_HOUSEHOLD, {
            "household_id": self.case.household_id, "monitoring": MonitoringStatus.ELIMINATED,
            "eliminated_on": local_date(self.now)}))
        self._close(CaseStatus.ELIMINATED, None)
        return Outcome.ELIMINATED

    def _tell(self, what: str, event: str, cadre_id: int | None = None, **params: Any) -> None:
        number = case_number(self.case.id, self.case.opened_at)
        self.writes.notices.append(Notice(f"case:{self.case.id}:{what}", self.case.household_id,
                                          event, {"number": number, **params}, cadre_id))

    def _close(self, status: CaseStatus, reason: str | None) -> None:
        self.changes.update(status=status, stage=None, closed_at=self.now, outcome_reason=reason)
        self._record(f"case.{status}", {"reason": reason})

    def finish(self) -> None:
        """The pass is over: its writes join the batch's, with the case row's changes."""
        if self.case.pending_since is not None:
            self.changes["pending_since"] = None
        self.writes.rows += [(_PASSED, {"task_id": t.id, "awaits_pass": False})
                             for t in self.tasks if t.awaits_pass]
        if self.changes:
            self.writes.rows.append((_SET_CASE, {"case_id": self.case.id, **self.changes}))


class Stale(Exception):
    """An optimistic batch's rows changed between its reads and its lock."""


class Batch:
    """Cases advanced together in one transaction (see the module's docstring)."""

    def __init__(self, s: Session, case_ids: list[int], now: dt.datetime,
                 optimistic: bool = False) -> None:
        self.s, self.now, self.case_ids, self.optimistic = s, now, case_ids, optimistic
        self.seen = self._read(_READ_CASES if optimistic else _CASES)
        cases, tasks, paired, objected = self.seen
        self.cases = {r.id: r for r in cases}
        self.tasks: dict[int, list[Row[Any]]] = defaultdict(list)
        for t in tasks:
            self.tasks[t.case_id].append(t)
        self.paired = {p.household_id: p.cadre_id for p in paired}
        self.objected = {o.task_id for o in objected}
        self.writes = Writes()

    def _read(self, cases_query: Executable) -> tuple[Sequence[AnyRow], ...]:
        conn = self.s.connection()
        cases = conn.execute(cases_query, {"ids": self.case_ids}).all()
        tasks = conn.execute(_TASKS, {"ids": self.case_ids}).all()
        paired = conn.execute(_PAIRED, {"ids": [c.household_id for c in cases]}).all()
        notices = [t.id for t in tasks
                   if t.stage == Stage.PUBLIC_NOTICE and t.status == TaskStatus.OPEN]
        objected: Sequence[AnyRow] = (conn.execute(_OBJECTED, {"ids": notices}).all()
                                      if notices else [])
        return cases, tasks, paired, objected

    def run_for(self, case_id: int) -> CaseRun:
        case = self.cases[case_id]
        return CaseRun(case, self.tasks[case_id], self.paired.get(case.household_id),
                       self.objected, parsed_definition(self.s, case.digest), self.now)

    def flush(self) -> None:
        s, w = self.s, self.writes
        if self.optimistic and self._read(_CASES) != self.seen:  # _CASES takes the lock
            raise Stale(f"{len(self.case_ids)} cases changed while their passes ran")
        for write in w.first:
            write(s)
        conn = s.connection()
        if w.tasks:
            ids = conn.execute(_OPEN_TASKS, w.tasks).scalars().all()
            for task, task_id in zip(w.tasks, ids, strict=True):
                task["id"] = task_id
        entries = [audit.Entry(e.actor, e.action, e.case_id,
                               {**e.payload, "task": task["id"]} if task else e.payload)
                   for e, task in w.audit]
        audit.append_many(s, entries, self.now)
        audit.seal(s)  # the batch holds the lock anyway: chain what decisions appended
        groups: dict[tuple[Executable, frozenset[str]], list[dict[str, Any]]] = {}
        for statement, row in w.rows:  # one executemany per statement and set of columns
            groups.setdefault((statement, frozenset(row)), []).append(row)
        for (statement, _), rows in groups.items():
            conn.execute(statement, rows)
        if w.notices:
            self._enqueue(conn, w.notices)
        if w.tasks:
            reminders.announce_new(conn, w.tasks, self.now)

    def _enqueue(self, conn: Connection, notices: list[Notice]) -> None:
        """One message per notice and household member bound to WeChat."""
        households = {n.household_id for n in notices}
        openids: dict[int, list[str]] = defaultdict(list)
        for row in conn.execute(select(Member.household_id, Member.openid).where(
                Member.household_id.in_(households), Member.openid.is_not(None))):
            openids[row.household_id].append(row.openid)
        named = {n.cadre_id for n in notices if n.cadre_id}
        cadres = {c.id: c for c in conn.execute(select(Cadre.id, Cadre.name, Cadre.phone)
                                                .where(Cadre.id.in_(named)))} if named else {}
        messages = []
        for n in notices:
            params = dict(n.params)
            if n.cadre_id in cadres:
                params.update(cadre=cadres[n.cadre_id].name, cadre_phone=cadres[n.cadre_id].phone)
            messages += [{"key": f"{n.key}:{openid}", "recipient": openid, "event": n.event,
                          "params": params} for openid in openids[n.household_id]]
        outbox.enqueue(conn, messages, self.now)


_batch: ContextVar[Batch | None] = ContextVar("batch", default=None)


@contextmanager
def batch(case_ids: list[int], optimistic: bool = False) -> Iterator[Batch]:
    """Open a batch: inside it, `advancing(id)` uses the batch's rows and buffers. An
    optimistic batch raises `Stale` at its end, having written nothing, if its rows changed."""
    with runtime.current().database.session_scope() as s:
        current = Batch(s, case_ids, runtime.current().clock.now(), optimistic)
        token = _batch.set(current)
        try:
            yield current
        finally:
            _batch.reset(token)
        current.flush()


@contextmanager
def advancing(case_id: int) -> Iterator[CaseRun]:
    """One pass over one case: within the current batch, or as a batch of its own."""
    current = _batch.get()
    if current is None:
        with batch([case_id]) as current, advancing(case_id) as run:
            yield run
        return
    run = current.run_for(case_id)
    yield run
    run.finish()
    current.writes.extend(run.writes)
