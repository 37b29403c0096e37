"""Reminders to cadres: what is due soon, what is overdue, and escalation to supervisors.

`sweep` runs on working days (the worker calls it at `notifications.reminder_time`, and
again at any time: it is idempotent). It looks at every open task and writes one digest
per cadre per day to the outbox, keyed by cadre and date, so a cadre with many items gets
one message and a second sweep the same day adds nothing:

- due soon: `due_soon_working_days` working days before the task's last day;
- overdue: every working day while it stays open, with the working days it is late;
- escalation: when it has been overdue `escalate_after_working_days` working days, the
  supervisors whose jurisdiction covers it are told too (once);
- the total clock of a case (Case.due_at, the procedure's `total`) the same way, as an item
  「识别纳入总期限」 to whoever holds the case's open task, and escalated alike;
- revisits (定期回访) of the monitored and eliminated households paired with the cadre, when
  due; a monitored household with no measure carried out (to its paired cadre), and one with
  no active pairing at all (to its village's cadres); 复核 due or late, to its township's
  role;
- 部门数据提示: households a screening run listed for a visit (approvals/screening), to the
  paired cadre, else the village's cadres, until a visit is recorded;
- 回电: a farmer's call-back request (转人工, approvals/procedure/callbacks.py) due soon or
  late, to the cadre who must call (while active, else the village's cadres), as a task's
  deadline is (not escalated: the dashboard counts the late ones).

Who holds a task is approvals.procedure.holders' rule: its assignee (the paired cadre for
入户核实) while active, else every active cadre of its role at its place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from approvals.assistance import measures
from approvals.procedure.callbacks import UNREGISTERED
from approvals.procedure.holders import Holders
from approvals.record.calendar import (
    WorkCalendar,
    last_day,
    local_date,
    shown_due,
    start_of_day,
)
from approvals.record.definitions import Deadline
from approvals.record.models import (
    Cadre,
    CallbackRequest,
    CallbackStatus,
    Case,
    CaseStatus,
    Household,
    IncomeRecord,
    Member,
    MonitoringStatus,
    Pairing,
    Place,
    Reexamination,
    ReexaminationStatus,
    StandIn,
    Task,
    TaskStatus,
)
from approvals.record.models import Definition as DefinitionRow
from approvals.record.models.cases import case_number, parsed_definition
from approvals.screening import evidence
from notifications import outbox
from notifications.models import Audience

SUPERVISOR = "supervisor"
VILLAGE_CADRE = "village_cadre"  # told of a monitored household of their village left unpaired


@dataclass(frozen=True)
class Rules:
    due_soon_working_days: int
    escalate_after_working_days: int
    revisit_key_days: int = 30
    revisit_all_days: int = 90
    revisit_key_categories: tuple[str, ...] = ("sudden",)
    revisit_every_working_days: int = 5  # reminded again while a revisit stays undone
    no_measure_alert_days: int = 30  # monitored this long with no measure carried out


def reachable(cadre: Any) -> bool:
    """A cadre (or a row with their openid and wecom_userid) a message can reach."""
    return bool(cadre.openid or cadre.wecom_userid)


def sweep(s: Session, now: dt.datetime, calendar: WorkCalendar, rules: Rules) -> int:
    """Write today's digests; returns how many cadres get one."""
    today = local_date(now)
    if not calendar.is_workday(today):
        return 0
    # only tasks already late or due within the due-soon days: an index range on due_at
    horizon = today
    for _ in range(rules.due_soon_working_days):
        horizon = calendar.add(horizon, Deadline(days=1, unit="working"))
    rows = s.execute(
        select(Task.id, Task.stage, Task.role, Task.place_id, Task.assignee_id, Task.due_at,
               Case.id.label("case_id"), Case.opened_at, DefinitionRow.digest,
               Place.name.label("place"), Place.path, Member.name.label("head"))
        .join(Case, Case.id == Task.case_id).join(Place, Place.id == Task.place_id)
        .join(DefinitionRow, DefinitionRow.id == Case.definition_id)
        .join(Household, Household.id == Case.household_id)
        .join(Member, (Member.household_id == Household.id) & Member.is_head)
        .where(Task.status == TaskStatus.OPEN, Task.due_at <= start_of_day(
            horizon + dt.timedelta(days=1)), Case.status == CaseStatus.OPEN)
        .order_by(Task.due_at)).all()
    cadres = Holders(s.scalars(select(Cadre).where(Cadre.active)))
    by_id = cadres.by_id
    supervisors = [(c, s.get_one(Place, c.place_id).path) for c in by_id.values()
                   if c.role == SUPERVISOR]

    items: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for t in rows:
        urgency = _urgency(t.due_at, now, today, calendar, rules)
        if urgency is None:
            continue
        kind, late = urgency
        label = parsed_definition(s, t.digest).stage(t.stage).label
        item = {"task_id": t.id, "number": case_number(t.case_id, t.opened_at),
                "stage": label, "place": t.place, "head": t.head, "kind": kind,
                "late": late, "due": shown_due(t.due_at)}
        for cadre_id, told in _told(item, cadres.of(t.assignee_id, t.role, t.place_id),
                                    t.path, supervisors, rules):
            items[cadre_id].append(told)
    # The total clock (Case.due_at) is reminded and escalated as a stage's deadline is: to
    # whoever holds the case's open task, and to the supervisors once it is late enough. A
    # case between two stages (its pass not yet run) holds no task and waits for the next.
    totals = s.execute(
        select(Task.id, Task.role, Task.place_id, Task.assignee_id, Case.due_at,
               Case.id.label("case_id"), Case.opened_at, DefinitionRow.digest,
               Place.name.label("place"), Place.path, Member.name.label("head"))
        .select_from(Case)
        .join(Task, (Task.case_id == Case.id) & (Task.status == TaskStatus.OPEN))
        .join(Place, Place.id == Task.place_id)
        .join(DefinitionRow, DefinitionRow.id == Case.definition_id)
        .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
        .where(Case.status == CaseStatus.OPEN,
               Case.due_at <= start_of_day(horizon + dt.timedelta(days=1)))
        .order_by(Case.due_at)).all()
    for c in totals:
        urgency = _urgency(c.due_at, now, today, calendar, rules)
        if urgency is None:
            continue
        kind, late = urgency
        procedure = parsed_definition(s, c.digest).procedure.label
        item = {"task_id": c.id, "number": case_number(c.case_id, c.opened_at),
                "stage": f"{procedure}总期限", "place": c.place, "head": c.head,
                "kind": kind, "late": late, "due": shown_due(c.due_at), "total": True}
        for cadre_id, told in _told(item, cadres.of(c.assignee_id, c.role, c.place_id),
                                    c.path, supervisors, rules):
            items[cadre_id].append(told)
    for cadre_id, item in revisits_due(s, today, calendar, rules):
        if cadre_id in by_id:
            items[cadre_id].append(item)
    for cadre_id, item in without_measures(s, today, calendar, rules):
        if cadre_id in by_id:
            items[cadre_id].append(item)
    for cadre_id, item in without_pairing(s, today, calendar, rules):
        if cadre_id in by_id:
            items[cadre_id].append(item)
    for cadre_id, item in screening_listed(s, today, calendar, rules, by_id):
        items[cadre_id].append(item)
    for cadre_id, item in reexaminations_due(s, now, calendar, rules, cadres, supervisors):
        items[cadre_id].append(item)
    for cadre_id, item in callbacks_due(s, now, calendar, rules, cadres,
                                        start_of_day(horizon + dt.timedelta(days=1))):
        items[cadre_id].append(item)
    # 代理: a stand-in hears of the tasks of whom they stand in for, while they do
    for principal, stand_in in s.execute(select(StandIn.cadre_id, StandIn.stand_in_id).where(
            StandIn.starts_on <= today, StandIn.ends_on >= today)).tuples().all():
        if stand_in in by_id and principal in by_id:
            held = {_held_key(i) for i in items.get(stand_in, [])}
            extra = [{**i, "place": f"{i['place']}（代{by_id[principal].name}）"}
                     for i in items.get(principal, [])
                     if (i.get("task_id") or i.get("callback_id"))
                     and _held_key(i) not in held and i["kind"] != "escalation"]
            if extra:
                items[stand_in] += extra
    messages = [{"key": f"digest:{cadre_id}:{today.isoformat()}",
                 "recipient": f"cadre:{cadre_id}", "event": "cadre_digest",
                 "audience": Audience.CADRE,
                 "params": {"name": by_id[cadre_id].name, "items": found}}
                for cadre_id, found in items.items() if reachable(by_id[cadre_id])]
    outbox.enqueue(s.connection(), messages, now)
    return len(messages)


