"""县级比对审定 / 县级审定: the county compares the case with the departments' data.

The comparison is always recorded: what the county found (`comparison`), and which of the
household's department records it checked. The page shows every record the latest screening
run holds for the household (approvals/screening/comparison.py) and puts their references
(`feed:row:run`) into the form as `records`, never from the POST; the county ticks each one it
checked (`checked`), and one left unticked needs a reason (`unchecked_reason`): a record the
county did not look at is said so, not passed over in silence.

Approving an identification also enrols the household (workflows/passes.py `enroll` reads
this form): its category, the paired cadre (checked by the decision's own write,
approvals/procedure/decisions.py) and the planned measures, one or a combination (the page
prefills them with approvals/assistance/measures.py's proposal). The category starts as the
home verification's proposal; the county confirms or changes it, and the record keeps both
(`proposed_category`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from approvals.procedure.forms import Form
from approvals.procedure.stages.base import Posted, StageModule, number, rows, text
from approvals.procedure.stages.home_verification import refuse_unstable
from approvals.record.db import connection_of
from approvals.record.definitions import Definition, Stage
from approvals.record.errors import Refused
from approvals.record.models import (
    Cadre,
    Case,
    CaseKind,
    Household,
    Task,
    TaskStatus,
    Verdict,
)


class PlannedMeasure(Form):
    kind: str = Field(title="措施类型")
    description: str = Field(default="", title="措施内容")
    planned_on: dt.date = Field(title="计划日期")


class CountyApproval(Form):
    comparison: str = Field(title="部门数据比对情况", min_length=2)
    # the references of the department records the page showed (set by the page) and of
    # those the county checked
    records: list[str] = Field(default=[], title="部门记录")
    # each reference as the county read it (医保 王大 2026-03-01), for the record's history
    record_labels: dict[str, str] = Field(default={}, title="部门记录名称")
    checked: list[str] = Field(default=[], title="已核对的部门记录")
    unchecked_reason: str = Field(default="", title="未核对原因", max_length=500)


class CountyEnrolment(CountyApproval):
    """An identification's approval: the comparison, and what enrolment needs."""

    category: str = Field(title="监测对象类别")
    paired_cadre_id: int = Field(title="帮扶联系人")
    measures: list[PlannedMeasure] = Field(title="帮扶措施", min_length=1)
    # the verification's proposal, and both labels as they read on the day (`against_case`)
    proposed_category: str | None = Field(default=None, title="入户核实建议类别")
    category_label: str = ""
    proposed_label: str = ""


# Built once: on a decision's path, building a statement costs more than running it.
# The form of the case's approved home verification (its latest round).
_PROPOSAL = (select(Task.data).where(
    Task.case_id == bindparam("case_id"), Task.stage == Stage.HOME_VERIFICATION,
    Task.verdict == Verdict.APPROVED, Task.status == TaskStatus.DECIDED)
    .order_by(Task.id.desc()).limit(1))
# one statement: the household's 脱贫户 flag and what the verification proposed
_POOR_AND_PROPOSAL = (select(Household.formerly_poor, _PROPOSAL.scalar_subquery())
                      .join(Case, Case.household_id == Household.id)
                      .where(Case.id == bindparam("case_id")))


def verification_proposal(conn: Connection, case_id: int) -> str | None:
    """The category the case's approved home verification proposed."""
    data = conn.scalars(_PROPOSAL, {"case_id": case_id}).first()
    return (data or {}).get("category")


def _compared(data: dict[str, Any]) -> dict[str, Any]:
    """The checked references among those shown, in the order shown; every record shown
    checked, or a reason why not."""
    shown, ticked = data["records"], set(data["checked"])
    strange = ticked - set(shown)
    if strange:
        raise Refused("勾选的部门记录不在本户当前的部门数据中（可能刚完成了新一轮筛查），"
                      "请重新打开页面，核对显示的记录后再提交。")
    left = [r for r in shown if r not in ticked]
    reason = data["unchecked_reason"].strip()
    if left and len(reason) < 2:
        raise Refused(f"还有{len(left)}条部门记录没有勾选核对：请在案件页面逐条核对后勾选，"
                      "或在「未核对原因」中写明原因。")
    return data | {"checked": [r for r in shown if r in ticked],
                   "unchecked_reason": reason if left else ""}


