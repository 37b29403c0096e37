"""Assistance measures (帮扶措施): what fits a household, planning one, recording it done.

分类帮扶 as the policy text says it (docs/domain.md): the measures follow the household's
risks and its capacity. A single risk proposes a single measure, several risks a combination
(one per risk); a household that can work is proposed development measures first (产业, 就业,
公益岗位, 小额信贷: `Rules.able_to_work`) and 综合保障 (`Rules.unable_to_work`) only where
capacity is lost; a household with no one able to work is proposed 兜底保障 as well; weak
motivation adds 扶志扶智. The proposal is a suggestion: the county's approval form (single or
batch) and the household page show it prefilled, and the cadre changes it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from approvals.procedure.permissions import Actor
from approvals.record import audit
from approvals.record.errors import NotAllowed, Refused
from approvals.record.models import (
    Case,
    Household,
    Labour,
    Measure,
    MonitoringStatus,
    Pairing,
    Revisit,
)

ASSISTING_ROLES = ("helper", "village_cadre")


@dataclass(frozen=True)
class Rules:
    by_risk: dict[str, list[str]]  # risk → the measure types that answer it, best first
    able_to_work: list[str]  # development measures
    unable_to_work: list[str]  # 综合保障 (兜底)
    weak_motivation: list[str]
    subtypes: dict[str, list[str]]


@dataclass(frozen=True)
class Proposal:
    kind: str
    why: str  # in Chinese: which risk or capacity calls for it


def risks_of(s: Session, household_id: int) -> list[str]:
    """The risk types of the case that brought the household into monitoring."""
    found = s.scalars(select(Case.risk_types).where(Case.household_id == household_id,
                                                    Case.kind == "identification")
                      .order_by(Case.opened_at.desc())).first()
    return list(found or [])


def _for_risk(kinds: Sequence[str], labour: Labour, rules: Rules) -> str | None:
    """The one measure a risk is proposed, for the household's capacity."""
    development = [k for k in kinds if k in rules.able_to_work]
    if labour == Labour.NONE:  # nobody can take up a development measure
        return next((k for k in kinds if k not in rules.able_to_work), None)
    if development:
        return development[0]
    if labour == Labour.FULL:  # 综合保障 only where capacity is lost
        return next((k for k in kinds if k not in rules.unable_to_work),
                    rules.able_to_work[0] if rules.able_to_work else None)
    return kinds[0] if kinds else None


def proposals(risks: Sequence[str], labour: Labour, rules: Rules,
              risk_labels: Mapping[str, str], weak_motivation: bool = False) -> list[Proposal]:
    """The measures for these risks and this capacity (the module's docstring): one per risk,
    each type once, development measures first."""
    found: dict[str, str] = {}
    for risk in dict.fromkeys(risks):
        kind = _for_risk(rules.by_risk.get(risk, []), labour, rules)
        if kind is not None:
            found.setdefault(kind, risk_labels.get(risk, risk))
    if labour == Labour.NONE:
        for kind in rules.unable_to_work[:1]:
            found.setdefault(kind, "整户无劳动能力，兜底保障")
    elif not found and rules.able_to_work:
        found[rules.able_to_work[0]] = "有劳动能力，发展产业就业"
    if weak_motivation:
        for kind in rules.weak_motivation:
            found.setdefault(kind, "回访发现内生动力不足")
    ordered = sorted(found.items(), key=lambda kv: kv[0] not in rules.able_to_work)
    return [Proposal(kind, why) for kind, why in ordered]


def propose(s: Session, household: Household, rules: Rules, risk_labels: Mapping[str, str]
            ) -> list[Proposal]:
    """The proposal for a monitored household: the risks it was enrolled for, its capacity
    now, and what its last revisit found of its motivation."""
    last = s.scalars(select(Revisit.weak_motivation).where(Revisit.household_id == household.id)
                     .order_by(Revisit.visited_on.desc(), Revisit.id.desc())).first()
    return proposals(risks_of(s, household.id), household.labour, rules, risk_labels,
                     weak_motivation=bool(last))


