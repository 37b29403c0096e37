"""The database without Flask: the declarative base, and `Database`, the engine with its
scopes, which the wiring builds once per process and passes to the edges.

The web app, flow tasks, CLI commands and scheduled jobs open their sessions through the
`Database` they are given. The edge owns the transaction: services flush, `session_scope()`
commits once at the end, or rolls back on error. `statement_scope()` runs each statement as
its own transaction: for reads, and for a decision on PostgreSQL, whose one write is a
single statement (approvals/procedure/decisions.py). On PostgreSQL those run on an
autocommit twin of the engine with a pool of its own (`statement_engine`).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, TypeAlias, cast

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    MetaData,
    Row,
    Select,
    Table,
    TypeDecorator,
    create_engine,
    event,
    exc,
)
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor, Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes on both databases (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect
                           ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware one (ask the clock)")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect
                             ) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar = {dt.datetime: UTCDateTime}
    # every model here maps a Table (SQLAlchemy types it as any FromClause), which Core's
    # insert() and update() take
    __table__: ClassVar[Table]


class Database:
    """One process's database: the engine and the scopes work runs in.

    Built once by the wiring (fangfan.services) and passed to what opens transactions: the
    pages get it through their Context, the worker, CLI and bot through Services, the flows
    through their runtime. The edge owns the transaction: services flush, `session_scope()`
    commits once at the end, or rolls back on error."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements = statement_engine(engine)
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._statement_sessions = sessionmaker(self.statements, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def statement_scope(self) -> Iterator[Session]:
        """A session for reads; on PostgreSQL each statement is its own transaction
        (autocommit).

        Under READ COMMITTED each statement sees its own snapshot even inside a transaction,
        so reads lose nothing here and save PostgreSQL the BEGIN and COMMIT round trips (on
        SQLite a transaction that only reads costs nothing: it never begins). On PostgreSQL a
        write here is safe when it is one statement; on SQLite nothing here is committed, so
        only read. Writes that must stand or fall together belong in `session_scope()`.
        """
        session = self._statement_sessions()
        try:
            yield session
        finally:
            session.close()

    @contextmanager
    def connection_scope(self) -> Iterator[Connection]:
        """A Core connection, for the hottest path (a decision) where an ORM session's own
        bookkeeping costs as much as a statement. On PostgreSQL each statement is its own
        transaction, as in `statement_scope()`; on SQLite the writes commit together at the
        end, as in `session_scope()`."""
        engine = self.statements
        with engine.connect() if engine.dialect.name == "postgresql" else engine.begin() as conn:
            yield conn

    @contextmanager
    def transaction_scope(self) -> Iterator[Connection]:
        """`session_scope()` without the ORM: a Core connection in one transaction, committed
        at the end, rolled back on error."""
        with self.engine.begin() as conn:
            yield conn


_TWINS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()


def statement_engine(engine: Engine) -> Engine:
    """Where statements run each on its own (`statement_scope`, `connection_scope`).

    SQLite: the engine itself (its transactions begin at their first write, so reads need
    nothing; configure_sqlite). PostgreSQL: an autocommit twin with a pool of its own, made
    once per engine and disposed with it. Switching the shared pool's connections into
    autocommit at checkout and back at checkin (`execution_options(isolation_level=...)`)
    cost a third of a decision's time; the twin's connections stay in autocommit and need no
    reset on return, since no transaction is ever left open on them.
    """
    if engine.dialect.name == "sqlite":
        return engine
    twin = _TWINS.get(engine)
    if twin is None:
        twin = _TWINS[engine] = create_engine(engine.url, isolation_level="AUTOCOMMIT",
                                              pool_reset_on_return=None)
        ping_when_idle(twin)
        event.listen(engine, "engine_disposed", lambda _engine: twin.dispose())
    return twin


def connection_of(s: Session | Connection) -> Connection:
    return s if isinstance(s, Connection) else s.connection()


# A row, a query and a result of any columns (SQLAlchemy types each by its columns' types).
AnyRow: TypeAlias = Row[*tuple[Any, ...]]
AnySelect: TypeAlias = Select[*tuple[Any, ...]]
AnyResult: TypeAlias = Result[*tuple[Any, ...]]


def rowcount(result: AnyResult) -> int:
    """The rows an UPDATE or DELETE matched. Its result is a CursorResult, which
    `Session.execute()` types as any Result."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of a DML statement: {type(result).__name__}")
    return result.rowcount


IDLE_PING_S = 5.0


def ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat idle for a while.

    `pool_pre_ping` pings on every checkout: a round trip that was a tenth of a decision's
    time. A connection returned a moment ago is alive, so only one idle for more than
    IDLE_PING_S is pinged; a dead one is replaced before the request uses it (the pool retries
    on DisconnectionError). One that dies in between fails that request, and SQLAlchemy then
    invalidates the rest of the pool.
    """

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _used(_dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry, *_: object) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: DBAPIConnection, record: ConnectionPoolEntry,
              _proxy: PoolProxiedConnection) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) > IDLE_PING_S:
            try:
                engine.dialect.do_ping(dbapi_conn)
            except engine.dialect.loaded_dbapi.Error as err:
                raise exc.DisconnectionError() from err


