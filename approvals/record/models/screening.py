"""部门筛查预警 in the record: a screening run, and what it found for each household.

A `ScreeningRun` is one comparison of the departments' feeds with the roster (from the county
desk, the command line or a scheduled round); its report (counts, bad rows, IDs not in the
roster) is kept on it once it ends. A `ScreeningHit` is one rule that fired for one household,
with its evidence: the feed rows and the figures against the rule's threshold. The hit says
what it did: opened a case, added its evidence to the household's open case, or listed the
household for its cadre's next visit. Its fingerprint (the household, the rule and the rows
that made it fire) is unique, so running the same files again adds nothing.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from approvals.record.db import Base


class RunStatus(StrEnum):
    QUEUED = "queued"  # files received, waiting for a worker
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class HitOutcome(StrEnum):
    OPENED = "opened"  # an identification case opened with this evidence
    ADDED = "added"  # added to the household's open case
    LISTED = "listed"  # listed for the cadre's next visit (monitored, or a `visit` rule)


class ScreeningRun(Base):
    __tablename__ = "screening_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[dt.date]  # the rules' windows count back from this day
    scope: Mapped[str] = mapped_column(String(8))  # all | key (重点人群: monitored, 脱贫户)
    trigger: Mapped[str] = mapped_column(String(64))  # 县级上传 | 命令行 | a round's name
    started_by: Mapped[str] = mapped_column(String(64))  # cadre:<id> | cli | schedule
    feeds_dir: Mapped[str] = mapped_column(Text)  # where its files are
    status: Mapped[RunStatus] = mapped_column(String(16), default=RunStatus.QUEUED)
    step: Mapped[str] = mapped_column(String(64), default="")  # what it is doing, in Chinese
    progress: Mapped[int] = mapped_column(default=0)  # percent
    created_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    flow_run_id: Mapped[str | None] = mapped_column(String(64))  # Prefect's, for the link
    error: Mapped[str | None] = mapped_column(Text)  # why it failed, in Chinese
    # counts per rule, township and level; bad rows; IDs not in the roster; cases opened
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ScreeningHit(Base):
    __tablename__ = "screening_hits"
    __table_args__ = (
        UniqueConstraint("household_id", "fingerprint"),
        # the cadre's list of households to look at (the revisit page, the digest)
        Index("ix_screening_hits_listed", "household_id",
              sqlite_where=text("outcome = 'listed' AND visited_at IS NULL"),
              postgresql_where=text("outcome = 'listed' AND visited_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("screening_runs.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    rule: Mapped[str] = mapped_column(String(40))  # its key in config.yaml
    # the rule as it read on the day: name, explanation, threshold (config may change later)
    rule_name: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(2))  # 红 | 橙 | 黄
    risk: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))  # open_case | visit
    as_of: Mapped[dt.date]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # the feed rows
    fingerprint: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[HitOutcome] = mapped_column(String(16))
    created_at: Mapped[dt.datetime]
    # a `listed` hit stays on the cadre's list until a revisit is recorded after it
    visited_at: Mapped[dt.datetime | None]
