"""Deciding a stage task: approve, reject with a reason, or return to a named earlier stage.

One decision per task: the write is `UPDATE tasks ... WHERE id = :id AND status = 'open'`,
so of two decisions at the same moment exactly one changes a row; the other is told, in
Chinese, who decided first. The same transaction marks the case for advancement and
appends the audit row; the workflow (workflows/) opens the next stage from that record.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from approvals import audit, forms
from approvals.calendar import LOCAL
from approvals.definitions import Stage
from approvals.errors import AlreadyDecided, NotFound, Refused
from approvals.models import Cadre, Case, CaseStatus, Task, TaskStatus, Verdict
from approvals.permissions import ensure_may_act

VERDICT_LABELS = {Verdict.APPROVED: "通过", Verdict.REJECTED: "不通过", Verdict.RETURNED: "退回"}


def already_decided(task: Task) -> AlreadyDecided:
    when = task.decided_at.astimezone(LOCAL).strftime("%m月%d日 %H:%M") if task.decided_at else ""
    verdict = VERDICT_LABELS.get(task.verdict, "处理") if task.verdict else "处理"
    who = task.decided_by_name or "其他人员"
    return AlreadyDecided(f"这项任务已由{who}于{when}办理（{verdict}），无需重复操作。")


def decide(s: Session, task_id: int, actor: Cadre, verdict: Verdict, *, now: dt.datetime,
           reason: str = "", return_to: Stage | None = None,
           data: dict[str, Any] | None = None) -> Task:
    task = s.scalars(
        select(Task).where(Task.id == task_id)
        .options(joinedload(Task.case).joinedload(Case.definition), joinedload(Task.place))
    ).one_or_none()
    if task is None:
        raise NotFound("没有找到这项任务，可能已被撤销。")
    case = task.case
    definition = case.definition.parsed()
    ensure_may_act(actor, task, definition.roles[task.role].label)
    if task.status != TaskStatus.OPEN:
        raise already_decided(task)
    if case.status != CaseStatus.OPEN or case.stage != task.stage:
        raise Refused("这个案件目前不在该环节，不能办理。")
    if task.stage == Stage.PUBLIC_NOTICE and verdict == Verdict.APPROVED:
        raise Refused("公示期满且没有未处理的异议时，系统自动进入下一环节，无需手动通过。")
    reason = (reason or "").strip()
    match verdict:
        case Verdict.APPROVED:
            data = forms.check(definition, task.stage, data or {})
        case Verdict.REJECTED if not reason:
            raise Refused("不通过时必须填写理由，农户会收到这一理由。")
        case Verdict.RETURNED:
            _check_return(s, task, return_to, reason, definition.stage)
    values = dict(status=TaskStatus.DECIDED, verdict=verdict, reason=reason or None,
                  return_to=return_to if verdict == Verdict.RETURNED else None,
                  data=data or {}, decided_at=now, decided_by=actor.id,
                  decided_by_name=actor.name)
    changed = s.execute(
        update(Task).where(Task.id == task.id, Task.status == TaskStatus.OPEN).values(**values)
    ).rowcount
    if changed != 1:
        s.refresh(task)
        raise already_decided(task)
    s.execute(update(Case).where(Case.id == case.id).values(pending_since=now))
    audit.append(s, actor=f"cadre:{actor.id}", action=f"decide.{verdict}", now=now,
                 case_id=case.id, payload={"task": task.id, "stage": task.stage, "reason": reason,
                                           "return_to": return_to})
    s.expire(task)
    return task


def _check_return(s: Session, task: Task, return_to: Stage | None, reason: str, stage_def) -> None:
    if return_to is None:
        raise Refused("退回时请选择退回到哪个环节。")
    if not reason:
        raise Refused("退回时必须写明需要补充或修改的内容。")
    passed = s.scalar(select(Task.id).where(
        Task.case_id == task.case_id, Task.stage == return_to,
        Task.status == TaskStatus.DECIDED, Task.verdict == Verdict.APPROVED))
    if list(Stage).index(return_to) >= list(Stage).index(task.stage) or passed is None:
        label = stage_def(return_to).label
        raise Refused(f"只能退回到本案已经办理过的前面环节，不能退回到“{label}”。")
