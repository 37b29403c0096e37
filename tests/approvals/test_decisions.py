"""The rules that never break: stage order, one decision per task, reject, return, jurisdiction."""

from __future__ import annotations

import re
import threading

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from approvals.procedure import decisions, forms, stages
from approvals.record.definitions import Stage
from approvals.record.errors import AlreadyDecided, NotAllowed, Refused
from approvals.record.models import Case, CaseKind, CaseStatus, Task, TaskStatus, Verdict
from tests.db import session_scope


def test_application_opens_home_verification_for_the_paired_village(world):
    case_id = world.apply(world.household("西坡村"))
    task = world.open_task(case_id)
    assert task.stage == Stage.HOME_VERIFICATION
    assert task.role == "village_cadre"
    assert world.case(case_id).stage == Stage.HOME_VERIFICATION


def test_stages_open_strictly_in_order_and_none_is_decided_early(world):
    case_id = world.apply(world.household())
    seen = []
    while world.case(case_id).status == CaseStatus.OPEN:
        stage = world.stage(case_id)
        seen.append(stage)
        with session_scope() as s:  # only the current stage has an open task
            assert s.scalars(select(Task.stage).where(
                Task.case_id == case_id, Task.status == TaskStatus.OPEN)).all() == [stage]
        world.passes(case_id)
    with session_scope() as s:  # config.yaml's order, as the case's definition keeps it
        order = s.get_one(Case, case_id).definition.parsed().order
    assert order == tuple(world.config.procedures[CaseKind.IDENTIFICATION].stages)
    assert seen == list(order)
    assert world.case(case_id).status == CaseStatus.ENROLLED


def test_a_task_not_at_the_current_stage_is_refused(world):
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=Stage.VILLAGE_REVIEW)
    with session_scope() as s:  # a stale task row for a later stage cannot be decided
        case = s.get_one(Case, case_id)
        early = Task(case_id=case_id, stage=Stage.TOWNSHIP_AUDIT, round=1,
                     role="township_auditor", place_id=case.village.parent_id,
                     opened_at=world.clock.now(), due_at=world.clock.now())
        s.add(early)
        s.flush()
        early_id = early.id
    auditor = world.cadre("township_auditor", "青山镇")
    with session_scope() as s, pytest.raises(Refused, match="不在该环节"):
        decisions.decide(s, early_id, auditor, Verdict.APPROVED, now=world.clock.now(),
                         data={"opinion": "同意"})


def test_two_decisions_at_the_same_moment_exactly_one_wins(world):
    case_id = world.apply(world.household())
    task = world.open_task(case_id)
    actors = [world.cadre("village_cadre", "东沟村"), world.cadre("helper", "东沟村")]
    with session_scope() as s:  # the helper is the paired cadre for the home visit
        s.get_one(Task, task.id).assignee_id = actors[1].id
    barrier = threading.Barrier(2)
    results: list[object] = []

    def act(actor) -> None:
        barrier.wait()
        try:
            with session_scope() as s:
                decisions.decide(s, task.id, actor, Verdict.APPROVED, now=world.clock.now(),
                                 data=world.form(case_id, Stage.HOME_VERIFICATION))
            results.append("won")
        except AlreadyDecided as err:
            results.append(str(err))

    threads = [threading.Thread(target=act, args=(a,)) for a in actors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("won") == 1
    lost = next(r for r in results if r != "won")
    assert "已由" in lost and "无需重复操作" in lost
    with session_scope() as s:
        assert s.get_one(Task, task.id).status == TaskStatus.DECIDED


def test_a_double_tap_decides_once_and_says_who_decided(world):
    case_id = world.apply(world.household())
    cadre = world.cadre("village_cadre", "东沟村")
    task = world.decides(case_id, cadre, advance=False)
    with session_scope() as s, pytest.raises(AlreadyDecided, match=cadre.name):
        decisions.decide(s, task.task_id, cadre, Verdict.APPROVED, now=world.clock.now(),
                         data=world.form(case_id, Stage.HOME_VERIFICATION))


def test_reject_ends_the_case_with_the_reason_the_household_is_told(world):
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=Stage.TOWNSHIP_AUDIT)
    auditor = world.approver(case_id)
    with session_scope() as s, pytest.raises(Refused, match="必须填写理由"):
        decisions.decide(s, world.open_task(case_id).id, auditor, Verdict.REJECTED,
                         now=world.clock.now())
    world.decides(case_id, auditor, Verdict.REJECTED, reason="家庭收入明显高于监测范围")
    case = world.case(case_id)
    assert case.status == CaseStatus.REJECTED
    assert case.outcome_reason == "家庭收入明显高于监测范围"
    assert case.stage is None
    with session_scope() as s:
        assert not s.scalars(select(Task).where(Task.case_id == case_id,
                                                Task.status == TaskStatus.OPEN)).all()


