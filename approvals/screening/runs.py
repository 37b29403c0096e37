"""Screening runs as the county desk sees them: queued, tracked step by step, listed, and their
hits read back with the household, its place and its case.

The flow (workflows/screening.py) writes a run's status, step and progress here in short
transactions of their own, so the desk page shows them while the run goes on; the desk reads
the runs and a run's hits through `runs` and `hits`. Only the county's staff see them
(`ensure_county`): the hits name households all over the county.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from approvals.procedure.permissions import Actor
from approvals.record.db import Database
from approvals.record.definitions import Level
from approvals.record.errors import NotAllowed, NotFound
from approvals.record.models import Household, Member, Place
from approvals.record.models.screening import (
    HitOutcome,
    RunStatus,
    ScreeningHit,
    ScreeningRun,
)
from approvals.screening import store
from approvals.screening.comparison import SCOPES as SCOPES  # the scopes' names, for the desk
from approvals.screening.evidence import LEVEL_CLASSES, LEVEL_ORDER, OUTCOMES
from approvals.screening.rules import describe

STATUS = {RunStatus.QUEUED: "排队中", RunStatus.RUNNING: "进行中", RunStatus.DONE: "已完成",
          RunStatus.FAILED: "失败"}
UNMATCHED_FILE = "unmatched.parquet"  # the feed rows whose ID number is not in the roster


def ensure_county(actor: Actor, levels: Mapping[Level, str]) -> None:
    """Department screening is the county's: its hits span every township."""
    if actor.level != "county":
        raise NotAllowed(f"部门筛查预警由{levels[Level.COUNTY]}级人员办理。")


def queue(s: Session, *, as_of: dt.date, scope: str, trigger: str, started_by: str,
          feeds_dir: Path, now: dt.datetime) -> int:
    """A run about to start: listed at once, whoever runs it (a thread, a Prefect worker)."""
    run = ScreeningRun(as_of=as_of, scope=scope, trigger=trigger, started_by=started_by,
                       feeds_dir=str(feeds_dir), status=RunStatus.QUEUED, step="等待开始",
                       progress=0, created_at=now, report={})
    s.add(run)
    s.flush()
    return run.id


def mark(database: Database, run_id: int, **values: Any) -> None:
    """Record how a run is getting on, committed at once so the desk sees it."""
    with database.session_scope() as s:
        s.execute(update(ScreeningRun).where(ScreeningRun.id == run_id).values(**values))


@dataclass(frozen=True)
class RunRow:
    id: int
    as_of: dt.date
    scope: str
    trigger: str
    status: str
    step: str
    progress: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None
    flow_run_id: str | None
    report: dict[str, Any]

    @property
    def scope_label(self) -> str:
        return SCOPES.get(self.scope, self.scope)

    @property
    def status_label(self) -> str:
        return STATUS.get(RunStatus(self.status), self.status)

    @property
    def running(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)


def _row(run: ScreeningRun) -> RunRow:
    return RunRow(run.id, run.as_of, run.scope, run.trigger, run.status, run.step, run.progress,
                  run.created_at, run.started_at, run.finished_at, run.error, run.flow_run_id,
                  dict(run.report or {}))


def runs(s: Session, limit: int = 50) -> list[RunRow]:
    """The latest runs, newest first."""
    return [_row(r) for r in s.scalars(select(ScreeningRun).order_by(
        ScreeningRun.id.desc()).limit(limit))]


def run(s: Session, run_id: int) -> RunRow:
    found = s.get(ScreeningRun, run_id)
    if found is None:
        raise NotFound("没有这次筛查。")
    return _row(found)


@dataclass(frozen=True)
class HitRow:
    id: int
    household_id: int
    head: str  # the household head's name
    village: str
    township: str
    township_id: int
    case_id: int | None
    rule: str
    rule_name: str
    level: str
    outcome: str
    said: str  # rules.describe: the hit in plain Chinese

    @property
    def level_class(self) -> str:
        """The level badge's CSS class, as the case page's (evidence.LEVEL_CLASSES)."""
        return LEVEL_CLASSES.get(self.level, "")

    @property
    def outcome_label(self) -> str:
        return OUTCOMES[HitOutcome(self.outcome)]


@dataclass(frozen=True)
class HitFilters:
    rule: str | None = None
    level: str | None = None
    township_id: int | None = None


def hits(s: Session, run_id: int, filters: HitFilters = HitFilters()) -> list[HitRow]:
    """The hits a run recorded, red first, then by place."""
    village, township = Place.__table__.alias("v"), Place.__table__.alias("t")
    head = (select(Member.name).where(Member.household_id == Household.id, Member.is_head)
            .limit(1).scalar_subquery())
    query = (select(ScreeningHit, head.label("head"), village.c.name.label("village"),
                    township.c.name.label("township"), township.c.id.label("township_id"))
             .join(Household, Household.id == ScreeningHit.household_id)
             .join(village, village.c.id == Household.village_id)
             .join(township, township.c.id == village.c.parent_id)
             .where(ScreeningHit.run_id == run_id))
    if filters.rule:
        query = query.where(ScreeningHit.rule == filters.rule)
    if filters.level:
        query = query.where(ScreeningHit.level == filters.level)
    if filters.township_id:
        query = query.where(township.c.id == filters.township_id)
    rows = [HitRow(h.id, h.household_id, name or "", v, t, t_id, h.case_id, h.rule, h.rule_name,
                   h.level, h.outcome, describe(h.figures))
            for h, name, v, t, t_id in s.execute(query.order_by(ScreeningHit.id))]
    return sorted(rows, key=lambda r: (LEVEL_ORDER.get(r.level, 9), r.township, r.village, r.id))


def townships(s: Session) -> list[tuple[int, str]]:
    return [(r.id, r.name) for r in s.execute(
        select(Place.id, Place.name).where(Place.level == Level.TOWNSHIP).order_by(Place.path))]


def unmatched_path(root: Path, run_id: int) -> Path:
    return store.run_folder(root, run_id) / UNMATCHED_FILE


def keep_unmatched(root: Path, run_id: int, unmatched: pl.DataFrame) -> None:
    """The feed rows whose ID number is not in the roster, every one, for the county to look
    into (a person moved away, a typo in the roster): kept beside the run's frames, never in
    the run's report or Prefect (they are ID numbers)."""
    path = unmatched_path(root, run_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    unmatched.write_parquet(path)
    path.chmod(0o600)


def unmatched(root: Path, run_id: int) -> pl.DataFrame | None:
    path = unmatched_path(root, run_id)
    return pl.read_parquet(path) if path.exists() else None
