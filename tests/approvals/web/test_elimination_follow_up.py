"""风险消除 as the household hears it and after it: 已列入风险消除名单, 已标注风险消除,
暂不标注风险消除 and 回退, never an application's words; eliminated households stay in the
revisit rounds, and a revisit that finds the risk back opens a new identification."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select, update

from approvals.assistance import revisits
from approvals.record.calendar import local_date
from approvals.record.definitions import Stage
from approvals.record.models import (
    Case,
    CaseKind,
    CaseStatus,
    Household,
    IncomeRecord,
    Member,
    MonitoringStatus,
    Pairing,
    Source,
    Verdict,
)
from bot import progress
from bot.conversation import Context
from notifications import reminders
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.approvals.test_elimination import monitored, propose
from tests.db import session_scope, transaction_scope
from tests.support.web import Desk, cadre_id
from tests.support.world import World

APPLICATION_WORDS = ("申请", "纳入监测", "未予纳入")


def told(openid: str = "o_farmer") -> list[tuple[str, str]]:
    """(event, text) of every message to the farmer, in order."""
    with session_scope() as s:
        rows = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == openid)
                         .order_by(OutboxMessage.id)).all()
        return [(m.event, render(m.event, m.params).text) for m in rows]


def bound(hh: int) -> int:
    with session_scope() as s:
        s.execute(update(Member).where(Member.household_id == hh, Member.is_head)
                  .values(openid="o_farmer"))
    return hh


def listed(world: World) -> tuple[int, int]:
    hh = bound(monitored(world))
    case_id = propose(world, hh)
    world.advance(case_id)
    return hh, case_id


def test_the_farmer_hears_listed_then_each_step_then_eliminated(world: World) -> None:
    _, case_id = listed(world)
    world.approve_through(case_id, None)
    assert world.case(case_id).status == CaseStatus.ELIMINATED
    messages = told()
    events = [e for e, _ in messages]
    assert events[0] == "elimination_listed" and events[-1] == "elimination_approved"
    assert set(events[1:-1]) == {"elimination_passed"}
    assert messages[0][1].startswith("您家已列入风险消除名单（编号 ")
    assert "干部会上门核实风险是否已经稳定消除" in messages[0][1]
    assert "经审定，已标注风险消除" in messages[-1][1]
    for _, text in messages:
        assert not any(w in text for w in APPLICATION_WORDS), text
    world.advance(case_id)  # a pass again tells nothing twice
    assert len(told()) == len(messages)
    answer = progress_of(world, "o_farmer")  # 「进度」 in the chat says it the same way
    assert "（风险消除）：已标注风险消除。" in answer and "申请编号" not in answer.split("\n")[0]


def progress_of(world: World, openid: str) -> str:
    with Context(world.config, world.services.calendar, world.clock.now(),
                 transaction_scope) as ctx:
        return progress.progress(ctx, openid)


def test_not_approved_is_told_as_not_marked_eliminated(world: World) -> None:
    _, case_id = listed(world)
    world.approve_through(case_id, Stage.TOWNSHIP_AUDIT)
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED,
                  reason="家庭收入仍不稳定")
    assert world.case(case_id).status == CaseStatus.REJECTED
    event, text = told()[-1]
    assert event == "elimination_rejected"
    assert "经审核，暂不标注风险消除。原因：家庭收入仍不稳定。" in text
    assert "继续作为监测对象" in text
    assert not any(w in text for w in APPLICATION_WORDS)
    assert "暂不标注风险消除" in progress_of(world, "o_farmer").split("\n")[0]


def test_a_return_is_told_as_a_return_of_the_elimination(world: World) -> None:
    _, case_id = listed(world)
    world.approve_through(case_id, Stage.VILLAGE_REVIEW)
    world.decides(case_id, world.approver(case_id), Verdict.RETURNED,
                  return_to=Stage.HOME_VERIFICATION, reason="请补充收入佐证材料")
    event, text = told()[-1]
    assert event == "elimination_returned"
    assert "风险消除" in text and "已回退重新办理" in text and "请补充收入佐证材料" in text
    assert not any(w in text for w in APPLICATION_WORDS)


def eliminated(world: World) -> int:
    hh, case_id = listed(world)
    world.approve_through(case_id, None)
    with session_scope() as s:
        assert s.get_one(Household, hh).monitoring == MonitoringStatus.ELIMINATED
    return hh


def test_the_county_reverts_and_the_farmer_is_told(app: Flask, world: World) -> None:
    hh = eliminated(world)
    county = Desk(app.test_client()).signs_in(cadre_id("赵审定"))
    res = county.post(f"/h/{hh}/revert", reason="家人突发重病，风险回升")
    assert res.status_code == 302
    event, text = told()[-1]
    assert event == "elimination_reverted"
    assert text.startswith("您家的风险消除已回退。原因：家人突发重病，风险回升。")
    with session_scope() as s:
        household = s.get_one(Household, hh)
        assert household.monitoring == MonitoringStatus.MONITORED
        # a new monitoring period: the next elimination counts from today
        assert household.monitored_since == local_date(world.clock.now())


def revisit_form(world: World, *, risk: str, wage: str) -> dict[str, str]:
    return {"visited_on": local_date(world.clock.now()).isoformat(), "members": "1",
            "wage": wage, "risk": risk, **{f"annual_{k}": "正常" for k in revisits.ANNUAL},
            **{f"secure_{k}": "yes" for k in revisits.SECURITY}}


def test_an_eliminated_household_stays_in_the_revisit_rounds(world: World) -> None:
    hh = eliminated(world)
    helper = world.cadre("helper", "北岭村").id
    with session_scope() as s:
        s.add(Pairing(household_id=hh, cadre_id=helper, started_on=world.clock.now().date()))
    calendar = world.services.calendar
    with session_scope() as s:
        last_visit = max(s.scalars(select(IncomeRecord.recorded_on).where(
            IncomeRecord.household_id == hh)))
    day = last_visit + dt.timedelta(days=90)  # quarterly, as every household
    while not calendar.is_workday(day):
        day += dt.timedelta(days=1)
    with session_scope() as s:
        due = reminders.revisits_due(s, day, calendar, reminders.Rules(1, 2))
    [(cadre, item)] = [(c, i) for c, i in due if i["household_id"] == hh]
    assert cadre == helper and item["eliminated"] is True
    assert "定期回访（已消除风险户跟踪回访，" in render(
        "cadre_digest", {"name": "杨", "items": [item]}).text


def test_a_revisit_finding_the_risk_back_opens_an_identification(
        app: Flask, world: World) -> None:
    hh = eliminated(world)
    village = Desk(app.test_client()).signs_in(world.cadre("village_cadre", "北岭村").id)
    assert "已消除风险户跟踪回访：如人均纯收入低于监测范围或风险仍存在" in village.get(
        f"/h/{hh}/revisit").text
    world.clock.advance(days=30)
    # all well: recorded, nothing opened
    res = village.post(f"/h/{hh}/revisit", **revisit_form(world, risk="no", wage="12000"))
    assert res.status_code == 302
    with session_scope() as s:
        assert s.scalars(select(Case.id).where(Case.household_id == hh,
                                               Case.kind == CaseKind.IDENTIFICATION)).all() == []
    # income below the line: a new identification, filed by the cadre, told on the page
    world.clock.advance(days=30)
    res = village.post(f"/h/{hh}/revisit", **revisit_form(world, risk="no", wage="6000"))
    assert res.status_code == 302
    page = village.get(f"/h/{hh}").text
    assert "回访发现这户风险回升，已按干部走访排查发起识别纳入（编号 " in page
    with session_scope() as s:
        [case] = s.scalars(select(Case).where(Case.household_id == hh,
                                              Case.kind == CaseKind.IDENTIFICATION)).all()
        assert case.source == Source.CADRE_VISIT and case.status == CaseStatus.OPEN
        assert case.filed_by == f"cadre:{world.cadre('village_cadre', '北岭村').id}"
        assert "人均纯收入6000元，低于监测范围8900元" in case.answers["description"]
    world.advance(case.id)
    assert world.stage(case.id) == Stage.HOME_VERIFICATION
    # the cadre saying the risk remains opens none while that case is open
    world.clock.advance(days=1)
    res = village.post(f"/h/{hh}/revisit", **revisit_form(world, risk="yes", wage="12000"))
    assert res.status_code == 302
    with session_scope() as s:
        assert len(s.scalars(select(Case.id).where(Case.household_id == hh,
                                                   Case.kind == CaseKind.IDENTIFICATION)
                             ).all()) == 1
