"""The passes' unit of work: cases advanced together in one transaction.

A `Batch` locks its cases, reads them and all their tasks in a few queries, runs each case's
procedure against those rows (`Batch.advance`, a `workflows.passes.CaseRun` each) and writes
what the passes decided in a handful of statements, one executemany per statement. A pass
only records its writes, so a case whose procedure fails writes nothing and stays marked for
the next run; the others go on. A single case is a batch of one.

On SQLite the lock is the whole database's, and cadres' decisions wait while a batch holds
it. The worker's batches are therefore optimistic there: they read and run the passes
without the lock, then take it, read the same rows again and write only if nothing
changed; otherwise (`Stale`) the batch runs again the locking way.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Executable, Row, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from approvals.record import audit
from approvals.record.calendar import WorkCalendar
from approvals.record.db import AnyRow
from approvals.record.definitions import Stage
from approvals.record.models import (
    Case,
    CaseRisk,
    Household,
    Measure,
    Member,
    Objection,
    ObjectionStatus,
    Pairing,
    Place,
    Task,
    TaskStatus,
    Verdict,
)
from approvals.record.models import Definition as DefinitionRow
from approvals.record.models.cases import parsed_definition
from notifications import announcements
from workflows.passes import SYSTEM, CaseRun, Outcome, Procedure, Writes
from workflows.runtime import Runtime

CASES, TASKS = Case.__table__, Task.__table__
HOUSEHOLDS, PAIRINGS = Household.__table__, Pairing.__table__
CASE_RISKS = CaseRisk.__table__

_READ_CASES = (select(CASES.c.id, CASES.c.status, CASES.c.household_id, CASES.c.pending_since,
                      CASES.c.opened_at, CASES.c.source, CASES.c.fast_tracked,
                      CASES.c.consent_pending,
                      DefinitionRow.digest, Place.path)
               .join(DefinitionRow, DefinitionRow.id == CASES.c.definition_id)
               .join(Place, Place.id == CASES.c.village_id)
               .where(CASES.c.id.in_(bindparam("ids", expanding=True)))
               .order_by(CASES.c.id))
_CASES = _READ_CASES.with_for_update(of=CASES)
_TASKS = (select(TASKS.c.id, TASKS.c.case_id, TASKS.c.stage, TASKS.c.round, TASKS.c.status,
                 TASKS.c.verdict, TASKS.c.return_to, TASKS.c.reason, TASKS.c.data,
                 TASKS.c.due_at, TASKS.c.awaits_pass, TASKS.c.decided_at,
                 TASKS.c.decided_by_name)
          .where(TASKS.c.case_id.in_(bindparam("ids", expanding=True))).order_by(TASKS.c.id))
_PAIRED = (select(Pairing.household_id, Pairing.cadre_id)
           .where(Pairing.household_id.in_(bindparam("ids", expanding=True)),
                  Pairing.ended_on.is_(None)).order_by(Pairing.id))
_OBJECTED = (select(Objection.task_id)
             .where(Objection.task_id.in_(bindparam("ids", expanding=True)),
                    Objection.status == ObjectionStatus.OPEN).order_by(Objection.task_id))
# a notice still open whose period ran out: decided by the system
_END_NOTICE = (update(TASKS).where(TASKS.c.id == bindparam("task_id"),
                                   TASKS.c.status == TaskStatus.OPEN)
               .values(status=TaskStatus.DECIDED, verdict=Verdict.APPROVED,
                       decided_at=bindparam("now"), decided_by_name=SYSTEM,
                       reason="公示期满无异议"))
_OPEN_TASKS = insert(TASKS).returning(TASKS.c.id, sort_by_parameter_order=True)
# UPDATEs take their SET columns from each row's parameters
_SET_CASE = update(CASES).where(CASES.c.id == bindparam("case_id"))
_PASSED = (update(TASKS).where(TASKS.c.id == bindparam("task_id"))
           .values(awaits_pass=False))
_SET_HOUSEHOLD = update(HOUSEHOLDS).where(HOUSEHOLDS.c.id == bindparam("household_id"))
_END_PAIRING = update(PAIRINGS).where(PAIRINGS.c.household_id == bindparam("paired_household"),
                                      PAIRINGS.c.ended_on.is_(None))
_NEW_PAIRING = insert(PAIRINGS)
_NEW_MEASURE = insert(Measure.__table__)
MEMBERS = Member.__table__
_SET_MEMBER = update(MEMBERS).where(MEMBERS.c.id == bindparam("member_id"),
                                    MEMBERS.c.household_id == bindparam("member_household"))
_NEW_MEMBER = insert(MEMBERS)


class Stale(Exception):
    """An optimistic batch's rows changed between its reads and its lock."""


