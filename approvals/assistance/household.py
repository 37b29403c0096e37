"""One household as the phone shows it: members, monitoring, paired cadres (with hand-overs),
measures, income records and its cases. The revisit reminders link here (/h/<id>)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from approvals.procedure.permissions import Actor
from approvals.record.errors import NotAllowed, NotFound
from approvals.record.identity import mask_id, mask_phone
from approvals.record.models import (
    Cadre,
    Case,
    HitOutcome,
    Household,
    IncomeRecord,
    Member,
    Pairing,
    Place,
    Revisit,
    ScreeningHit,
)
from approvals.record.models.households import LABOUR_LABELS


@dataclass
class HouseholdView:
    household: Household
    members: list[dict[str, Any]]
    pairings: list[tuple[str, str | None, Any, Any]]  # name, unit, started, ended
    incomes: list[IncomeRecord]
    revisits: list[Revisit]
    cases: list[Case]
    sees_personal_data: bool


def load(s: Session, household_id: int, actor: Actor, *, personal_data_roles: Sequence[str]
         ) -> HouseholdView:
    household = s.scalars(select(Household).where(Household.id == household_id).options(
        selectinload(Household.members), joinedload(Household.village),
        selectinload(Household.measures))).one_or_none()
    if household is None:
        raise NotFound("没有找到这户。")
    if not actor.sees(household.village.path):
        raise NotAllowed("这户不在您的管辖范围内，您无权查看。")
    full = actor.role in personal_data_roles
    members = [{"name": m.name, "relation": m.relation, "able_to_work": m.able_to_work,
                "labour": LABOUR_LABELS[m.labour], "left_on": m.left_on,
                "id_number": m.id_number if full else mask_id(m.id_number),
                "phone": (m.phone or "") if full else mask_phone(m.phone)}
               for m in household.members]
    pairings = s.execute(select(Cadre.name, Cadre.unit, Pairing.started_on, Pairing.ended_on)
                         .join(Cadre, Cadre.id == Pairing.cadre_id)
                         .where(Pairing.household_id == household_id)
                         .order_by(Pairing.started_on, Pairing.id)).tuples().all()
    incomes = s.scalars(select(IncomeRecord).where(IncomeRecord.household_id == household_id)
                        .order_by(IncomeRecord.recorded_on)).all()
    visits = s.scalars(select(Revisit).where(Revisit.household_id == household_id)
                       .order_by(Revisit.visited_on.desc(), Revisit.id.desc())).all()
    cases = s.scalars(select(Case).where(Case.household_id == household_id)
                      .order_by(Case.opened_at.desc())).all()
    return HouseholdView(household, members, list(pairings), list(incomes), list(visits),
                         list(cases), full)


def paired_with(s: Session, actor: Actor) -> list[tuple[int, str, str, str, Any, bool]]:
    """The households paired with the cadre (or whom they stand in for): id, head, village,
    monitoring, last revisit date, and whether 部门数据提示 waits for a visit (a screening
    hit listed and not visited, approvals.screening.outcomes): those first."""
    last = (select(Revisit.household_id, func.max(Revisit.visited_on).label("on"))
            .group_by(Revisit.household_id).subquery())
    listed = exists().where(ScreeningHit.household_id == Household.id,
                            ScreeningHit.outcome == HitOutcome.LISTED,
                            ScreeningHit.visited_at.is_(None))
    return list(s.execute(
        select(Household.id, Member.name, Place.name, Household.monitoring, last.c.on,
               listed.label("listed"))
        .join(Pairing, (Pairing.household_id == Household.id) & Pairing.ended_on.is_(None))
        .join(Member, (Member.household_id == Household.id) & Member.is_head)
        .join(Place, Place.id == Household.village_id)
        .outerjoin(last, last.c.household_id == Household.id)
        .where(Pairing.cadre_id.in_(actor.ids))
        .order_by(listed.desc(), last.c.on.is_not(None), last.c.on, Household.id)).tuples())
