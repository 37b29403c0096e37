"""A 复核 (re-examination): the applicant disagrees with a decision not to enrol the household
(a verification that found no real risk, the vote, the township's or the county's rejection)
and asks the township to examine it again. One per rejecting decision; its own deadline and
its own result (approvals/procedure/reexaminations.py says what the result does)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from approvals.record.db import Base


class ReexaminationStatus(StrEnum):
    OPEN = "open"
    DECIDED = "decided"


class ReexaminationResult(StrEnum):
    UPHELD = "upheld"  # 维持原结论
    REVOKED = "revoked"  # 撤销原结论并重新办理


class Reexamination(Base):
    __tablename__ = "reexaminations"
    __table_args__ = (
        UniqueConstraint("case_id", "task_id"),  # one 复核 of one decision
        # the township's open ones, most urgent first (the inbox, the reminders)
        Index("ix_reexaminations_open", "role", "place_id", "due_at",
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
        # what the household has still to be told (notifications/reexaminations.py)
        Index("ix_reexaminations_untold", "id",
              sqlite_where=text("told_at IS NULL"), postgresql_where=text("told_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))  # the decision examined
    role: Mapped[str] = mapped_column(String(32))  # who examines it (config.yaml)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))  # the case's township
    requested_at: Mapped[dt.datetime]
    requested_by: Mapped[str] = mapped_column(String(64))  # farmer:<openid> | cadre:<id>
    grounds: Mapped[str] = mapped_column(Text)  # why the applicant disagrees
    due_at: Mapped[dt.datetime]
    status: Mapped[ReexaminationStatus] = mapped_column(
        String(16), default=ReexaminationStatus.OPEN)
    result: Mapped[ReexaminationResult | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("cadres.id"))
    decided_by_name: Mapped[str | None] = mapped_column(String(64))
    # when the household was told what it has to hear of it (the request filed by a cadre,
    # the result): null while something is left to tell
    told_at: Mapped[dt.datetime | None]