def _held_key(item: dict[str, Any]) -> tuple[Any, ...]:
    """What a digest item is about: a task (or its case's total clock), or a call-back."""
    return item.get("task_id"), item.get("total"), item.get("callback_id")


def _told(item: dict[str, Any], holders: Iterable[Any], path: str,
          supervisors: list[tuple[Cadre, str]], rules: Rules
          ) -> list[tuple[int, dict[str, Any]]]:
    """A deadline's item for each who holds its work, and, once it is late enough, for the
    supervisors whose jurisdiction covers its place (escalation, once)."""
    told = [(cadre.id, item) for cadre in holders]
    if item["kind"] == "overdue" and item["late"] == rules.escalate_after_working_days:
        told += [(supervisor.id, {**item, "kind": "escalation"})
                 for supervisor, scope in supervisors if path.startswith(scope)]
    return told


def _urgency(due_at: dt.datetime, now: dt.datetime, today: dt.date, calendar: WorkCalendar,
             rules: Rules) -> tuple[str, int] | None:
    """Whether a deadline is told today: ("due_soon", 0) the due-soon working days before its
    last day, ("overdue", working days late) every working day after; else None."""
    if now < due_at:
        if calendar.working_days_between(today, last_day(due_at)) != rules.due_soon_working_days:
            return None
        return "due_soon", 0
    return "overdue", -calendar.working_days_left(due_at, now)


