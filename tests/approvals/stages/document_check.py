"""材料复核: a stage of the tests' own. Its module (this file, with its partial beside it) and
an entry in a procedure of config.yaml are all a new stage takes
(tests/approvals/web/test_stage_modules.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session

from approvals.procedure.forms import Form
from approvals.procedure.stages.base import Posted, StageModule, text
from approvals.record.definitions import Definition
from approvals.record.models import Case


class DocumentCheck(Form):
    complete: bool = Field(title="材料是否齐全")
    checked_by: str = Field(title="复核人", min_length=2)
    note: str = Field(default="", title="复核说明")


class DocumentCheckStage(StageModule):
    key = "document_check"
    guidance = "复核村、乡两级上报的材料是否齐全，签字盖章是否完整。"

    @property
    def partial(self) -> Path:
        return Path(__file__).with_name("document_check.html")

    def form(self, definition: Definition) -> type[Form]:
        return DocumentCheck

    def parse(self, posted: Posted, kind: str) -> dict[str, Any]:
        return {"complete": {"yes": True, "no": False}.get(text(posted, "complete")),
                "checked_by": text(posted, "checked_by"), "note": text(posted, "note")}

    def summary(self, data: dict[str, Any]) -> str:
        complete = "材料齐全" if data.get("complete") else "材料不齐全"
        return f"{data.get('checked_by', '')}复核，{complete}。{data.get('note', '')}"

    def demo_form(self, s: Session, case: Case, today: dt.date) -> dict[str, Any]:
        return {"complete": True, "checked_by": "复核员", "note": ""}


STAGE = DocumentCheckStage()
