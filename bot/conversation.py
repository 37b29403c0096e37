"""One turn of the dialogue: the conversation it acts on and what a reply may need."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from approvals.record.calendar import WorkCalendar

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

    The turn's connection, `conn`, is opened from `connect` when first used: 「帮助」 opens
    none. Most turns (a question, 帮助, 进度 before applying) answer from a Core read or none;
    the ORM session, `s`, joins the same connection only when a step asks for it. Used as
    `with Context(...) as ctx:`, which on success flushes that session and then leaves
    `connect`'s scope (a transaction commits there), and in any case closes both."""

    config: Config
    calendar: WorkCalendar
    now: dt.datetime
    connect: Callable[[], AbstractContextManager[Connection]]
    _conn: Connection | None = field(default=None, repr=False)
    _session: Session | None = field(default=None, repr=False)
    _scope: ExitStack = field(default_factory=ExitStack, repr=False)

    @property
    def conn(self) -> Connection:
        if self._conn is None:
            self._conn = self._scope.enter_context(self.connect())
        return self._conn

    @property
    def s(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.conn, expire_on_commit=False)
            self._scope.push(_flushed_on_success(self._session))
        return self._session

    def __enter__(self) -> Context:
        return self

    def __exit__(self, error: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        """The session first, then the connection's scope: a failed flush rolls it back.
        Nothing is swallowed: the scopes roll back and re-raise."""
        self._conn = self._session = None
        self._scope.__exit__(error, value, traceback)


def _flushed_on_success(session: Session) -> Callable[..., None]:
    def leave(error: type[BaseException] | None, *_: object) -> None:
        try:
            if error is None:
                session.flush()
        finally:
            session.close()
    return leave


@dataclass
class Turn:
    """One step of the dialogue: the conversation it acts on and where to go next."""

    ctx: Context
    conv: Chat
    said: str = ""  # the message as typed (kept in the record where it matters: 转人工)
    # what this turn has read and may read again (bot.filling.villages: the reader's
    # vocabulary, the slot taken and the list asked all need the villages)
    cache: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def draft(self) -> dict[str, Any]:
        return self.conv.draft

    def save(self, step: str, **changes: Any) -> None:
        self.conv.draft = {k: v for k, v in {**self.conv.draft, **changes}.items()
                           if v is not None}
        self.conv.step = step
