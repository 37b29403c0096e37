"""入户核实: the visitors record what the policy texts say a home check verifies (收入支出变化、
两不愁三保障及饮水安全): the members as found (added, corrected, who has left, each one's
labour capacity), income over the last 12 months by kind minus production costs (→ 家庭人均
纯收入, approvals/procedure/income.py), rigid expenditure (医疗, 教育, 灾害损失) with its
compliant out-of-pocket sum, 义务教育 / 基本医疗 / 住房安全 / 饮水安全 each secure or not, and
photos.

An identification's check asks whether the risk is real (风险是否属实) and proposes the
household's category from what it found (`proposed_category`); the county confirms or changes
it (county_approval.py). A risk elimination's asks whether the risk is stably eliminated
(风险是否稳定消除). Either way, a visit that finds against the case is a rejection, never an
approval. How many people must visit is the procedure's (config.yaml `visitors`, kept with
the case's definition; unsaid: two).

The members as found are applied to the household record when the verification is approved:
by the pass that moves the case on (workflows/passes.py, `members_found`), in the same
transaction as the next stage's opening, so they are true of the household whatever the
case's outcome (a verified correction is a fact about the household, not about enrolment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session

from approvals.procedure import income
from approvals.procedure.forms import Form
from approvals.procedure.stages.base import Posted, StageModule, number, rows, text
from approvals.record.db import connection_of
from approvals.record.definitions import Definition
from approvals.record.errors import Refused
from approvals.record.identity import normalize_id_number
from approvals.record.models import Case, CaseKind, Household, Labour, Member
from approvals.record.models.households import LABOUR_LABELS
from approvals.record.wording import REJECTION

DEFAULT_VISITORS = 2
CHINESE_COUNT = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五"}
SECURITIES = {  # 两不愁三保障及饮水安全: what is checked secure (有保障) or not
    "compulsory_education": "义务教育", "basic_medical": "基本医疗",
    "housing": "住房安全", "drinking_water": "饮水安全"}
EXPENDITURE = {"medical": "医疗支出", "education": "教育支出", "disaster": "灾害损失"}
# 003: 因病因灾因意外事故等刚性支出较大或收入大幅缩减 → 突发严重困难户
SUDDEN_CAUSES = ("illness", "disaster", "accident")


class MemberFound(BaseModel):
    """One member as the visitors found them: `id` is the household record's member, None
    for one they added."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)
    id: int | None = None
    name: str = Field(min_length=1, max_length=32)
    relation: str = Field(default="其他", max_length=16)
    id_number: str | None = Field(default=None, max_length=18)
    labour: Labour = Labour.FULL
    left: bool = False  # 已迁出/去世: stays on record, no longer counted


class HomeVerification(Form):
    visitors: list[str] = Field(title="入户人员")  # how many: the definition (`check`)
    visited_on: dt.date = Field(title="入户日期")
    members: list[MemberFound] = Field(title="家庭成员", min_length=1)
    wage: Decimal = Field(default=Decimal(0), title="工资性收入", ge=0)
    business: Decimal = Field(default=Decimal(0), title="生产经营性收入", ge=0)
    property: Decimal = Field(default=Decimal(0), title="财产性收入", ge=0)
    transfer: Decimal = Field(default=Decimal(0), title="转移性收入", ge=0)
    production_costs: Decimal = Field(default=Decimal(0), title="生产经营费用", ge=0)
    per_capita_net: Decimal | None = Field(default=None, title="家庭人均纯收入")  # computed
    medical: Decimal = Field(default=Decimal(0), title="医疗支出", ge=0)
    education: Decimal = Field(default=Decimal(0), title="教育支出", ge=0)
    disaster: Decimal = Field(default=Decimal(0), title="灾害损失", ge=0)
    out_of_pocket: Decimal = Field(default=Decimal(0), title="合规自付支出", ge=0)
    securities: dict[str, bool] = Field(title="两不愁三保障及饮水安全")
    findings: str = Field(title="核实情况", min_length=2)

    @field_validator("visitors")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        return sorted({n.strip() for n in v if n.strip()})

    @field_validator("securities")
    @classmethod
    def _all_four(cls, v: dict[str, bool]) -> dict[str, bool]:
        missing = [label for key, label in SECURITIES.items() if key not in v]
        if missing:
            raise ValueError(f"请逐项选择有保障或无保障：{'、'.join(missing)}")
        return {key: v[key] for key in SECURITIES}


class IdentificationCheck(HomeVerification):
    """识别纳入's visit: is the risk real, and which category does it propose."""

    risk_confirmed: bool = Field(title="风险是否属实")
    # the risks as the visit found them (the applicant's words were a first guess); none
    # given keeps the case's, and the pass writes them to the case (workflows/passes.py)
    risk_types: list[str] = Field(default_factory=list, title="风险类型")
    category: str = Field(title="建议监测类别")