class CountyApprovalStage(StageModule):
    key = "county_approval"
    guidance = ("逐条核对本户的部门数据记录（医保、教育、残联、民政、应急、人社），"
                "写明比对情况后审定；"
                "纳入监测的，确定类别、帮扶联系人和帮扶措施。")

    def form(self, definition: Definition) -> type[Form]:
        return CountyEnrolment if definition.kind == CaseKind.IDENTIFICATION else CountyApproval

    def check(self, definition: Definition, data: dict[str, Any]) -> dict[str, Any]:
        checked = _compared(super().check(definition, data))
        if definition.kind == CaseKind.IDENTIFICATION:
            if checked["category"] not in definition.categories:
                raise Refused(f"「监测对象类别」应为：{'、'.join(definition.categories.values())}")
            unknown = [m["kind"] for m in checked["measures"]
                       if m["kind"] not in definition.measure_types]
            if unknown:
                raise Refused(f"「帮扶措施」类型不在配置中：{'、'.join(unknown)}")
        return checked

    def against_case(self, s: Session | Connection, case_id: int, definition: Definition,
                     data: dict[str, Any]) -> dict[str, Any]:
        """An enrolment records the verification's proposal beside the county's choice; a
        脱贫不稳定户 must be a 脱贫户."""
        if definition.kind != CaseKind.IDENTIFICATION:
            return data
        poor, proposed = connection_of(s).execute(_POOR_AND_PROPOSAL,
                                                  {"case_id": case_id}).one()
        refuse_unstable(bool(poor), data["category"], "监测对象类别")
        proposed = (proposed or {}).get("category")
        labels = definition.categories
        return data | {"proposed_category": proposed,
                       "category_label": labels[data["category"]],
                       "proposed_label": labels.get(proposed, "") if proposed else ""}

    def parse(self, posted: Posted, kind: str) -> dict[str, Any]:
        # `records` is the page's to add (what it showed), never the POST's
        data: dict[str, Any] = {"comparison": text(posted, "comparison"),
                                "checked": [r.strip() for r in posted.getlist("checked")
                                            if r.strip()],
                                "unchecked_reason": text(posted, "unchecked_reason")}
        if kind == CaseKind.IDENTIFICATION:
            measures = rows(posted, "measure_kind", "measure_description", "measure_planned_on")
            data |= {"category": text(posted, "category"),
                     "paired_cadre_id": number(posted, "paired_cadre_id"),
                     "measures": [{"kind": k.strip(), "description": d.strip(),
                                   "planned_on": p.strip() or None}
                                  for k, d, p in measures if k.strip()]}
        return data

    def summary(self, data: dict[str, Any]) -> str:
        parts = [str(data.get("comparison", ""))]
        records, checked = data.get("records") or [], data.get("checked") or []
        if records:
            named = data.get("record_labels") or {}
            which = "、".join(named[r] for r in checked if r in named)
            parts.append(f"核对部门记录{len(checked)}条" + (f"：{which}" if which else "") + (
                "。" if len(checked) == len(records) else
                f"（共{len(records)}条，未核对原因：{data.get('unchecked_reason', '')}）。"))
        label, proposed = data.get("category_label"), data.get("proposed_label")
        if label and not proposed:
            parts.append(f"监测类别：{label}。")
        elif label:
            how = "确认" if proposed == label else f"调整（入户核实建议{proposed}）"
            parts.append(f"监测类别：{label}，{how}。")
        return " ".join(parts)

    def demo_form(self, s: Session, case: Case, today: dt.date) -> dict[str, Any]:
        if case.kind != CaseKind.IDENTIFICATION:
            return {"comparison": "与民政、医保、人社数据比对无异常，收入稳定高于防返贫监测标准。"}
        helper = s.scalars(select(Cadre.id).where(Cadre.role == "helper", Cadre.active,
                                                  Cadre.place_id == case.village_id)
                           .order_by(Cadre.id)).first()
        proposed = verification_proposal(s.connection(), case.id)
        return {"comparison": "与医保、民政数据比对一致。",
                "category": proposed or case.category or "marginal",
                "paired_cadre_id": helper,
                "measures": [{"kind": "健康", "description": "落实医疗救助和大病保险报销",
                              "planned_on": today.isoformat()}]}


STAGE = CountyApprovalStage()
