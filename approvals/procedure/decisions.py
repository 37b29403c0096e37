"""Deciding a stage task: approve, reject with a reason, or return to a named earlier stage.

One decision per task: the write is `UPDATE tasks ... WHERE id = :id AND status = 'open'`,
so of two decisions at the same moment exactly one changes a row; the other is told, in
Chinese, who decided first. The same write marks the task as awaiting its procedure's pass
and appends the audit row; the workflow (workflows/) opens the next stage from that record.

This is the hottest path of the system (every tap of every cadre), so it runs on a Core
connection (`scope()`), reads one joined row and writes with Core statements, never loading the
ORM graph. On PostgreSQL the write is one statement (the UPDATE and the audit INSERT in a CTE)
run as its own transaction: with the page's read of the signed-in cadre and the task in one
statement (`signed_in_at`, which also checks the sign-in's session epoch), a decision is two
round trips to the server. A county enrolment's paired cadre is checked by a guard of the
same write (`_PAIRABLE`), so it costs no round trip either. Callers already in
a session (a batch, an objection) pass it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    Executable,
    Update,
    bindparam,
    exists,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, aliased

from approvals.procedure import stages
from approvals.procedure.permissions import SIGNED_IN, Actor, ensure_may_act
from approvals.record import audit
from approvals.record.calendar import LOCAL
from approvals.record.db import connection_of
from approvals.record.definitions import Definition as DefinitionBody
from approvals.record.errors import AlreadyDecided, NotFound, Refused
from approvals.record.models import (
    Cadre,
    Case,
    CaseKind,
    CaseStatus,
    Definition,
    Place,
    Task,
    TaskStatus,
    Verdict,
)
from approvals.record.models.cases import case_number, parsed_definition
from approvals.record.wording import REJECTION

# a screening case's household hears of it only after this visit, so only the photo serves
# there; a case a cadre filed may be confirmed in the chat too
CONSENT_PENDING = ("农户尚未确认《监测对象申请及承诺授权查询书》，暂不能通过：请在本页上传农户"
                   "签字的授权书照片（干部代为申报的，也可请农户在微信中回复「确认授权」）。")
VERDICT_LABELS = {Verdict.APPROVED: "通过", Verdict.RETURNED: "退回"}


def verdict_label(verdict: Verdict | str, kind: str) -> str:
    """A stage's verdict in words; a rejection by its procedure's one name for it."""
    if verdict == Verdict.REJECTED:
        return REJECTION[kind]
    return VERDICT_LABELS[Verdict(verdict)]


class TaskRef(NamedTuple):
    """One task with what deciding it needs to know of its case and place."""

    id: int
    case_id: int
    stage: str
    status: TaskStatus
    role: str
    assignee_id: int | None
    verdict: Verdict | None
    decided_at: dt.datetime | None
    decided_by_name: str | None
    place_path: str
    case_status: CaseStatus
    case_stage: str | None
    case_kind: CaseKind
    definition_digest: str
    case_opened_at: dt.datetime
    consent_pending: bool = False  # a cadre-filed case the household has not confirmed yet


@dataclass(frozen=True)
class Decided:
    task_id: int
    case_id: int
    case_number: str
    case_kind: CaseKind
    stage: str
    verdict: Verdict
    stage_label: str  # as the case's own definition names it


# Built once: constructing statements costs more than running them on this path.
_LOAD_REF = (
    select(Task.id, Task.case_id, Task.stage, Task.status, Task.role, Task.assignee_id,
           Task.verdict, Task.decided_at, Task.decided_by_name, Place.path, Case.status,
           Case.stage, Case.kind, Definition.digest, Case.opened_at, Case.consent_pending)
    .join(Case, Case.id == Task.case_id).join(Place, Place.id == Task.place_id)
    .join(Definition, Definition.id == Case.definition_id)
    .where(Task.id == bindparam("task_id")))
_TASKS = Task.__table__
_VILLAGE = aliased(Place)
# A county enrolment's paired cadre: active, of a role that may be paired, in the household's
# jurisdiction (holding its village or within it). A guard of the write itself, so that the
# decision costs no read for it; `_check_pairing` says what is wrong when the write is refused.
_PAIRABLE = exists().where(
    Cadre.id == bindparam("paired_cadre_id"), Cadre.active,
    Cadre.role.in_(bindparam("pairable", expanding=True)), Place.id == Cadre.place_id,
    Case.id == _TASKS.c.case_id, _VILLAGE.id == Case.village_id,
    or_(Place.path.startswith(_VILLAGE.path), _VILLAGE.path.startswith(Place.path)))


def _writes(*guards: ColumnElement[bool]) -> tuple[Update, Executable]:
    """The guarded UPDATE and, for PostgreSQL, the same with the audit row in one statement
    (a CTE, one round trip instead of two): the row is inserted only if the UPDATE changed
    the task."""
    decide = (update(_TASKS)
              .where(_TASKS.c.id == bindparam("task_id"), _TASKS.c.status == TaskStatus.OPEN,
                     *guards)
              .values(status=TaskStatus.DECIDED, awaits_pass=True,
                      **{c: bindparam(f"new_{c}", type_=_TASKS.c[c].type) for c in (
                          "verdict", "reason", "return_to", "data", "decided_at", "decided_by",
                          "decided_by_name")}))
    decided = decide.returning(_TASKS.c.case_id).cte("decided")
    and_log = (insert(audit.LOG).from_select(
        ["at", "actor", "action", "case_id", "payload"],
        select(bindparam("new_decided_at", type_=audit.LOG.c.at.type), bindparam("actor_ref"),
               bindparam("action"), decided.c.case_id,
               bindparam("payload", type_=audit.LOG.c.payload.type)))
    ).execution_options(preserve_rowcount=True)  # an INSERT's rowcount is kept only when asked
    return decide, and_log


_DECIDE, _DECIDE_AND_LOG = _writes()
_DECIDE_PAIRED, _DECIDE_PAIRED_AND_LOG = _writes(_PAIRABLE)


# The phone page's POST reads the signed-in cadre (with whom they stand in for) and the task
# in one round trip: every actor row carries the task's columns.
_ACTOR, _REF = SIGNED_IN.subquery(), _LOAD_REF.subquery()
_SIGNED_IN_AT = (select(_ACTOR, _REF).select_from(_ACTOR.outerjoin(_REF, true()))
                 .order_by(_ACTOR.c.rank))
_AT = len(_ACTOR.c)  # where the task's columns begin

NO_TASK = "没有找到这项任务，可能已被撤销。"


def load_ref(s: Session | Connection, task_id: int) -> TaskRef:
    row = connection_of(s).execute(_LOAD_REF, {"task_id": task_id}).one_or_none()
    if row is None:
        raise NotFound(NO_TASK)
    return TaskRef._make(row)


def signed_in_at(s: Session | Connection, cadre_id: int, today: dt.date, task_id: int,
                 epoch: int | None = None) -> tuple[Actor | None, TaskRef | None]:
    """The signed-in cadre (`Actor.signed_in`, None if not found or if the sign-in of
    `epoch` has ended) and the task (None if not found), in one statement: the decision
    POST's whole read."""
    rows = connection_of(s).execute(_SIGNED_IN_AT, {"cadre_id": cadre_id, "today": today,
                                                    "task_id": task_id, "epoch": epoch}).all()
    task = TaskRef(*rows[0][_AT:]) if rows and rows[0][_AT] is not None else None
    return Actor.of_rows(rows), task