class EliminationCheck(HomeVerification):
    """风险消除's visit: is the risk stably eliminated."""

    risk_eliminated: bool = Field(title="风险是否稳定消除")


def proposed_category(formerly_poor: bool, risk_types: Sequence[str]) -> str:
    """The category the findings point to (a suggestion the visitors and the county may
    change): a 脱贫户 is 脱贫不稳定户; a household hit by illness, disaster or accident is
    突发严重困难户; any other is 边缘易致贫户."""
    if formerly_poor:
        return "unstable"
    if any(r in SUDDEN_CAUSES for r in risk_types):
        return "sudden"
    return "marginal"


def visitors_required(definition: Definition) -> int:
    return definition.stage(HomeVerificationStage.key).visitors or DEFAULT_VISITORS


def refuse_unstable(formerly_poor: bool, category: str | None, field: str) -> None:
    """脱贫不稳定户 only for a household the record marks as 脱贫户."""
    if category == "unstable" and not formerly_poor:
        raise Refused(f"「{field}」这户不是脱贫户（户籍档案未标注），不能认定为脱贫不稳定户。")


# Built once: on a decision's path, building a statement costs more than running it.
# One statement: the household's 脱贫户 flag and its members' ids.
_POOR_AND_MEMBERS = (select(Household.formerly_poor, Member.id)
                     .join(Case, Case.household_id == Household.id)
                     .join(Member, Member.household_id == Household.id)
                     .where(Case.id == bindparam("case_id")))
_REGISTERED = select(Member.name, Member.household_id).where(
    Member.id_number.in_(bindparam("ids", expanding=True)))


