"""乡镇审核: the township checks that the village's findings and vote are complete."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session

from approvals.procedure.forms import Form
from approvals.procedure.stages.base import Posted, StageModule, text
from approvals.record.definitions import Definition
from approvals.record.models import Case


class TownshipAudit(Form):
    opinion: str = Field(default="同意", title="审核意见")


class TownshipAuditStage(StageModule):
    key = "township_audit"
    guidance = "审核入户核实和民主评议材料是否齐全、程序是否规范。"

    def form(self, definition: Definition) -> type[Form]:
        return TownshipAudit

    def parse(self, posted: Posted, kind: str) -> dict[str, Any]:
        return {"opinion": text(posted, "opinion") or "同意"}

    def summary(self, data: dict[str, Any]) -> str:
        return str(data.get("opinion", ""))

    def demo_form(self, s: Session, case: Case, today: dt.date) -> dict[str, Any]:
        return {"opinion": "材料齐全，同意上报。"}


STAGE = TownshipAuditStage()