def already_decided(task: TaskRef) -> AlreadyDecided:
    when = task.decided_at.astimezone(LOCAL).strftime("%m月%d日 %H:%M") if task.decided_at else ""
    verdict = verdict_label(task.verdict, task.case_kind) if task.verdict else "处理"
    who = task.decided_by_name or "其他人员"
    return AlreadyDecided(f"这项任务已由{who}于{when}办理（{verdict}），无需重复操作。")


def decide(s: Session | Connection, task: int | TaskRef, actor: Actor, verdict: Verdict, *,
           now: dt.datetime, reason: str = "", return_to: str | None = None,
           data: dict[str, Any] | None = None) -> Decided:
    """Decide the task (its id, or its row if the caller has just read it for the form)."""
    if not isinstance(task, TaskRef):
        task = load_ref(s, task)
    definition = parsed_definition(s, task.definition_digest)
    ensure_may_act(actor, task, definition.roles[task.role].label)
    if task.status != TaskStatus.OPEN:
        raise already_decided(task)
    if task.case_status != CaseStatus.OPEN or task.case_stage != task.stage:
        raise Refused("这个案件目前不在该环节，不能办理。")
    reason, data = (reason or "").strip(), data or {}
    match verdict:
        case Verdict.APPROVED if task.consent_pending:
            raise Refused(CONSENT_PENDING)
        case Verdict.APPROVED:
            stage = stages.of(task.stage)
            data = stage.against_case(s, task.case_id, definition,
                                      stage.check(definition, data))
        case Verdict.REJECTED if not reason:
            raise Refused(f"{REJECTION[definition.kind]}时必须填写理由，农户会收到这一理由。")
        case Verdict.REJECTED:
            data = stages.of(task.stage).check_rejection(definition, data)
        case Verdict.RETURNED:
            if return_to not in definition.procedure.stages:  # none chosen, or not a stage
                return_to = None
            _check_return(s, task, definition, return_to, reason)
    conn = connection_of(s)
    params: dict[str, Any] = {  # the prebuilt statements' bound values
        "task_id": task.id, "new_verdict": verdict, "new_reason": reason or None,
        "new_return_to": return_to if verdict == Verdict.RETURNED else None,
        "new_data": data, "new_decided_at": now, "new_decided_by": actor.id,
        "new_decided_by_name": actor.name, "actor_ref": f"cadre:{actor.id}",
        "action": f"decide.{verdict}",
        "payload": {"task": task.id, "stage": task.stage, "reason": reason,
                    "return_to": return_to}}
    paired = verdict == Verdict.APPROVED and "paired_cadre_id" in data
    if paired:
        params |= {"paired_cadre_id": data["paired_cadre_id"],
                   "pairable": [k for k, r in definition.roles.items() if r.may_be_paired]}
    if conn.dialect.name == "postgresql":
        changed = conn.execute(_DECIDE_PAIRED_AND_LOG if paired else _DECIDE_AND_LOG,
                               params).rowcount
    elif changed := conn.execute(_DECIDE_PAIRED if paired else _DECIDE, params).rowcount:
        audit.append(conn, actor=params["actor_ref"], action=params["action"], now=now,
                     case_id=task.case_id, payload=params["payload"])
    if changed != 1:
        now_ref = load_ref(s, task.id)
        if paired and now_ref.status == TaskStatus.OPEN:
            _check_pairing(s, task, data["paired_cadre_id"], definition)
        raise already_decided(now_ref)
    return Decided(task.id, task.case_id, case_number(task.case_id, task.case_opened_at),
                   CaseKind(task.case_kind), task.stage, verdict,
                   definition.stage(task.stage).label)


