"""县级比对审定 / 县级审定: the county compares the case with the departments' data.

The comparison is always recorded. Approving an identification also enrols the household
(workflows/passes.py `enroll` reads this form): its category, the paired cadre (checked by the
decision's own write, approvals/procedure/decisions.py) and at least one planned measure.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from approvals.procedure.forms import Form
from approvals.procedure.stages.base import Posted, StageModule, number, text
from approvals.record.definitions import Definition
from approvals.record.errors import Refused
from approvals.record.models import Cadre, Case, CaseKind


class PlannedMeasure(Form):
    kind: str = Field(title="措施类型")
    description: str = Field(default="", title="措施内容")
    planned_on: dt.date = Field(title="计划日期")


class CountyApproval(Form):
    comparison: str = Field(title="部门数据比对情况", min_length=2)


class CountyEnrolment(CountyApproval):
    """An identification's approval: the comparison, and what enrolment needs."""

    category: str = Field(title="监测对象类别")
    paired_cadre_id: int = Field(title="帮扶联系人")
    measures: list[PlannedMeasure] = Field(title="帮扶措施", min_length=1)


class CountyApprovalStage(StageModule):
    key = "county_approval"
    guidance = ("与民政、医保、人社、住建等部门数据比对后审定；"
                "纳入监测的，确定类别、帮扶联系人和帮扶措施。")

    def form(self, definition: Definition) -> type[Form]:
        return CountyEnrolment if definition.kind == CaseKind.IDENTIFICATION else CountyApproval

    def check(self, definition: Definition, data: dict[str, Any]) -> dict[str, Any]:
        checked = super().check(definition, data)
        if definition.kind == CaseKind.IDENTIFICATION:
            if checked["category"] not in definition.categories:
                raise Refused(f"「监测对象类别」应为：{'、'.join(definition.categories.values())}")
            unknown = [m["kind"] for m in checked["measures"]
                       if m["kind"] not in definition.measure_types]
            if unknown:
                raise Refused(f"「帮扶措施」类型不在配置中：{'、'.join(unknown)}")
        return checked

    def parse(self, posted: Posted, kind: str) -> dict[str, Any]:
        data: dict[str, Any] = {"comparison": text(posted, "comparison")}
        if kind == CaseKind.IDENTIFICATION:
            data |= {"category": text(posted, "category"),
                     "paired_cadre_id": number(posted, "paired_cadre_id"),
                     "measures": [{"kind": text(posted, "measure_kind"),
                                   "description": text(posted, "measure_description"),
                                   "planned_on": text(posted, "measure_planned_on") or None}]}
        return data

    def summary(self, data: dict[str, Any]) -> str:
        return str(data.get("comparison", ""))

    def demo_form(self, s: Session, case: Case, today: dt.date) -> dict[str, Any]:
        if case.kind != CaseKind.IDENTIFICATION:
            return {"comparison": "与民政、医保、人社数据比对无异常，收入稳定高于防返贫监测标准。"}
        helper = s.scalars(select(Cadre.id).where(Cadre.role == "helper", Cadre.active,
                                                  Cadre.place_id == case.village_id)
                           .order_by(Cadre.id)).first()
        return {"comparison": "与医保、民政数据比对一致。", "category": case.category or "marginal",
                "paired_cadre_id": helper,
                "measures": [{"kind": "健康", "description": "落实医疗救助和大病保险报销",
                              "planned_on": today.isoformat()}]}


STAGE = CountyApprovalStage()
