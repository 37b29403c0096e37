"""入户核实: at least two people visit the household and record what they found."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy.orm import Session

from approvals.procedure.forms import Form
from approvals.procedure.stages.base import Posted, StageModule, number, text
from approvals.record.definitions import Definition
from approvals.record.models import Case


class HomeVerification(Form):
    visitors: list[str] = Field(title="入户人员")  # two different people: the validator
    visited_on: dt.date = Field(title="入户日期")
    risk_confirmed: bool = Field(title="风险是否属实")
    income_estimate: Decimal | None = Field(default=None, title="收入估算", ge=0)
    findings: str = Field(title="核实情况", min_length=2)

    @field_validator("visitors")
    @classmethod
    def _two_people(cls, v: list[str]) -> list[str]:
        names = {n.strip() for n in v if n.strip()}
        if len(names) < 2:
            raise ValueError("至少需要两名不同的入户人员")
        return sorted(names)


class HomeVerificationStage(StageModule):
    key = "home_verification"
    guidance = ("至少两人入户，核实家庭成员、收入和刚性支出（医疗、教育、灾害损失），"
                "两不愁三保障和饮水安全情况，拍照留存。")

    def form(self, definition: Definition) -> type[Form]:
        return HomeVerification

    def parse(self, posted: Posted, kind: str) -> dict[str, Any]:
        return {"visitors": [v for v in posted.getlist("visitors") if v.strip()],
                "visited_on": text(posted, "visited_on") or None,
                "risk_confirmed": {"yes": True, "no": False}.get(text(posted, "risk")),
                "income_estimate": number(posted, "income_estimate"),
                "findings": text(posted, "findings")}

    def summary(self, data: dict[str, Any]) -> str:
        confirmed = "风险属实" if data.get("risk_confirmed") else "风险不属实"
        visitors = "、".join(data.get("visitors", []))
        return f"{visitors}入户，{confirmed}。{data.get('findings', '')}"

    def demo_form(self, s: Session, case: Case, today: dt.date) -> dict[str, Any]:
        return {"visitors": ["村干部", "帮扶联系人"], "visited_on": "2026-11-01",
                "risk_confirmed": True, "income_estimate": "5200",
                "findings": "家中主要劳动力患病住院，医疗支出较大，情况属实。"}


STAGE = HomeVerificationStage()
