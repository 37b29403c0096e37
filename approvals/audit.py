"""The hash-chained audit log: appended by every change, sealed in order, verified from row 1.

Appending is a plain INSERT, so a decision never waits for the chain. Sealing gives the
unsealed rows, in id order, their `seq` (contiguous) and their hash, which covers the row's
content and the previous row's hash; the worker seals with every batch of passes and on its
schedule, under one lock. So a changed, inserted or deleted sealed row breaks the chain at
that point. The price is a window of a few seconds in which a new row is not yet sealed:
`verify` counts those rows apart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from approvals.db import connection_of
from approvals.models import AuditEntry

GENESIS = "0" * 64
_PG_LOCK = 7_301_2024  # the advisory lock id that serializes sealing on PostgreSQL
LOG = AuditEntry.__table__
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_LAST = (select(LOG.c.seq, LOG.c.hash).where(LOG.c.seq.is_not(None))
         .order_by(LOG.c.seq.desc()).limit(1))
_UNSEALED = (select(LOG.c.id, LOG.c.at, LOG.c.actor, LOG.c.action, LOG.c.case_id,
                    LOG.c.payload).where(LOG.c.seq.is_(None)).order_by(LOG.c.id)
             .limit(bindparam("limit")))
_INSERT = insert(LOG)
_SEAL = update(LOG).where(LOG.c.id == bindparam("row_id"), LOG.c.seq.is_(None))


def _digest(seq: int, prev: str, at: dt.datetime, actor: str, action: str,
            case_id: int | None, payload: dict[str, Any]) -> str:
    stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    body = json.dumps([seq, prev, stamp, actor, action, case_id, payload],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    actor: str
    action: str
    case_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)


def append(s: Session | Connection, *, actor: str, action: str, now: dt.datetime,
           case_id: int | None = None, payload: dict[str, Any] | None = None) -> None:
    """Add one row; the caller's transaction commits it, the worker seals it."""
    append_many(s, [Entry(actor, action, case_id, payload or {})], now)


def append_many(s: Session | Connection, entries: list[Entry], now: dt.datetime) -> None:
    if entries:
        connection_of(s).execute(_INSERT, [
            {"at": now, "actor": e.actor, "action": e.action, "case_id": e.case_id,
             "payload": e.payload, "seq": None, "prev_hash": None, "hash": None}
            for e in entries])


def seal(s: Session, limit: int = 50_000) -> int:
    """Chain the unsealed rows, oldest first; return how many were sealed."""
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK, {"k": _PG_LOCK})
    rows = conn.execute(_UNSEALED, {"limit": limit}).all()
    if not rows:
        return 0
    last = conn.execute(_LAST).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    sealed = []
    for r in rows:
        seq += 1
        digest = _digest(seq, prev, r.at, r.actor, r.action, r.case_id, r.payload)
        sealed.append({"row_id": r.id, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    conn.execute(_SEAL, sealed)
    return len(sealed)


def unsealed(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(LOG).where(LOG.c.seq.is_(None))) or 0


@dataclass(frozen=True)
class Break:
    seq: int
    problem: str  # Chinese, for the operator


def verify(s: Session, batch: int = 5000) -> tuple[int, list[Break]]:
    """Walk the whole chain; return the number of rows checked and every break found."""
    breaks: list[Break] = []
    expected_seq, prev, count = 1, GENESIS, 0
    last_seq = 0
    while True:
        rows = s.scalars(
            select(AuditEntry).where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            count += 1
            if row.seq != expected_seq:
                gap = f"第{expected_seq}至{row.seq - 1}条记录缺失（被删除）"
                breaks.append(Break(row.seq, gap))
            if row.prev_hash != prev:
                breaks.append(Break(row.seq, f"第{row.seq}条记录的前序哈希与上一条不符"))
            if row.hash != _digest(row.seq, row.prev_hash, row.at, row.actor, row.action,
                                   row.case_id, row.payload):
                breaks.append(Break(row.seq, f"第{row.seq}条记录内容被修改"))
            expected_seq, prev, last_seq = row.seq + 1, row.hash, row.seq
        s.expunge_all()
    return count, breaks
