"""The benchmarks' PostgreSQL database: `bench`, apart from the tests' `test`, created on use."""

from __future__ import annotations

from sqlalchemy import create_engine, text
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