def without_measures(s: Session, today: dt.date, calendar: WorkCalendar, rules: Rules
                     ) -> list[tuple[int, dict[str, Any]]]:
    """The alert for a monitored household with no measure carried out N days after it
    entered monitoring: to its paired cadre, every few working days until one is."""
    found = measures.without_measure(s, today, rules.no_measure_alert_days)
    if not found:
        return []
    names = dict(s.execute(select(Household.id, Member.name).join(
        Member, (Member.household_id == Household.id) & Member.is_head).where(
        Household.id.in_([h for h, _ in found]))).tuples().all())
    places = dict(s.execute(select(Household.id, Place.name).join(
        Place, Place.id == Household.village_id).where(
        Household.id.in_([h for h, _ in found]))).tuples().all())
    since = {household_id: day for household_id, day in s.execute(  # monitored: a date
        select(Household.id, Household.monitored_since).where(
            Household.id.in_([h for h, _ in found]))).tuples() if day is not None}
    due = []
    for household_id, cadre_id in found:
        day = since[household_id] + dt.timedelta(days=rules.no_measure_alert_days)
        while not calendar.is_workday(day):
            day += dt.timedelta(days=1)
        if today < day or calendar.working_days_between(day, today) % (
                rules.revisit_every_working_days) != 0:
            continue
        due.append((cadre_id, {"household_id": household_id, "kind": "no_measure", "late": 0,
                               "place": places[household_id], "head": names[household_id],
                               "stage": "帮扶措施", "number": "",
                               "due": f"{since[household_id].month}月{since[household_id].day}日"}))
    return due


