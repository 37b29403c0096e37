"""The screening hits as people read them: a case's evidence (the case page, `fangfan case
show`), the households listed for a visit (the household page, the cadres' daily digest).

A hit is shown with its rule as it read on the day (name, level, risk), what it did, and its
figures said in plain Chinese (rules.describe). The department rows behind it name the member
but carry no ID number (the engine leaves the ID and name columns out of `values`), so they
are shown as kept, to whoever may see the case or the household.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from approvals.record.db import connection_of
from approvals.record.models import (
    HitOutcome,
    Household,
    Member,
    Pairing,
    Place,
    ScreeningHit,
)
from approvals.screening.rules import WarningLevel, describe, yuan

HITS = ScreeningHit.__table__
LEVEL_ORDER = {level.value: i for i, level in enumerate(WarningLevel)}  # red first
LEVEL_CLASSES: dict[str, str] = {WarningLevel.RED: "red", WarningLevel.ORANGE: "orange",
                                 WarningLevel.YELLOW: "yellow"}  # the badge's CSS class
OUTCOMES = {HitOutcome.OPENED: "据此立案", HitOutcome.ADDED: "补充到在办案件",
            HitOutcome.LISTED: "列入走访名单"}

_COLUMNS = (HITS.c.id, HITS.c.run_id, HITS.c.household_id, HITS.c.case_id, HITS.c.rule,
            HITS.c.rule_name, HITS.c.level, HITS.c.risk, HITS.c.action, HITS.c.outcome,
            HITS.c.as_of, HITS.c.figures, HITS.c.evidence, HITS.c.created_at,
            HITS.c.visited_at)
_OF_CASES = (select(*_COLUMNS).where(HITS.c.case_id.in_(bindparam("ids", expanding=True)))
             .order_by(HITS.c.id))
# the partial index ix_screening_hits_listed holds exactly these rows
_LISTED = (select(*_COLUMNS).where(HITS.c.outcome == HitOutcome.LISTED,
                                   HITS.c.visited_at.is_(None)))


@dataclass(frozen=True)
class Shown:
    """One hit as shown: its rule as it read on the day, what it did, its figures in words."""

    id: int
    run_id: int
    household_id: int
    case_id: int | None
    rule: str
    rule_name: str
    level: str  # 红 | 橙 | 黄
    risk: str
    action: str
    outcome: str
    as_of: dt.date
    text: str  # rules.describe(figures)
    figures: dict[str, Any]
    evidence: list[dict[str, Any]]  # the department rows (engine.Hit)
    created_at: dt.datetime
    visited_at: dt.datetime | None

    @property
    def outcome_label(self) -> str:
        return OUTCOMES[HitOutcome(self.outcome)]

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The evidence rows as a page lists them, each with its figures in words
        (「个人自付：14,400元」), the date beside them, not among them."""
        return [{**e, "facts": "；".join(
                    f"{header}：{yuan(value) if isinstance(value, float) else value}"
                    for header, value in e["values"].items()
                    if value is not None and value != e["date"])}
                for e in self.evidence]

    @property
    def level_class(self) -> str:
        """The badge's CSS class (red, orange, yellow)."""
        return LEVEL_CLASSES.get(self.level, "")

    def json(self) -> dict[str, Any]:
        return {"id": self.id, "run_id": self.run_id, "rule": self.rule,
                "rule_name": self.rule_name, "level": self.level, "risk": self.risk,
                "action": self.action, "outcome": self.outcome,
                "outcome_label": self.outcome_label, "as_of": self.as_of.isoformat(),
                "text": self.text, "figures": self.figures, "evidence": self.evidence,
                "found_at": self.created_at.isoformat(),
                "visited_at": self.visited_at.isoformat() if self.visited_at else None}


def _shown(row: Any) -> Shown:
    return Shown(row.id, row.run_id, row.household_id, row.case_id, row.rule, row.rule_name,
                 row.level, row.risk, row.action, row.outcome, row.as_of, describe(row.figures),
                 row.figures, row.evidence, row.created_at, row.visited_at)


def of_cases(s: Session | Connection, case_ids: Collection[int]) -> dict[int, list[Shown]]:
    """Each case's evidence, oldest first: the hits that opened it or were added to it."""
    found: dict[int, list[Shown]] = defaultdict(list)
    if case_ids:
        for row in connection_of(s).execute(_OF_CASES, {"ids": list(case_ids)}):
            found[row.case_id].append(_shown(row))
    return dict(found)


def of_case(s: Session | Connection, case_id: int) -> list[Shown]:
    return of_cases(s, [case_id]).get(case_id, [])


def attach(s: Session | Connection, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Read models of cases (approvals.procedure.queries: each with its `id`) with their
    evidence added (`evidence`: the hits as JSON, none for a case not found by screening)."""
    found = of_cases(s, [c["id"] for c in cases])
    for case in cases:
        case["evidence"] = [e.json() for e in found.get(case["id"], [])]
    return cases


def listed(s: Session | Connection, household_id: int) -> list[Shown]:
    """The household's hits listed for a visit and not visited yet (the household page)."""
    rows = connection_of(s).execute(_LISTED.where(HITS.c.household_id == household_id)
                                    .order_by(HITS.c.id))
    return [_shown(r) for r in rows]




@dataclass(frozen=True)
class ToVisit:
    """A household listed for a visit, for the cadres' digest: who looks at it (its paired
    cadre, else the village cadres: `paired` None), since when, the highest level and the
    rules' names."""

    household_id: int
    head: str
    village_id: int
    village: str
    paired: int | None
    since: dt.datetime  # the first hit not visited yet
    level: str
    rules: tuple[str, ...]


def to_visit(s: Session | Connection) -> list[ToVisit]:
    """Every household with hits listed and not visited yet, in one read from the listed
    index (a row per hit, with its household's head, village and paired cadre)."""
    paired = (select(Pairing.household_id, func.min(Pairing.cadre_id).label("cadre_id"))
              .where(Pairing.ended_on.is_(None)).group_by(Pairing.household_id).subquery())
    rows = connection_of(s).execute(
        select(HITS.c.household_id, HITS.c.rule_name, HITS.c.level, HITS.c.created_at,
               Household.village_id, Place.name.label("village"), Member.name.label("head"),
               paired.c.cadre_id)
        .join(Household, Household.id == HITS.c.household_id)
        .join(Place, Place.id == Household.village_id)
        .join(Member, (Member.household_id == Household.id) & Member.is_head)
        .outerjoin(paired, paired.c.household_id == Household.id)
        .where(HITS.c.outcome == HitOutcome.LISTED, HITS.c.visited_at.is_(None))
        .order_by(HITS.c.household_id, HITS.c.id)).all()
    by_household: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_household[row.household_id].append(row)
    return [ToVisit(household, its[0].head, its[0].village_id, its[0].village, its[0].cadre_id,
                    min(r.created_at for r in its),
                    min((r.level for r in its), key=lambda v: LEVEL_ORDER.get(v, 9)),
                    tuple(dict.fromkeys(r.rule_name for r in its)))
            for household, its in by_household.items()]
