"""村民主评议 is checked: whole numbers that add up, a quorum and a passing share from
config.yaml, and a verdict that is the vote's."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from approvals.record.definitions import Stage, VoteRules
from approvals.record.errors import Refused
from approvals.record.models import CaseStatus, Task, Verdict
from tests.db import session_scope
from tests.support.world import World


def vote(**kw: Any) -> dict[str, Any]:
    return {"meeting_on": "2026-11-03", "expected": 15, "attendance": 12, "votes_for": 10,
            "votes_against": 1, "abstentions": 1, "minutes": "评议", **kw}


def at_review(world: World) -> int:
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=Stage.VILLAGE_REVIEW)
    return case_id


@pytest.mark.parametrize(("form", "says"), [
    (vote(votes_for=15, votes_against=0, abstentions=0), "合计15票，多于参会人数（12人）"),
    (vote(votes_for=8, votes_against=3, abstentions=2), "合计13票，多于参会人数（12人）"),
    (vote(attendance=16), "参会人数（16人）不能多于应到人数（15人）"),
    (vote(attendance="12.5"), "「参会人数」应填写整数"),
    (vote(votes_against=-1), "「反对票数」不能小于0"),
    (vote(expected=None), "「应到人数」应填写整数"),  # left empty on the page
])
def test_impossible_votes_are_refused(world: World, form: dict[str, Any], says: str) -> None:
    case_id = at_review(world)
    for verdict, reason in ((Verdict.APPROVED, ""), (Verdict.REJECTED, "评议未通过")):
        with pytest.raises(Refused, match=says):
            world.decides(case_id, world.approver(case_id), verdict, data=form, reason=reason)
    assert world.stage(case_id) == Stage.VILLAGE_REVIEW


def test_the_verdict_is_the_votes(world: World) -> None:
    case_id = at_review(world)
    cadre = world.approver(case_id)
    with pytest.raises(Refused, match="表决未通过：同意6票，未超过参会12人的一半"):
        world.decides(case_id, cadre, data=vote(votes_for=6, votes_against=6, abstentions=0))
    with pytest.raises(Refused, match="表决已通过：同意10票，超过参会12人的一半，不能作“不予纳入”"):
        world.decides(case_id, cadre, Verdict.REJECTED, data=vote(), reason="群众意见较大")
    world.decides(case_id, cadre, Verdict.REJECTED, reason="评议未通过",
                  data=vote(votes_for=5, votes_against=6, abstentions=1))
    assert world.case(case_id).status == CaseStatus.REJECTED
    with session_scope() as s:
        task = s.scalars(select(Task).where(Task.case_id == case_id,
                                            Task.stage == Stage.VILLAGE_REVIEW)).one()
    assert task.data["votes_for"] == 5 and task.data["abstentions"] == 1  # the vote is kept


def test_the_quorum_counts_the_representatives_typed_on_the_form(world: World) -> None:
    case_id = at_review(world)
    cadre = world.approver(case_id)
    for verdict in (Verdict.APPROVED, Verdict.REJECTED):  # no meeting, no verdict of it
        with pytest.raises(Refused, match="参会9人，不足应到15人的三分之二，评议不成立"):
            world.decides(case_id, cadre, verdict, reason="x",
                          data=vote(attendance=9, votes_for=9, votes_against=0,
                                    abstentions=0))
    world.decides(case_id, cadre, data=vote(attendance=10, votes_for=6, votes_against=4,
                                            abstentions=0))  # 10 of 15 is two thirds exactly
    assert world.stage(case_id) == Stage.PUBLIC_NOTICE


def test_the_quorum_and_passing_share_come_from_config(world: World) -> None:
    rules = VoteRules(quorum="1/2", pass_share="2/3")
    assert rules.quorate(15, 8) and not rules.quorate(15, 7)
    assert rules.passed(12, 9) and not rules.passed(12, 8)  # more than two thirds: 9 of 12
    default = VoteRules()
    assert default.quorate(36, 24) and not default.quorate(36, 23)
    assert default.passed(12, 7) and not default.passed(12, 6)
    with pytest.raises(ValueError, match="fraction"):
        VoteRules(quorum="三分之二")
    assert world.config.definition("identification").village_review == default