def without_pairing(s: Session, today: dt.date, calendar: WorkCalendar, rules: Rules
                    ) -> list[tuple[int, dict[str, Any]]]:
    """The alert for a monitored household with no active pairing (no 帮扶联系人): to the
    village cadres of its village, from the next working day and every few working days
    after, until it is paired (by the county's approval, a pairings import or a hand-over)."""
    found = measures.without_pairing(s)
    if not found:
        return []
    ids = [h for h, _, _ in found]
    names = dict(s.execute(select(Household.id, Member.name).join(
        Member, (Member.household_id == Household.id) & Member.is_head).where(
        Household.id.in_(ids))).tuples().all())
    places = dict(s.execute(select(Place.id, Place.name).where(
        Place.id.in_({v for _, v, _ in found}))).tuples().all())
    village_cadres = _village_cadres(s, places)
    due = []
    for household_id, village_id, since in found:
        day = since + dt.timedelta(days=1)
        while not calendar.is_workday(day):
            day += dt.timedelta(days=1)
        if today < day or calendar.working_days_between(day, today) % (
                rules.revisit_every_working_days) != 0:
            continue
        item = {"household_id": household_id, "kind": "no_pairing", "late": 0,
                "place": places[village_id], "head": names[household_id], "stage": "结对帮扶",
                "number": "", "due": f"{since.month}月{since.day}日"}
        due += [(cadre_id, item) for cadre_id in village_cadres[village_id]]
    return due


def _village_cadres(s: Session, villages: Iterable[int]) -> dict[int, list[int]]:
    """The active village cadres of each village."""
    found: dict[int, list[int]] = defaultdict(list)
    for cadre_id, place_id in s.execute(select(Cadre.id, Cadre.place_id).where(
            Cadre.active, Cadre.role == VILLAGE_CADRE,
            Cadre.place_id.in_(list(villages)))).tuples():
        found[place_id].append(cadre_id)
    return found


def screening_listed(s: Session, today: dt.date, calendar: WorkCalendar, rules: Rules,
                     active: Mapping[int, Any]) -> list[tuple[int, dict[str, Any]]]:
    """部门数据提示需走访: a household a screening run listed for a visit (monitored already,
    or a `visit` rule; approvals.screening.outcomes), for its paired cadre while active, else
    its village's cadres: from the first working day on or after the run, and every few
    working days after until a visit is recorded (approvals.assistance.revisits)."""
    found = evidence.to_visit(s)
    if not found:
        return []
    village_cadres = _village_cadres(s, {v.village_id for v in found})
    due = []
    for v in found:
        day = local_date(v.since)
        while not calendar.is_workday(day):
            day += dt.timedelta(days=1)
        if today < day or calendar.working_days_between(day, today) % (
                rules.revisit_every_working_days) != 0:
            continue
        item = {"household_id": v.household_id, "kind": "screening", "late": 0,
                "place": v.village, "head": v.head, "stage": "部门数据提示", "number": "",
                "due": f"{day.month}月{day.day}日", "level": v.level, "rules": "、".join(v.rules)}
        who = ([v.paired] if v.paired is not None and v.paired in active
               else village_cadres[v.village_id])
        due += [(cadre_id, item) for cadre_id in who if cadre_id in active]
    return due


def revisits_due(s: Session, today: dt.date, calendar: WorkCalendar, rules: Rules
                 ) -> list[tuple[int, dict[str, Any]]]:
    """定期回访: monitored and eliminated households whose revisit is due, for their paired
    cadre. A revisit
    is due its cadence after the last one recorded (or after monitoring began); the cadre is
    reminded that day and every few working days after, until it is recorded."""
    last_visit = (select(IncomeRecord.household_id,
                         func.max(IncomeRecord.recorded_on).label("on"))
                  .group_by(IncomeRecord.household_id).subquery())
    worker = aliased(Member)
    no_labour = ~(select(worker.id).where(worker.household_id == Household.id,
                                          worker.able_to_work, worker.left_on.is_(None))
                  .correlate(Household).exists())
    rows = s.execute(
        select(Household.id, Household.category, Household.monitored_since, Household.monitoring,
               last_visit.c.on, no_labour.label("no_labour"), Pairing.cadre_id,
               Place.name.label("place"), Member.name.label("head"))
        .join(Pairing, (Pairing.household_id == Household.id) & Pairing.ended_on.is_(None))
        .join(Place, Place.id == Household.village_id)
        .join(Member, (Member.household_id == Household.id) & Member.is_head)
        .outerjoin(last_visit, last_visit.c.household_id == Household.id)
        .where(Household.monitoring.in_((MonitoringStatus.MONITORED,
                                         MonitoringStatus.ELIMINATED)))).all()
    due = []
    for h in rows:
        # eliminated households stay in the rounds (已消除风险对象的跟踪和回访), quarterly
        eliminated = h.monitoring == MonitoringStatus.ELIMINATED
        key = not eliminated and (h.category in rules.revisit_key_categories or h.no_labour)
        every = rules.revisit_key_days if key else rules.revisit_all_days
        since = h.on or h.monitored_since
        if since is None:
            continue
        day = since + dt.timedelta(days=every)
        while not calendar.is_workday(day):
            day += dt.timedelta(days=1)  # due on the first working day
        if today < day or calendar.working_days_between(day, today) % (
                rules.revisit_every_working_days) != 0:
            continue
        due.append((h.cadre_id, {"household_id": h.id, "kind": "revisit", "late": 0,
                                 "place": h.place, "head": h.head, "stage": "定期回访",
                                 "number": "", "due": f"{day.month}月{day.day}日",
                                 "key_household": bool(key), "eliminated": eliminated}))
    return due


