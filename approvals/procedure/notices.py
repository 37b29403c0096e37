"""The public notice (公示): where and when the village posted a case's notice, and the
village's notice as printed for the board.

A notice is real only once the village records its posting: where, on what day, and a photo
of it on the board. Until then its task's due date is the stage's deadline from its opening
(the time the village has to post it): past it the task is overdue like any other, and it
never passes, however long it waits. Recording the posting starts the household's own period:
from the day it starts (the posting day, or a later day the village names, never an earlier
one), the stage's deadline in the case's definition (config.yaml's `public_notice`), and the
task's due date becomes the period's end. The notice then passes by itself
(workflows/passes.py `_end_notice_if_due`) once that period is over with no open objection;
objections are in approvals/procedure/objections.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased

from approvals.procedure.decisions import already_decided, load_ref
from approvals.procedure.permissions import Actor, ensure_may_act
from approvals.record import audit
from approvals.record.calendar import WorkCalendar, last_day, local_date, start_of_day
from approvals.record.definitions import Level, Stage
from approvals.record.errors import NotAllowed, NotFound, Refused
from approvals.record.models import Case, Household, Member, Place, Task, TaskStatus
from approvals.record.models import Definition as DefinitionRow
from approvals.record.models.cases import parsed_definition


def posted(data: Mapping[str, Any] | None) -> bool:
    """Whether a 公示 task's posting is recorded (its data, as `post_notice` writes it); the
    pass and `reconcile` ask the same of the row (workflows/)."""
    return bool((data or {}).get("posted_on"))


def post_notice(s: Session, task_id: int, actor: Actor, *, posted_on: dt.date, where: str,
                photos: Sequence[str], now: dt.datetime, calendar: WorkCalendar,
                starts_on: dt.date | None = None) -> dt.datetime:
    """Record the posting (where, the day, the photos' names as stored) and start the
    household's period on `starts_on` (the posting day if not given); returns its end."""
    task = load_ref(s, task_id)
    definition = parsed_definition(s, task.definition_digest)
    ensure_may_act(actor, task, definition.roles[task.role].label)
    if task.stage != Stage.PUBLIC_NOTICE:
        raise Refused("这项任务不是公示环节。")
    if task.status != TaskStatus.OPEN:
        raise already_decided(task)
    if not where.strip():
        raise Refused("请填写张贴地点，如“村民委员会公示栏”。")
    if not photos:
        raise Refused("请拍一张公示张贴在公示栏上的照片一并上传。")
    starts_on = starts_on or posted_on
    s.execute(select(Case.id).where(Case.id == task.case_id).with_for_update())
    row = s.get_one(Task, task_id)
    if posted(row.data):
        raise Refused("这份公示已经登记过张贴，公示期不能重新开始。")
    if posted_on < local_date(row.opened_at) or posted_on > local_date(now):
        raise Refused("张贴日期应在公示环节开始之后、今天或之前。")
    if starts_on < posted_on:
        raise Refused("公示期不能早于张贴日期开始：公示从张贴之日起计算。")
    period = definition.stage(Stage.PUBLIC_NOTICE).deadline
    due_at = calendar.due(start_of_day(starts_on), period)
    late = now > row.due_at  # posted after the deadline it had: the record keeps that
    data = {**row.data, "posted_on": posted_on.isoformat(), "starts_on": starts_on.isoformat(),
            "where": where.strip(), "posted_by": actor.name,
            "photos": [*row.data.get("photos", []), *photos], "posted_late": late}
    s.execute(update(Task).where(Task.id == task_id).values(data=data, due_at=due_at))
    audit.append(s, actor=f"cadre:{actor.id}", action="notice.posted", now=now,
                 case_id=task.case_id, payload={
                     "task": task_id, "posted_on": posted_on.isoformat(),
                     "starts_on": starts_on.isoformat(), "where": where.strip(),
                     "ends_on": last_day(due_at).isoformat(), "late": late})
    return due_at


@dataclass(frozen=True)
class NoticeLine:
    """One household on the printed notice: nothing more than the notice may say."""

    head: str
    group: str
    category: str
    reason: str
    kind: str  # 识别纳入 | 风险消除
    starts: dt.date | None  # its own period; None until its posting is recorded
    ends: dt.date | None
    period: str  # the period's length as the definition says it, e.g. 5天, 5个工作日


@dataclass(frozen=True)
class Notice:
    village: str
    township: str
    lines: list[NoticeLine]
    chain: audit.Head | None = None  # the audit chain's head, printed small at the foot


def village_notice(s: Session, village_id: int, actor: Actor, *, categories: Mapping[str, str],
                   public_reasons: Mapping[str, str]) -> Notice:
    """The village's cases now in 公示, as one notice for the board: the household head's
    name, village group, category, a one-line reason in public words and each household's
    own period (from its posting; "from the day it is posted" while unposted); never an ID
    number, phone, bank account or illness. The audit chain's head goes at its foot, so the
    posted paper anchors the record (approvals.record.audit)."""
    village = s.get(Place, village_id)
    if village is None or village.level != Level.VILLAGE:
        raise NotFound("没有找到这个地方。")
    if not actor.sees(village.path):
        raise NotAllowed("这个地方不在您的管辖范围内。")
    rows = s.execute(
        select(Member.name, Household.group_name, Case.category, Case.risk_types, Case.kind,
               Task.opened_at, Task.due_at, Task.data, DefinitionRow.digest)
        .join(Case, Case.id == Task.case_id)
        .join(DefinitionRow, DefinitionRow.id == Case.definition_id)
        .join(Household, Household.id == Case.household_id)
        .join(Member, (Member.household_id == Household.id) & Member.is_head)
        .where(Case.village_id == village_id, Task.stage == Stage.PUBLIC_NOTICE,
               Task.status == TaskStatus.OPEN)
        .order_by(Household.group_name, Member.name)).all()
    if not rows:
        raise NotFound(f"{village.name}目前没有在公示期的案件。")
    lines = []
    for r in rows:
        is_posted = posted(r.data)
        deadline = parsed_definition(s, r.digest).stage(Stage.PUBLIC_NOTICE).deadline
        lines.append(NoticeLine(
            r.name, r.group_name or "", categories.get(r.category or "", "") if r.kind ==
            "identification" else "风险消除",
            "、".join(dict.fromkeys(public_reasons.get(k, "家庭生活困难") for k in r.risk_types))
            or "收入稳定、风险已消除", "识别纳入" if r.kind == "identification" else "风险消除",
            dt.date.fromisoformat(r.data.get("starts_on") or r.data["posted_on"])
            if is_posted else None,
            last_day(r.due_at) if is_posted else None,
            f"{deadline.days}{'个工作日' if deadline.unit == 'working' else '天'}"))
    return Notice(village.name, village.parent.name if village.parent else "", lines,
                  audit.head(s))


@dataclass(frozen=True)
class OnNotice:
    """A village with households in 公示 now: what the list of notices shows of it."""

    village_id: int
    village: str
    township: str
    households: int


def on_notice(s: Session, actor: Actor) -> list[OnNotice]:
    """The villages of the cadre's jurisdiction (and of whom they stand in for) with
    households in 公示, by township and village: each one's notice is a tap away, by name."""
    village, township = aliased(Place), aliased(Place)
    rows = s.execute(
        select(village.id, village.name, township.name, func.count())
        .select_from(Task).join(Case, Case.id == Task.case_id)
        .join(village, village.id == Case.village_id)
        .join(township, township.id == village.parent_id)
        .where(Task.stage == Stage.PUBLIC_NOTICE, Task.status == TaskStatus.OPEN,
               or_(*(village.path.startswith(p.place_path) for p in actor.principals)))
        .group_by(village.id, village.name, village.path, township.name)
        .order_by(village.path)).all()
    return [OnNotice(*r) for r in rows]
