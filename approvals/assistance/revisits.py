"""定期回访: the paired cadre records how a household is doing (《东胜区衔接规划》专栏2,
docs/domain.md). Eliminated households stay in the rounds (已消除风险对象的跟踪和回访): a
revisit that finds their risk back opens a new identification case.

Every revisit records the quarterly content: members, income by kind minus production costs
(→ 家庭人均纯收入) and compliant out-of-pocket costs; the first of a year also the annual
content. Its per-capita net income joins the household's income series, which the revisit
reminders and the elimination criteria read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import Field, ValidationError
from sqlalchemy import extract, func, select, update
from sqlalchemy.orm import Session

from approvals.assistance.measures import ensure_assists, risks_of
from approvals.procedure import elimination, income
from approvals.procedure.cases import open_identification
from approvals.procedure.elimination import EliminationRules
from approvals.procedure.forms import Form, chinese
from approvals.procedure.permissions import Actor
from approvals.record import audit
from approvals.record.calendar import WorkCalendar
from approvals.record.definitions import Definition as DefinitionBody
from approvals.record.errors import Refused
from approvals.record.models import (
    Case,
    CaseStatus,
    HitOutcome,
    Household,
    IncomeRecord,
    MonitoringStatus,
    Revisit,
    ScreeningHit,
    Source,
)
from approvals.record.models.cases import case_number

ANNUAL = {  # 年度监测内容: key → label
    "social_security": "社会保障（医保、养老保险、低保特困）",
    "schooling": "义务教育（有无失学辍学）",
    "employment": "劳动力和就业（务工人数、月数、地点）",
    "housing": "住房安全",
    "water": "饮水安全",
    "policies": "享受的帮扶政策",
}
# 两不愁三保障、饮水安全 and rigid expenditure: any revisit may record them (the annual one
# should); the elimination criteria read the latest (approvals.procedure.elimination.security).
SECURITY = elimination.SECURITY
MONEY = ("wage", "business", "property", "transfer", "production_costs", "out_of_pocket")


class RevisitForm(Form):
    visited_on: dt.date = Field(title="回访日期")
    members: int = Field(title="家庭人口", ge=1, le=30)
    wage: Decimal = Field(default=Decimal(0), title="工资性收入", ge=0)
    business: Decimal = Field(default=Decimal(0), title="生产经营性收入", ge=0)
    property: Decimal = Field(default=Decimal(0), title="财产性收入", ge=0)
    transfer: Decimal = Field(default=Decimal(0), title="转移性收入", ge=0)
    production_costs: Decimal = Field(default=Decimal(0), title="生产经营费用", ge=0)
    out_of_pocket: Decimal = Field(default=Decimal(0), title="合规自付支出", ge=0)
    risk_remains: bool = Field(title="风险是否仍存在")
    weak_motivation: bool = Field(default=False, title="内生动力不足")
    annual: dict[str, str] = Field(default_factory=dict, title="年度监测内容")
    secure: dict[str, bool] = Field(default_factory=dict, title="两不愁三保障及饮水安全")
    notes: str = Field(default="", title="其他情况", max_length=2000)


def per_capita_net(form: RevisitForm) -> Decimal:
    """The revisit's 家庭人均纯收入 (approvals/procedure/income.py computes it)."""
    return income.per_capita_net(wage=form.wage, business=form.business,
                                 property=form.property, transfer=form.transfer,
                                 production_costs=form.production_costs, members=form.members)


def annual_due(s: Session, household_id: int, year: int) -> bool:
    """No revisit of this year has recorded the annual content yet."""
    return not any(s.scalars(select(Revisit.annual).where(
        Revisit.household_id == household_id,
        extract("year", Revisit.visited_on) == year)))


def prefill(s: Session, household: Household) -> dict[str, Any]:
    """The last revisit's answers (so only what changed is typed), else the roster's."""
    last = s.scalars(select(Revisit).where(Revisit.household_id == household.id)
                     .order_by(Revisit.visited_on.desc(), Revisit.id.desc())).first()
    if last is None:
        return {"members": len(household.present), "risk_remains": True}
    return {"members": last.members, "risk_remains": last.risk_remains,
            "weak_motivation": last.weak_motivation, **{k: getattr(last, k) for k in MONEY},
            **{f"annual_{k}": v for k, v in (last.annual or {}).items()},
            **{f"secure_{k}": "yes" if v else "no" for k, v in (last.secure or {}).items()},
            "last_visited_on": last.visited_on, "last_net": last.per_capita_net}


@dataclass(frozen=True)
class Reopening:
    """What a revisit of an eliminated household needs to open a new identification when it
    finds the risk back (已消除风险对象的跟踪和回访): the procedure, its calendar, the lines."""

    definition: DefinitionBody
    calendar: WorkCalendar
    rules: EliminationRules


@dataclass(frozen=True)
class Recorded:
    revisit: Revisit
    reopened: Case | None  # the identification a risk found back opened

    @property
    def reopened_number(self) -> str | None:
        return case_number(self.reopened.id, self.reopened.opened_at) if self.reopened else None


