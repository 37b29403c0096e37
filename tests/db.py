"""The test run's database, for tests that arrange or read rows themselves.

A run uses one database (conftest's `engine` fixture installs it here). The application is
never reached this way: its parts are handed a `Database` (fangfan.services.Services, the
pages' Context, the flows' runtime); this only spares each test a fixture for its own reads.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from approvals.record.db import Database

_database: Database | None = None


def install(database: Database) -> None:
    global _database
    _database = database


def database() -> Database:
    assert _database is not None, "the engine fixture installs the test database"
    return _database


def session_scope() -> AbstractContextManager[Session]:
    return database().session_scope()


def statement_scope() -> AbstractContextManager[Session]:
    return database().statement_scope()


def connection_scope() -> AbstractContextManager[Connection]:
    return database().connection_scope()


def transaction_scope() -> AbstractContextManager[Connection]:
    return database().transaction_scope()


def dialect() -> str:
    return database().dialect
