"""复核: the applicant (in the chat, or through a cadre) asks the township to examine a
不予纳入 again; a task of the township's role with its own deadline and result, on the case's
timeline and audit, the result told to the household; 撤销 reopens the case at 入户核实."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from approvals.procedure import casefile, reexaminations
from approvals.procedure.permissions import Actor
from approvals.record.calendar import LOCAL, last_day
from approvals.record.definitions import Stage
from approvals.record.errors import NotAllowed, Refused
from approvals.record.models import (
    AuditEntry,
    Cadre,
    CaseStatus,
    Member,
    Place,
    ReexaminationResult,
    Task,
    TaskStatus,
    Verdict,
)
from notifications import reexaminations as told
from notifications import reminders
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.db import session_scope
from tests.support.world import World

UPHELD, REVOKED = ReexaminationResult.UPHELD, ReexaminationResult.REVOKED


def rejected_at_verification(world: World) -> int:
    """入户核实 found the risk not real: the case closed as 不予纳入."""
    case_id = world.apply(world.household())
    with session_scope() as s:
        s.execute(update(Member).where(Member.household_id == world.case(case_id).household_id,
                                       Member.is_head).values(openid="o_applicant"))
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED,
                  reason="入户核实发现家庭收入稳定，风险不属实")
    assert world.case(case_id).status == CaseStatus.REJECTED
    return case_id


def ask(world: World, case_id: int, grounds: str = "医疗费用票据未被计入") -> int:
    with session_scope() as s:
        return reexaminations.request_by_cadre(
            s, case_id, world.cadre("village_cadre", "东沟村"), grounds,
            now=world.clock.now(), calendar=world.services.calendar,
            rules=world.config.reexamination).id


def decide(world: World, review_id: int, result: ReexaminationResult, actor: Actor | None = None,
           reason: str = "经复核，材料齐全") -> None:
    with session_scope() as s:
        reexaminations.decide(s, review_id, actor or world.cadre("township_auditor", "青山镇"),
                              result, reason, now=world.clock.now(),
                              calendar=world.services.calendar, role_label="乡镇审核员")


def told_to_applicant(world: World) -> list[str]:
    with session_scope() as s:
        told.announce(s.connection(), world.clock.now())
    with session_scope() as s:
        messages = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == "o_applicant").order_by(OutboxMessage.id)).all()
        return [render(m.event, m.params).text for m in messages]


def timeline(world: World, case_id: int) -> list[str]:
    actor = world.cadre("supervisor")
    with session_scope() as s:
        file = casefile.load(s, case_id, actor, world.clock.now(), world.services.calendar,
                             personal_data_roles=[])
        return [f"{e.what} {e.detail}" for e in file.events]


def test_a_cadre_files_it_for_the_applicant_and_the_township_upholds(world: World) -> None:
    case_id = rejected_at_verification(world)
    review_id = ask(world, case_id)
    with session_scope() as s:
        review = s.get_one(reexaminations.Reexamination, review_id)
        township = s.scalar(select(Place.id).where(Place.name == "青山镇"))
        assert review.role == "township_auditor" and review.place_id == township
        # its own deadline: config.yaml's reexamination.deadline, 10 working days
        assert world.services.calendar.working_days_between(
            world.clock.now().date(), last_day(review.due_at)) >= 9
    assert any("已为您提交复核申请" in t for t in told_to_applicant(world))
    with pytest.raises(Refused, match="已经申请过复核"):
        ask(world, case_id)
    with pytest.raises(NotAllowed):  # the village may file it, not decide it
        decide(world, review_id, UPHELD, actor=world.cadre("village_cadre", "东沟村"))
    with pytest.raises(NotAllowed):  # another township's auditor
        decide(world, review_id, UPHELD, actor=world.cadre("township_auditor", "河湾乡"))
    with pytest.raises(Refused, match="请写明复核理由"):
        decide(world, review_id, UPHELD, reason=" ")
    decide(world, review_id, UPHELD, reason="经复核，家庭人均收入高于监测范围")
    assert world.case(case_id).status == CaseStatus.REJECTED
    [result] = [t for t in told_to_applicant(world) if "复核结果" in t]
    assert "维持原结论" in result and "家庭人均收入高于监测范围" in result
    assert told_to_applicant(world).count(result) == 1  # told once, however often it sweeps
    events = timeline(world, case_id)
    assert "申请复核 医疗费用票据未被计入" in events
    assert "复核：维持原结论 经复核，家庭人均收入高于监测范围" in events
    with pytest.raises(Refused, match="已经复核过"):
        ask(world, case_id)
    with session_scope() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case_id)).all()
    assert {"reexamination.requested", "reexamination.upheld"} <= set(actions)


def test_a_revocation_reopens_the_case_at_home_verification(world: World) -> None:
    case_id = rejected_at_verification(world)
    review_id = ask(world, case_id)
    world.clock.advance(days=3)
    decide(world, review_id, REVOKED, reason="医疗票据显示自付费用较大，应重新核实")
    case = world.case(case_id)
    assert case.status == CaseStatus.OPEN and case.closed_at is None
    assert case.due_at > world.clock.now() + dt.timedelta(days=10)  # the total clock again
    world.advance(case_id)
    task = world.open_task(case_id)
    assert (task.stage, task.round) == (Stage.HOME_VERIFICATION, 2)
    with session_scope() as s:  # the first verification stays, as history
        first = s.scalars(select(Task).where(Task.case_id == case_id, Task.round == 1)).one()
    assert first.status == TaskStatus.SUPERSEDED and first.verdict == Verdict.REJECTED
    [result] = [t for t in told_to_applicant(world) if "复核结果" in t]
    assert "撤销原结论，重新办理" in result and "重新入户核实" in result
    assert "复核：撤销原结论并重新办理 医疗票据显示自付费用较大，应重新核实" in timeline(
        world, case_id)
    world.approve_through(case_id, None)  # and it can be enrolled this time
    assert world.case(case_id).status == CaseStatus.ENROLLED


def test_only_a_rejected_application_is_reexamined_once_per_decision(world: World) -> None:
    case_id = world.apply(world.household())
    with pytest.raises(Refused, match="还在办理中"):
        ask(world, case_id)
    with pytest.raises(NotAllowed):  # a village cadre of another village
        with session_scope() as s:
            reexaminations.request_by_cadre(
                s, case_id, world.cadre("village_cadre", "南滩村"), "不服",
                now=world.clock.now(), calendar=world.services.calendar,
                rules=world.config.reexamination)


def test_an_overdue_reexamination_is_in_the_townships_digest_and_inbox(world: World) -> None:
    case_id = rejected_at_verification(world)
    review_id = ask(world, case_id)
    with session_scope() as s:
        due = s.get_one(reexaminations.Reexamination, review_id).due_at
        s.execute(update(Cadre).where(Cadre.name == "王审核").values(openid="o_wang"))
        wang = s.scalar(select(Cadre.id).where(Cadre.name == "王审核"))
    day = last_day(due) + dt.timedelta(days=1)
    while not world.services.calendar.is_workday(day):
        day += dt.timedelta(days=1)
    world.clock.current = dt.datetime.combine(day, dt.time(8, 30), LOCAL)
    rules = reminders.Rules(due_soon_working_days=1, escalate_after_working_days=2)
    with session_scope() as s:
        reminders.sweep(s, world.clock.now(), world.services.calendar, rules)
        [digest] = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == f"cadre:{wang}")).all()
        text = render(digest.event, digest.params, "https://ff.example.cn").text
        waiting = reexaminations.open_for(s, world.cadre("township_auditor", "青山镇"))
        elsewhere = reexaminations.open_for(s, world.cadre("township_auditor", "河湾乡"))
    assert "【已超期1个工作日】" in text and "复核" in text
    assert f"https://ff.example.cn/c/{case_id}#reexamination" in text
    assert [w.id for w in waiting] == [review_id] and elsewhere == []
    with session_scope() as s:  # still late a working day later: the supervisors hear of it
        s.execute(update(Cadre).where(Cadre.role == "supervisor").values(openid="o_sup"))
    day += dt.timedelta(days=1)
    while not world.services.calendar.is_workday(day):
        day += dt.timedelta(days=1)
    world.clock.current = dt.datetime.combine(day, dt.time(8, 30), LOCAL)
    with session_scope() as s:
        reminders.sweep(s, world.clock.now(), world.services.calendar, rules)
        escalated = [i for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient.like("cadre:%"), OutboxMessage.event == "cadre_digest"))
            for i in m.params["items"] if i["kind"] == "escalation"]
    assert [(i["stage"], i["case_id"]) for i in escalated] == [("复核", case_id)]
