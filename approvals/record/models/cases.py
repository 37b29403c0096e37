"""A case (one identification or risk elimination), its stage tasks and objections.

A task is one visit of a stage. Its decision is stored on it: one task, one decision,
guarded by `UPDATE ... WHERE status = 'open'` in approvals/procedure/decisions.py. A return to an
earlier stage supersedes the tasks from that stage on; they stay as history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from approvals.record.calendar import LOCAL
from approvals.record.db import Base
from approvals.record.definitions import CaseKind
from approvals.record.definitions import Definition as DefinitionBody
from approvals.record.models.households import Household
from approvals.record.models.places import Place


class Source(StrEnum):
    WECHAT = "wechat"  # 农户自主申报
    CADRE_VISIT = "cadre_visit"  # 干部走访排查
    SCREENING = "screening"  # 部门筛查预警
    VILLAGE_LIST = "village_list"  # 村提出名单 (risk elimination)


class CaseStatus(StrEnum):
    OPEN = "open"
    ENROLLED = "enrolled"  # 纳入监测
    REJECTED = "rejected"  # 不予纳入 / 不予消除
    ELIMINATED = "eliminated"  # 风险消除
    WITHDRAWN = "withdrawn"  # 撤回: the applicant withdrew before the village review


class TaskStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"
    SUPERSEDED = "superseded"  # a later return reopened an earlier stage


class Verdict(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"


class ObjectionStatus(StrEnum):
    OPEN = "open"
    SUBSTANTIATED = "substantiated"
    DISMISSED = "dismissed"


class Definition(Base):
    """One version of a procedure's definition; cases keep the one they started with."""

    __tablename__ = "definitions"
    __table_args__ = (UniqueConstraint("kind", "digest"), UniqueConstraint("kind", "version"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CaseKind] = mapped_column(String(32))
    version: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime]

    def parsed(self) -> DefinitionBody:
        return _parse(self.digest, self.body)


_PARSED: dict[str, DefinitionBody] = {}


def _parse(digest: str, body: dict[str, Any]) -> DefinitionBody:
    """Definitions never change once stored, so each is parsed once per process."""
    if digest not in _PARSED:
        _PARSED[digest] = DefinitionBody.model_validate(body)
    return _PARSED[digest]


def parsed_definition(s: Session | Connection, digest: str) -> DefinitionBody:
    """The parsed definition with this digest, reading its row only the first time."""
    if digest not in _PARSED:
        body = s.scalars(select(Definition.body).where(Definition.digest == digest)).one()
        _parse(digest, body)
    return _PARSED[digest]


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_stage", "status", "stage"),
                      Index("ix_cases_status_opened", "status", "opened_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[CaseKind] = mapped_column(String(32))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    source: Mapped[Source] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(16))
    risk_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    income_12m: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    filed_by: Mapped[str] = mapped_column(String(64))  # who opened it, for the audit and the farmer
    fast_tracked: Mapped[bool] = mapped_column(default=False)
    # filed by a cadre, the household's 承诺授权 to be confirmed in the chat: until then no
    # stage is approved (approvals.procedure.applications, decisions.decide)
    consent_pending: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    status: Mapped[CaseStatus] = mapped_column(String(16), default=CaseStatus.OPEN)
    stage: Mapped[str | None] = mapped_column(String(32))  # a stage key of its definition
    opened_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime]  # the total clock
    closed_at: Mapped[dt.datetime | None]
    outcome_reason: Mapped[str | None] = mapped_column(Text)
    # Set when the case needs a pass for a reason of its own (opened, an objection dismissed,
    # found stalled), cleared by the pass; decisions mark their task instead (awaits_pass).
    pending_since: Mapped[dt.datetime | None] = mapped_column(index=True)

    household: Mapped[Household] = relationship()
    village: Mapped[Place] = relationship()
    definition: Mapped[Definition] = relationship()
    tasks: Mapped[list[Task]] = relationship(
        back_populates="case", order_by="Task.id", viewonly=True)
    objections: Mapped[list[Objection]] = relationship(order_by="Objection.id", viewonly=True)

    @property
    def number(self) -> str:
        return case_number(self.id, self.opened_at)


def case_number(case_id: int, opened_at: dt.datetime) -> str:
    """The number a household and cadres quote: the year it was opened (Beijing time) and
    the id, e.g. 2026000033; the inbox's search reads the id back from the last six digits."""
    return f"{opened_at.astimezone(LOCAL).year}{case_id:06d}"


class CaseRisk(Base):
    """One risk type of a case, as a row: the supervisors' list filters by risk type on an
    index (the case's own `risk_types` list is what the pages show)."""

    __tablename__ = "case_risks"
    __table_args__ = (Index("ix_case_risks_risk_case", "risk", "case_id"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    risk: Mapped[str] = mapped_column(String(32), primary_key=True)


# Every list of tasks asks for open ones; an index over open tasks only stays the size of
# the work in hand, and deciding a task takes it out of them instead of moving it within
# each (on PostgreSQL an UPDATE adds no entry to a partial index the new row leaves).
_OPEN = text(f"status = '{TaskStatus.OPEN}'")
OPEN_ONLY: dict[str, Any] = {"sqlite_where": _OPEN, "postgresql_where": _OPEN}  # dialect kwargs


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("case_id", "stage", "round"),
        Index("ix_tasks_status_due", "status", "due_at", **OPEN_ONLY),
        Index("ix_tasks_place_status", "place_id", "status", **OPEN_ONLY),
        # the inbox: tasks handed to one cadre; a role's open tasks, most urgent first
        Index("ix_tasks_assignee_status", "assignee_id", "status", **OPEN_ONLY),
        Index("ix_tasks_role_status_due", "role", "status", "due_at", **OPEN_ONLY),
        Index("ix_tasks_role_status_place_stage", "role", "status", "place_id", "stage",
              **OPEN_ONLY),
        # the supervisors' list, longest in its stage first
        Index("ix_tasks_status_opened", "status", "opened_at", **OPEN_ONLY),
        Index("ix_tasks_awaits_pass", "case_id", sqlite_where=text("awaits_pass"),
              postgresql_where=text("awaits_pass")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # no index of its own: the unique (case_id, stage, round) index starts with it
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    stage: Mapped[str] = mapped_column(String(32))  # a stage key of the case's definition
    round: Mapped[int] = mapped_column(default=1)
    status: Mapped[TaskStatus] = mapped_column(String(16), default=TaskStatus.OPEN)
    role: Mapped[str] = mapped_column(String(32))
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))  # whose jurisdiction
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("cadres.id"))  # paired cadre first
    opened_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime]
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("cadres.id"))
    decided_by_name: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[Verdict | None] = mapped_column(String(16))
    return_to: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Set by the decision, cleared by the procedure's pass that acted on it: a decided task
    # still awaiting its pass is work for the worker and `reconcile`.
    awaits_pass: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    case: Mapped[Case] = relationship(back_populates="tasks")
    place: Mapped[Place] = relationship()


class Objection(Base):
    """An objection (异议) raised during the public notice; an open one blocks the case."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    raised_by: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    raised_at: Mapped[dt.datetime]
    status: Mapped[ObjectionStatus] = mapped_column(String(16), default=ObjectionStatus.OPEN)
    handling: Mapped[str | None] = mapped_column(Text)
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("cadres.id"))
    handled_at: Mapped[dt.datetime | None]
