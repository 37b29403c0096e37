"""公示: the notice is posted in the village and its posting recorded (where, the day, a
photo), which starts its period; it passes by itself once that period is over with no
objection open (workflows/passes.py), so nobody approves it by hand, and an unposted one
never passes. Posting it and handling objections are its own services
(approvals/procedure/notices.py, objections.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from approvals.procedure.forms import Form
from approvals.procedure.stages.base import Posted, StageModule
from approvals.record.definitions import Definition
from approvals.record.errors import Refused
from approvals.record.models import Case


class PublicNoticeStage(StageModule):
    key = "public_notice"
    guidance = ("张贴公示后登记张贴地点、日期并拍照上传，公示期从张贴之日起计算；"
                "公示期内登记并处理群众异议。")

    def form(self, definition: Definition) -> type[Form]:
        return Form  # its task records the posting (notices.post_notice), not an approval

    def check(self, definition: Definition, data: dict[str, Any]) -> dict[str, Any]:
        raise Refused("公示期满且没有未处理的异议时，系统自动进入下一环节，无需手动通过。")

    def parse(self, posted: Posted, kind: str) -> dict[str, Any]:
        return {}  # returned or not approved only: a reason, no form

    def summary(self, data: dict[str, Any]) -> str:
        return ""  # its end is told as 公示期满无异议

    def demo_form(self, s: Session, case: Case, today: dt.date) -> None:
        return None


STAGE = PublicNoticeStage()
