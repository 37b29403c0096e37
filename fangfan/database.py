"""The engine for a URL, and Alembic upgrades run from code (no alembic.ini needed)."""

from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

from approvals.db import configure_sqlite

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kw) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kw)
        configure_sqlite(engine)
        return engine
    engine = create_engine(url, **kw)
    ping_when_idle(engine)
    return engine


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
    def _used(_dbapi_conn, record) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn, record, _proxy) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) > IDLE_PING_S:
            try:
                engine.dialect.do_ping(dbapi_conn)
            except engine.dialect.loaded_dbapi.Error as err:
                raise exc.DisconnectionError() from err


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)
