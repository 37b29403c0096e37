"""Read models for lists and case pages: joined queries in one place, JSON-ready results."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from approvals.procedure import stages
from approvals.record.errors import NotFound
from approvals.record.identity import mask_id, mask_phone
from approvals.record.models import Case, CaseStatus, Household, Source, Task, TaskStatus


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def case_of_task(s: Session, task_id: int) -> int:
    case_id = s.scalar(select(Task.case_id).where(Task.id == task_id))
    if case_id is None:
        raise NotFound("没有找到这项任务，可能链接有误。")
    return case_id


def list_cases(s: Session, now: dt.datetime, *, stage: str | None = None,
               overdue: bool = False, status: CaseStatus | None = None,
               source: Source | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Cases, each with its stage labelled by the case's own definition and its source."""
    q = (select(Case, Task).outerjoin(Task, (Task.case_id == Case.id)
                                      & (Task.status == TaskStatus.OPEN))
         .options(joinedload(Case.household).selectinload(Household.members),
                  joinedload(Case.village), joinedload(Case.definition))
         .order_by(Case.id).limit(limit))
    if stage:
        q = q.where(Case.stage == stage)
    if status:
        q = q.where(Case.status == status)
    if source:
        q = q.where(Case.source == source)
    if overdue:
        q = q.where((Task.due_at < now) | ((Case.due_at < now) & (Case.status == CaseStatus.OPEN)))
    return [{
        "id": case.id, "number": case.number, "kind": case.kind, "status": case.status,
        "stage": case.stage, "stage_label": _stage_label(case), "source": case.source,
        "village": case.village.name, "head": case.household.head.name,
        "opened_at": _iso(case.opened_at), "due_at": _iso(case.due_at),
        "task_due_at": _iso(task.due_at) if task else None,
        "overdue": bool((task and task.due_at < now)
                        or (case.status == CaseStatus.OPEN and case.due_at < now)),
    } for case, task in s.execute(q).unique()]


def _stage_label(case: Case) -> str | None:
    return case.definition.parsed().stage(case.stage).label if case.stage else None


def show_case(s: Session, case_id: int, now: dt.datetime, *, full_personal_data: bool = False
              ) -> dict[str, Any]:
    case = s.scalars(select(Case).where(Case.id == case_id).options(
        joinedload(Case.household).selectinload(Household.members),
        selectinload(Case.tasks), selectinload(Case.objections),
        joinedload(Case.definition))).one_or_none()
    if case is None:
        raise NotFound("没有找到这个案件。")
    definition = case.definition.parsed()
    show_id = (lambda v: v) if full_personal_data else mask_id
    show_phone = (lambda v: v or "") if full_personal_data else mask_phone
    return {
        "id": case.id, "number": case.number, "kind": case.kind,
        "kind_label": definition.procedure.label, "status": case.status, "stage": case.stage,
        "stage_label": _stage_label(case),
        "source": case.source, "category": case.category, "risk_types": case.risk_types,
        "fast_tracked": case.fast_tracked, "definition_version": case.definition.version,
        "opened_at": _iso(case.opened_at), "due_at": _iso(case.due_at),
        "overdue": case.status == CaseStatus.OPEN and case.due_at < now,
        "closed_at": _iso(case.closed_at), "outcome_reason": case.outcome_reason,
        "household": {
            "id": case.household.id, "village": case.village.name,
            "members": [{"name": m.name, "relation": m.relation, "id_number": show_id(m.id_number),
                         "phone": show_phone(m.phone), "able_to_work": m.able_to_work}
                        for m in case.household.members],
        },
        "tasks": [{
            "id": t.id, "stage": t.stage, "label": definition.stage(t.stage).label,
            "round": t.round, "status": t.status, "role": t.role, "opened_at": _iso(t.opened_at),
            "due_at": _iso(t.due_at), "overdue": t.status == TaskStatus.OPEN and t.due_at < now,
            "verdict": t.verdict, "return_to": t.return_to, "reason": t.reason,
            "decided_by": t.decided_by_name, "decided_at": _iso(t.decided_at),
            # what the stage recorded, in the words of the case's history
            "findings": stages.of(t.stage).summary(t.data or {}) if t.verdict else None,
        } for t in case.tasks],
        "objections": [{"id": o.id, "raised_by": o.raised_by, "content": o.content,
                        "status": o.status, "handling": o.handling} for o in case.objections],
    }
