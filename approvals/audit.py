"""The hash-chained audit log: append under a lock, verify from the first row.

Every row's hash covers its own content and the previous row's hash, and `seq` runs
without gaps, so a changed, inserted or deleted row breaks the chain at that point.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from approvals.models import AuditEntry

GENESIS = "0" * 64
_PG_LOCK = 7_301_2024  # the advisory lock id that serializes appends on PostgreSQL
LOG = AuditEntry.__table__
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_LAST = select(LOG.c.seq, LOG.c.hash).order_by(LOG.c.seq.desc()).limit(1)
_INSERT = insert(LOG)


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


def append(s: Session, *, actor: str, action: str, now: dt.datetime,
           case_id: int | None = None, payload: dict[str, Any] | None = None) -> None:
    """Add one row at the end of the chain; the caller's transaction commits it."""
    append_many(s, [Entry(actor, action, case_id, payload or {})], now)


def append_many(s: Session, entries: list[Entry], now: dt.datetime) -> None:
    """Add rows at the end of the chain, in order, with one read of its head and one insert."""
    if not entries:
        return
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK, {"k": _PG_LOCK})
    last = conn.execute(_LAST).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    rows = []
    for e in entries:
        seq += 1
        digest = _digest(seq, prev, now, e.actor, e.action, e.case_id, e.payload)
        rows.append({"seq": seq, "at": now, "actor": e.actor, "action": e.action,
                     "case_id": e.case_id, "payload": e.payload, "prev_hash": prev,
                     "hash": digest})
        prev = digest
    conn.execute(_INSERT, rows)


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
