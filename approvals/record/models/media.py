"""Photos a farmer (or a cadre filing for one) sends in the chat: a hospital bill, the damage.

The bot records one when it arrives and fetches the file after its answer (bot/media.py); an
application takes the sender's photos not yet attached (approvals.procedure.applications), and
the case page shows those saved (approvals.record.photos).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from approvals.record.db import Base


class MediaStatus(StrEnum):
    PENDING = "pending"  # received; download after the answer
    SAVED = "saved"
    FAILED = "failed"


class MediaFile(Base):
    """A photo sent in the chat, saved under var/media (the table keeps the bot's name)."""

    __tablename__ = "wechat_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), index=True)
    media_id: Mapped[str] = mapped_column(String(128), unique=True)
    pic_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MediaStatus] = mapped_column(String(16), default=MediaStatus.PENDING)
    path: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    received_at: Mapped[dt.datetime]