class HomeVerificationStage(StageModule):
    key = "home_verification"
    guidance = ("入户核实家庭成员（新增、更正、已迁出）和劳动能力，近12个月各项收入和生产经营费用，"
                "刚性支出（医疗、教育、灾害损失），两不愁三保障和饮水安全情况，拍照留存。")
    securities = SECURITIES
    expenditure = EXPENDITURE
    income_kinds = income.INCOME_KINDS
    labour_labels = LABOUR_LABELS

    def form(self, definition: Definition) -> type[Form]:
        if definition.kind == CaseKind.RISK_ELIMINATION:
            return EliminationCheck
        return IdentificationCheck

    def question(self, kind: str) -> str:
        """What the visit answers, for the page."""
        return "风险是否稳定消除" if kind == CaseKind.RISK_ELIMINATION else "风险是否属实"

    def visitors(self, definition: Definition) -> int:
        return visitors_required(definition)

    def proposed_category(self, case: Case) -> str:
        return proposed_category(case.household.formerly_poor, case.risk_types)

    def check(self, definition: Definition, data: dict[str, Any]) -> dict[str, Any]:
        checked = super().check(definition, data)
        need = visitors_required(definition)
        rejection = REJECTION[definition.kind]
        if len(checked["visitors"]) < need:
            raise Refused(f"「入户人员」至少需要{CHINESE_COUNT.get(need, need)}名不同的入户人员")
        if definition.kind == CaseKind.RISK_ELIMINATION:
            if not checked["risk_eliminated"]:
                raise Refused(f"核实认为风险尚未稳定消除的，请选择“{rejection}”并写明理由，"
                              "不能通过。")
        else:
            if not checked["risk_confirmed"]:
                raise Refused(f"核实认为风险不属实的，请选择“{rejection}”并写明理由，不能通过。")
            if checked["category"] not in definition.categories:
                raise Refused(f"「建议监测类别」应为：{'、'.join(definition.categories.values())}")
            checked["risk_types"] = list(dict.fromkeys(checked["risk_types"]))
            unknown = [r for r in checked["risk_types"] if r not in definition.risk_types]
            if unknown and definition.risk_types:
                raise Refused(f"「风险类型」应为：{'、'.join(definition.risk_types.values())}")
        present = [m for m in checked["members"] if not m["left"]]
        if not present:
            raise Refused("「家庭成员」至少应有一名在户成员。")
        for m in checked["members"]:
            if m["id"] is None:  # added: the record needs a valid ID number
                if not m["id_number"]:
                    raise Refused(f"「家庭成员」新增的{m['name']}需要填写身份证号。")
                m["id_number"] = normalize_id_number(m["id_number"])
        checked["per_capita_net"] = str(income.per_capita_net(
            **{k: Decimal(checked[k]) for k in (*income.INCOME_KINDS, "production_costs")},
            members=len(present)))
        return checked

    def against_case(self, s: Session | Connection, case_id: int, definition: Definition,
                     data: dict[str, Any]) -> dict[str, Any]:
        """The members are the household's, an added one is not registered elsewhere, and a
        proposed 脱贫不稳定户 is a 脱贫户."""
        conn = connection_of(s)
        found = conn.execute(_POOR_AND_MEMBERS, {"case_id": case_id}).all()
        poor, own = bool(found and found[0].formerly_poor), {r.id for r in found}
        strangers = [m["name"] for m in data["members"] if m["id"] is not None
                     and m["id"] not in own]
        if strangers:
            raise Refused(f"「家庭成员」{'、'.join(strangers)}不是这户的成员，"
                          "请刷新页面后重新填写。")
        added = [m["id_number"] for m in data["members"] if m["id"] is None]
        if added:
            taken = conn.execute(_REGISTERED, {"ids": added}).all()
            if taken:
                raise Refused(f"「家庭成员」身份证号已登记在其他户（{taken[0].name}），"
                              "一人只能在一户；确需迁户的请先办理迁户。")
        if definition.kind != CaseKind.RISK_ELIMINATION:
            refuse_unstable(poor, data.get("category"), "建议监测类别")
        return data

    def parse(self, posted: Posted, kind: str) -> dict[str, Any]:
        found = rows(posted, "member_id", "member_name", "member_relation", "member_id_number",
                     "member_labour", "member_status")
        members = [{"id": (i.strip() or None) if i.strip().isdigit() else None,
                    "name": name.strip(), "relation": relation.strip() or "其他",
                    "id_number": id_number.strip() or None, "labour": labour or "full",
                    "left": status == "left"}
                   for i, name, relation, id_number, labour, status in found
                   if name.strip() or i.strip()]
        answers = {"yes": True, "no": False}
        data: dict[str, Any] = {
            "visitors": [v for v in posted.getlist("visitors") if v.strip()],
            "visited_on": text(posted, "visited_on") or None, "members": members,
            **{k: number(posted, k) or "0" for k in (
                *income.INCOME_KINDS, "production_costs", *EXPENDITURE, "out_of_pocket")},
            "securities": {k: answers[v] for k in SECURITIES
                           if (v := text(posted, f"secure_{k}")) in answers},
            "findings": text(posted, "findings")}
        if kind == CaseKind.RISK_ELIMINATION:
            data["risk_eliminated"] = answers.get(text(posted, "risk"))
        else:
            data |= {"risk_confirmed": answers.get(text(posted, "risk")),
                     "risk_types": [r for r in posted.getlist("risk_types") if r.strip()],
                     "category": text(posted, "category")}
        return data

    def summary(self, data: dict[str, Any]) -> str:
        visitors = "、".join(data.get("visitors", []))
        if "risk_eliminated" in data:
            verdict = "风险已稳定消除" if data["risk_eliminated"] else "风险未稳定消除"
        else:
            verdict = "风险属实" if data.get("risk_confirmed") else "风险不属实"
        parts = [f"{visitors}入户，{verdict}。"]
        if data.get("per_capita_net") is not None:
            parts.append(f"人均纯收入{Decimal(data['per_capita_net']):,.0f}元；")
        insecure = [label for key, label in SECURITIES.items()
                    if key in data.get("securities", {}) and not data["securities"][key]]
        if "securities" in data:
            parts.append(f"{'、'.join(insecure)}无保障；" if insecure
                         else "三保障和饮水安全有保障；")
        parts.append(str(data.get("findings", "")))
        return "".join(parts)

    def demo_form(self, s: Session, case: Case, today: dt.date) -> dict[str, Any]:
        household = s.get_one(Household, case.household_id)
        members = [{"id": m.id, "name": m.name, "relation": m.relation,
                    "labour": m.labour, "left": False} for m in household.present]
        form: dict[str, Any] = {
            "visitors": ["村干部", "帮扶联系人"], "visited_on": today.isoformat(),
            "members": members, "wage": "12000", "business": "3000", "property": "0",
            "transfer": "2400", "production_costs": "1600", "medical": "38000",
            "education": "0", "disaster": "0", "out_of_pocket": "21000",
            "securities": dict.fromkeys(SECURITIES, True),
            "findings": "家中主要劳动力患病住院，医疗支出较大，情况属实。"}
        if case.kind == CaseKind.RISK_ELIMINATION:
            return form | {"risk_eliminated": True, "wage": "36000",
                           "findings": "务工收入稳定，医疗费用已报销，风险已稳定消除。"}
        return form | {"risk_confirmed": True,
                       "category": proposed_category(household.formerly_poor, case.risk_types)}


STAGE = HomeVerificationStage()
