"""What the household hears of a 复核 (approvals/procedure/reexaminations.py): that a cadre
filed one for it (a request from the chat was answered there), and its result. Decided on the
case page, outside any pass of the procedure, so the worker's delivery job sweeps for what
is left to tell (`told_at` empty) before it sends, in the same transaction that marks it
told; the outbox keys make a sweep run twice one message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select, update

from approvals.record.models import Case, Reexamination, ReexaminationStatus
from approvals.record.models.cases import case_number
from notifications.announcements import News, to_households

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
