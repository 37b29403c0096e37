"""The frames a run read, kept: every department record of a household for the county's
比对审定, without keeping millions of rows in the database.

A run's matched frames (engine.Screened.matched) are written as Parquet files under the
screening folder (`runs/<run id>/<feed>.parquet`, readable by the service's user only), and
read back for a household with a filter on household_id that Parquet's statistics push down.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from approvals.screening.feeds import FEEDS, Kind


@dataclass(frozen=True)
class Record:
    """One department record of a member, for the county's comparison."""

    feed: str  # medical ...
    label: str  # 医保
    member_id: int
    name: str
    date: str  # ISO date
    values: dict[str, Any]  # the feed's default header → value (amounts float, dates ISO)
    file: str
    row: int


def run_folder(root: Path, run_id: int) -> Path:
    return root / "runs" / str(run_id)


def save(root: Path, run_id: int, matched: dict[str, pl.DataFrame]) -> Path:
    """Keep a run's matched frames (engine.Screened.matched); returns the run's folder.
    Sorted by household so that a household's rows sit in a few row groups, whose
    statistics let `records` skip the rest."""
    folder = run_folder(root, run_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for feed, frame in matched.items():
        part = folder / f"{feed}.parquet.part"  # never a half-written file under its name
        frame.drop("in_scope", strict=False).sort("household_id").write_parquet(
            part, statistics=True, row_group_size=64_000)
        part.chmod(0o600)
        part.replace(folder / f"{feed}.parquet")
    return folder


def records(root: Path, run_id: int, household_id: int) -> list[Record]:
    """Every record the run's feeds hold for the household's members, newest first."""
    found = []
    for path in sorted(run_folder(root, run_id).glob("*.parquet")):
        feed = FEEDS.get(path.name.removesuffix(".parquet"))
        if feed is None:
            continue
        rows = pl.scan_parquet(path).filter(pl.col("household_id") == household_id).collect()
        shown = [f for f in feed.fields if f.kind not in (Kind.ID, Kind.NAME)]
        for row in rows.iter_rows(named=True):
            found.append(Record(
                feed.key, feed.label, row["member_id"], row["member_name"],
                row[feed.date_field].isoformat(),
                {f.header: _plain(row[f.key]) for f in shown}, str(row["file"]), row["row"]))
    found.sort(key=lambda r: (r.date, r.label, r.row), reverse=True)
    return found


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
