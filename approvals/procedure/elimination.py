"""Risk elimination (风险消除): the criteria a proposal must meet, the proposal, and 回退.

The criteria (docs/domain.md, 风险消除; config.yaml `elimination`): monitored at least N
months, at least N measures carried out in this monitoring period, every revisit's income at
or above the year's line over at least N months, the latest check finding 两不愁三保障, 饮水
and rigid expenditure secure; with `never_without_labour` (the default) a household with no
one able to work is never proposed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from approvals.procedure.cases import open_elimination
from approvals.procedure.permissions import Actor
from approvals.record import audit
from approvals.record.calendar import WorkCalendar, local_date
from approvals.record.definitions import Definition as DefinitionBody
from approvals.record.definitions import Level, Stage
from approvals.record.errors import NotAllowed, Refused
from approvals.record.models import (
    Case,
    Household,
    IncomeRecord,
    Measure,
    MonitoringStatus,
    Revisit,
    Task,
    TaskStatus,
)


class IncomeLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    region: str
    year: int
    amount: Decimal


class EliminationRules(BaseModel):
    model_config = ConfigDict(frozen=True)
    min_months_monitored: int = 6
    min_measures_done: int = 1  # carried out since the household entered monitoring
    stable_income_months: int = 6  # the revisits' incomes span at least this, all on the line
    never_without_labour: bool = True  # no one able to work: never eliminated (config rule)
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


# 两不愁三保障、饮水安全 and rigid expenditure: what a revisit (approvals.assistance.revisits,
# `secure`) or a home verification (its form's `securities`, the four 保障 under the same
# keys) records as secure or not.
SECURITY = {
    "food_clothing": "不愁吃、不愁穿",
    "compulsory_education": "义务教育有保障",
    "basic_medical": "基本医疗有保障",
    "housing": "住房安全有保障",
    "drinking_water": "饮水安全有保障",
    "rigid_expenditure": "大额刚性支出已解决或没有",
}


@dataclass(frozen=True)
class Evidence:
    """One criterion as every reviewer sees it: what it asks, what the records show, and
    when it is not met, why, in a sentence the proposer reads."""

    criterion: str
    found: str
    met: bool
    problem: str = ""


@dataclass(frozen=True)
class SecurityCheck:
    """Each SECURITY key as the latest record that answered it found it, and which records
    those were ("2026年11月02日回访" ...)."""

    secure: dict[str, bool]
    seen: list[str]


def security(s: Session, household_id: int) -> SecurityCheck | None:
    """The latest check of 两不愁三保障、饮水安全 and rigid expenditure, key by key: from the
    revisits that recorded them and the home verifications decided (their `securities`),
    the latest answer of each; None when nothing was ever recorded."""
    found: list[tuple[dt.date, str, dict[str, Any]]] = [
        (on, "回访", dict(secure)) for on, secure in s.execute(
            select(Revisit.visited_on, Revisit.secure).where(
                Revisit.household_id == household_id)) if secure]
    for decided_at, data in s.execute(
            select(Task.decided_at, Task.data).join(Case, Case.id == Task.case_id)
            .where(Case.household_id == household_id, Task.stage == Stage.HOME_VERIFICATION,
                   Task.status == TaskStatus.DECIDED, Task.decided_at.is_not(None))):
        securities = (data or {}).get("securities")
        if isinstance(securities, dict) and securities:
            found.append((local_date(decided_at), "入户核实", securities))
    if not found:
        return None
    found.sort(key=lambda f: f[0], reverse=True)
    secure, seen = {}, []
    for key in SECURITY:
        for on, source, answers in found:
            if key in answers:
                secure[key] = bool(answers[key])
                if f"{on:%Y年%m月%d日}{source}" not in seen:
                    seen.append(f"{on:%Y年%m月%d日}{source}")
                break
    return SecurityCheck(secure, seen)


def _income(s: Session, household: Household, since: dt.date, rules: EliminationRules
            ) -> Evidence:
    """Every income record of this monitoring period from the one that opens a span of
    `stable_income_months` (back from the latest) to the latest is at or above its year's
    line: two good records a month apart prove nothing, and a dip inside the span fails."""
    months = rules.stable_income_months
    criterion = f"连续{months}个月以上的回访人均纯收入均不低于监测范围"
    records = s.scalars(select(IncomeRecord).where(IncomeRecord.household_id == household.id,
                                                   IncomeRecord.recorded_on >= since)
                        .order_by(IncomeRecord.recorded_on, IncomeRecord.id)).all()
    if not records:
        return Evidence(criterion, "无回访记录", False,
                        "纳入监测以来没有回访收入记录，无法判断收入是否稳定。")
    start = records[-1].recorded_on - relativedelta(months=months)
    opening = [r for r in records if r.recorded_on <= start]
    span = records[records.index(opening[-1]):] if opening else records
    shown = "；".join(f"{r.recorded_on:%Y年%m月%d日} {r.per_capita_net:.0f}元（监测范围"
                     f"{rules.line_for(r.recorded_on.year).amount:.0f}元）" for r in span)
    below = [r for r in span if r.per_capita_net < rules.line_for(r.recorded_on.year).amount]
    if below:
        r = below[-1]
        return Evidence(criterion, shown, False,
                        f"{r.recorded_on:%Y年%m月%d日}回访人均纯收入{r.per_capita_net:.0f}元，"
                        f"低于当年监测范围{rules.line_for(r.recorded_on.year).amount:.0f}元。")
    if not opening:
        return Evidence(criterion, shown, False,
                        f"回访收入记录跨度不足{months}个月（{records[0].recorded_on:%Y年%m月%d日}"
                        f"至{records[-1].recorded_on:%Y年%m月%d日}），无法判断收入是否稳定。")
    return Evidence(criterion, shown, True)


def evidence(s: Session, household: Household, rules: EliminationRules, today: dt.date
             ) -> list[Evidence]:
    """The elimination criteria read from the household's records (measures, revisits, the
    latest check of 两不愁三保障): every one, met or not, in the order reviewers read them."""
    since = household.monitored_since
    if since is None:
        return []
    rows = []
    enough = since + relativedelta(months=rules.min_months_monitored)
    rows.append(Evidence(f"纳入监测满{rules.min_months_monitored}个月",
                         f"{since:%Y年%m月%d日}纳入", today >= enough,
                         f"纳入监测不满{rules.min_months_monitored}个月（{since:%Y年%m月%d日}"
                         f"纳入，{enough:%Y年%m月%d日}后方可提出）。"))
    done = s.scalars(select(Measure).where(Measure.household_id == household.id,
                                           Measure.done_on.is_not(None),
                                           Measure.done_on >= since)).all()
    rows.append(Evidence(f"本轮监测期内至少落实{rules.min_measures_done}项帮扶措施",
                         "、".join(f"{m.kind}（{m.done_on:%Y-%m-%d}）" for m in done) or "无",
                         len(done) >= rules.min_measures_done,
                         f"纳入监测以来已落实的帮扶措施不足{rules.min_measures_done}项。"))
    rows.append(_income(s, household, since, rules))
    last = s.scalars(select(Revisit).where(Revisit.household_id == household.id)
                     .order_by(Revisit.visited_on.desc(), Revisit.id.desc())).first()
    if last is not None:
        rows.append(Evidence("最近一次回访风险已消除",
                             f"{last.visited_on:%Y年%m月%d日}：" +
                             ("风险仍存在" if last.risk_remains else "风险已消除"),
                             not last.risk_remains,
                             f"{last.visited_on:%Y年%m月%d日}回访时风险仍存在。"))
    check = security(s, household.id)
    criterion = "两不愁三保障及饮水安全有保障，刚性支出问题已解决"
    if check is None:
        rows.append(Evidence(criterion, "没有核实记录", False,
                             "回访或入户核实尚未记录两不愁三保障及饮水安全情况。"))
    else:
        unmet = [label for key, label in SECURITY.items() if not check.secure.get(key)]
        rows.append(Evidence(criterion, "、".join(check.seen) + "："
                             + ("均有保障" if not unmet else "未保障或未核实：" + "、".join(unmet)),
                             not unmet,
                             "以下各项未保障或未核实：" + "、".join(unmet) + "。"))
    able = household.anyone_able_to_work
    if rules.never_without_labour:
        rows.append(Evidence("家中有劳动能力的成员", "有" if able else "整户无劳动能力", able,
                             "整户无劳动能力，不能标注风险消除，应继续落实兜底保障。"))
    return rows


def unmet_criteria(s: Session, household: Household, rules: EliminationRules,
                   today: dt.date) -> list[str]:
    """Every criterion the household fails, in Chinese; empty when it may be proposed."""
    if household.monitoring != MonitoringStatus.MONITORED or household.monitored_since is None:
        return ["这户不是监测对象，无需风险消除。"]
    return [e.problem for e in evidence(s, household, rules, today) if not e.met]


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
    """风险消除回退: an eliminated household goes back to monitoring, a new monitoring period
    from today; its history stays. The page tells the household (elimination_reverted)."""
    if household.monitoring != MonitoringStatus.ELIMINATED:
        raise Refused("只有已标注风险消除的户才能回退。")
    if actor.level != Level.COUNTY:
        raise Refused("您的岗位不能办理风险消除回退：须由审定风险消除的工作人员办理。")
    if not actor.covers(household.village.path):
        raise NotAllowed("这户不在您的管辖范围内，不能办理风险消除回退。")
    if not reason.strip():
        raise Refused("回退必须写明理由。")
    household.monitoring = MonitoringStatus.MONITORED
    household.eliminated_on = None
    # a new monitoring period: the next elimination counts its months and measures from here
    household.monitored_since = local_date(now)
    audit.append(s, actor=f"cadre:{actor.id}", action="household.revert", now=now,
                 payload={"household": household.id, "reason": reason.strip()})
    s.flush()
    return household
