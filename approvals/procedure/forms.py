"""What each stage's decision must record, checked before the decision is saved.

Messages are Chinese and name the field, so a phone page or the bot can show them as they are.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from approvals.record.definitions import Definition, Stage
from approvals.record.errors import Refused


class Form(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    photos: list[str] = Field(default=[], title="照片")  # names under media_dir (photos.py)


class HomeVerification(Form):
    """入户核实: at least two people visit and record what they found."""

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


class VillageReview(Form):
    """村民主评议: the meeting and its vote."""

    meeting_on: dt.date = Field(title="评议日期")
    attendance: int = Field(title="参会人数", gt=0)
    votes_for: int = Field(title="同意票数", ge=0)
    votes_against: int = Field(default=0, title="反对票数", ge=0)
    minutes: str = Field(default="", title="会议纪要")


class TownshipAudit(Form):
    opinion: str = Field(default="同意", title="审核意见")


class PlannedMeasure(Form):
    kind: str = Field(title="措施类型")
    description: str = Field(default="", title="措施内容")
    planned_on: dt.date = Field(title="计划日期")


class CountyApproval(Form):
    """县级比对审定: the comparison with department data is always recorded."""

    comparison: str = Field(title="部门数据比对情况", min_length=2)


class CountyEnrolment(CountyApproval):
    """Approval of an identification also names the category, the paired cadre and a measure."""

    category: str = Field(title="监测对象类别")
    paired_cadre_id: int = Field(title="帮扶联系人")
    measures: list[PlannedMeasure] = Field(title="帮扶措施", min_length=1)


_MESSAGES = {
    "missing": "必须填写",
    "too_short": "至少需要{min_length}项",
    "string_too_short": "至少填写{min_length}个字",
    "string_too_long": "最多填写{max_length}个字",
    "too_long": "内容过多",
    "less_than_equal": "不能大于{le}",
    "less_than": "必须小于{lt}",
    "greater_than": "必须大于{gt}",
    "greater_than_equal": "不能小于{ge}",
    "date_from_datetime_parsing": "日期格式应为 2026-01-31",
    "date_parsing": "日期格式应为 2026-01-31",
    "int_parsing": "应填写整数",
    "int_from_float": "应填写整数",
    "int_type": "应填写整数",
    "decimal_type": "应填写数字",
    "date_type": "日期格式应为 2026-01-31",
    "bool_type": "应选择“是”或“否”",
    "list_type": "格式不正确",
    "dict_type": "格式不正确",
    "string_type": "应填写文字",
    "decimal_parsing": "应填写数字",
    "bool_parsing": "应选择“是”或“否”",
}


def chinese(form: type[Form], err: ValidationError) -> str:
    problems = []
    for e in err.errors():
        name = str(e["loc"][0]) if e["loc"] else ""
        field = form.model_fields.get(name)
        label = (field.title if field else None) or name
        if e["type"] == "value_error":  # our own validators speak Chinese already
            text = str(e["msg"]).removeprefix("Value error, ")
        else:  # pydantic's own words are English: never shown, a Chinese one instead
            text = _MESSAGES.get(e["type"], "填写有误，请检查").format(**(e.get("ctx") or {}))
        problems.append(f"「{label}」{text}")
    return "；".join(problems)


def approval_form(definition: Definition, stage: Stage) -> type[Form] | None:
    match stage:
        case Stage.HOME_VERIFICATION:
            return HomeVerification
        case Stage.VILLAGE_REVIEW:
            return VillageReview
        case Stage.TOWNSHIP_AUDIT:
            return TownshipAudit
        case Stage.COUNTY_APPROVAL if definition.kind == "identification":
            return CountyEnrolment
        case Stage.COUNTY_APPROVAL:
            return CountyApproval
    return None


def check(definition: Definition, stage: Stage, data: dict[str, Any]) -> dict[str, Any]:
    """The validated form as JSON-ready data, or a Chinese refusal naming what is missing."""
    form = approval_form(definition, stage)
    if form is None:
        return data
    try:
        parsed = form.model_validate(data)
    except ValidationError as err:
        raise Refused(chinese(form, err)) from None
    if isinstance(parsed, CountyEnrolment):
        if parsed.category not in definition.categories:
            raise Refused(f"「监测对象类别」应为：{'、'.join(definition.categories.values())}")
        unknown = [m.kind for m in parsed.measures if m.kind not in definition.measure_types]
        if unknown:
            raise Refused(f"「帮扶措施」类型不在配置中：{'、'.join(unknown)}")
    return parsed.model_dump(mode="json")
