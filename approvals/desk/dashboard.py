"""The supervisors' figures (督导): open cases by stage, overdue by place and by cadre, how
long cases sit in their stage, new / decided / overdue per week; and the case list every
figure drills down to, where each stuck case says why in one line.

Everything is counted from open tasks and cases inside the supervisor's jurisdiction
(place ids resolved once, as the inbox does), with GROUP BY in the database.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from approvals.procedure import callbacks, notices
from approvals.procedure.holders import Holders, held_by
from approvals.procedure.permissions import Actor
from approvals.record.calendar import WorkCalendar, local_date, shown_due, start_of_day
from approvals.record.definitions import Stage
from approvals.record.models import (
    Cadre,
    Case,
    CaseRisk,
    CaseStatus,
    Definition,
    Member,
    Objection,
    ObjectionStatus,
    Place,
    Task,
    TaskStatus,
)
from approvals.record.models.cases import parsed_definition

AGES = [(0, 2, "0–2天"), (3, 5, "3–5天"), (6, 10, "6–10天"), (11, 20, "11–20天"),
        (21, 100_000, "20天以上")]
PAGE = 50
COUNT_CAP = 1000
Village, Township = aliased(Place), aliased(Place)


@dataclass(frozen=True)
class Filters:
    place_id: int | None = None  # a township or village inside the jurisdiction
    stage: str | None = None
    overdue: bool = False
    cadre_id: int | None = None  # tasks this cadre holds
    age: int | None = None  # index into AGES
    category: str | None = None
    risk: str | None = None
    source: str | None = None
    opened_from: dt.date | None = None
    opened_to: dt.date | None = None
    sort: str = "due"  # due | opened | age
    page: int = 1


def _scope(s: Session, actor: Actor, place_id: int | None) -> str:
    path = actor.place_path
    if place_id:
        chosen = s.scalar(select(Place.path).where(Place.id == place_id))
        if chosen and chosen.startswith(actor.place_path):
            path = chosen
    return path


def _in_scope(s: Session, path: str) -> Any:
    """Open tasks of cases in the place; with no place outside it, simply the open tasks
    (a county's own database: no join at all)."""
    if s.scalar(select(Place.id).where(~Place.path.startswith(path)).limit(1)) is None:
        return Task.status == TaskStatus.OPEN
    villages = select(Place.id).where(Place.path.startswith(path), Place.level == "village")
    return and_(Task.status == TaskStatus.OPEN,
                Task.case_id.in_(select(Case.id).where(Case.village_id.in_(villages))))


def figures(s: Session, actor: Actor, now: dt.datetime, *, place_id: int | None = None,
            weeks: int = 8) -> dict[str, Any]:
    path = _scope(s, actor, place_id)
    in_scope = _in_scope(s, path)
    late = Task.due_at < now
    by_stage = dict(s.execute(select(Task.stage, func.count()).where(in_scope)
                              .group_by(Task.stage)).tuples().all())
    # overdue by the level below the scope: townships for a county, villages for a township
    level_below = Township if path.count("/") <= 2 else Village
    by_place = s.execute(
        select(level_below.id, level_below.name, func.count())
        .select_from(Task).join(Case, Case.id == Task.case_id)
        .join(Village, Village.id == Case.village_id)
        .join(Township, Township.id == Village.parent_id)
        .where(in_scope, late).group_by(level_below.id, level_below.name)
        .order_by(func.count().desc())).all()
    # who holds the overdue tasks (approvals.procedure.holders), counted per seat and assignee
    overdue = s.execute(select(Task.assignee_id, Task.role, Task.place_id, func.count())
                        .where(in_scope, late)
                        .group_by(Task.assignee_id, Task.role, Task.place_id)).tuples().all()
    cadres = Holders(s.execute(select(Cadre.id, Cadre.name, Cadre.role, Cadre.place_id)
                               .where(Cadre.active)))
    held: Counter[int] = Counter()
    for assignee, role, place, n in overdue:
        for cadre in cadres.of(assignee, role, place):
            held[cadre.id] += n
    by_cadre = sorted(((c, cadres.by_id[c].name, n) for c, n in held.items()),
                      key=lambda r: (-r[2], r[0]))[:10]
    today = local_date(now)
    ages = list(s.execute(select(*(
        func.count().filter(Task.opened_at < start_of_day(today - dt.timedelta(days=lo - 1)),
                            Task.opened_at >= start_of_day(today - dt.timedelta(days=hi)))
        for lo, hi, _ in AGES)).where(in_scope)).one())
    return {"by_stage": by_stage, "by_place": [tuple(r) for r in by_place],
            "by_cadre": by_cadre, "ages": ages,
            "weekly": _weekly(s, path, now, weeks), "total": sum(by_stage.values()),
            "overdue": sum(n for _, _, n in by_place),
            # farmers waiting for a call (转人工): not cases, so counted beside them
            "callbacks": callbacks.counts(s, path, now)}


def _weekly(s: Session, path: str, now: dt.datetime, weeks: int
            ) -> list[tuple[dt.date, int, int, int]]:
    """(the week's Monday, new cases, decided cases, tasks that went overdue) for the last
    weeks."""
    monday = local_date(now) - dt.timedelta(days=local_date(now).weekday())
    starts = [monday - dt.timedelta(weeks=w) for w in range(weeks - 1, -1, -1)]
    since = start_of_day(starts[0])
    in_place = Case.village_id.in_(select(Place.id).where(Place.path.startswith(path)))

    bounds = [(start_of_day(d), start_of_day(d + dt.timedelta(days=7))) for d in starts]

    def per_week(column: Any, *where: Any) -> list[int]:
        return list(s.execute(select(*(func.count().filter(column >= lo, column < hi)
                                       for lo, hi in bounds))
                              .select_from(Case).where(in_place, column >= since, *where)
                              ).one())

    new = per_week(Case.opened_at)
    decided = per_week(Case.closed_at, Case.status != CaseStatus.WITHDRAWN)
    overdue = list(s.execute(select(*(func.count().filter(Task.due_at >= lo, Task.due_at < hi)
                                      for lo, hi in bounds))
                             .select_from(Task).join(Case, Case.id == Task.case_id)
                             .where(in_place, Task.due_at >= since, Task.due_at < now,
                                    or_(Task.decided_at.is_(None),
                                        Task.decided_at > Task.due_at))).one())
    return [(d, new[i], decided[i], overdue[i]) for i, d in enumerate(starts)]


@dataclass(frozen=True)
class Row:
    case_id: int
    number: str
    head: str
    village: str
    township: str
    stage_label: str
    opened_on: dt.date
    due_at: dt.datetime  # shown as every deadline is (calendar.shown_due)
    overdue: bool
    why: str  # the one line: who holds it since when, what is missing, which deadline passed


def cases(s: Session, actor: Actor, now: dt.datetime, calendar: WorkCalendar, filters: Filters,
          role_labels: dict[str, str]) -> tuple[list[Row], int]:
    """One page of open cases and how many there are, with the stuck ones explained; each
    case's stage as its own definition names it."""
    path = _scope(s, actor, filters.place_id)
    q = (select(Task.id, Task.case_id, Task.stage, Task.role, Task.opened_at, Task.due_at,
                Task.assignee_id, Task.place_id, Case.opened_at.label("case_opened"),
                Member.name.label("head"), Village.name.label("village"),
                Township.name.label("township"), Definition.digest, Task.data)
         .join(Case, Case.id == Task.case_id)
         .join(Definition, Definition.id == Case.definition_id)
         .join(Village, Village.id == Case.village_id)
         .join(Township, Township.id == Village.parent_id)
         .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
         .where(Task.status == TaskStatus.OPEN, Case.status == CaseStatus.OPEN,
                Village.path.startswith(path)))
    if filters.stage:
        q = q.where(Task.stage == filters.stage)
    if filters.overdue:
        q = q.where(Task.due_at < now)
    if filters.cadre_id:
        cadre = s.execute(select(Cadre.id, Cadre.role, Cadre.place_id)
                          .where(Cadre.id == filters.cadre_id)).one_or_none()
        q = q.where(held_by(cadre) if cadre else false())
    if filters.age is not None and 0 <= filters.age < len(AGES):
        lo, hi, _ = AGES[filters.age]
        today = local_date(now)
        q = q.where(Task.opened_at < start_of_day(today - dt.timedelta(days=lo - 1)),
                    Task.opened_at >= start_of_day(today - dt.timedelta(days=min(hi, 9999))))
    if filters.category:
        q = q.where(Case.category == filters.category)
    if filters.source:
        q = q.where(Case.source == filters.source)
    if filters.opened_from:
        q = q.where(Case.opened_at >= start_of_day(filters.opened_from))
    if filters.opened_to:
        q = q.where(Case.opened_at < start_of_day(filters.opened_to + dt.timedelta(days=1)))
    order = {"opened": (Case.opened_at, Task.id), "age": (Task.opened_at, Task.id)}.get(
        filters.sort, (Task.due_at, Task.id))
    if filters.risk:
        q = q.where(Case.id.in_(select(CaseRisk.case_id).where(CaseRisk.risk == filters.risk)))
    # counted up to COUNT_CAP: past it the list says "1000+" (a million open cases would
    # otherwise be counted on every page)
    total = s.scalar(select(func.count()).select_from(
        q.with_only_columns(Task.id).limit(COUNT_CAP + 1).subquery())) or 0
    rows = s.execute(q.order_by(*order).limit(PAGE).offset((filters.page - 1) * PAGE)).all()
    objections = set(s.scalars(select(Objection.case_id).where(
        Objection.case_id.in_([r.case_id for r in rows]),
        Objection.status == ObjectionStatus.OPEN)))
    cadres = Holders.read(s, places={r.place_id for r in rows},
                          assignees={r.assignee_id for r in rows})
    out = []
    for r in rows:
        late = r.due_at < now
        who = "、".join(c.name for c in cadres.of(r.assignee_id, r.role, r.place_id)) or "无人在岗"
        since = local_date(r.opened_at)
        why = f"{who}（{role_labels.get(r.role, r.role)}）自{since.month}月{since.day}日起办理"
        if r.case_id in objections:
            why += "，有未处理的公示异议"
        elif r.stage == Stage.PUBLIC_NOTICE and not notices.posted(r.data):
            why += "，公示尚未登记张贴"  # never passes until it is: overdue when late
        elif r.stage == Stage.PUBLIC_NOTICE and late:
            why += "，公示期已满待系统推进"
        if late:
            days = -calendar.working_days_left(r.due_at, now)
            why += f"，{shown_due(r.due_at)}的期限已过{days}个工作日"
        out.append(Row(r.case_id, f"{r.case_opened.year}{r.case_id:06d}", r.head, r.village,
                       r.township, parsed_definition(s, r.digest).stage(r.stage).label,
                       local_date(r.case_opened), r.due_at, late, why))
    return out, total


def places(s: Session, actor: Actor) -> list[tuple[int, str, str]]:
    return list(s.execute(select(Place.id, Place.name, Place.level).where(
        Place.path.startswith(actor.place_path), Place.path != actor.place_path)
        .order_by(Place.path)).tuples())

