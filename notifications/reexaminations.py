"""What the household hears of a 复核 (approvals/procedure/reexaminations.py): that a cadre
filed one for it (a request from the chat was answered there), and its result; and the
township's holders of its role, told of a new one at once (`to_holders`), as of a new task.
Decided on the case page, outside any pass of the procedure, so the worker's delivery job
sweeps for what is left to tell (`told_at` empty) before it sends, in the same transaction
that marks it told; the outbox keys make a sweep run twice one message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select, update

from approvals.procedure.holders import Holders
from approvals.record.calendar import shown_due
from approvals.record.models import Cadre, Case, Member, Place, Reexamination, ReexaminationStatus
from approvals.record.models.cases import case_number
from notifications import outbox
from notifications.announcements import News, to_households
from notifications.models import Audience
from notifications.reminders import reachable

TABLE = Reexamination.__table__


def announce(conn: Connection, now: dt.datetime, limit: int = 500) -> int:
    """Tell the households of every 复核 with something left to tell; how many were told."""
    rows = conn.execute(
        select(TABLE.c.id, TABLE.c.status, TABLE.c.result, TABLE.c.reason, Case.id.label("case"),
               Case.opened_at, Case.household_id)
        .join(Case, Case.id == TABLE.c.case_id).where(TABLE.c.told_at.is_(None))
        .order_by(TABLE.c.id).limit(limit)).all()
    if not rows:
        return 0
    news = []
    for r in rows:
        number = case_number(r.case, r.opened_at)
        if r.status == ReexaminationStatus.OPEN:
            news.append(News(f"reexamination:{r.id}:received", r.household_id,
                             "reexamination_received", {"number": number}))
        else:
            news.append(News(f"reexamination:{r.id}:{r.result}", r.household_id,
                             "reexamination_decided",
                             {"number": number, "result": r.result, "reason": r.reason}))
    to_households(conn, news, now)
    conn.execute(update(TABLE).where(TABLE.c.id.in_([r.id for r in rows]))
                 .values(told_at=now))
    return len(rows)


def to_holders(conn: Connection, reexamination_id: int, now: dt.datetime) -> None:
    """Whoever holds the 复核's role at its township, and can be reached, told of it now (not
    only when it falls due): a new task of theirs, linking to the case's 复核 block."""
    r = conn.execute(
        select(TABLE.c.role, TABLE.c.place_id, TABLE.c.due_at, Case.id.label("case_id"),
               Case.opened_at, Place.name.label("place"), Member.name.label("head"))
        .join(Case, Case.id == TABLE.c.case_id).join(Place, Place.id == TABLE.c.place_id)
        .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
        .where(TABLE.c.id == reexamination_id)).one_or_none()
    if r is None:
        return
    holders = Holders.read(conn, places={r.place_id}, assignees=(),
                           columns=(Cadre.openid, Cadre.wecom_userid))
    item = {"case_id": r.case_id, "number": case_number(r.case_id, r.opened_at),
            "stage": "复核", "place": r.place, "head": r.head, "kind": "new", "late": 0,
            "due": shown_due(r.due_at)}
    outbox.enqueue(conn, [
        {"key": f"reexamination:{reexamination_id}:new:{c.id}", "recipient": f"cadre:{c.id}",
         "event": "task_new", "audience": Audience.CADRE, "params": {"name": c.name, "item": item}}
        for c in holders.of(None, r.role, r.place_id) if reachable(c)], now)
