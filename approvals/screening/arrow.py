"""A query's result read straight into Arrow columns (ADBC, Arrow's database drivers).

Kept apart, importing only Polars, because on SQLite it runs in a child process
(engine.roster says why) that imports this module alone: importing the rest of fangfan there
cost more than the read. The child hands its frame back as an Arrow IPC file, not a pickle,
so no second copy of a province's roster is made on the way.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl


def read(sql: str, uri: str, schema: dict[str, type[pl.DataType]]) -> pl.DataFrame:
    return pl.read_database_uri(sql, uri, engine="adbc").cast(schema)  # type: ignore[arg-type]


def read_to(sql: str, uri: str, schema: dict[str, type[pl.DataType]], path: str) -> None:
    """`read`, written to `path` as Arrow IPC (the child process's half)."""
    read(sql, uri, schema).write_ipc(Path(path))
