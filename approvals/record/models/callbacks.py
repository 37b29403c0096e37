"""A call-back (转人工, 找干部): a farmer asked in the chat to speak to a person, and a cadre
(the household's paired cadre, else a village cadre of its village) must call them back by a
deadline. approvals/procedure/callbacks.py says who and by when, and closes it once.

What the farmer said is kept for the cadre who calls (their page shows it): it is personal,
so it goes into no log, URL, message parameter or audit payload.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from approvals.record.db import Base


class CallbackStatus(StrEnum):
    OPEN = "open"
    DONE = "done"  # 已回电


_OPEN = text(f"status = '{CallbackStatus.OPEN}'")


class CallbackRequest(Base):
    __tablename__ = "callback_requests"
    __table_args__ = (
        # one open request per WeChat user: a second 转人工 gets the first's promise, and two
        # messages racing each other insert one row (INSERT ... ON CONFLICT DO NOTHING)
        Index("uq_callback_requests_open_openid", "openid", unique=True,
              sqlite_where=_OPEN, postgresql_where=_OPEN),
        # a cadre's open ones, most urgent first (the inbox, the reminders)
        Index("ix_callback_requests_open", "cadre_id", "due_at",
              sqlite_where=_OPEN, postgresql_where=_OPEN),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None: a farmer not in the roster, who named their village
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    openid: Mapped[str] = mapped_column(String(64))  # who asked (their WeChat)
    phone: Mapped[str | None] = mapped_column(String(20))  # as given, when not in the roster
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))  # who must call
    said: Mapped[str] = mapped_column(Text)  # the farmer's last words, bounded (SAID_MAX)
    requested_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime]  # the local midnight after the last day, as a task's
    status: Mapped[CallbackStatus] = mapped_column(String(16), default=CallbackStatus.OPEN)
    done_at: Mapped[dt.datetime | None]
    done_by: Mapped[int | None] = mapped_column(ForeignKey("cadres.id"))
    done_by_name: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)  # what the call settled, bounded
