"""The records of questions answered (帮助, 政策, 进度, a welcome), written behind in batches.

A question's answer reads and changes nothing, so it needs no retry guard: WeChat retries
only an answer it did not get, and answering the retry again is what it asks for. Its
record is still wanted, for the 48-hour window of customer-service messages (bot/push.py),
but not before the answer: each process keeps the records and writes them about once a
second, and at exit, in one statement that skips keys already there. A process killed hard
loses at most that second's records; those farmers' next notices then go out as template
messages instead of customer-service messages, which is the fallback anyway.

While the database is unreachable the records are kept (up to KEEP_AT_MOST) for the next
attempt. A batch the database refuses for another reason is written row by row, and a row
it refuses is dropped with one log line that names no one: one bad record never holds up
the others.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import threading

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.models import InboundMessage

log = logging.getLogger(__name__)
INBOUND = InboundMessage.__table__
KEEP_AT_MOST = 50_000  # while the database is unreachable; older records are dropped


class InboundLog:
    """One per process (`Services.inbound_log()`); thread-safe."""

    def __init__(self, engine: Engine, every_s: float = 1.0) -> None:
        self.engine, self.every_s = engine, every_s
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert = dialect.insert(INBOUND).on_conflict_do_nothing(index_elements=["key"])
        self._rows: list[dict[str, object]] = []
        self._lock = threading.Lock()
        self._writer_pid = 0  # the process whose writer thread runs (a fork has none)
        self._closed = threading.Event()

    def add(self, key: str, openid: str, received_at: dt.datetime, reply: str) -> None:
        with self._lock:
            self._rows.append({"key": key, "openid": openid, "received_at": received_at,
                               "reply": reply})
            if self._writer_pid != os.getpid():  # the first record here, or since a fork
                self._writer_pid = os.getpid()
                self._closed = threading.Event()
                threading.Thread(target=self._write_behind, args=(self._closed,),
                                 daemon=True, name="inbound-log").start()
                atexit.register(self.close)

    def flush(self) -> int:
        """Write what was kept; the number of records written (or already there)."""
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        try:
            self._write(rows)
            return len(rows)
        except Exception as err:
            if _unreachable(err):
                return self._keep(rows, err)
        written = 0
        for k, row in enumerate(rows):  # the database refused the batch: find the bad rows
            try:
                self._write([row])
                written += 1
            except Exception as err:
                if _unreachable(err):
                    self._keep(rows[k:], err)
                    break
                log.warning("数据库拒收一条收信记录，已丢弃（%s）",
                            type(getattr(err, "orig", None) or err).__name__)
        return written

    def _write(self, rows: list[dict[str, object]]) -> None:
        with self.engine.begin() as conn:
            conn.execute(self._insert, rows)

    def _keep(self, rows: list[dict[str, object]], err: Exception) -> int:
        log.warning("%d条收信记录暂时写不进数据库（%s），下次再写",
                    len(rows), type(getattr(err, "orig", None) or err).__name__)
        with self._lock:
            self._rows = (rows + self._rows)[-KEEP_AT_MOST:]
        return 0

    def close(self) -> None:
        """Stop writing behind, and write what is kept (at exit)."""
        with self._lock:
            self._closed.set()
            self._writer_pid = 0
        atexit.unregister(self.close)
        self.flush()

    def _write_behind(self, closed: threading.Event) -> None:
        while not closed.wait(self.every_s):
            self.flush()


def _unreachable(err: Exception) -> bool:
    """The database could not be reached or used at all (a lost connection, a missing file,
    a locked or read-only database), as opposed to refusing the rows themselves."""
    return isinstance(err, OperationalError) or (isinstance(err, DBAPIError)
                                                 and err.connection_invalidated)