def ensure_assists(s: Session, actor: Actor, household: Household) -> None:
    """The household's paired cadre, or a village cadre or 帮扶联系人 of its village."""
    paired = s.scalar(select(Pairing.id).where(Pairing.household_id == household.id,
                                               Pairing.cadre_id.in_(actor.ids),
                                               Pairing.ended_on.is_(None)))
    if paired is None and not any(who.role in ASSISTING_ROLES and who.covers(
            household.village.path) for who in actor.principals):
        raise NotAllowed("只有这户的帮扶联系人或负责这户的干部可以登记帮扶措施。")


def plan(s: Session, household: Household, actor: Actor, *, kind: str, subtype: str | None,
         description: str, unit: str, planned_on: dt.date, amount: Decimal | None,
         measure_types: Sequence[str], now: dt.datetime) -> Measure:
    ensure_assists(s, actor, household)
    if household.monitoring != MonitoringStatus.MONITORED:
        raise Refused("只有监测对象需要登记帮扶措施。")
    if kind not in measure_types:
        raise Refused(f"请从这些类型中选择：{'、'.join(measure_types)}。")
    if amount is not None and amount < 0:
        raise Refused("「金额」不能为负数。")
    measure = Measure(household_id=household.id, kind=kind, subtype=subtype or None,
                      description=description.strip()[:200], unit=unit.strip() or None,
                      planned_on=planned_on, amount=amount)
    s.add(measure)
    s.flush()
    audit.append(s, actor=f"cadre:{actor.id}", action="measure.plan", now=now,
                 payload={"household": household.id, "measure": measure.id, "kind": kind})
    return measure


def carry_out(s: Session, measure_id: int, actor: Actor, *, done_on: dt.date, result: str,
              amount: Decimal | None, now: dt.datetime) -> Measure:
    """Record a planned measure as carried out (落实), with what it achieved."""
    measure = s.scalar(select(Measure).where(Measure.id == measure_id).with_for_update())
    if measure is None:
        raise Refused("没有找到这项措施。")
    household = s.get_one(Household, measure.household_id)
    ensure_assists(s, actor, household)
    if measure.done_on is not None:
        raise Refused(f"这项措施已于{measure.done_on:%Y年%m月%d日}登记落实。")
    if done_on > now.date() + dt.timedelta(days=1):
        raise Refused("落实日期不能晚于今天。")
    if not result.strip():
        raise Refused("请写明落实情况（如：已发放临时救助3000元）。")
    measure.done_on, measure.result = done_on, result.strip()
    if amount is not None:
        measure.amount = amount
    audit.append(s, actor=f"cadre:{actor.id}", action="measure.done", now=now,
                 payload={"household": household.id, "measure": measure.id})
    return measure


def without_measure(s: Session, today: dt.date, after_days: int) -> list[tuple[int, int]]:
    """(household, paired cadre) of monitored households with no measure carried out
    `after_days` after they entered monitoring: the alert of the daily digest."""
    done = select(Measure.id).where(Measure.household_id == Household.id,
                                    Measure.done_on.is_not(None)).correlate(Household).exists()
    return list(s.execute(
        select(Household.id, Pairing.cadre_id)
        .join(Pairing, (Pairing.household_id == Household.id) & Pairing.ended_on.is_(None))
        .where(Household.monitoring == MonitoringStatus.MONITORED,
               Household.monitored_since <= today - dt.timedelta(days=after_days), ~done)
        .order_by(Household.id)).tuples())


def without_pairing(s: Session) -> list[tuple[int, int, dt.date]]:
    """(household, village, since when) of monitored households with no active pairing: the
    alert of the daily digest (every monitored household has a 帮扶联系人, 帮扶责任不脱钩).
    Since when: the later of entering monitoring and the last pairing's end."""
    active = select(Pairing.id).where(Pairing.household_id == Household.id,
                                      Pairing.ended_on.is_(None)).correlate(Household).exists()
    ended = (select(func.max(Pairing.ended_on)).where(Pairing.household_id == Household.id)
             .correlate(Household).scalar_subquery())
    return [(household, village, max(d for d in (since, last) if d is not None))
            for household, village, since, last in s.execute(
                select(Household.id, Household.village_id, Household.monitored_since, ended)
                .where(Household.monitoring == MonitoringStatus.MONITORED,
                       Household.monitored_since.is_not(None), ~active)
                .order_by(Household.id)).tuples()]
