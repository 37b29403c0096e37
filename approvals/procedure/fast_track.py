"""先帮扶后认定 (the fast track): where a household's hardship comes from a disaster, an
accident or another sudden event ("因灾因意外事故等": the list is open), the facts are clear
and the public generally agrees, a cadre records the assistance given at once and the
identification procedure runs after, as for any case.

A cadre marks an open identification case on the phone: the cause (one of config.yaml's
`fast_track_risks`, or 其他突发困难 with the facts written), the facts, that the public agrees
(群众认可: required; without it there is no fast track) and the measure given, which is
recorded as carried out today. The case is marked for a pass: the pass tells the household
and the township (notifications.announcements), and goes on with the stages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from approvals.procedure.permissions import Actor
from approvals.record import audit
from approvals.record.calendar import local_date
from approvals.record.errors import NotAllowed, NotFound, Refused
from approvals.record.models import Case, CaseKind, CaseRisk, CaseStatus, Measure, Place

OTHER = "other_sudden"  # 其他突发困难: any sudden hardship the list does not name
OTHER_LABEL = "其他突发困难"
SUDDEN = "sudden"  # the category: 突发严重困难户


def causes(fast_track_risks: Collection[str], risk_labels: Mapping[str, str]
           ) -> list[tuple[str, str]]:
    """What a cadre may choose as the cause: config's list, then 其他突发困难."""
    return [(r, risk_labels.get(r, r)) for r in fast_track_risks] + [(OTHER, OTHER_LABEL)]


def mark(s: Session, case_id: int, actor: Actor, *, cause: str, facts: str,
         public_agrees: bool, measure_kind: str, measure_description: str,
         fast_track_risks: Collection[str], risk_labels: Mapping[str, str],
         measure_types: Collection[str], now: dt.datetime) -> Case:
    """Mark the case fast-tracked with the assistance given; every refusal before a write."""
    case = s.scalar(select(Case).where(Case.id == case_id).with_for_update())
    if case is None:
        raise NotFound("没有找到这个案件。")
    path = s.scalar(select(Place.path).where(Place.id == case.village_id)) or ""
    if not actor.active or not actor.covers(path):
        raise NotAllowed("这户不在您负责的范围内，不能办理先帮扶后认定。")
    if case.status != CaseStatus.OPEN or case.kind != CaseKind.IDENTIFICATION:
        raise Refused("只有正在办理的识别申请可以先帮扶后认定。")
    if case.fast_tracked:
        raise Refused("这个案件已经按先帮扶后认定办理，帮扶已落实。")
    if cause not in {key for key, _ in causes(fast_track_risks, risk_labels)}:
        raise Refused("请选择突发困难的原因（因灾、因意外事故或其他突发困难）。")
    facts = facts.strip()
    if len(facts) < 4:
        raise Refused("请写明突发困难的事实（发生了什么、造成的损失或支出）。")
    if not public_agrees:
        raise Refused("先帮扶后认定需要事实清楚、群众认可；群众尚未认可的，请按正常程序办理。")
    if measure_kind not in measure_types:
        raise Refused("请选择已落实的帮扶措施类型。")
    if not measure_description.strip():
        raise Refused("请写明已落实的帮扶内容，如：发放临时救助金3000元。")

    case.fast_tracked = True
    case.category = case.category or SUDDEN
    if cause != OTHER and cause not in case.risk_types:
        case.risk_types = [*case.risk_types, cause]
        s.add(CaseRisk(case_id=case.id, risk=cause))
    case.answers = {**case.answers, "fast_track": {
        "cause": cause, "cause_label": dict(causes(fast_track_risks, risk_labels))[cause],
        "facts": facts, "public_agrees": True, "by": actor.name, "at": now.isoformat(),
        "measure": f"{measure_kind}：{measure_description.strip()}"}}
    s.add(Measure(household_id=case.household_id, case_id=case.id, kind=measure_kind,
                  description=measure_description.strip(), planned_on=local_date(now),
                  done_on=local_date(now)))
    case.pending_since = case.pending_since or now  # the pass tells the household and township
    audit.append(s, actor=f"cadre:{actor.id}", action="case.fast_track", now=now,
                 case_id=case.id, payload={"cause": cause, "facts": facts,
                                           "public_agrees": True,
                                           "assistance": [measure_kind]})
    return case
