"""复核: an applicant who disagrees with the decision not to enrol the household asks the
township to examine it again.

What can be re-examined: an identification case closed as 不予纳入, whichever stage decided it
(a verification that found the risk not real, the vote, the township, the county), once per
rejecting decision. The applicant asks in the chat (bot/: 申请复核, 我不服, 要求复核 call
`request_from_chat`) or a cadre whose jurisdiction holds the household files it on the case
page (`request_by_cadre`). It is a task of config.yaml's `reexamination.role` (the township's
auditor by default) at the case's township, due `reexamination.deadline` after it was asked.

Its result (`decide`), with a reason, is one of:
- 维持 (upheld): the case stays closed as it was;
- 撤销原结论并重新办理 (revoked): `reopen` is the rule, and its only home: the case opens
  again at the first stage of its own definition (入户核实), every earlier task kept as history
  (superseded, as a return does), its total clock counted again from the revocation; the
  worker's next pass opens the stage, for the paired cadre or the village as always.

Both the request and the result are on the case's timeline and in the audit log. The
household hears the result with the township's reason, written for the applicant (the form
says so), in a message the system words (notifications/reexaminations.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session, aliased

from approvals.procedure.cases import heard_of_sql
from approvals.procedure.permissions import Actor, ensure_may_act, may_act
from approvals.record import audit
from approvals.record.calendar import WorkCalendar
from approvals.record.db import rowcount
from approvals.record.definitions import Deadline
from approvals.record.errors import AlreadyDecided, NotAllowed, NotFound, Refused
from approvals.record.models import (
    Case,
    CaseKind,
    CaseStatus,
    Member,
    Place,
    Reexamination,
    ReexaminationResult,
    ReexaminationStatus,
    Task,
    TaskStatus,
    Verdict,
)
from approvals.record.models.cases import case_number

Village = aliased(Place)

STAGE = "reexamination"  # its seat's name for the permission rule (not a procedure's stage)
RESULTS = {ReexaminationResult.UPHELD: "维持原结论",
           ReexaminationResult.REVOKED: "撤销原结论并重新办理"}


class ReexaminationRules(BaseModel):
    """config.yaml `reexamination`: who examines a 复核 and how long they have."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    role: str = "township_auditor"
    deadline: Deadline = Deadline(days=10, unit="working")


@dataclass(frozen=True)
class _Seat:
    """A 复核 as the permission rule sees it: a role at the township."""

    role: str
    place_path: str
    stage: str = STAGE
    assignee_id: int | None = None


def request_from_chat(s: Session, openid: str, grounds: str, *, now: dt.datetime,
                      calendar: WorkCalendar, rules: ReexaminationRules) -> Reexamination:
    """The applicant asks in the chat: their household's latest application is examined
    (of those it knows of: not a screening case before its visit, cases.heard_of)."""
    case = s.scalars(select(Case).join(Member, Member.household_id == Case.household_id)
                     .where(Member.openid == openid, Case.kind == CaseKind.IDENTIFICATION,
                            heard_of_sql())
                     .order_by(Case.opened_at.desc(), Case.id.desc()).limit(1)).first()
    if case is None:
        raise Refused("没有找到您家的申请记录。如需申请，请回复「申请」。")
    return _request(s, case.id, f"farmer:{openid}", grounds or "申请人在微信中申请复核",
                    now=now, calendar=calendar, rules=rules, told=True)  # the chat replies


def request_by_cadre(s: Session, case_id: int, actor: Actor, grounds: str, *,
                     now: dt.datetime, calendar: WorkCalendar,
                     rules: ReexaminationRules) -> Reexamination:
    """A cadre files it for the applicant (who is then told it was filed)."""
    path = s.scalar(select(Place.path).join(Case, Case.village_id == Place.id)
                    .where(Case.id == case_id))
    if path is None:
        raise NotFound("没有找到这个案件。")
    if not actor.sees(path):
        raise NotAllowed("这户不在您的管辖范围内，您无权操作。")
    if not grounds.strip():
        raise Refused("请写明申请人不服的理由。")
    return _request(s, case_id, f"cadre:{actor.id}", grounds, now=now, calendar=calendar,
                    rules=rules, told=False)


