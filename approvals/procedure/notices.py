"""The public notice (公示): where and when the village posted a case's notice, and the
village's notice as printed for the board.

The period counts from the day the notice went up, so a notice posted after its task opened
ends correspondingly later; it never ends earlier than the period from the task's opening.
The notice then passes by itself (workflows/passes.py) once its period is over with no open
objection; objections are in approvals/procedure/objections.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from approvals.procedure.decisions import already_decided, load_ref
from approvals.procedure.permissions import Actor, ensure_may_act
from approvals.record import audit
from approvals.record.calendar import WorkCalendar, last_day, local_date, start_of_day
from approvals.record.definitions import Level, Stage
from approvals.record.errors import NotAllowed, NotFound, Refused
from approvals.record.models import Case, Household, Member, Place, Task, TaskStatus
from approvals.record.models.cases import parsed_definition


def post_notice(s: Session, task_id: int, actor: Actor, *, posted_on: dt.date, where: str,
                now: dt.datetime, calendar: WorkCalendar) -> dt.datetime:
    """Record the posting; returns the end of the notice period."""
    task = load_ref(s, task_id)
    definition = parsed_definition(s, task.definition_digest)
    ensure_may_act(actor, task, definition.roles[task.role].label)
    if task.stage != Stage.PUBLIC_NOTICE:
        raise Refused("这项任务不是公示环节。")
    if task.status != TaskStatus.OPEN:
        raise already_decided(task)
    if not where.strip():
        raise Refused("请填写张贴地点，如“村民委员会公示栏”。")
    s.execute(select(Case.id).where(Case.id == task.case_id).with_for_update())
    row = s.get_one(Task, task_id)
    if posted_on < local_date(row.opened_at) or posted_on > local_date(now):
        raise Refused("张贴日期应在公示环节开始之后、今天或之前。")
    due_at = max(row.due_at, calendar.due(start_of_day(posted_on),
                                          definition.stage(Stage.PUBLIC_NOTICE).deadline))
    data = {**row.data, "posted_on": posted_on.isoformat(), "where": where.strip(),
            "posted_by": actor.name}
    s.execute(update(Task).where(Task.id == task_id).values(data=data, due_at=due_at))
    audit.append(s, actor=f"cadre:{actor.id}", action="notice.posted", now=now,
                 case_id=task.case_id, payload={"task": task_id, "posted_on":
                                                posted_on.isoformat(), "where": where.strip()})
    return due_at


@dataclass(frozen=True)
class NoticeLine:
    """One household on the printed notice: nothing more than the notice may say."""

    head: str
    group: str
    category: str
    reason: str
    kind: str  # 识别纳入 | 风险消除


@dataclass(frozen=True)
class Notice:
    village: str
    township: str
    starts: dt.date
    ends: dt.date
    lines: list[NoticeLine]
    chain: audit.Head | None = None  # the audit chain's head, printed small at the foot


def village_notice(s: Session, village_id: int, actor: Actor, *, categories: Mapping[str, str],
                   public_reasons: Mapping[str, str]) -> Notice:
    """The village's cases now in 公示, as one notice for the board: the household head's
    name, village group, category and a one-line reason in public words; never an ID
    number, phone, bank account or illness. The audit chain's head goes at its foot, so the
    posted paper anchors the record (approvals.record.audit)."""
    village = s.get(Place, village_id)
    if village is None or village.level != Level.VILLAGE:
        raise NotFound("没有找到这个地方。")
    if not actor.sees(village.path):
        raise NotAllowed("这个地方不在您的管辖范围内。")
    rows = s.execute(
        select(Member.name, Household.group_name, Case.category, Case.risk_types, Case.kind,
               Task.opened_at, Task.due_at, Task.data)
        .join(Case, Case.id == Task.case_id).join(Household, Household.id == Case.household_id)
        .join(Member, (Member.household_id == Household.id) & Member.is_head)
        .where(Case.village_id == village_id, Task.stage == Stage.PUBLIC_NOTICE,
               Task.status == TaskStatus.OPEN)
        .order_by(Household.group_name, Member.name)).all()
    if not rows:
        raise NotFound(f"{village.name}目前没有在公示期的案件。")
    lines = [NoticeLine(
        r.name, r.group_name or "", categories.get(r.category or "", "") if r.kind ==
        "identification" else "风险消除",
        "、".join(dict.fromkeys(public_reasons.get(k, "家庭生活困难") for k in r.risk_types))
        or "收入稳定、风险已消除", "识别纳入" if r.kind == "identification" else "风险消除")
        for r in rows]
    starts = min(dt.date.fromisoformat(r.data["posted_on"]) if (r.data or {}).get("posted_on")
                 else local_date(r.opened_at) for r in rows)
    ends = max(last_day(r.due_at) for r in rows)
    return Notice(village.name, village.parent.name if village.parent else "", starts, ends,
                  lines, audit.head(s))
