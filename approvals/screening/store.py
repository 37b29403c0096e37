"""The frames a run read, kept: every department record of a household for the county's
比对审定, without keeping millions of rows in the database.

A run's matched frames (engine.Screened.matched) are written as Parquet files under the
screening folder (`runs/<run id>/<feed>.parquet`, readable by the service's user only), and
read back for a household with a filter on household_id that Parquet's statistics push down.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl


@dataclass(frozen=True)
class Record:
    """One department record of a member, for the county's comparison."""

    feed: str  # medical ...
    label: str  # 医保
    member_id: int
    name: str
    date: str  # ISO date
    values: dict[str, Any]  # field key → value (amounts as float, dates as ISO)
    file: str
    row: int


def run_folder(root: Path, run_id: int) -> Path:
    return root / "runs" / str(run_id)


def save(root: Path, run_id: int, matched: dict[str, pl.DataFrame]) -> Path:
    """Keep a run's matched frames (engine.Screened.matched); returns the run's folder."""
    raise NotImplementedError


def records(root: Path, run_id: int, household_id: int) -> list[Record]:
    """Every record the run's feeds hold for the household's members, newest first."""
    raise NotImplementedError
