"""What the departments' data say of one household and one case, as the pages show them.

The county's 比对审定 compares a case with every department record the latest finished run
holds for the household (`household_records`: read back from the run's kept frames, store.py,
matched to the household through the members' ID numbers when the run read them), each with
a stable reference (`feed:row:run`) the county's form records as checked (the hits that
opened the case or were added to it are evidence.py's). The stage module
(approvals/procedure/stages/county_approval.py) never imports this package: the page reads
the records here and hands their references to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from approvals.record.models import (
    Case,
    RunStatus,
    ScreeningRun,
)
from approvals.screening import store
from approvals.screening.feeds import FEEDS, Kind
from approvals.screening.rules import yuan

SCOPES = {"all": "全面排查", "key": "重点人群排查"}


def reference(feed: str, row: int, run_id: int) -> str:
    """A department record's stable name in a form: which feed, which row of its file, which
    run read it (a later run's record is another, even from the same file)."""
    return f"{feed}:{row}:{run_id}"


@dataclass(frozen=True)
class Run:
    id: int
    as_of: dt.date
    scope: str  # SCOPES' key
    finished_at: dt.datetime | None

    @property
    def label(self) -> str:
        return f"第{self.id}次筛查（{SCOPES.get(self.scope, self.scope)}，数据截至{self.as_of}）"


@dataclass(frozen=True)
class Shown:
    """One department record as the county reads it."""

    ref: str
    name: str
    date: str  # ISO
    date_label: str  # 结算日期
    facts: list[str]  # "个人自付：25,000元", the record's other fields in its feed's order
    file: str
    row: int


@dataclass(frozen=True)
class Department:
    feed: str
    label: str  # 医保
    department: str  # 医疗保障局
    records: list[Shown]
    run: Run  # the latest finished run that read this department's file


@dataclass
class DepartmentData:
    """What the county is shown at 比对审定: the latest run (None: no run has finished yet),
    the household's records by department (each from the latest run that read its file),
    and which runs' files could not be read, if any."""

    run: Run | None = None
    departments: list[Department] = field(default_factory=list)
    problem: str = ""

    @property
    def refs(self) -> list[str]:
        return [r.ref for d in self.departments for r in d.records]

    @property
    def labels(self) -> dict[str, str]:
        """Each record's reference → how the county reads it (医保 王大 2026-03-01), kept
        with the decision for the case's history."""
        return {r.ref: f"{d.label} {r.name} {r.date}" for d in self.departments
                for r in d.records}

    def into(self, data: dict[str, Any]) -> dict[str, Any]:
        """The county's form with what it was shown: the references it must tick or say
        why not (the stage checks them) and their names."""
        return {**data, "records": self.refs, "record_labels": self.labels}


def _value(kind: Kind, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if kind == Kind.AMOUNT:
        return yuan(float(value))
    return str(value)


def _shown(record: store.Record, run_id: int) -> Shown:
    """The record's fields in its feed's order, but the name (shown first), the ID number
    (never shown here: the member is named) and the date (shown beside)."""
    feed = FEEDS[record.feed]
    date_header = next(f.header for f in feed.fields if f.key == feed.date_field)
    facts = [f"{f.header}：{_value(f.kind, record.values.get(f.header))}"
             for f in feed.fields
             if f.kind not in (Kind.ID, Kind.NAME) and f.key != feed.date_field]
    return Shown(reference(record.feed, record.row, run_id), record.name, record.date,
                 date_header, facts, record.file, record.row)


def latest_runs(conn: Connection) -> dict[str, Run]:
    """Each department's latest finished run that read its file. A run may read only some
    of the six (the desk takes what a county has), so the newest run alone would hide what
    an earlier one read of the others. A key-group round keeps every household's records
    all the same (engine.Screened.matched), so either scope counts."""
    rows = conn.execute(select(ScreeningRun.id, ScreeningRun.as_of, ScreeningRun.scope,
                               ScreeningRun.finished_at, ScreeningRun.report)
                        .where(ScreeningRun.status == RunStatus.DONE)
                        .order_by(ScreeningRun.finished_at.desc().nulls_last(),
                                  ScreeningRun.id.desc()))
    found: dict[str, Run] = {}
    for row in rows:
        run = Run(row.id, row.as_of, row.scope, row.finished_at)
        report = row.report or {}
        feeds = ([f["feed"] for f in report["feeds"]] if "feeds" in report
                 else list(FEEDS))  # a run recorded without its report: whatever it kept
        for feed in feeds:
            found.setdefault(feed, run)
        if len(found) == len(FEEDS):
            break
    return found


def household_records(conn: Connection, root: Path, household_id: int) -> DepartmentData:
    """Every record the latest run read for the household's members, by department (in the
    feeds' order), newest first within each."""
    return _records(conn, root, household_id)


def case_records(conn: Connection, root: Path, case_id: int) -> DepartmentData:
    """`household_records` of the case's household."""
    household = conn.scalar(select(Case.household_id).where(Case.id == case_id))
    return _records(conn, root, household) if household else DepartmentData()


def _records(conn: Connection, root: Path, household_id: int) -> DepartmentData:
    runs = latest_runs(conn)
    if not runs:
        return DepartmentData()
    by_run: dict[Run, list[str]] = {}
    for feed, run in runs.items():
        by_run.setdefault(run, []).append(feed)
    by_feed: dict[str, list[Shown]] = {}
    gone = []
    for run, feeds in by_run.items():
        # moved or cleaned up: said, never shown as "no records"
        try:
            if not store.run_folder(root, run.id).is_dir():
                raise FileNotFoundError(run.id)
            found = store.records(root, run.id, household_id)
        except OSError:
            gone.append(run.label)
            continue
        for record in found:
            if record.feed in feeds:
                by_feed.setdefault(record.feed, []).append(_shown(record, run.id))
    newest = max(runs.values(), key=lambda r: (r.finished_at is not None, r.finished_at, r.id))
    problem = (f"{'、'.join(gone)}的数据文件已不在服务器上，无法显示，请联系系统管理员。"
               if gone else "")
    return DepartmentData(newest, [Department(key, feed.label, feed.department, by_feed[key],
                                              runs[key])
                                   for key, feed in FEEDS.items() if key in by_feed], problem)
