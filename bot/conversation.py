"""One turn of the dialogue: the conversation row it acts on and what a reply may need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from approvals.calendar import WorkCalendar
from bot.models import Conversation

if TYPE_CHECKING:  # the wiring passes these in; bot never imports it at run time
    from fangfan.config import Config


@dataclass
class Context:
    """What a reply may need besides the conversation: the database, config and time."""

    s: Session
    config: Config
    calendar: WorkCalendar
    now: dt.datetime


@dataclass
class Turn:
    """One step of the dialogue: the conversation it acts on and where to go next."""

    ctx: Context
    conv: Conversation

    @property
    def draft(self) -> dict[str, Any]:
        return self.conv.draft

    def save(self, step: str, **changes: Any) -> None:
        # a new dict, so SQLAlchemy sees the JSON column change
        self.conv.draft = {k: v for k, v in {**self.conv.draft, **changes}.items()
                           if v is not None}
        self.conv.step = step