def record(s: Session, household: Household, actor: Actor, data: dict[str, Any], *,
           photos: list[str], reopen: Reopening, now: dt.datetime) -> Recorded:
    """Record a revisit of a monitored or eliminated household. An eliminated household found
    at risk again (the cadre says so, or its income is below the year's line) gets a new
    identification case, filed by the cadre (干部走访排查), unless one is already open."""
    ensure_assists(s, actor, household)
    if household.monitoring == MonitoringStatus.NONE:
        raise Refused("这户不是监测对象，无需定期回访。")
    try:
        form = RevisitForm.model_validate(data)
    except ValidationError as err:
        raise Refused(chinese(RevisitForm, err)) from None
    if form.visited_on > now.date() + dt.timedelta(days=1):
        raise Refused("「回访日期」不能晚于今天。")
    year_due = annual_due(s, household.id, form.visited_on.year)
    annual = {k: v.strip() for k, v in form.annual.items() if k in ANNUAL and v.strip()}
    if year_due and len(annual) < len(ANNUAL):
        missing = [ANNUAL[k] for k in ANNUAL if k not in annual]
        raise Refused(f"今年第一次回访，请填写年度监测内容：{'、'.join(missing)}")
    net = per_capita_net(form)
    revisit = Revisit(household_id=household.id, cadre_id=actor.id, visited_on=form.visited_on,
                      members=form.members, **{k: getattr(form, k) for k in MONEY},
                      per_capita_net=net, risk_remains=form.risk_remains,
                      weak_motivation=form.weak_motivation, annual=annual,
                      secure={k: v for k, v in form.secure.items() if k in SECURITY},
                      notes=form.notes,
                      photos=photos, recorded_at=now)
    s.add(revisit)
    s.flush()
    s.add(IncomeRecord(household_id=household.id, recorded_on=form.visited_on,
                       per_capita_net=net, revisit_id=revisit.id))
    audit.append(s, actor=f"cadre:{actor.id}", action="household.revisit", now=now,
                 payload={"household": household.id, "revisit": revisit.id})
    _visited(s, household.id, actor, now, revisit=revisit.id)
    return Recorded(revisit, _risk_back(s, household, revisit, actor, reopen, now))


def _risk_back(s: Session, household: Household, revisit: Revisit, actor: Actor,
               reopen: Reopening, now: dt.datetime) -> Case | None:
    if household.monitoring != MonitoringStatus.ELIMINATED:
        return None
    line = reopen.rules.line_for(revisit.visited_on.year).amount
    below = revisit.per_capita_net < line
    if not (revisit.risk_remains or below):
        return None
    if s.scalar(select(Case.id).where(Case.household_id == household.id,
                                      Case.status == CaseStatus.OPEN)):
        return None  # already being handled: the revisit is on its record
    found = "、".join(([f"人均纯收入{revisit.per_capita_net:.0f}元，低于监测范围{line:.0f}元"]
                      if below else []) + (["回访干部认为风险仍存在"] if revisit.risk_remains
                                           else []))
    return open_identification(
        s, household, definition=reopen.definition, calendar=reopen.calendar, now=now,
        source=Source.CADRE_VISIT, filed_by=f"cadre:{actor.id}",
        risk_types=risks_of(s, household.id) or ["other"], category=household.category,
        income_12m=revisit.per_capita_net * revisit.members,
        answers={"description": f"已消除风险户{revisit.visited_on:%Y年%m月%d日}回访发现风险回升："
                                f"{found}。", "revisit": revisit.id})


def looked_at(s: Session, household: Household, actor: Actor, note: str,
              now: dt.datetime) -> int:
    """部门数据提示 looked at: the household's cadre visited it about the departments' data
    (a household not monitored has no 定期回访 to record) and says what was found; the
    hits leave the list. A case the visit finds needed is filed as any (走访排查). Returns
    how many hits were listed."""
    ensure_assists(s, actor, household)
    note = note.strip()
    if not 2 <= len(note) <= 200:
        raise Refused("请填写走访了解的情况（2至200字）。")
    cleared = _visited(s, household.id, actor, now, note=note)
    if not cleared:
        raise Refused("这户没有待走访的部门数据提示。")
    return cleared


def _visited(s: Session, household_id: int, actor: Actor, now: dt.datetime,
             **payload: Any) -> int:
    """A visit recorded: the household's screening hits listed for one (approvals.screening
    .outcomes) and found before it leave the cadre's list, audited."""
    hits = ScreeningHit.__table__
    cleared = s.connection().execute(
        update(hits).where(hits.c.household_id == household_id,
                           hits.c.outcome == HitOutcome.LISTED, hits.c.visited_at.is_(None),
                           hits.c.created_at <= now)
        .values(visited_at=now).returning(hits.c.id)).scalars().all()
    if cleared:
        audit.append(s, actor=f"cadre:{actor.id}", action="screening.visited", now=now,
                     payload={"household": household_id, "hits": sorted(cleared), **payload})
    return len(cleared)


def count(s: Session, household_id: int) -> int:
    return s.scalar(select(func.count()).select_from(Revisit)
                    .where(Revisit.household_id == household_id)) or 0
