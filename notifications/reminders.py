"""Reminders to cadres: what is due soon, what is overdue, and escalation to supervisors.

`sweep` runs on working days (the worker calls it at `notifications.reminder_time`, and
again at any time: it is idempotent). It looks at every open task and writes one digest
per cadre per day to the outbox, keyed by cadre and date, so a cadre with many items gets
one message and a second sweep the same day adds nothing:

- due soon: `due_soon_working_days` working days before the task's last day;
- overdue: every working day while it stays open, with the working days it is late;
- escalation: when it has been overdue `escalate_after_working_days` working days, the
  supervisors whose jurisdiction covers it are told too (once).

A task is held by its assignee (the paired cadre for 入户核实) or, without one, by every
active cadre of its role at its place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from approvals.calendar import WorkCalendar, local_date
from approvals.models import Cadre, Case, CaseStatus, Household, Member, Place, Task, TaskStatus
from approvals.models import Definition as DefinitionRow
from approvals.models.cases import parsed_definition
from notifications import outbox
from notifications.models import Audience

SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class Rules:
    due_soon_working_days: int
    escalate_after_working_days: int


def reachable(cadre: Cadre) -> bool:
    return bool(cadre.openid or cadre.wecom_userid)


def last_day(due_at: dt.datetime) -> dt.date:
    """The last day to act: a deadline passes at the local midnight after it."""
    return local_date(due_at - dt.timedelta(microseconds=1))


def sweep(s: Session, now: dt.datetime, calendar: WorkCalendar, rules: Rules) -> int:
    """Write today's digests; returns how many cadres get one."""
    today = local_date(now)
    if not calendar.is_workday(today):
        return 0
    rows = s.execute(
        select(Task.id, Task.stage, Task.role, Task.place_id, Task.assignee_id, Task.due_at,
               Case.id.label("case_id"), Case.opened_at, DefinitionRow.digest,
               Place.name.label("place"), Place.path, Member.name.label("head"))
        .join(Case, Case.id == Task.case_id).join(Place, Place.id == Task.place_id)
        .join(DefinitionRow, DefinitionRow.id == Case.definition_id)
        .join(Household, Household.id == Case.household_id)
        .join(Member, (Member.household_id == Household.id) & Member.is_head)
        .where(Task.status == TaskStatus.OPEN, Case.status == CaseStatus.OPEN)
        .order_by(Task.due_at)).all()
    cadres = list(s.scalars(select(Cadre).where(Cadre.active).options()))
    by_seat: dict[tuple[str, int], list[Cadre]] = defaultdict(list)
    for cadre in cadres:
        by_seat[(cadre.role, cadre.place_id)].append(cadre)
    by_id = {c.id: c for c in cadres}
    supervisors = [(c, s.get(Place, c.place_id).path) for c in cadres if c.role == SUPERVISOR]

    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for t in rows:
        day = last_day(t.due_at)
        if now < t.due_at:
            if calendar.working_days_between(today, day) != rules.due_soon_working_days:
                continue
            kind, late = "due_soon", 0
        else:
            kind, late = "overdue", max(1, calendar.working_days_between(day, today))
        label = parsed_definition(s, t.digest).stage(t.stage).label
        item = {"task_id": t.id, "number": f"{t.opened_at.year}{t.case_id:06d}",
                "stage": label, "place": t.place, "head": t.head, "kind": kind,
                "late": late, "due": f"{day.month}月{day.day}日"}
        holders = ([by_id[t.assignee_id]] if t.assignee_id in by_id
                   else by_seat.get((t.role, t.place_id), []))
        for cadre in holders:
            items[cadre.id].append(item)
        if kind == "overdue" and late == rules.escalate_after_working_days:
            for supervisor, path in supervisors:
                if t.path.startswith(path):
                    items[supervisor.id].append({**item, "kind": "escalation"})
    messages = [{"key": f"digest:{cadre_id}:{today.isoformat()}",
                 "recipient": f"cadre:{cadre_id}", "event": "cadre_digest",
                 "audience": Audience.CADRE,
                 "params": {"name": by_id[cadre_id].name, "items": found}}
                for cadre_id, found in items.items() if reachable(by_id[cadre_id])]
    outbox.enqueue(s.connection(), messages, now)
    return len(messages)


def announce_new(conn: Connection, tasks: list[dict[str, Any]], now: dt.datetime) -> None:
    """A new task is told at once to whoever holds it (the paired cadre first for 入户核实),
    in the transaction that opens it. Called by the procedure's pass with the new rows."""
    places = {t["place_id"] for t in tasks}
    reachable = conn.execute(select(Cadre.id, Cadre.name, Cadre.role, Cadre.place_id).where(
        Cadre.active, Cadre.openid.is_not(None) | Cadre.wecom_userid.is_not(None),
        Cadre.place_id.in_(places) | Cadre.id.in_({t["assignee_id"] for t in tasks}))).all()
    if not reachable:  # nobody of these places is on WeChat or WeCom yet
        return
    seats: dict[tuple[str, int], list[Any]] = defaultdict(list)
    for cadre in reachable:
        seats[(cadre.role, cadre.place_id)].append(cadre)
    by_id = {c.id: c for c in reachable}
    details = {r.id: r for r in conn.execute(
        select(Task.id, Case.opened_at, Case.id.label("case_id"), DefinitionRow.digest,
               Place.name.label("place"), Member.name.label("head"))
        .join(Case, Case.id == Task.case_id).join(Place, Place.id == Task.place_id)
        .join(DefinitionRow, DefinitionRow.id == Case.definition_id)
        .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
        .where(Task.id.in_([t["id"] for t in tasks])))}
    messages = []
    for t in tasks:
        holders = ([by_id[t["assignee_id"]]] if t["assignee_id"] in by_id
                   else seats.get((t["role"], t["place_id"]), []))
        if not holders or t["id"] not in details:
            continue
        d, day = details[t["id"]], last_day(t["due_at"])
        item = {"task_id": t["id"], "number": f"{d.opened_at.year}{d.case_id:06d}",
                "stage": parsed_definition(conn, d.digest).stage(t["stage"]).label,
                "place": d.place,
                "head": d.head, "kind": "new", "late": 0, "due": f"{day.month}月{day.day}日"}
        messages += [{"key": f"task:{t['id']}:new:{c.id}", "recipient": f"cadre:{c.id}",
                      "event": "task_new", "audience": Audience.CADRE,
                      "params": {"name": c.name, "item": item}} for c in holders]
    outbox.enqueue(conn, messages, now)

