"""The connection rules the services rely on: reads never wait for a writer nor hold one
up, and a pooled connection the server dropped while it sat idle is replaced before a
request uses it."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, exc, func, select, text

from approvals.record import db
from approvals.record.definitions import Level
from approvals.record.models import Place
from fangfan.database import make_engine
from fangfan.services import Services
from tests.db import session_scope, statement_scope


def test_a_read_does_not_wait_for_a_writer(services: Services) -> None:
    """On SQLite a transaction takes the write lock at BEGIN; pages and the signed-in cadre
    read in statement_scope() and go on while the worker writes."""
    read: list[int] = []
    with session_scope() as writer:
        writer.add(Place(name="读写测试村", level=Level.VILLAGE, path="/x/"))
        writer.flush()

        def reader() -> None:
            with statement_scope() as s:
                read.append(s.scalar(select(func.count()).select_from(Place)) or 0)

        thread = threading.Thread(target=reader)
        thread.start()
        thread.join(5)
        assert not thread.is_alive(), "the read waited for the writer"
    assert read == [0]  # the writer's row was not committed yet
    with statement_scope() as s:
        assert s.scalar(select(func.count()).select_from(Place)) == 1


def test_a_transaction_that_only_read_does_not_hold_up_a_writer(services: Services) -> None:
    """On SQLite a transaction takes the write lock at its first write, not at BEGIN: a page
    that reads for a while does not stop the bot or the worker from writing."""
    written: list[bool] = []
    with session_scope() as reader:
        assert reader.scalar(select(func.count()).select_from(Place)) == 0

        def writer() -> None:
            with session_scope() as s:
                s.add(Place(name="写入测试村", level=Level.VILLAGE, path="/y/"))
            written.append(True)

        thread = threading.Thread(target=writer)
        thread.start()
        thread.join(5)
        assert not thread.is_alive(), "the writer waited for a transaction that only read"
        assert reader.scalar(select(func.count()).select_from(Place)) == 1  # read committed
    assert written == [True]


@pytest.fixture
def pg_engine(database_url: str) -> Engine:
    if not database_url.startswith("postgresql"):
        pytest.skip("the server dropping a connection: PostgreSQL")
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def drop_pooled_connection(engine: Engine, admin: Engine) -> None:
    with engine.connect() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
        pg_engine: Engine, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)  # every connection counts as idle
    drop_pooled_connection(pg_engine, engine)
    with pg_engine.connect() as conn:
        assert conn.scalar(text("SELECT 1")) == 1


def test_without_the_ping_the_dropped_connection_fails_one_request(
        pg_engine: Engine, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the ping saves: a connection used a moment ago is trusted, so a drop in between
    fails that request; the pool then replaces it for the next."""
    monkeypatch.setattr(db, "IDLE_PING_S", 3600.0)
    drop_pooled_connection(pg_engine, engine)
    with pytest.raises(exc.OperationalError), pg_engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with pg_engine.connect() as conn:
        assert conn.scalar(text("SELECT 1")) == 1


def test_statements_run_on_one_autocommit_twin_disposed_with_its_engine(
        pg_engine: Engine) -> None:
    """On PostgreSQL a decision's statements each commit on their own (no transaction is
    left open after one), on a pool of their own, and the twin goes when its engine does."""
    twin = db.statement_engine(pg_engine)
    assert db.statement_engine(pg_engine) is twin
    with twin.connect() as conn:
        pid = conn.scalar(text("SELECT pg_backend_pid()"))
        assert conn.connection.driver_connection.info.transaction_status.name == "IDLE"
    with pg_engine.connect() as conn:
        conn.scalar(text("SELECT 1"))
        assert conn.connection.driver_connection.info.transaction_status.name == "INTRANS"
    with pg_engine.connect() as other:
        assert pid != other.scalar(text("SELECT pg_backend_pid()"))  # its own pool
    assert twin.pool.checkedin() == 1
    pg_engine.dispose()
    assert twin.pool.checkedin() == 0
