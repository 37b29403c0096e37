"""The benchmarks' PostgreSQL database: `bench`, apart from the tests' `test`, created on use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"


def ensure_database(url: str = PG_URL) -> str:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                           {"name": parsed.database}):
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def connect(config_path: Any) -> tuple[Engine, Any, Any]:
    """The benchmark database (created if missing), config.yaml, and its calendar:
    (engine, config, calendar)."""
    from fangfan import config as config_module
    from fangfan.database import make_engine

    engine = make_engine(ensure_database())
    config = config_module.load(config_path)
    return engine, config, config.work_calendar()


def seed(engine: Engine, config: Any, sql: Callable[[int], str]) -> None:
    """A fresh schema at the head migration, then `sql(definition_id)`'s statements (one per
    line ending in ';') with :now bound, then VACUUM ANALYZE so plans see the real sizes."""
    from approvals.procedure.cases import current_definition
    from approvals.record.db import Database
    from approvals.record.models import CaseKind
    from fangfan.database import upgrade

    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    now = dt.datetime.now(dt.UTC)
    with Database(engine).session_scope() as s:
        definition = current_definition(s, config.definition(CaseKind.IDENTIFICATION), now).id
    with engine.begin() as conn:
        for statement in sql(definition).split(";\n"):
            if statement.strip():
                conn.execute(text(statement), {"now": now})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
