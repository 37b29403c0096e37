"""A cadre's inbox: the open tasks they hold, most urgent first, with counts per stage.

A task is someone's when it was handed to them (`assignee_id`: the paired cadre for 入户核实,
or a transfer), or when it waits for their role in their jurisdiction and was not handed to
another cadre of that role. A stand-in (代理) also sees the tasks of whom they stand in for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from approvals.calendar import WorkCalendar, last_day, local_date
from approvals.definitions import Stage
from approvals.models import Cadre, Case, Definition, Member, Place, Task, TaskStatus
from approvals.models.cases import parsed_definition
from approvals.permissions import Actor

PAGE = 50
Holder = aliased(Cadre)
Village = aliased(Place)


@dataclass(frozen=True)
class Filters:
    village_id: int | None = None
    stage: Stage | None = None
    search: str = ""  # the start of the head's name, or a case number


@dataclass(frozen=True)
class Item:
    task_id: int
    case_id: int
    number: str
    stage: Stage
    stage_label: str
    village: str
    head: str
    due_at: dt.datetime
    last_day: dt.date
    urgency: str  # "overdue" | "soon" | "ok"
    working_days_left: int  # negative: working days late
    held_by: str | None  # whom it was handed to, when not the viewer
    for_whom: str | None  # the colleague a stand-in acts for


class Seats:
    """Where each of the actor's posts reaches, resolved once per request: the place ids of
    the jurisdiction and the cadres of the same post (a task handed to one of them is theirs).
    Filtering tasks by these ids keeps the queries on indexes at a million cases."""

    def __init__(self, s: Session, actor: Actor) -> None:
        self.posts = []
        for who in (actor, *actor.stands_for):
            places = s.scalars(select(Place.id).where(Place.path.startswith(who.place_path)))
            peers = s.scalars(select(Cadre.id).where(Cadre.role == who.role, Cadre.id != who.id))
            self.posts.append((who, list(places), list(peers)))

    def mine(self) -> Any:
        return or_(*(or_(Task.assignee_id == who.id,
                         and_(Task.role == who.role, Task.place_id.in_(places),
                              or_(Task.assignee_id.is_(None), Task.assignee_id.not_in(peers))))
                     for who, places, peers in self.posts))


def _filtered(q: Select[Any], seats: Seats, filters: Filters, stage: bool = True
              ) -> Select[Any]:
    q = q.where(Task.status == TaskStatus.OPEN, seats.mine())
    if stage and filters.stage:
        q = q.where(Task.stage == filters.stage)
    term = filters.search.strip()
    if filters.village_id or term:
        q = q.join(Case, Case.id == Task.case_id)
    if filters.village_id:
        q = q.where(Case.village_id == filters.village_id)
    if term:
        number = term[4:] if len(term) == 10 and term.isdigit() else term
        heads = select(Member.household_id).where(Member.is_head, Member.name.startswith(term))
        q = q.where(or_(Case.household_id.in_(heads),
                        Case.id == int(number) if number.isdigit() else false()))
    return q


def _page(seats: Seats, filters: Filters, limit: int) -> Select[Any]:
    ids = _filtered(select(Task.id), seats, filters).order_by(Task.due_at, Task.id).limit(limit)
    return (select(Task.id, Task.case_id, Task.stage, Task.due_at, Task.role, Task.assignee_id,
                   Holder.name.label("holder"), Case.opened_at, Village.name.label("village"),
                   Place.path, Member.name.label("head"), Definition.digest)
            .join(Case, Case.id == Task.case_id).join(Place, Place.id == Task.place_id)
            .join(Village, Village.id == Case.village_id)
            .join(Definition, Definition.id == Case.definition_id)
            .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
            .outerjoin(Holder, Holder.id == Task.assignee_id)
            .where(Task.id.in_(ids.scalar_subquery()))
            .order_by(Task.due_at, Task.id))


def inbox(s: Session, actor: Actor, now: dt.datetime, calendar: WorkCalendar, *,
          filters: Filters = Filters(), due_soon_days: int = 1, limit: int = PAGE
          ) -> tuple[list[Item], dict[Stage, int]]:
    """The page of tasks, most urgent first, and how many of each stage (before the stage
    filter, so the counts double as the stage tabs)."""
    seats = Seats(s, actor)
    rows = s.execute(_page(seats, filters, limit)).all()
    counts = dict(s.execute(_filtered(select(Task.stage, func.count()), seats, filters,
                                      stage=False).group_by(Task.stage)).tuples().all())
    today = local_date(now)
    names = {p.id: p.name for p in actor.stands_for}
    items = []
    for r in rows:
        day = last_day(r.due_at)
        if r.due_at <= now:
            left = -max(1, calendar.working_days_between(day, today))
        else:
            left = calendar.working_days_between(today, day)
        urgency = "overdue" if r.due_at <= now else "soon" if left <= due_soon_days else "ok"
        mine = r.assignee_id in actor.ids or r.assignee_id is None
        principal = next((names[p.id] for p in actor.stands_for
                          if r.assignee_id == p.id or (r.role == p.role and r.role != actor.role
                                                       and r.path.startswith(p.place_path))),
                         None)
        items.append(Item(
            r.id, r.case_id, f"{r.opened_at.year}{r.case_id:06d}", Stage(r.stage),
            parsed_definition(s, r.digest).stage(r.stage).label, r.village, r.head, r.due_at,
            day, urgency, left, None if mine else r.holder, principal))
    return items, {Stage(k): v for k, v in counts.items()}


def villages(s: Session, actor: Actor) -> list[tuple[int, str]]:
    """The villages in the actor's jurisdiction, for the filter."""
    paths = [actor.place_path, *(p.place_path for p in actor.stands_for)]
    return list(s.execute(select(Place.id, Place.name).where(
        Place.level == "village", or_(*(Place.path.startswith(p) for p in paths)))
        .order_by(Place.id)).tuples())