def _request(s: Session, case_id: int, by: str, grounds: str, *, now: dt.datetime,
             calendar: WorkCalendar, rules: ReexaminationRules, told: bool) -> Reexamination:
    case = s.scalar(select(Case).where(Case.id == case_id).with_for_update())
    assert case is not None
    if case.kind != CaseKind.IDENTIFICATION or case.status != CaseStatus.REJECTED:
        raise Refused("只有经审核不予纳入的申请可以申请复核。" if case.status != CaseStatus.OPEN
                      else "您的申请还在办理中，办结后如对结果有异议，可以申请复核。")
    decision = _rejection(s, case_id)
    if decision is None:
        raise Refused("没有找到不予纳入的办理结论，无法复核。")
    earlier = s.scalar(select(Reexamination).where(Reexamination.case_id == case_id,
                                                   Reexamination.task_id == decision))
    if earlier is not None:
        raise Refused("已经申请过复核，正在办理中，请耐心等待结果。"
                      if earlier.status == ReexaminationStatus.OPEN else
                      "这一结论已经复核过，结果为维持原结论，不能再次申请复核。")
    township = s.scalar(select(Place.parent_id).where(Place.id == case.village_id))
    assert township is not None
    review = Reexamination(case_id=case_id, task_id=decision, role=rules.role,
                           place_id=township, requested_at=now, requested_by=by,
                           grounds=grounds.strip(), due_at=calendar.due(now, rules.deadline),
                           status=ReexaminationStatus.OPEN, told_at=now if told else None)
    s.add(review)
    s.flush()
    audit.append(s, actor=by, action="reexamination.requested", now=now, case_id=case_id,
                 payload={"reexamination": review.id, "task": decision,
                          "reason": grounds.strip()})
    return review


def may_request(s: Session, case: Case, reviews: list[Reexamination]) -> bool:
    """Whether a 复核 may be asked of this case now (its latest rejection not examined)."""
    if case.kind != CaseKind.IDENTIFICATION or case.status != CaseStatus.REJECTED:
        return False
    decision = _rejection(s, case.id)
    return decision is not None and all(r.task_id != decision for r in reviews)


def _rejection(s: Session, case_id: int) -> int | None:
    """The task whose decision closed the case as 不予纳入: what a 复核 examines."""
    return s.scalar(select(Task.id).where(
        Task.case_id == case_id, Task.status == TaskStatus.DECIDED,
        Task.verdict == Verdict.REJECTED).order_by(Task.id.desc()).limit(1))


def seat(s: Session, review: Reexamination) -> _Seat:
    path = s.scalar(select(Place.path).where(Place.id == review.place_id))
    assert path is not None
    return _Seat(review.role, path)


def may_decide(s: Session, actor: Actor, review: Reexamination) -> bool:
    return review.status == ReexaminationStatus.OPEN and may_act(actor, seat(s, review))


