"""Batch approval (批量审批) for township audits and county approvals: the same decision,
with the same checks and audit row, for each case of a list; the edge gives each case its
own transaction so that one refusal does not hold up the others.

A county enrolment in a batch asks what a single approval asks, per case: the category (the
home verification's proposal first), the paired cadre and the measures, as the approver
confirmed or changed them on the page (approvals/web/batch.py). Nothing is made up here.
A batch ticks no department records: a county approval whose household has some (the page
reads them, `records`) is refused by the stage's own check, to be compared on the case page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from approvals.procedure.casefile import pairing_candidates
from approvals.procedure.decisions import Decided, decide, load_ref
from approvals.procedure.permissions import Actor
from approvals.procedure.stages.base import Posted
from approvals.procedure.stages.county_approval import STAGE as COUNTY
from approvals.procedure.stages.county_approval import verification_proposal
from approvals.record.definitions import Stage
from approvals.record.models import Case, CaseKind, Labour, Verdict

BATCH_STAGES = (Stage.TOWNSHIP_AUDIT, Stage.COUNTY_APPROVAL)


class Prefixed:
    """One case's part of the batch page's POST: its fields carry `-<task id>`."""

    def __init__(self, posted: Posted, task_id: int) -> None:
        self.posted, self.suffix = posted, f"-{task_id}"

    def get(self, key: str, /) -> str | None:
        return self.posted.get(key + self.suffix)

    def getlist(self, key: str, /) -> list[str]:
        return self.posted.getlist(key + self.suffix)


@dataclass(frozen=True)
class Asks:
    """What the batch page asks of one county enrolment, prefilled as the single approval's
    form is: the verification's proposed category, whom the household may be paired with,
    and what its measures are proposed from (risks, capacity)."""

    category: str | None
    formerly_poor: bool
    candidates: list[tuple[int, str]]
    risk_types: list[str]
    labour: Labour


def enrolment_asks(s: Session, case_id: int) -> Asks | None:
    """None for a case that enrols nobody (a risk elimination's county approval)."""
    case = s.get_one(Case, case_id)
    if case.kind != CaseKind.IDENTIFICATION:
        return None
    return Asks(verification_proposal(s.connection(), case_id) or case.category,
                case.household.formerly_poor, pairing_candidates(s, case),
                list(case.risk_types), case.household.labour)


def approve_one(s: Session, task_id: int, actor: Actor, *, opinion: str, now: dt.datetime,
                posted: Posted | None = None,
                records: Callable[[int], Sequence[str]] = lambda case_id: ()) -> Decided:
    """Approve one task of the list. A county enrolment takes its category, paired cadre and
    measures from the case's own fields of the page (`posted`, read as the single approval
    reads them); a county approval, the references of the household's department records
    (`records` of the case id, as the single approval's page puts them in its form)."""
    task = load_ref(s, task_id)
    data: dict[str, Any] = {"opinion": opinion.strip() or "同意"}
    if task.stage == Stage.COUNTY_APPROVAL:
        data = {"comparison": opinion.strip(), "records": list(records(task.case_id))}
        if task.case_kind == CaseKind.IDENTIFICATION:
            answers = COUNTY.parse(Prefixed(posted, task_id), task.case_kind) if posted else {}
            data |= {k: v for k, v in answers.items() if k != "comparison"}
    return decide(s, task, actor, Verdict.APPROVED, now=now, data=data)