class Batch:
    """Cases advanced together in one transaction (see the module's docstring), at one
    `now`, their deadlines counted in `calendar`."""

    def __init__(self, s: Session, case_ids: list[int], now: dt.datetime,
                 calendar: WorkCalendar, optimistic: bool = False) -> None:
        self.s, self.case_ids, self.optimistic = s, case_ids, optimistic
        self.now, self.calendar = now, calendar
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

    def advance(self, case_id: int, procedure: Procedure) -> Outcome:
        """One pass of `procedure` over the case; its writes join the batch's, unless the
        procedure raises."""
        case = self.cases[case_id]
        run = CaseRun(case, self.tasks[case_id], self.paired.get(case.household_id),
                      self.objected, parsed_definition(self.s, case.digest), self.now,
                      self.calendar)
        outcome = procedure(run)
        self.writes.extend(run.finished())
        return outcome

    def flush(self) -> None:
        """Write what the passes decided; an optimistic batch first takes the lock and
        checks its rows, raising `Stale` without writing if one changed."""
        s, w, now = self.s, self.writes, self.now
        if self.optimistic and self._read(_CASES) != self.seen:  # _CASES takes the lock
            raise Stale(f"{len(self.case_ids)} cases changed while their passes ran")
        conn = s.connection()
        if w.notices_ended:
            conn.execute(_END_NOTICE, [{"task_id": t, "now": now} for t in w.notices_ended])
        for case_id, stages in w.superseded:  # before the stage opens again
            conn.execute(update(TASKS).where(
                TASKS.c.case_id == case_id, TASKS.c.stage.in_(stages),
                TASKS.c.status != TaskStatus.SUPERSEDED).values(status=TaskStatus.SUPERSEDED))
        if w.tasks:
            ids = conn.execute(_OPEN_TASKS, w.tasks).scalars().all()
            for task, task_id in zip(w.tasks, ids, strict=True):
                task["id"] = task_id
        entries = [audit.Entry(e.actor, e.action, e.case_id,
                               {**e.payload, "task": task["id"]} if task else e.payload)
                   for e, task in w.audit]
        audit.append_many(s, entries, now)
        audit.seal(s)  # the batch holds the lock anyway: chain what decisions appended
        for statement, rows in ((_SET_HOUSEHOLD, w.households),
                                (_END_PAIRING, w.pairings_ended),  # before the new one
                                (_NEW_PAIRING, w.pairings), (_NEW_MEASURE, w.measures),
                                (_SET_MEMBER, w.members), (_NEW_MEMBER, w.new_members),
                                (_SET_CASE, w.cases)):
            _executemany(conn, statement, rows)
        if w.risks:  # a case's risk rows as its verification found them (the filters' index)
            conn.execute(delete(CASE_RISKS).where(
                CASE_RISKS.c.case_id.in_([case_id for case_id, _ in w.risks])))
            conn.execute(insert(CASE_RISKS), [{"case_id": case_id, "risk": r}
                                              for case_id, risks in w.risks for r in risks])
        if w.passed:
            conn.execute(_PASSED, [{"task_id": t} for t in w.passed])
        announcements.announce(conn, w.news, w.tasks, now)


def _executemany(conn: Connection, statement: Executable, rows: list[dict[str, Any]]) -> None:
    """One executemany per set of columns (an UPDATE sets the columns its rows carry)."""
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(frozenset(row), []).append(row)
    for group in groups.values():
        conn.execute(statement, group)


@contextmanager
def batch(case_ids: list[int], runtime: Runtime, optimistic: bool = False) -> Iterator[Batch]:
    """A batch in a transaction of its own in the runtime's database, at its clock's now,
    written when the block ends. An optimistic batch raises `Stale` there, having written
    nothing, if its rows changed."""
    with runtime.database.session_scope() as s:
        work = Batch(s, case_ids, runtime.clock.now(), runtime.calendar, optimistic)
        yield work
        work.flush()
