"""Writing to the outbox, inside the caller's transaction. The key makes it idempotent: the
same event enqueued twice (a pass re-run, a retried webhook) is one message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from notifications.models import Audience, OutboxMessage, OutboxStatus

OUTBOX = OutboxMessage.__table__


def enqueue(conn: Connection, messages: Iterable[dict[str, Any]], now: dt.datetime) -> None:
    """Each message: key, recipient, event, params (audience: farmer unless given). Keys
    already there are skipped."""
    rows = [{"audience": Audience.FARMER, **m, "status": OutboxStatus.PENDING, "attempts": 0,
             "next_attempt_at": now, "created_at": now} for m in messages]
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(OUTBOX).on_conflict_do_nothing(index_elements=["key"]), rows)
