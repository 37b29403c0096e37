"""Driving cases: one flow run advances a batch of pending cases; `reconcile` heals the rest.

A flow run costs about a second here (sync) and a task run a few milliseconds, so a flow run
per decision would cap the system at a few decisions per second. Instead each decision marks
its task (`awaits_pass`) in its own transaction, and `advance_pending` runs the procedure
of every marked case, chunk by chunk, each chunk one Prefect task and one unit of work
(workflows.batches.Batch). A case of its own runs the same code (`advance_case`, a flow
whose `.fn` the tests, the demo and a failed chunk's retries call without a flow run).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from functools import partial

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import and_, exists, select, union, update

from approvals.record import audit
from approvals.record.db import Database, rowcount
from approvals.record.definitions import Definition, Stage
from approvals.record.models import (
    Case,
    CaseKind,
    CaseStatus,
    Objection,
    ObjectionStatus,
    Task,
    TaskStatus,
)
from workflows import identification as identification_flow
from workflows import risk_elimination as risk_elimination_flow
from workflows.batches import Batch, Stale, batch
from workflows.passes import Outcome, Procedure
from workflows.runtime import Runtime

log = logging.getLogger(__name__)

PROCEDURES: dict[CaseKind, Procedure] = {
    CaseKind.IDENTIFICATION: identification_flow.identification,
    CaseKind.RISK_ELIMINATION: risk_elimination_flow.risk_elimination,
}
# the stages each procedure's flow is written around, in their order
WRITTEN_AROUND: dict[CaseKind, tuple[str, ...]] = {
    CaseKind.IDENTIFICATION: identification_flow.STAGES,
    CaseKind.RISK_ELIMINATION: risk_elimination_flow.STAGES,
}
CHUNK = 50  # cases per transaction: short enough not to hold up decisions


class FlowMismatch(Exception):
    """A procedure's stages in config.yaml that its flow cannot run: one line."""


def check(definitions: Iterable[Definition]) -> None:
    """Each definition lists its flow's stages (公示 only `with_public_notice`) in the flow's
    order, the flow's last stage last; other stages may come between them."""
    for definition in definitions:
        own = [k for k in WRITTEN_AROUND[CaseKind(definition.kind)]
               if k != Stage.PUBLIC_NOTICE or definition.procedure.with_public_notice]
        listed = [k for k in definition.order if k in own]
        if listed != own or definition.order[-1] != own[-1]:
            raise FlowMismatch(
                f"procedures.{definition.kind}.stages：流程须依次办理 {'、'.join(own)}，"
                f"{own[-1]} 最后；config.yaml 列的是 {'、'.join(definition.order)}")


@flow(name="advance-case", log_prints=False)
def advance_case(case_id: int, kind: CaseKind, runtime: Runtime) -> Outcome:
    """One pass of the case's procedure, as a batch of its own."""
    with batch([case_id], runtime) as work:
        return work.advance(case_id, PROCEDURES[CaseKind(kind)])


def pending_cases(database: Database, limit: int) -> list[tuple[int, CaseKind]]:
    """Cases with a decision awaiting its pass, or marked for a reason of their own."""
    decided = (select(Case.id, Case.kind).join(Task, Task.case_id == Case.id)
               .where(Task.awaits_pass))
    marked = select(Case.id, Case.kind).where(Case.pending_since.is_not(None))
    with database.session_scope() as s:
        rows = s.execute(union(decided, marked).limit(limit)).all()
    return sorted((r.id, CaseKind(r.kind)) for r in rows)


# never cached: a chunk's passes read the record as it is now (and the runtime it is given,
# with its database, cannot be hashed into a cache key)
@task(name="advance-chunk", cache_policy=NO_CACHE)
def advance_chunk(cases: list[tuple[int, CaseKind]], runtime: Runtime) -> dict[str, int]:
    """One transaction for the chunk; if its writes fail, the cases go one by one.

    On SQLite the chunk first runs optimistically, holding the database's one write lock only
    to check its rows and write (workflows.batches); if a row changed meanwhile, it runs again
    under the lock."""
    ids = [case_id for case_id, _ in cases]
    try:
        try:
            with batch(ids, runtime, optimistic=runtime.database.dialect == "sqlite") as work:
                return _each(cases, _in(work))
        except Stale:
            with batch(ids, runtime) as work:
                return _each(cases, _in(work))
    except Exception:
        log.exception("一批%d件案件推进出错，改为逐件推进。", len(cases))
        return _each(cases, partial(advance_case.fn, runtime=runtime))


def _in(work: Batch) -> Callable[[int, CaseKind], Outcome]:
    return lambda case_id, kind: work.advance(case_id, PROCEDURES[kind])


def _each(cases: list[tuple[int, CaseKind]], advance: Callable[[int, CaseKind], Outcome]
          ) -> dict[str, int]:
    outcomes: Counter[str] = Counter()
    for case_id, kind in cases:
        try:
            outcomes[advance(case_id, kind)] += 1
        except Exception:  # one broken case must not stop the others; it stays marked
            log.exception("案件（内部编号%s）推进出错，保留待推进标记，稍后重试。", case_id)
            outcomes["failed"] += 1
    return dict(outcomes)


@flow(name="advance-pending")
def advance_pending(runtime: Runtime, limit: int = 5000) -> dict[str, int]:
    cases = pending_cases(runtime.database, limit)
    total: Counter[str] = Counter()
    for start in range(0, len(cases), CHUNK):
        total.update(advance_chunk(cases[start:start + CHUNK], runtime))
    return dict(total)


def mark_stalled(database: Database, now: dt.datetime) -> int:
    """Mark every open case whose next step is due or missing; return how many were marked.

    Due: a posted public notice whose period is over (an unposted one is overdue, not due).
    Missing: an open case with no open task and no mark, as when a process died after
    committing a decision but before the flow ran.
    """
    notice_over = exists().where(
        Task.case_id == Case.id, Task.stage == Stage.PUBLIC_NOTICE,
        Task.status == TaskStatus.OPEN, Task.due_at <= now,
        Task.data["posted_on"].as_string().is_not(None),  # notices.posted: else never due
        ~exists().where(Objection.task_id == Task.id, Objection.status == ObjectionStatus.OPEN))
    no_open_task = ~exists().where(Task.case_id == Case.id, (Task.status == TaskStatus.OPEN)
                                   | Task.awaits_pass)
    with database.session_scope() as s:
        return rowcount(s.execute(update(Case).where(
            and_(Case.status == CaseStatus.OPEN, Case.pending_since.is_(None)),
            notice_over | no_open_task,
        ).values(pending_since=now)))


@flow(name="reconcile")
def reconcile(runtime: Runtime) -> dict[str, int]:
    marked = mark_stalled(runtime.database, runtime.clock.now())
    result = (advance_pending.fn(runtime, limit=1_000_000)
              if marked or pending_cases(runtime.database, 1) else {})
    with runtime.database.session_scope() as s:
        audit.seal(s)
    return {"marked": marked, **result}
