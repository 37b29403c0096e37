"""Objections (异议) during the public notice: recorded by a village cadre, then handled.

An open objection keeps the case in 公示 past the end of the period. A substantiated one
sends the case back to 入户核实; a dismissed one lets the notice end as usual. What the
village found (`handling`) stays with the objection and the cadres' timeline: the household
hears only the outcome, in wording the system writes (notifications/wording.py
`objection_upheld`); a dismissed objection is not announced to it at all (it hears the notice
passed, as for any notice).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from approvals.procedure.decisions import TaskRef, decide, load_ref
from approvals.procedure.permissions import Actor, ensure_may_act
from approvals.record import audit
from approvals.record.db import rowcount
from approvals.record.definitions import Stage
from approvals.record.errors import AlreadyDecided, NotFound, Refused
from approvals.record.models import Case, Objection, ObjectionStatus, Task, TaskStatus, Verdict

UPHELD = "公示期间异议经调查核实属实，重新入户核实"  # the return's reason, as the timeline shows it


def _notice_task(s: Session, case_id: int) -> Task:
    task = s.scalar(select(Task).where(Task.case_id == case_id, Task.stage == Stage.PUBLIC_NOTICE,
                                       Task.status == TaskStatus.OPEN))
    if task is None:
        raise Refused("这个案件不在公示期内，不能登记异议。")
    return task


def _role_label(s: Session, task: TaskRef) -> str:
    """Who records the notice's objections, as its case's definition labels the role."""
    return s.get_one(Case, task.case_id).definition.parsed().roles[task.role].label


def raise_objection(s: Session, case_id: int, actor: Actor, *, raised_by: str, content: str,
                    now: dt.datetime) -> Objection:
    # lock the case as a pass does, so a notice cannot end while its objection is recorded
    s.execute(select(Case.id).where(Case.id == case_id).with_for_update())
    task = _notice_task(s, case_id)
    ref = load_ref(s, task.id)
    ensure_may_act(actor, ref, _role_label(s, ref))
    if not content.strip() or not raised_by.strip():
        raise Refused("请填写异议人和异议内容。")
    objection = Objection(case_id=case_id, task_id=task.id, raised_by=raised_by.strip(),
                          content=content.strip(), recorded_by=actor.id, raised_at=now)
    s.add(objection)
    s.flush()
    audit.append(s, actor=f"cadre:{actor.id}", action="objection.raise", now=now, case_id=case_id,
                 payload={"objection": objection.id})
    return objection


def handle_objection(s: Session, objection_id: int, actor: Actor, *, substantiated: bool,
                     handling: str, now: dt.datetime) -> Objection:
    objection = s.get(Objection, objection_id)
    if objection is None:
        raise NotFound("没有找到这条异议。")
    task = load_ref(s, objection.task_id)
    ensure_may_act(actor, task, _role_label(s, task))
    if not handling.strip():
        raise Refused("请写明异议的调查核实情况。")
    status = ObjectionStatus.SUBSTANTIATED if substantiated else ObjectionStatus.DISMISSED
    changed = rowcount(s.execute(update(Objection).where(
        Objection.id == objection_id, Objection.status == ObjectionStatus.OPEN
    ).values(status=status, handling=handling.strip(), handled_by=actor.id,
             handled_at=now)))
    if changed != 1:
        raise AlreadyDecided("这条异议已经处理过了。")
    # the handling is for the cadres (the timeline shows it), never for the household: it
    # can name the objector. The return's reason is the system's, and the household is told
    # the outcome in its own words (workflows/passes.py send_back, event objection_upheld).
    audit.append(s, actor=f"cadre:{actor.id}", action=f"objection.{status}", now=now,
                 case_id=objection.case_id, payload={"objection": objection_id,
                                                     "reason": handling.strip()})
    if substantiated:
        decide(s, task, actor, Verdict.RETURNED, now=now, return_to=Stage.HOME_VERIFICATION,
               reason=UPHELD)
    else:
        s.execute(update(Case).where(Case.id == objection.case_id).values(pending_since=now))
    s.refresh(objection)
    return objection
