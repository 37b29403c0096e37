"""The hash-chained audit log: appended by every change, sealed in order, verified from row 1.

Appending is a plain INSERT, so a decision never waits for the chain. Sealing gives the
unsealed rows, in id order, their `seq` (contiguous) and their hash, which covers the row's
content and the previous row's hash; the worker seals with every batch of passes and on its
schedule, under one lock. So a changed, inserted or deleted sealed row breaks the chain at
that point. The price is a window of a few seconds in which a new row is not yet sealed:
`verify` counts those rows apart.

Deleting the newest sealed rows leaves a shorter chain that is still whole, so the head (seq
and hash) is published outside the table: after each sealing transaction has committed,
`anchor` appends it to an append-only anchor file and the log, and the printed ledger and
notice carry it. `verify` then requires the chain to reach every anchored seq with the
anchored hash there; sealed rows without any anchor file are reported too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from approvals.record.db import connection_of
from approvals.record.models import AuditEntry

log = logging.getLogger(__name__)

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
class Head:
    """The newest sealed row: published as the chain's anchor."""

    seq: int
    hash: str
    at: str = ""  # when it was anchored (UTC, ISO), for the operator

    def __str__(self) -> str:  # as printed on the ledger and the notice
        return f"审计链：第{self.seq}条 哈希 {self.hash[:16]}"


def head(s: Session | Connection) -> Head | None:
    row = connection_of(s).execute(_LAST).first()
    return Head(row.seq, row.hash) if row else None


def anchor(s: Session | Connection, path: Path, now: dt.datetime) -> Head | None:
    """Publish the committed head when it moved since the last anchor: one line appended to
    the anchor file (and one to the log). Call it after the sealing transaction commits, so
    a rolled-back seal is never anchored. Returns the head written, if any."""
    current = head(s)
    if current is None:
        return None
    anchored = anchors(path, tail=4096)
    if anchored and max(a.seq for a in anchored) >= current.seq:
        return None
    at = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = json.dumps({"at": at, "seq": current.seq, "hash": current.hash})
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
    log.info("审计链已发布到第%d条（哈希 %s）。", current.seq, current.hash)
    return Head(current.seq, current.hash, at)


def anchors(path: Path, tail: int = 65536) -> list[Head] | None:
    """The anchors in the file's last `tail` bytes (lines that do not parse are skipped);
    None when there is no anchor file."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - tail))
            data = f.read()
    except FileNotFoundError:
        return None
    lines = data.decode("utf-8", "replace").splitlines()
    if size > tail:
        lines = lines[1:]  # the first may be cut
    found = []
    for line in lines:
        try:
            item = json.loads(line)
            found.append(Head(int(item["seq"]), str(item["hash"]), str(item.get("at", ""))))
        except (ValueError, KeyError, TypeError):
            continue
    return found


@dataclass(frozen=True)
class Break:
    seq: int
    problem: str  # Chinese, for the operator


def verify(s: Session, anchor_path: Path | None, also: Iterable[Head] = (),
           batch: int = 5000) -> tuple[int, list[Break]]:
    """Walk the whole chain; return the number of rows checked and every break found.

    The chain must reach every anchor in `anchor_path` (its tail) and in `also` (heads read
    off a printed ledger or notice; a hash prefix is enough) with the same hash there.
    `anchor_path` None checks the chain alone."""
    breaks: list[Break] = []
    expected_seq, prev, count = 1, GENESIS, 0
    last_seq = 0
    published = anchors(anchor_path) if anchor_path is not None else []
    wanted = [*(published or []), *also]
    at_seq = {a.seq: a for a in wanted}
    while True:
        rows = s.scalars(
            select(AuditEntry).where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            count += 1
            # a sealed row (seq > last_seq) has all three; unsealed rows have none
            assert row.seq is not None and row.prev_hash is not None and row.hash is not None
            if row.seq != expected_seq:
                gap = f"第{expected_seq}至{row.seq - 1}条记录缺失（被删除）"
                breaks.append(Break(row.seq, gap))
            if row.prev_hash != prev:
                breaks.append(Break(row.seq, f"第{row.seq}条记录的前序哈希与上一条不符"))
            if row.hash != _digest(row.seq, row.prev_hash, row.at, row.actor, row.action,
                                   row.case_id, row.payload):
                breaks.append(Break(row.seq, f"第{row.seq}条记录内容被修改"))
            mark = at_seq.get(row.seq)
            if mark is not None and not (len(mark.hash) >= 8 and row.hash.startswith(mark.hash)):
                breaks.append(Break(row.seq, f"第{row.seq}条记录的哈希与公布的锚点不符"
                                             "（链被改写）"))
            expected_seq, prev, last_seq = row.seq + 1, row.hash, row.seq
        s.expunge_all()
    if wanted:
        top = max(wanted, key=lambda a: a.seq)
        if top.seq > last_seq:
            when = f"（{top.at}公布）" if top.at else ""
            breaks.append(Break(top.seq, f"第{last_seq + 1}至{top.seq}条记录缺失（被删除）："
                                         f"锚点{when}记载审计链已到第{top.seq}条，"
                                         f"现在只到第{last_seq}条"))
    elif anchor_path is not None and count and published is None:
        breaks.append(Break(0, f"找不到锚点文件 {anchor_path}：已有 {count} 条封存记录，"
                               "无法确认最新的记录没有被删除（锚点由 fangfan worker "
                               "每次封存后写入；新部署请先运行 worker）"))
    elif anchor_path is not None and count:
        breaks.append(Break(0, f"锚点文件 {anchor_path} 中没有可读的锚点：已有 {count} 条"
                               "封存记录，无法确认最新的记录没有被删除"))
    return count, breaks
