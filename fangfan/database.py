"""The engine for a URL, and Alembic upgrades run from code (no alembic.ini needed)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from approvals.record.db import configure_sqlite, ping_when_idle

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kw) -> Engine:
    """The engine; a database error never carries the statement's bound values (ID numbers,
    names, phones) into a message or a log."""
    kw.setdefault("hide_parameters", True)
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


def alembic_config(engine: Engine) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)
