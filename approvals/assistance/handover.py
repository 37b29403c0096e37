"""Handing work to another cadre: one task (转交), a stand-in for a date range (代理), and a
leaving cadre's pairings and open tasks in bulk (工作交接). Every change is audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from approvals.procedure.decisions import already_decided, load_ref
from approvals.procedure.permissions import Actor, ensure_may_act
from approvals.record import audit
from approvals.record.calendar import local_date
from approvals.record.db import rowcount
from approvals.record.definitions import Stage
from approvals.record.errors import NotAllowed, Refused
from approvals.record.models import Cadre, Pairing, Place, StandIn, Task, TaskStatus
from approvals.record.models.cases import parsed_definition


def _colleague(s: Session, cadre_id: int) -> Actor:
    colleague = Actor.load(s, cadre_id)
    if not colleague.active:
        raise Refused(f"{colleague.name}的账号已停用，不能接手。")
    return colleague


def transfer_task(s: Session, task_id: int, actor: Actor, to_cadre_id: int, *, reason: str,
                  now: dt.datetime) -> Actor:
    """Hand an open task to a colleague who may act on it (same role, same jurisdiction)."""
    task = load_ref(s, task_id)
    ensure_may_act(actor, task, parsed_definition(s, task.definition_digest)
                   .roles[task.role].label)
    if task.status != TaskStatus.OPEN:
        raise already_decided(task)
    if not reason.strip():
        raise Refused("转交时请写明原因。")
    if to_cadre_id == actor.id:
        raise Refused("不能转交给自己。")
    to = _colleague(s, to_cadre_id)
    seat_roles = {task.role} | ({"helper"} if task.stage == Stage.HOME_VERIFICATION else set())
    if to.role not in seat_roles or not to.covers(task.place_path):
        raise Refused(f"{to.name}不能办理这项任务，只能转交给本辖区同岗位的工作人员。")
    if to.id == task.assignee_id:
        raise Refused(f"这项任务已经由{to.name}负责。")
    changed = rowcount(s.execute(update(Task).where(Task.id == task_id,
                                                    Task.status == TaskStatus.OPEN)
                                 .values(assignee_id=to.id)))
    if changed != 1:
        raise already_decided(load_ref(s, task_id))
    audit.append(s, actor=f"cadre:{actor.id}", action="task.transfer", now=now,
                 case_id=task.case_id, payload={"task": task_id, "to": to.id,
                                                "to_name": to.name, "reason": reason.strip()})
    return to


def colleagues(s: Session, actor: Actor, *, nearby: bool = False) -> list[tuple[int, str, str]]:
    """Active cadres of the actor's role in their jurisdiction (whom a task can go to), or
    with `nearby` in the area above it (who can stand in for them)."""
    area = actor.place_path.rstrip("/").rsplit("/", 1)[0] + "/" if nearby else actor.place_path
    return list(s.execute(select(Cadre.id, Cadre.name, Place.name).join(Place).where(
        Cadre.active, Cadre.role == actor.role, Cadre.id != actor.id,
        Place.path.startswith(area)).order_by(Cadre.id)).tuples())


def name_stand_in(s: Session, actor: Actor, stand_in_id: int, *, starts_on: dt.date,
                  ends_on: dt.date, reason: str, now: dt.datetime) -> StandIn:
    """The actor names who acts for them from `starts_on` to `ends_on` (代理)."""
    if ends_on < starts_on:
        raise Refused("结束日期不能早于开始日期。")
    if ends_on < local_date(now):
        raise Refused("代理期已经过去，请重新选择日期。")
    if (ends_on - starts_on).days > 92:
        raise Refused("一次代理最长三个月。")
    if not reason.strip():
        raise Refused("请写明代理原因（如外出学习、病假）。")
    if stand_in_id == actor.id:
        raise Refused("不能指定自己为代理人。")
    stand_in = _colleague(s, stand_in_id)
    # a colleague of the same post nearby: the same township for village posts, and so on
    area = actor.place_path.rstrip("/").rsplit("/", 1)[0] + "/"
    if stand_in.role != actor.role or not stand_in.place_path.startswith(area):
        raise Refused(f"{stand_in.name}与您不是同一辖区同一岗位，不能代理。")
    row = StandIn(cadre_id=actor.id, stand_in_id=stand_in.id, starts_on=starts_on,
                  ends_on=ends_on, reason=reason.strip(), named_by=actor.id, named_at=now)
    s.add(row)
    s.flush()
    audit.append(s, actor=f"cadre:{actor.id}", action="cadre.stand_in", now=now,
                 payload={"stand_in": stand_in.id, "from": starts_on.isoformat(),
                          "to": ends_on.isoformat(), "reason": row.reason})
    return row


def stand_ins(s: Session, actor: Actor, today: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """Who stands in for the actor, now or later."""
    return list(s.execute(select(Cadre.name, StandIn.starts_on, StandIn.ends_on)
                          .join(Cadre, Cadre.id == StandIn.stand_in_id)
                          .where(StandIn.cadre_id == actor.id, StandIn.ends_on >= today)
                          .order_by(StandIn.starts_on)).tuples())


def hand_over(s: Session, actor: Actor, from_cadre_id: int, to_cadre_id: int, *,
              handover_roles: Sequence[str], reason: str, now: dt.datetime) -> tuple[int, int]:
    """A cadre leaves: their pairings end today and start with the successor, and the open
    tasks handed to them go to the successor. Returns (pairings, tasks) moved."""
    if actor.role not in handover_roles:
        raise NotAllowed("只有有交接权限的管理人员可以办理工作交接。")
    leaving, successor = Actor.load(s, from_cadre_id), _colleague(s, to_cadre_id)
    if not (actor.covers(leaving.place_path) and actor.covers(successor.place_path)):
        raise NotAllowed("交接双方须在您的管辖范围内。")
    if leaving.id == successor.id:
        raise Refused("交接双方不能是同一人。")
    if not reason.strip():
        raise Refused("请写明交接原因。")
    today = local_date(now)
    pairings = s.scalars(select(Pairing).where(Pairing.cadre_id == leaving.id,
                                               Pairing.ended_on.is_(None))
                         .with_for_update()).all()
    for pairing in pairings:
        pairing.ended_on = today
        if not s.scalar(select(Pairing.id).where(Pairing.household_id == pairing.household_id,
                                                 Pairing.cadre_id == successor.id,
                                                 Pairing.ended_on.is_(None))):
            s.add(Pairing(household_id=pairing.household_id, cadre_id=successor.id,
                          started_on=today))
    tasks = rowcount(s.execute(update(Task).where(Task.assignee_id == leaving.id,
                                                  Task.status == TaskStatus.OPEN)
                               .values(assignee_id=successor.id)))
    s.flush()
    audit.append(s, actor=f"cadre:{actor.id}", action="cadre.hand_over", now=now,
                 payload={"from": leaving.id, "to": successor.id, "pairings": len(pairings),
                          "tasks": tasks, "reason": reason.strip()})
    return len(pairings), tasks
