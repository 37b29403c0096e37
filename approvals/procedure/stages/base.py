"""What a stage's module declares (`StageModule`), and what its parts share.

A stage's module holds everything particular to that stage: the form its approval records
and how that is checked, how the phone page's POST becomes that form, the one line the
case's timeline shows of it, the guidance the case page gives and the template partial it
shows (`approvals/web/templates/stages/<key>.html`, included by case.html), and the form the
demo fills in. What differs between the procedures at a stage stays in its module.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import ValidationError
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from approvals.procedure.forms import Form, chinese
from approvals.record.definitions import Definition
from approvals.record.errors import Refused
from approvals.record.models import Case

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


class Posted(Protocol):
    """A page's POST as a stage reads it (werkzeug's MultiDict is one)."""

    def get(self, key: str, /) -> str | None: ...

    def getlist(self, key: str, /) -> list[str]: ...


def text(posted: Posted, key: str) -> str:
    return (posted.get(key) or "").strip()


def number(posted: Posted, key: str) -> str | None:
    """A number as typed, without thousands separators or 元; None if left empty."""
    value = text(posted, key).replace(",", "").replace("，", "").removesuffix("元")
    return value or None


def rows(posted: Posted, *keys: str) -> list[tuple[str, ...]]:
    """A repeated group of fields (one row per value of the first key), a missing one as ""."""
    columns = [posted.getlist(k) for k in keys]
    return [tuple(c[i] if i < len(c) else "" for c in columns) for i in range(len(columns[0]))]


class StageModule(ABC):
    """One stage: registered by `key`, the name config.yaml's procedures give it."""

    key: ClassVar[str]
    guidance: ClassVar[str]  # what the case page tells whoever holds the stage

    @property
    def partial(self) -> Path:
        """The file of its block of the case page (approvals/web serves it as `template`)."""
        return TEMPLATES / "stages" / f"{self.key}.html"

    @property
    def template(self) -> str:
        return f"stages/{self.key}.html"

    @abstractmethod
    def form(self, definition: Definition) -> type[Form]:
        """What an approval of this stage records, for the definition's procedure."""

    @abstractmethod
    def parse(self, posted: Posted, kind: str) -> dict[str, Any]:
        """The data of the page's POST for `form`, unchecked (`check` says what is wrong)."""

    @abstractmethod
    def summary(self, data: dict[str, Any]) -> str:
        """One line of what an approval recorded, for the case's timeline."""

    @abstractmethod
    def demo_form(self, s: Session, case: Case, today: dt.date) -> dict[str, Any] | None:
        """What the demo (and the tests, and `case decide` in dev_mode) approve the stage
        with; None for a stage nobody approves by hand."""

    def against_case(self, s: Session | Connection, case_id: int, definition: Definition,
                     data: dict[str, Any]) -> dict[str, Any]:
        """The checked form against the case's record (its household, earlier stages), for
        a stage whose rules need it; most need nothing, and read nothing."""
        return data

    def check_rejection(self, definition: Definition, data: dict[str, Any]) -> dict[str, Any]:
        """What a rejection records besides its reason: for most stages what the page sent,
        as it was; a stage whose record decides the verdict (村民主评议's vote) checks it."""
        return data

    def check(self, definition: Definition, data: dict[str, Any]) -> dict[str, Any]:
        """The validated form as JSON-ready data, or a Chinese refusal naming what is
        missing."""
        form = self.form(definition)
        try:
            parsed = form.model_validate(data)
        except ValidationError as err:
            raise Refused(chinese(form, err)) from None
        return parsed.model_dump(mode="json")
