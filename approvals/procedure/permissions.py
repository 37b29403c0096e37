"""Who acts, and on what: the signed-in cadre as a value, role × jurisdiction checks.

An `Actor` is what an edge resolves once per request (sign-in, bot, CLI): a cadre's id,
name, role and jurisdiction. Services take it instead of an ORM object, so deciding never
loads the cadre's graph.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from sqlalchemy import Connection, Row, bindparam, func, literal_column, select, text, union_all
from sqlalchemy.orm import Session

from approvals.record.db import connection_of
from approvals.record.definitions import Level, Stage
from approvals.record.errors import NotAllowed, NotFound
from approvals.record.models import Cadre, Place, StandIn

_CADRE = (select(Cadre.id, Cadre.name, Cadre.role, Cadre.active, Place.path, Place.level)
          .join(Place, Place.id == Cadre.place_id))
_WIDTH = len(_CADRE.selected_columns)
_LOAD = _CADRE.where(Cadre.id == bindparam("cadre_id"))
# The cadre (first) and, in one round trip, whom they stand in for today. `epoch`: the sign-in
# cookie's session epoch, which must still be the cadre's (退出 moves it on); None for callers
# without a cookie (the bot, the command line).
SIGNED_IN = union_all(
    _LOAD.where(Cadre.session_epoch == func.coalesce(bindparam("epoch"), Cadre.session_epoch))
    .add_columns(literal_column("0").label("rank")),
    _CADRE.add_columns(literal_column("1").label("rank"))
    .join(StandIn, StandIn.cadre_id == Cadre.id)
    .where(StandIn.stand_in_id == bindparam("cadre_id"),
           StandIn.starts_on <= bindparam("today"), StandIn.ends_on >= bindparam("today")),
).order_by(text("rank"))


@dataclass(frozen=True)
class Actor:
    id: int
    name: str
    role: str
    active: bool
    place_path: str  # the jurisdiction: "/county/township/village/" or a prefix of it
    level: Level
    stands_for: tuple[Actor, ...] = ()  # 代理: the cadres this one acts for today

    @classmethod
    def load(cls, s: Session | Connection, cadre_id: int) -> Actor:
        row = connection_of(s).execute(_LOAD, {"cadre_id": cadre_id}).one_or_none()
        if row is None:
            raise NotFound("没有找到这位工作人员。")
        return cls(*row)

    @classmethod
    def signed_in(cls, s: Session | Connection, cadre_id: int, today: dt.date,
                  epoch: int | None = None) -> Actor:
        """The cadre with the colleagues they stand in for today (the phone pages' actor);
        with `epoch`, only if that sign-in has not been ended since."""
        rows = connection_of(s).execute(SIGNED_IN, {"cadre_id": cadre_id, "today": today,
                                                    "epoch": epoch}).all()
        actor = cls.of_rows(rows)
        if actor is None:
            raise NotFound("没有找到这位工作人员。")
        return actor

    @classmethod
    def of_rows(cls, rows: Sequence[Row[Any]]) -> Actor | None:
        """The actor in rows of SIGNED_IN, which may carry more columns after its own."""
        if not rows or rows[0][_WIDTH] != 0:  # rank 0: the cadre; 1: whom they stand in for
            return None
        me, *principals = (cls(*row[:_WIDTH]) for row in rows)
        once = {p.id: p for p in principals}  # named for overlapping periods: once
        return replace(me, stands_for=tuple(once[i] for i in sorted(once)))

    @property
    def principals(self) -> tuple[Actor, ...]:
        """This cadre and those they stand in for today."""
        return (self, *self.stands_for)

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(p.id for p in self.principals)

    def sees(self, place_path: str) -> bool:
        """The place is in this cadre's jurisdiction, or in that of whom they stand in for."""
        return any(p.covers(place_path) for p in self.principals)

    def covers(self, place_path: str) -> bool:
        return place_path.startswith(self.place_path)


class Seat(Protocol):
    """What a task asks of whoever acts on it (read-only: a task row, a named tuple)."""

    @property
    def stage(self) -> Stage: ...
    @property
    def role(self) -> str: ...
    @property
    def place_path(self) -> str: ...
    @property
    def assignee_id(self) -> int | None: ...


def ensure_may_act(actor: Actor, seat: Seat, role_label: str) -> None:
    if not actor.active:
        raise NotAllowed("您的账号已停用，无法办理。")
    refusal = _refusal(actor, seat, role_label)
    if refusal and not any(p.active and not _refusal(p, seat, role_label)
                           for p in actor.stands_for):
        raise NotAllowed(refusal)


def may_act(actor: Actor, seat: Seat) -> bool:
    try:
        ensure_may_act(actor, seat, "")
    except NotAllowed:
        return False
    return True


def _refusal(actor: Actor, seat: Seat, role_label: str) -> str | None:
    paired_visit = seat.stage == Stage.HOME_VERIFICATION and seat.assignee_id == actor.id
    if actor.role != seat.role and not paired_visit:
        return f"这项任务需由{role_label}办理，您无权操作。"
    if not actor.covers(seat.place_path):
        return "这户不在您的管辖范围内，您无权操作。"
    return None
