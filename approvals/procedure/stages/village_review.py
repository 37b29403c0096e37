"""村民主评议: the villagers' representatives meet and vote."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field
from sqlalchemy.orm import Session

from approvals.procedure.forms import Form
from approvals.procedure.stages.base import Posted, StageModule, number, text
from approvals.record.definitions import Definition
from approvals.record.models import Case


class VillageReview(Form):
    meeting_on: dt.date = Field(title="评议日期")
    attendance: int = Field(title="参会人数", gt=0)
    votes_for: int = Field(title="同意票数", ge=0)
    votes_against: int = Field(default=0, title="反对票数", ge=0)
    minutes: str = Field(default="", title="会议纪要")


class VillageReviewStage(StageModule):
    key = "village_review"
    guidance = "召开村民代表会议评议，记录参会人数和表决结果，会议纪要可拍照上传。"

    def form(self, definition: Definition) -> type[Form]:
        return VillageReview

    def parse(self, posted: Posted, kind: str) -> dict[str, Any]:
        return {"meeting_on": text(posted, "meeting_on") or None,
                "attendance": number(posted, "attendance"),
                "votes_for": number(posted, "votes_for"),
                "votes_against": number(posted, "votes_against") or 0,
                "minutes": text(posted, "minutes")}

    def summary(self, data: dict[str, Any]) -> str:
        return (f"参会{data.get('attendance')}人，同意{data.get('votes_for')}票，"
                f"反对{data.get('votes_against', 0)}票。")

    def demo_form(self, s: Session, case: Case, today: dt.date) -> dict[str, Any]:
        return {"meeting_on": "2026-11-03", "attendance": 23, "votes_for": 21,
                "votes_against": 1, "minutes": "村民代表会议评议通过。"}


STAGE = VillageReviewStage()