def test_return_reopens_the_named_stage_and_keeps_the_history(world):
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=Stage.COUNTY_APPROVAL)
    approver = world.approver(case_id)
    world.decides(case_id, approver, Verdict.RETURNED, return_to=Stage.VILLAGE_REVIEW,
                  reason="评议记录缺少签字，请重新评议")
    assert world.stage(case_id) == Stage.VILLAGE_REVIEW
    with session_scope() as s:
        tasks = s.scalars(select(Task).where(Task.case_id == case_id).order_by(Task.id)).all()
        by_stage = {(t.stage, t.round): t.status for t in tasks}
    assert by_stage[(Stage.HOME_VERIFICATION, 1)] == TaskStatus.DECIDED  # before the return
    assert by_stage[(Stage.VILLAGE_REVIEW, 1)] == TaskStatus.SUPERSEDED  # history kept
    assert by_stage[(Stage.COUNTY_APPROVAL, 1)] == TaskStatus.SUPERSEDED
    assert by_stage[(Stage.VILLAGE_REVIEW, 2)] == TaskStatus.OPEN
    world.approve_through(case_id, until=Stage.COUNTY_APPROVAL)
    world.decides(case_id, world.approver(case_id))
    assert world.case(case_id).status == CaseStatus.ENROLLED
    with session_scope() as s:
        rounds = s.scalars(select(Task.round).where(Task.case_id == case_id,
                                                    Task.stage == Stage.TOWNSHIP_AUDIT)).all()
    assert sorted(rounds) == [1, 2]


def test_return_only_to_an_earlier_stage_already_passed(world):
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=Stage.VILLAGE_REVIEW)
    cadre = world.approver(case_id)
    with session_scope() as s, pytest.raises(Refused, match="只能退回到本案已经办理过的前面环节"):
        decisions.decide(s, world.open_task(case_id).id, cadre, Verdict.RETURNED,
                         return_to=Stage.TOWNSHIP_AUDIT, reason="x", now=world.clock.now())


def test_a_cadre_acts_only_within_role_and_jurisdiction(world):
    case_id = world.apply(world.household("东沟村"))
    task = world.open_task(case_id)
    other_village = world.cadre("village_cadre", "南滩村")
    wrong_role = world.cadre("township_auditor", "青山镇")
    for actor, message in ((other_village, "管辖范围"), (wrong_role, "无权操作")):
        with session_scope() as s, pytest.raises(NotAllowed, match=message):
            decisions.decide(s, task.id, actor, Verdict.APPROVED, now=world.clock.now(),
                             data=world.form(case_id, Stage.HOME_VERIFICATION))
    world.approve_through(case_id, until=Stage.TOWNSHIP_AUDIT)
    other_township = world.cadre("township_auditor", "河湾乡")
    with session_scope() as s, pytest.raises(NotAllowed, match="管辖范围"):
        decisions.decide(s, world.open_task(case_id).id, other_township, Verdict.APPROVED,
                         now=world.clock.now(), data={})
    assert world.open_task(case_id).status == TaskStatus.OPEN


def test_home_verification_needs_two_people_and_findings(world):
    case_id = world.apply(world.household())
    cadre = world.approver(case_id)
    form = dict(world.form(case_id, Stage.HOME_VERIFICATION), visitors=["张三", "张三"])
    with session_scope() as s, pytest.raises(Refused, match="至少需要两名不同的入户人员"):
        decisions.decide(s, world.open_task(case_id).id, cadre, Verdict.APPROVED,
                         now=world.clock.now(), data=form)
    with session_scope() as s, pytest.raises(Refused, match="「核实情况」必须填写"):
        decisions.decide(s, world.open_task(case_id).id, cadre, Verdict.APPROVED,
                         now=world.clock.now(), data={"visitors": ["甲", "乙"],
                                                      "visited_on": "2026-11-02",
                                                      "risk_confirmed": True})
    assert world.open_task(case_id).status == TaskStatus.OPEN


def test_the_public_notice_is_not_approved_by_hand(world):
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=Stage.PUBLIC_NOTICE)
    with session_scope() as s, pytest.raises(Refused, match="系统自动进入下一环节"):
        decisions.decide(s, world.open_task(case_id).id, world.approver(case_id),
                         Verdict.APPROVED, now=world.clock.now())


def test_every_form_refusal_is_in_chinese(config) -> None:
    bad = {"visitors": "甲", "visited_on": "昨天", "risk_confirmed": "也许",
           "income_estimate": "-3", "findings": "x", "meeting_on": 5, "attendance": "1.5",
           "votes_for": "many", "votes_against": -1, "minutes": ["a"], "opinion": {"a": 1},
           "comparison": "x", "category": 3, "paired_cadre_id": "某人",
           "measures": [{"kind": "健康", "planned_on": "2026-13-40"}],
           "members": [{"name": "", "labour": "maybe"}], "wage": "-1", "medical": "很多",
           "securities": {"housing": "也许"}, "risk_eliminated": "也许"}
    asked = {stages.of(key).form(definition) for definition in (
        config.definition(kind) for kind in CaseKind) for key in definition.order}
    # the county's two, the verification's two (identification, elimination), one per other
    assert len(asked - {forms.Form}) == 6
    for form in asked - {forms.Form}:  # the bare form asks nothing: 公示 is not approved
        try:
            form.model_validate(bad)
        except ValidationError as err:
            message = forms.chinese(form, err)
            assert not re.search(r"[A-Za-z]{3,}", message), message
        else:
            raise AssertionError(form)
