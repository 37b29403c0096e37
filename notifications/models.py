"""The outbox: a message is a row written in the transaction of the event that causes it."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from approvals.record.db import Base


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher, being sent now
    SENT = "sent"
    DEAD = "dead"  # gave up; `last_error` says why, supervisors see it
    # the dispatcher died during the send: WeChat may or may not have it. Never sent again
    # (a message must not arrive twice); supervisors see it with the dead ones.
    UNCERTAIN = "uncertain"


class Audience(StrEnum):
    FARMER = "farmer"  # quiet hours apply
    CADRE = "cadre"


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)  # idempotency: one per event
    recipient: Mapped[str] = mapped_column(String(64))  # a farmer's openid, or "cadre:<id>"
    event: Mapped[str] = mapped_column(String(32))  # which wording renders it
    audience: Mapped[Audience] = mapped_column(String(8), default=Audience.FARMER,
                                               server_default=Audience.FARMER)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[OutboxStatus] = mapped_column(String(16), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    channel: Mapped[str | None] = mapped_column(String(16))  # how it went out
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    claimed_at: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