def reexaminations_due(s: Session, now: dt.datetime, calendar: WorkCalendar, rules: Rules,
                       cadres: Holders[Any], supervisors: list[tuple[Cadre, str]]
                       ) -> list[tuple[int, dict[str, Any]]]:
    """复核 (approvals/procedure/reexaminations.py) due soon or overdue, for whoever holds
    its role at its township, and escalated to the supervisors, as a stage's task is; the
    item links to the case page."""
    today = local_date(now)
    found = []
    for r in s.execute(select(
            Reexamination.id, Reexamination.role, Reexamination.place_id, Reexamination.due_at,
            Case.id.label("case_id"), Case.opened_at, Place.name.label("place"), Place.path,
            Member.name.label("head"))
            .join(Case, Case.id == Reexamination.case_id)
            .join(Place, Place.id == Reexamination.place_id)
            .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
            .where(Reexamination.status == ReexaminationStatus.OPEN)
            .order_by(Reexamination.due_at)):
        urgency = _urgency(r.due_at, now, today, calendar, rules)
        if urgency is None:
            continue
        kind, late = urgency
        item = {"case_id": r.case_id, "number": case_number(r.case_id, r.opened_at),
                "stage": "复核", "place": r.place, "head": r.head, "kind": kind,
                "late": late, "due": shown_due(r.due_at)}
        found += _told(item, cadres.of(None, r.role, r.place_id), r.path, supervisors, rules)
    return found


def callbacks_due(s: Session, now: dt.datetime, calendar: WorkCalendar, rules: Rules,
                  cadres: Holders[Any], before: dt.datetime
                  ) -> list[tuple[int, dict[str, Any]]]:
    """回电 (approvals/procedure/callbacks.py) due soon or late (due before `before`), for
    the cadre who must call while active, else the active village cadres of its village; the
    item links to the inbox's card. What the farmer said is not in it."""
    today = local_date(now)
    asker, head = aliased(Member), aliased(Member)
    found = []
    for r in s.execute(select(
            CallbackRequest.id, CallbackRequest.cadre_id, CallbackRequest.village_id,
            CallbackRequest.due_at, Place.name.label("place"), asker.name.label("asker"),
            head.name.label("head"))
            .join(Place, Place.id == CallbackRequest.village_id)
            .outerjoin(asker, (asker.openid == CallbackRequest.openid)
                       & (asker.household_id == CallbackRequest.household_id))
            .outerjoin(head, (head.household_id == CallbackRequest.household_id) & head.is_head)
            .where(CallbackRequest.status == CallbackStatus.OPEN,
                   CallbackRequest.due_at <= before)
            .order_by(CallbackRequest.due_at)):
        urgency = _urgency(r.due_at, now, today, calendar, rules)
        if urgency is None:
            continue
        kind, late = urgency
        item = {"callback_id": r.id, "kind": "callback", "urgency": kind, "late": late,
                "place": r.place, "head": r.asker or r.head or UNREGISTERED, "stage": "回电",
                "number": "", "due": shown_due(r.due_at)}
        found += [(c.id, item) for c in cadres.of(r.cadre_id, VILLAGE_CADRE, r.village_id)]
    return found
