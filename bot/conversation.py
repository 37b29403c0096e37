"""One turn of the dialogue: the conversation it acts on and what a reply may need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from approvals.calendar import WorkCalendar

if TYPE_CHECKING:  # the wiring passes these in; bot never imports it at run time
    from fangfan.config import Config


@dataclass
class Chat:
    """One WeChat user's dialogue as a plain value: the step it is at and the draft so far
    (a row of `wechat_conversations`, read and saved by the webhook)."""

    openid: str
    step: str = "idle"
    draft: dict[str, Any] = field(default_factory=dict)


@dataclass
class Context:
    """What a reply may need besides the conversation: the database, config and time.

    `conn` is the turn's transaction. Most turns (a question, 帮助, 进度 before applying)
    answer from a Core read or none; the ORM session, `s`, joins the same transaction only
    when a step asks for it. Used as `with Context(...) as ctx:`, which flushes that
    session when the step succeeds (the turn's transaction commits it with the rest) and
    closes it in any case."""

    conn: Connection
    config: Config
    calendar: WorkCalendar
    now: dt.datetime
    _session: Session | None = field(default=None, repr=False)

    @property
    def s(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.conn, expire_on_commit=False)
        return self._session

    def __enter__(self) -> Context:
        return self

    def __exit__(self, error: type[BaseException] | None, *_: object) -> None:
        if self._session is not None:
            try:
                if error is None:
                    self._session.flush()
            finally:
                self._session.close()
                self._session = None


@dataclass
class Turn:
    """One step of the dialogue: the conversation it acts on and where to go next."""

    ctx: Context
    conv: Chat

    @property
    def draft(self) -> dict[str, Any]:
        return self.conv.draft

    def save(self, step: str, **changes: Any) -> None:
        self.conv.draft = {k: v for k, v in {**self.conv.draft, **changes}.items()
                           if v is not None}
        self.conv.step = step