def decide(s: Session, reexamination_id: int, actor: Actor, result: ReexaminationResult,
           reason: str, *, now: dt.datetime, calendar: WorkCalendar,
           role_label: str) -> Reexamination:
    """The township's result, once (a guarded UPDATE, as a task's decision)."""
    review = s.get(Reexamination, reexamination_id)
    if review is None:
        raise NotFound("没有找到这项复核。")
    ensure_may_act(actor, seat(s, review), role_label)
    if not reason.strip():
        raise Refused("请写明复核理由，申请人会收到复核结果。")
    s.execute(select(Case.id).where(Case.id == review.case_id).with_for_update())
    if result == ReexaminationResult.REVOKED:
        _ensure_alone(s, review.case_id)
    changed = rowcount(s.execute(update(Reexamination).where(
        Reexamination.id == reexamination_id,
        Reexamination.status == ReexaminationStatus.OPEN,
    ).values(status=ReexaminationStatus.DECIDED, result=result, reason=reason.strip(),
             decided_at=now, decided_by=actor.id, decided_by_name=actor.name,
             told_at=None)))  # the household has the result to hear
    if changed != 1:
        s.refresh(review)
        raise AlreadyDecided(f"这项复核已由{review.decided_by_name or '其他人员'}办理，"
                             "无需重复操作。")
    audit.append(s, actor=f"cadre:{actor.id}", action=f"reexamination.{result}", now=now,
                 case_id=review.case_id, payload={"reexamination": review.id,
                                                  "reason": reason.strip()})
    if result == ReexaminationResult.REVOKED:
        reopen(s, review.case_id, by=f"cadre:{actor.id}", now=now, calendar=calendar)
    s.refresh(review)
    return review


def _ensure_alone(s: Session, case_id: int) -> None:
    """A household has one open case at a time: a revocation cannot reopen this one while
    another application of the household is being handled."""
    household = s.scalar(select(Case.household_id).where(Case.id == case_id))
    if s.scalar(select(Case.id).where(Case.household_id == household,
                                      Case.status == CaseStatus.OPEN)):
        raise Refused("该户已有正在办理的申请，不能撤销原结论重新办理；请在该申请中一并核实。")


def reopen(s: Session, case_id: int, *, by: str, now: dt.datetime,
           calendar: WorkCalendar) -> None:
    """撤销原结论并重新办理: the case opens again from the first stage of its definition
    (入户核实), its earlier tasks kept as history, its total clock counted from now; the
    worker's pass opens the stage (cases.pending_since)."""
    case = s.get_one(Case, case_id)
    definition = case.definition.parsed()
    s.execute(update(Task).where(Task.case_id == case_id,
                                 Task.status != TaskStatus.SUPERSEDED)
              .values(status=TaskStatus.SUPERSEDED, awaits_pass=False))
    s.execute(update(Case).where(Case.id == case_id).values(
        status=CaseStatus.OPEN, stage=None, closed_at=None, outcome_reason=None,
        due_at=calendar.due(now, definition.procedure.total), pending_since=now))
    audit.append(s, actor=by, action="case.reopened", now=now, case_id=case_id,
                 payload={"stage": definition.order[0]})


def of_case(s: Session, case_id: int) -> list[Reexamination]:
    return list(s.scalars(select(Reexamination).where(Reexamination.case_id == case_id)
                          .order_by(Reexamination.id)))


@dataclass(frozen=True)
class Waiting:
    """An open 复核 as the inbox lists it."""

    id: int
    case_id: int
    number: str
    head: str
    village: str
    due_at: dt.datetime


_OPEN = (select(Reexamination.id, Reexamination.case_id, Reexamination.due_at,
                Reexamination.role, Place.path, Case.opened_at, Member.name.label("head"),
                Village.name.label("village"))
         .join(Place, Place.id == Reexamination.place_id)
         .join(Case, Case.id == Reexamination.case_id)
         .join(Village, Village.id == Case.village_id)
         .join(Member, (Member.household_id == Case.household_id) & Member.is_head)
         .where(Reexamination.status == ReexaminationStatus.OPEN))


def open_for(s: Session, actor: Actor) -> list[Waiting]:
    """The open 复核 this cadre may decide (or whom they stand in for), most urgent first."""
    roles = {p.role for p in actor.principals}
    rows = s.execute(_OPEN.where(Reexamination.role.in_(roles))
                     .order_by(Reexamination.due_at)).all()
    return [Waiting(r.id, r.case_id, case_number(r.case_id, r.opened_at), r.head, r.village,
                    r.due_at) for r in rows if may_act(actor, _Seat(r.role, r.path))]
