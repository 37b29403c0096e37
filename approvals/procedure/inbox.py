"""A cadre's inbox: the open tasks they hold, most urgent first, with counts per stage.

A task is someone's as `holders` says: handed to them (`assignee_id`: the paired cadre for
入户核实, or a transfer), or waiting for their role in their jurisdiction and not held by
another active cadre of that role. A task of their seat handed to a cadre of another post
stays in the inbox too, marked with who has it. A stand-in (代理) also sees the tasks of
whom they stand in for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVarTuple

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from approvals.procedure import holders
from approvals.procedure.permissions import Actor
from approvals.record.calendar import WorkCalendar, last_day
from approvals.record.db import AnySelect
from approvals.record.models import (
    Cadre,
    Case,
    Definition,
    Household,
    Member,
    Place,
    Task,
    TaskStatus,
)
from approvals.record.models.cases import case_number, parsed_definition

PAGE = 50
SEARCH_CAP = 200
Holder = aliased(Cadre)
Village = aliased(Place)


@dataclass(frozen=True)
class Filters:
    village_id: int | None = None
    stage: str | None = None
    search: str = ""  # the start of the head's name, or a case number


@dataclass(frozen=True)
class Item:
    task_id: int
    case_id: int
    number: str
    stage: str
    stage_label: str  # as the case's own definition names it
    village: str
    head: str
    due_at: dt.datetime
    last_day: dt.date
    urgency: str  # "overdue" | "soon" | "ok"
    working_days_left: int  # negative: working days late
    held_by: str | None  # whom it was handed to, when not the viewer
    for_whom: str | None  # the colleague a stand-in acts for
    returned: bool = False  # reopened by a return (退回): the reason is on its case page


class Seats:
    """Where each of the actor's posts reaches, resolved once per request: the place ids of
    the jurisdiction and the cadres of the same post (a task handed to one of them is theirs).
    Filtering tasks by these ids keeps the queries on indexes at a million cases."""

    def __init__(self, s: Session, actor: Actor) -> None:
        self.posts = []
        self.places: set[int] = set()
        for who in actor.principals:
            places = list(s.scalars(select(Place.id).where(
                Place.path.startswith(who.place_path))))
            self.posts.append((who, places, holders.peers(s, who.id, who.role)))
            self.places.update(places)
        self.households: list[int] | None = None  # a name search's matches, when searching

    def find(self, s: Session, term: str) -> bool:
        """Resolve a name search to the households it matches in the jurisdiction, at most
        SEARCH_CAP of them (a short term matching more asks for more of the name); True
        when there were more."""
        found = list(s.scalars(select(Member.household_id)
                               .join(Household, Household.id == Member.household_id)
                               .where(Member.is_head, Member.name.startswith(term),
                                      Household.village_id.in_(self.places))
                               .limit(SEARCH_CAP + 1)))
        self.households = found[:SEARCH_CAP]
        return len(found) > SEARCH_CAP

    def mine(self) -> Any:
        return or_(*(or_(Task.assignee_id == who.id,
                         and_(Task.role == who.role, Task.place_id.in_(places),
                              or_(Task.assignee_id.is_(None), Task.assignee_id.not_in(peers))))
                     for who, places, peers in self.posts))

Ts = TypeVarTuple("Ts")


def _filtered(q: Select[*Ts], seats: Seats, filters: Filters, stage: bool = True
              ) -> Select[*Ts]:
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
        as_id = number.isascii() and number.isdigit() and len(number) <= 9  # an int4 id
        q = q.where(Case.id == int(number) if as_id
                    else Case.household_id.in_(seats.households or []))
    return q


def _page(seats: Seats, filters: Filters, limit: int) -> AnySelect:
    ids = _filtered(select(Task.id), seats, filters).order_by(Task.due_at, Task.id).limit(limit)
    return (select(Task.id, Task.case_id, Task.stage, Task.due_at, Task.role, Task.assignee_id,
                   Holder.name.label("holder"), Case.opened_at, Task.data,
                   Village.name.label("village"), Place.path, Member.name.label("head"),
                   Definition.digest)
            .join(Case, Case.id == Task.case_id).join(Place, Place.id == Task.place_id)
            .join(Village, Village.id == Case.village_id)
            .join(Definition, Definition.id == Case.definition_id)
            .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
            .outerjoin(Holder, holders.holding_assignee(Holder))
            .where(Task.id.in_(ids.scalar_subquery()))
            .order_by(Task.due_at, Task.id))


@dataclass(frozen=True)
class Inbox:
    items: list[Item]
    counts: dict[str, int]  # before the stage filter: the counts double as the stage tabs
    too_many: bool = False  # a name search matched more households than it shows


def inbox(s: Session, actor: Actor, now: dt.datetime, calendar: WorkCalendar, *,
          filters: Filters = Filters(), due_soon_days: int = 1, limit: int = PAGE) -> Inbox:
    """The page of tasks, most urgent first, and how many of each stage."""
    seats = Seats(s, actor)
    term = filters.search.strip()
    too_many = seats.find(s, term) if term and not term.isdigit() else False
    rows = s.execute(_page(seats, filters, limit)).all()
    counts: dict[str, int] = dict(s.execute(_filtered(
        select(Task.stage, func.count()), seats, filters, stage=False).group_by(Task.stage)
    ).tuples().all())
    names = {p.id: p.name for p in actor.stands_for}
    items = []
    for r in rows:
        day, left = last_day(r.due_at), calendar.working_days_left(r.due_at, now)
        urgency = "overdue" if r.due_at <= now else "soon" if left <= due_soon_days else "ok"
        mine = r.holder is None or r.assignee_id in actor.ids
        principal = next((names[p.id] for p in actor.stands_for
                          if r.assignee_id == p.id or (r.role == p.role and r.role != actor.role
                                                       and r.path.startswith(p.place_path))),
                         None)
        items.append(Item(
            r.id, r.case_id, case_number(r.case_id, r.opened_at), r.stage,
            parsed_definition(s, r.digest).stage(r.stage).label, r.village, r.head, r.due_at,
            day, urgency, left, None if mine else r.holder, principal,
            "returned" in (r.data or {})))
    return Inbox(items, counts, too_many)


def villages(s: Session, actor: Actor) -> list[tuple[int, str]]:
    """The villages in the actor's jurisdiction, for the filter."""
    return list(s.execute(select(Place.id, Place.name).where(
        Place.level == "village",
        or_(*(Place.path.startswith(p.place_path) for p in actor.principals)))
        .order_by(Place.id)).tuples())
