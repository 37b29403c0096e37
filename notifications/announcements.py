"""Who is told when a case moves: written to the outbox in the transaction of the passes that
moved it, keyed so that a pass run again adds nothing.

- The household: every member bound to WeChat hears, in plain words, what the pass says
  happened to their case (`News`: filed for them, a stage passed, returned, enrolled,
  rejected), with the paired cadre's name and phone where the news names them.
- The cadres: a task opened is told at once to whoever holds it
  (approvals.procedure.holders), on their own channel; so is the departments' data added to
  a case they hold (a screening run's evidence, `evidence_added`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import aliased

from approvals.procedure.holders import Holders
from approvals.record.calendar import shown_due
from approvals.record.models import Cadre, Case, Member, Place, Source, Task, TaskStatus
from approvals.record.models import Definition as DefinitionRow
from approvals.record.models.cases import case_number, parsed_definition
from notifications import outbox
from notifications.models import Audience
from notifications.reminders import reachable


@dataclass(frozen=True)
class News:
    """What the household hears of its case (an event of notifications.wording)."""

    key: str  # unique per case and event, e.g. "case:12:enrolled"
    household_id: int
    event: str
    params: dict[str, Any]
    cadre_id: int | None = None  # whose name and phone to add (the paired cadre)
    # False: held back from the household (a screening case before a cadre has visited,
    # approvals.procedure.cases.heard_of); the cadres it concerns are told all the same
    household: bool = True


def announce(conn: Connection, news: list[News], opened: list[dict[str, Any]],
             now: dt.datetime) -> None:
    """Everyone told of what a batch of passes did: the households of their news, the
    holders of the tasks opened (rows as inserted, with their ids)."""
    if news:
        to_households(conn, [n for n in news if n.household], now)
        to_township(conn, [n for n in news if n.event == "case_fast_tracked"], now)
    if opened:
        to_holders(conn, opened, now)


def to_households(conn: Connection, news: list[News], now: dt.datetime) -> None:
    """One message per piece of news and member of the household bound to WeChat."""
    if not news:
        return
    openids: dict[int, list[str]] = defaultdict(list)
    for row in conn.execute(select(Member.household_id, Member.openid).where(
            Member.household_id.in_({n.household_id for n in news}),
            Member.openid.is_not(None))):
        openids[row.household_id].append(row.openid)
    named = {n.cadre_id for n in news if n.cadre_id}
    cadres = {c.id: c for c in conn.execute(select(Cadre.id, Cadre.name, Cadre.phone)
                                            .where(Cadre.id.in_(named)))} if named else {}
    messages = []
    for n in news:
        params = dict(n.params)
        if n.cadre_id in cadres:
            params.update(cadre=cadres[n.cadre_id].name, cadre_phone=cadres[n.cadre_id].phone)
        messages += [{"key": f"{n.key}:{openid}", "recipient": openid, "event": n.event,
                      "params": params} for openid in openids[n.household_id]]
    outbox.enqueue(conn, messages, now)


def to_township(conn: Connection, news: list[News], now: dt.datetime) -> None:
    """先帮扶后认定 told to the active cadres of the case's township (who audit it later), on
    their own channel: what happened and what was given at once."""
    if not news:
        return
    village = aliased(Place)
    cases = conn.execute(
        select(Case.id, Case.opened_at, Case.answers, Member.name.label("head"),
               village.name.label("village"), village.parent_id)
        .join(village, village.id == Case.village_id)
        .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
        .where(Case.id.in_({n.params["case_id"] for n in news}))).all()
    townships = {c.parent_id for c in cases}
    cadres = conn.execute(select(Cadre.id, Cadre.name, Cadre.place_id, Cadre.openid,
                                 Cadre.wecom_userid)
                          .where(Cadre.place_id.in_(townships), Cadre.active)).all()
    messages = []
    for c in cases:
        told = (c.answers or {}).get("fast_track", {})
        item = {"number": case_number(c.id, c.opened_at), "head": c.head,
                "place": c.village, "cause": told.get("cause_label", ""),
                "facts": told.get("facts", ""), "measure": told.get("measure", "")}
        messages += [{"key": f"case:{c.id}:fast_track:cadre:{cadre.id}",
                      "recipient": f"cadre:{cadre.id}", "event": "case_fast_tracked_township",
                      "audience": Audience.CADRE, "params": {"name": cadre.name, **item}}
                     for cadre in cadres if cadre.place_id == c.parent_id and reachable(cadre)]
    outbox.enqueue(conn, messages, now)


def to_holders(conn: Connection, tasks: list[dict[str, Any]], now: dt.datetime) -> None:
    """Each new task to whoever holds it and can be reached."""
    cadres = Holders.read(conn, places={t["place_id"] for t in tasks},
                          assignees={t["assignee_id"] for t in tasks},
                          columns=(Cadre.openid, Cadre.wecom_userid))
    if not any(map(reachable, cadres.by_id.values())):  # nobody here on WeChat or WeCom yet
        return
    details = {r.id: r for r in conn.execute(
        select(Task.id, Case.opened_at, Case.id.label("case_id"), Case.source,
               DefinitionRow.digest,
               Place.name.label("place"), Member.name.label("head"))
        .join(Case, Case.id == Task.case_id).join(Place, Place.id == Task.place_id)
        .join(DefinitionRow, DefinitionRow.id == Case.definition_id)
        .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
        .where(Task.id.in_([t["id"] for t in tasks])))}
    messages = []
    for t in tasks:
        holders = [c for c in cadres.of(t["assignee_id"], t["role"], t["place_id"])
                   if reachable(c)]
        if not holders or t["id"] not in details:
            continue
        d = details[t["id"]]
        item = {"task_id": t["id"], "number": case_number(d.case_id, d.opened_at),
                "stage": parsed_definition(conn, d.digest).stage(t["stage"]).label,
                "place": d.place, "head": d.head, "kind": "new", "late": 0,
                "due": shown_due(t["due_at"])}
        if d.source == Source.SCREENING:  # the household has not applied: the cadre goes
            item["screening"] = True  # with the departments' data, not an application
        messages += [{"key": f"task:{t['id']}:new:{c.id}", "recipient": f"cadre:{c.id}",
                      "event": "task_new", "audience": Audience.CADRE,
                      "params": {"name": c.name, "item": item}} for c in holders]
    outbox.enqueue(conn, messages, now)


def evidence_added(conn: Connection, rules_by_case: dict[int, list[str]], now: dt.datetime,
                   run_id: int) -> None:
    """The holders of each case's open task told that a screening run added the departments'
    data to it (the rules' names), once per run and case."""
    if not rules_by_case:
        return
    open_tasks = conn.execute(
        select(Task.id, Task.case_id, Task.stage, Task.role, Task.place_id, Task.assignee_id,
               Case.opened_at, DefinitionRow.digest, Place.name.label("place"),
               Member.name.label("head"))
        .join(Case, Case.id == Task.case_id).join(Place, Place.id == Task.place_id)
        .join(DefinitionRow, DefinitionRow.id == Case.definition_id)
        .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
        .where(Task.case_id.in_(rules_by_case), Task.status == TaskStatus.OPEN)).all()
    cadres = Holders.read(conn, places={t.place_id for t in open_tasks},
                          assignees={t.assignee_id for t in open_tasks},
                          columns=(Cadre.openid, Cadre.wecom_userid))
    messages = []
    for t in open_tasks:
        item = {"task_id": t.id, "number": case_number(t.case_id, t.opened_at),
                "stage": parsed_definition(conn, t.digest).stage(t.stage).label,
                "place": t.place, "head": t.head}
        messages += [{"key": f"case:{t.case_id}:evidence:{run_id}:{c.id}",
                      "recipient": f"cadre:{c.id}", "event": "task_evidence",
                      "audience": Audience.CADRE,
                      "params": {"name": c.name, "item": item,
                                 "rules": rules_by_case[t.case_id]}}
                     for c in cadres.of(t.assignee_id, t.role, t.place_id) if reachable(c)]
    outbox.enqueue(conn, messages, now)
