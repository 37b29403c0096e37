"""Risk elimination (风险消除): the criteria a proposal must meet, the proposal, and 回退.

The criteria (docs/domain.md, 风险消除): monitored at least six months, at least one measure
carried out, income stably above the year's line; a household with no one able to work is
never proposed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from approvals.procedure.cases import open_elimination
from approvals.procedure.permissions import Actor
from approvals.record import audit
from approvals.record.calendar import WorkCalendar, local_date
from approvals.record.definitions import Definition as DefinitionBody
from approvals.record.definitions import Level
from approvals.record.errors import NotAllowed, Refused
from approvals.record.models import (
    Case,
    Household,
    IncomeRecord,
    Measure,
    MonitoringStatus,
    Revisit,
)


class IncomeLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    region: str
    year: int
    amount: Decimal


class EliminationRules(BaseModel):
    model_config = ConfigDict(frozen=True)
    min_months_monitored: int = 6
    min_measures_done: int = 1
    stable_income_records: int = 2
    region: str = "全国"
    income_lines: tuple[IncomeLine, ...] = (
        IncomeLine(region="全国", year=2021, amount=Decimal(6000)),)

    def line_for(self, year: int) -> IncomeLine:
        """This region's line for the year, else its latest earlier one, else the national one."""
        for region in (self.region, "全国"):
            known = [x for x in self.income_lines if x.region == region and x.year <= year]
            if known:
                return max(known, key=lambda x: x.year)
        raise LookupError(f"no income line for {year}")


@dataclass(frozen=True)
class Evidence:
    """One criterion as every reviewer sees it: what it asks, what the records show."""

    criterion: str
    found: str
    met: bool


def evidence(s: Session, household: Household, rules: EliminationRules, today: dt.date
             ) -> list[Evidence]:
    """The elimination criteria read from the household's records (measures, revisits)."""
    rows = []
    since = household.monitored_since
    if since is not None:
        enough = since + relativedelta(months=rules.min_months_monitored)
        rows.append(Evidence(f"纳入监测满{rules.min_months_monitored}个月",
                             f"{since:%Y年%m月%d日}纳入", today >= enough))
    done = s.scalars(select(Measure).where(Measure.household_id == household.id,
                                           Measure.done_on.is_not(None))).all()
    rows.append(Evidence(f"至少落实{rules.min_measures_done}项帮扶措施",
                         "、".join(f"{m.kind}（{m.done_on:%Y-%m-%d}）" for m in done) or "无",
                         len(done) >= rules.min_measures_done))
    records = s.scalars(select(IncomeRecord).where(IncomeRecord.household_id == household.id)
                        .order_by(IncomeRecord.recorded_on.desc())
                        .limit(rules.stable_income_records)).all()
    shown = "；".join(f"{r.recorded_on:%Y年%m月} {r.per_capita_net:.0f}元（线"
                     f"{rules.line_for(r.recorded_on.year).amount:.0f}元）" for r in records)
    rows.append(Evidence(f"最近{rules.stable_income_records}次回访人均纯收入均不低于监测线",
                         shown or "无回访记录",
                         len(records) >= rules.stable_income_records and all(
                             r.per_capita_net >= rules.line_for(r.recorded_on.year).amount
                             for r in records)))
    last = s.scalars(select(Revisit).where(Revisit.household_id == household.id)
                     .order_by(Revisit.visited_on.desc(), Revisit.id.desc())).first()
    if last is not None:
        rows.append(Evidence("最近一次回访风险已消除",
                             f"{last.visited_on:%Y年%m月%d日}：" +
                             ("风险仍存在" if last.risk_remains else "风险已消除"),
                             not last.risk_remains))
    rows.append(Evidence("家中有劳动能力的成员",
                         "有" if household.anyone_able_to_work else "整户无劳动能力",
                         household.anyone_able_to_work))
    return rows


def unmet_criteria(s: Session, household: Household, rules: EliminationRules,
                   today: dt.date) -> list[str]:
    """Every criterion the household fails, in Chinese; empty when it may be proposed."""
    if household.monitoring != MonitoringStatus.MONITORED or household.monitored_since is None:
        return ["这户不是监测对象，无需风险消除。"]
    problems = []
    if not household.anyone_able_to_work:
        problems.append("整户无劳动能力，不能标注风险消除，应继续落实兜底保障。")
    enough = household.monitored_since + relativedelta(months=rules.min_months_monitored)
    if today < enough:
        problems.append(f"纳入监测不满{rules.min_months_monitored}个月"
                        f"（{household.monitored_since:%Y年%m月%d日}纳入，{enough:%Y年%m月%d日}后方可提出）。")
    done = s.scalars(select(Measure).where(Measure.household_id == household.id,
                                           Measure.done_on.is_not(None))).all()
    if len(done) < rules.min_measures_done:
        problems.append(f"已落实的帮扶措施不足{rules.min_measures_done}项。")
    records = s.scalars(select(IncomeRecord).where(IncomeRecord.household_id == household.id)
                        .order_by(IncomeRecord.recorded_on.desc())
                        .limit(rules.stable_income_records)).all()
    if len(records) < rules.stable_income_records:
        problems.append(f"回访收入记录不足{rules.stable_income_records}次，无法判断收入是否稳定。")
    else:
        below = [r for r in records if r.per_capita_net < rules.line_for(r.recorded_on.year).amount]
        for r in below:
            line = rules.line_for(r.recorded_on.year).amount
            problems.append(f"{r.recorded_on:%Y年%m月}人均纯收入{r.per_capita_net:.0f}元，"
                            f"低于当年监测线{line:.0f}元。")
    last = s.scalars(select(Revisit).where(Revisit.household_id == household.id)
                     .order_by(Revisit.visited_on.desc(), Revisit.id.desc())).first()
    if last is not None and last.risk_remains:
        problems.append(f"{last.visited_on:%Y年%m月%d日}回访时风险仍存在。")
    return problems


def propose(s: Session, household: Household, actor: Actor, *, rules: EliminationRules,
            definition: DefinitionBody, calendar: WorkCalendar, now: dt.datetime) -> Case:
    """村提出名单: open a risk-elimination case, or refuse with every unmet criterion."""
    if not actor.covers(household.village.path):
        raise NotAllowed("这户不在您的管辖范围内，不能提出风险消除。")
    problems = unmet_criteria(s, household, rules, local_date(now))
    if problems:
        raise Refused("暂不能提出风险消除：" + "；".join(problems))
    return open_elimination(s, household, definition=definition, calendar=calendar, now=now,
                            filed_by=f"cadre:{actor.id}")


def revert(s: Session, household: Household, actor: Actor, *, reason: str,
           now: dt.datetime) -> Household:
    """风险消除回退: an eliminated household goes back to monitoring; its history stays."""
    if household.monitoring != MonitoringStatus.ELIMINATED:
        raise Refused("只有已风险消除的户才能回退。")
    if actor.level != Level.COUNTY:
        raise Refused("风险消除回退须由本县（区）审定人员办理。")
    if not actor.covers(household.village.path):
        raise NotAllowed("这户不在您的管辖范围内，不能办理风险消除回退。")
    if not reason.strip():
        raise Refused("回退必须写明理由。")
    household.monitoring = MonitoringStatus.MONITORED
    household.eliminated_on = None
    audit.append(s, actor=f"cadre:{actor.id}", action="household.revert", now=now,
                 payload={"household": household.id, "reason": reason.strip()})
    s.flush()
    return household
