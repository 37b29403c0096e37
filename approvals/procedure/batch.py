"""Batch approval (批量审批) for township audits and county approvals: the same decision,
with the same checks and audit row, for each case of a list; the edge gives each case its
own transaction so that one refusal does not hold up the others."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from approvals.procedure.decisions import Decided, decide, load_ref
from approvals.procedure.permissions import Actor
from approvals.record.definitions import Stage
from approvals.record.models import Cadre, Case, CaseKind, Pairing, Verdict

BATCH_STAGES = (Stage.TOWNSHIP_AUDIT, Stage.COUNTY_APPROVAL)


def approve_one(s: Session, task_id: int, actor: Actor, *, opinion: str, now: dt.datetime,
                by_risk: Mapping[str, Sequence[str]]) -> Decided:
    """Approve one task of the list. A county enrolment pairs the household with its current
    cadre (else the village's first 帮扶联系人) and plans one measure per risk type."""
    task = load_ref(s, task_id)
    data: dict[str, Any] = {"opinion": opinion.strip() or "同意"}
    if task.stage == Stage.COUNTY_APPROVAL:
        data = {"comparison": opinion.strip()}
        if task.case_kind == CaseKind.IDENTIFICATION:
            data |= _enrolment(s, task.case_id, now, by_risk)
    return decide(s, task, actor, Verdict.APPROVED, now=now, data=data)


def _enrolment(s: Session, case_id: int, now: dt.datetime, by_risk: Mapping[str, Sequence[str]]
               ) -> dict[str, Any]:
    case = s.get_one(Case, case_id)
    paired = s.scalar(select(Pairing.cadre_id).where(
        Pairing.household_id == case.household_id, Pairing.ended_on.is_(None)))
    if paired is None:
        paired = s.scalar(select(Cadre.id).where(Cadre.active, Cadre.role == "helper",
                                                 Cadre.place_id == case.village_id)
                          .order_by(Cadre.id))
    kinds = list(dict.fromkeys(by_risk[r][0] for r in case.risk_types if by_risk.get(r)))
    return {"category": case.category or "", "paired_cadre_id": paired,
            "measures": [{"kind": k, "planned_on": now.date().isoformat()} for k in kinds]}