_PAIRING = (select(Cadre.role, Cadre.active, Place.path.label("cadre_path"),
                   select(_VILLAGE.path).join(Case, Case.village_id == _VILLAGE.id)
                   .where(Case.id == bindparam("case_id")).scalar_subquery()
                   .label("village_path"))
            .join(Place, Place.id == Cadre.place_id).where(Cadre.id == bindparam("cadre_id")))


def _check_pairing(s: Session | Connection, task: TaskRef, cadre_id: int,
                   definition: DefinitionBody) -> None:
    """Why the write refused a county enrolment's paired cadre (`_PAIRABLE`): not an active
    cadre, of a role that may not be paired, or outside the household's jurisdiction (the
    rule a pairings import applies)."""
    row = connection_of(s).execute(_PAIRING, {"cadre_id": cadre_id,
                                               "case_id": task.case_id}).one_or_none()
    if row is None or not row.active:
        raise Refused("「帮扶联系人」没有找到这位在岗人员，请重新选择。")
    role = definition.roles.get(row.role)
    if role is None or not role.may_be_paired:
        pairable = "、".join(r.label for r in definition.roles.values() if r.may_be_paired)
        raise Refused(f"「帮扶联系人」应为{pairable}，请重新选择。")
    if not (row.cadre_path.startswith(row.village_path)
            or row.village_path.startswith(row.cadre_path)):
        raise Refused("「帮扶联系人」不在该户所在辖区，请重新选择。")
    raise Refused("「帮扶联系人」无法与该户结对，请重新选择。")


def _check_return(s: Session | Connection, task: TaskRef, definition: DefinitionBody,
                  return_to: str | None, reason: str) -> None:
    """A return goes to a stage this case has passed, earlier in its own procedure."""
    if return_to is None:
        raise Refused("退回时请选择退回到哪个环节。")
    if not reason:
        raise Refused("退回时必须写明需要补充或修改的内容。")
    passed = s.scalar(select(Task.id).where(
        Task.case_id == task.case_id, Task.stage == return_to,
        Task.status == TaskStatus.DECIDED, Task.verdict == Verdict.APPROVED))
    if not definition.earlier(return_to, task.stage) or passed is None:
        label = definition.stage(return_to).label
        raise Refused(f"只能退回到本案已经办理过的前面环节，不能退回到“{label}”。")
