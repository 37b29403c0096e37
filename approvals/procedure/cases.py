"""Opening a case: an application (any of the three channels) or a risk-elimination proposal.

Opening only records the case and marks it for advancement; the workflow opens the first
stage task. The fast track (先帮扶后认定) records the assistance already given at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select, update
from sqlalchemy.orm import Session

from approvals.record import audit
from approvals.record.calendar import WorkCalendar, local_date
from approvals.record.definitions import Definition as DefinitionBody
from approvals.record.definitions import Stage
from approvals.record.errors import Refused
from approvals.record.models import (
    Case,
    CaseKind,
    CaseRisk,
    CaseStatus,
    Definition,
    Household,
    Measure,
    MonitoringStatus,
    Source,
    Task,
    TaskStatus,
)


def current_definition(s: Session, body: DefinitionBody, now: dt.datetime) -> Definition:
    """The stored version of this definition, adding a new version when config changed."""
    digest = body.digest()
    found = s.scalar(select(Definition).where(Definition.kind == body.kind,
                                              Definition.digest == digest))
    if found:
        return found
    version = (s.scalar(select(func.max(Definition.version))
                        .where(Definition.kind == body.kind)) or 0) + 1
    row = Definition(kind=CaseKind(body.kind), version=version, digest=digest, body=body.body(),
                     created_at=now)
    s.add(row)
    s.flush()
    return row


def _ensure_no_open_case(s: Session, household: Household) -> None:
    if s.scalar(select(Case.id).where(Case.household_id == household.id,
                                      Case.status == CaseStatus.OPEN)):
        raise Refused("这户已有正在办理的案件，请先查询进度，无需重复申请。")


def ensure_may_identify(s: Session, household: Household | None, *, risk_types: list[str],
                        category: str | None = None,
                        assistance: list[dict[str, str]] | None = None,
                        fast_track_risks: frozenset[str] = frozenset()) -> None:
    """Every reason to refuse an application, checked before anything is written
    (`household` None: a household not recorded yet)."""
    if household is not None and household.monitoring == MonitoringStatus.MONITORED:
        raise Refused("这户已经是监测对象，无需再次申请。如情况有变化，请联系帮扶联系人。")
    if not risk_types:
        raise Refused("请至少选择一种困难类型。")
    if household is not None:
        _ensure_no_open_case(s, household)
    if assistance and not (category == "sudden" and fast_track_risks & set(risk_types)):
        raise Refused("只有因灾、因意外等突发严重困难户可以先帮扶后认定。")


def open_identification(
    s: Session, household: Household, *, definition: DefinitionBody, calendar: WorkCalendar,
    now: dt.datetime, source: Source, filed_by: str, risk_types: list[str],
    category: str | None = None, income_12m: Decimal | None = None,
    answers: dict[str, Any] | None = None, attachments: list[str] | None = None,
    assistance: list[dict[str, str]] | None = None, fast_track_risks: frozenset[str] = frozenset(),
) -> Case:
    """Record an application. `assistance` given at once makes it a fast-tracked case."""
    ensure_may_identify(s, household, risk_types=risk_types, category=category,
                        assistance=assistance, fast_track_risks=fast_track_risks)
    case = _open(s, household, CaseKind.IDENTIFICATION, definition, calendar, now, source,
                 filed_by, category=category, risk_types=risk_types, income_12m=income_12m,
                 answers=answers or {}, attachments=attachments or [],
                 fast_tracked=bool(assistance))
    for given in assistance or []:
        s.add(Measure(household_id=household.id, case_id=case.id, kind=given["kind"],
                      description=given.get("description", ""),
                      planned_on=local_date(now), done_on=local_date(now)))
    if assistance:
        audit.append(s, actor=filed_by, action="case.fast_track", now=now, case_id=case.id,
                     payload={"assistance": [a["kind"] for a in assistance]})
    return case


def open_elimination(s: Session, household: Household, *, definition: DefinitionBody,
                     calendar: WorkCalendar, now: dt.datetime, filed_by: str) -> Case:
    """村提出名单: the criteria are checked by elimination.propose before this."""
    _ensure_no_open_case(s, household)
    return _open(s, household, CaseKind.RISK_ELIMINATION, definition, calendar, now,
                 Source.VILLAGE_LIST, filed_by, category=household.category, risk_types=[],
                 income_12m=None, answers={}, attachments=[], fast_tracked=False)


def _open(s: Session, household: Household, kind: CaseKind, definition: DefinitionBody,
          calendar: WorkCalendar, now: dt.datetime, source: Source, filed_by: str,
          **fields: Any) -> Case:
    stored = current_definition(s, definition, now)
    case = Case(kind=kind, household_id=household.id, village_id=household.village_id,
                definition_id=stored.id, source=source, filed_by=filed_by,
                status=CaseStatus.OPEN, opened_at=now, pending_since=now,
                due_at=calendar.due(now, definition.procedure.total), **fields)
    s.add(case)
    s.flush()
    s.add_all(CaseRisk(case_id=case.id, risk=r) for r in dict.fromkeys(case.risk_types))
    audit.append(s, actor=filed_by, action=f"case.open.{kind}", now=now, case_id=case.id,
                 payload={"source": source, "definition": stored.version})
    return case


def heard_of(source: str, tasks: Iterable[Any]) -> bool:
    """Whether the household may hear of its case (`tasks`: rows or objects with a stage and
    a verdict). A case opened by 部门筛查预警 is the departments' data, not the household's
    application: it hears nothing of it (no message, no 进度, no 确认授权) before a cadre has
    visited, that is until the 入户核实 task is decided; after that what any applicant hears."""
    return source != Source.SCREENING or any(
        t.stage == Stage.HOME_VERIFICATION and t.verdict is not None for t in tasks)


def heard_of_sql() -> ColumnElement[bool]:
    """`heard_of` as a condition on `Case` (the chat's reads)."""
    visited = exists().where(Task.case_id == Case.id, Task.stage == Stage.HOME_VERIFICATION,
                             Task.verdict.is_not(None))
    return or_(Case.source != Source.SCREENING, visited)


WITHDRAWABLE = {None, Stage.HOME_VERIFICATION}  # before the village review


def withdraw(s: Session, case: Case, *, by: str, now: dt.datetime) -> None:
    """撤回: the applicant takes the application back before the village has reviewed it."""
    locked = s.scalar(select(Case).where(Case.id == case.id).with_for_update())
    if locked is None or locked.status != CaseStatus.OPEN:
        raise Refused("这个申请已经办结，不能撤回。")
    if locked.stage not in WITHDRAWABLE:
        raise Refused("已经开始民主评议，不能再撤回了。如有疑问请联系办理的干部。")
    s.execute(update(Task).where(Task.case_id == case.id, Task.status == TaskStatus.OPEN)
              .values(status=TaskStatus.SUPERSEDED))
    locked.status, locked.stage, locked.closed_at = CaseStatus.WITHDRAWN, None, now
    locked.outcome_reason = "申请人撤回申请"
    locked.pending_since = None
    audit.append(s, actor=by, action="case.withdrawn", now=now, case_id=case.id, payload={})