LOCK_WAIT_S = 30.0
WAL_CHECKPOINT_PAGES = 16_000
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "ANALYZE")


def configure_sqlite(engine: Engine) -> None:
    """WAL, and transactions that take the write lock at their first write, waiting finely.

    The driver is left in autocommit and a transaction begins only when it first writes (or
    reads with FOR UPDATE, which SQLite lacks: the lock stands in for the row lock), with
    BEGIN IMMEDIATE. Reads before that see the latest committed data statement by statement,
    as PostgreSQL's READ COMMITTED does, so code correct there is correct here; a
    transaction that only reads never takes the lock, and one that reads then writes holds it
    for its writes only. BEGIN IMMEDIATE, not a deferred BEGIN that upgrades, so a write
    never fails with SQLITE_BUSY on a stale snapshot (the pysqlite recipe of SQLAlchemy's
    SQLite docs). SQLite's own busy handler sleeps 1, 2, 5, 10 ms... per attempt while our
    transactions hold the lock for well under a millisecond, so we wait for it ourselves in
    steps of 0.1 ms. In WAL mode only writers wait: readers never block.

    The WAL is copied back into the database (a checkpoint, with its fsyncs) by the commit
    that takes it past `wal_autocheckpoint` pages. A decision writes 14 pages, its pass as
    many again, mostly the same index leaves over and over: at SQLite's default of 1,000
    pages one decision in 50 paid a 6 ms checkpoint; at 16,000 (64 MB) the copies of a hot page
    fold into one and one decision in 500 pays (docs/benchmarks.md). `journal_size_limit`
    gives the disk back after a checkpoint.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=5000")  # the first connection may need to set WAL
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        cur.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_PAGES * 4096}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=0")
        cur.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _lock_before_writing(conn: Connection, _cursor: DBAPICursor, statement: str,
                             _params: object, context: DefaultExecutionContext | None,
                             _many: bool
                             ) -> None:
        # pysqlite's connection (typed Any | None: a checked-out connection always has one)
        dbapi_conn = cast(sqlite3.Connection, conn.connection.driver_connection)
        if dbapi_conn.in_transaction or not _writes(statement, context):
            return
        deadline = time.monotonic() + LOCK_WAIT_S
        pause = 0.0001
        while True:
            try:
                dbapi_conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 1.5, 0.0005)


def _writes(statement: str, context: DefaultExecutionContext | None) -> bool:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete
                                or context.isddl):
        return True
    compiled = getattr(context, "compiled", None)
    if compiled is not None and getattr(compiled.statement, "_for_update_arg", None) is not None:
        return True
    return statement.lstrip()[:7].upper().startswith(_WRITE_VERBS)
