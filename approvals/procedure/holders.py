"""Who holds a task: the one rule behind the inbox, the reminders, the new-task message, the
supervisors' figures and the farmer's 进度.

A task is held by its assignee (the paired cadre for 入户核实, or the colleague it was handed
to) while that cadre is active; otherwise by every active cadre of its seat, its role at its
place. `Holders` applies the rule to rows already read; `holding_assignee` and `held_by` are
the same rule in SQL. Whom a holder stands in for today is the actor's side of it
(`permissions.Actor.stands_for`), not the task's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, Connection, and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from approvals.record.db import connection_of
from approvals.record.models import Cadre, Task


class Post(Protocol):
    """A cadre as far as holding goes: who, and which seat."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def place_id(self) -> int: ...


C = TypeVar("C", bound=Post)


class Holders(Generic[C]):
    """Active cadres (rows or objects) by id and by seat, and the rule applied to a task."""

    def __init__(self, active: Iterable[C]) -> None:
        self.by_id = {c.id: c for c in active}
        self.by_seat: dict[tuple[str, int], list[C]] = defaultdict(list)
        for cadre in self.by_id.values():
            self.by_seat[(cadre.role, cadre.place_id)].append(cadre)

    def of(self, assignee_id: int | None, role: str, place_id: int) -> list[C]:
        """Whoever holds a task with this assignee, role and place."""
        if assignee_id in self.by_id:
            return [self.by_id[assignee_id]]
        return self.by_seat.get((role, place_id), [])

    @staticmethod
    def read(s: Session | Connection, *, places: Collection[int],
             assignees: Collection[int | None], columns: Iterable[Any] = ()
             ) -> Holders[Any]:
        """The active cadres who may hold tasks at these places or handed to these cadres
        (rows of id, name, role, place_id and `columns`), in id order."""
        wanted = [a for a in assignees if a is not None]
        return Holders(connection_of(s).execute(
            select(Cadre.id, Cadre.name, Cadre.role, Cadre.place_id, *columns)
            .where(Cadre.active, Cadre.place_id.in_(places) | Cadre.id.in_(wanted))
            .order_by(Cadre.id)))


def holding_assignee(cadre: Any) -> ColumnElement[bool]:
    """Join `cadre` (Cadre or an alias of it) to a task's assignee only while they hold it:
    outer-joined, its columns are None when the seat holds the task."""
    return and_(cadre.id == Task.assignee_id, cadre.active)


_Assignee = aliased(Cadre, name="assignee")


def held_by(cadre: Post) -> ColumnElement[bool]:
    """The tasks this (active) cadre holds."""
    no_active_assignee = or_(Task.assignee_id.is_(None), ~exists().where(
        _Assignee.id == Task.assignee_id, _Assignee.active))
    return or_(Task.assignee_id == cadre.id,
               and_(Task.role == cadre.role, Task.place_id == cadre.place_id,
                    no_active_assignee))


def peers(s: Session, cadre_id: int, role: str) -> list[int]:
    """The cadre's active colleagues of a role: a task handed to one of them is held by
    them, not by its seat."""
    return list(s.scalars(select(Cadre.id).where(Cadre.role == role, Cadre.id != cadre_id,
                                                 Cadre.active)))
