"""先帮扶后认定 from the phone: a cadre marks a case (cause, facts, 群众认可, the measure given);
the assistance is recorded as carried out at once, the farmer and the township are told, and
the procedure runs after as for any case."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from approvals.record.calendar import local_date
from approvals.record.definitions import Stage
from approvals.record.models import Cadre, Household, Measure
from notifications.models import Audience, OutboxMessage
from notifications.wording import render
from tests.db import session_scope
from tests.support.phone import open_case, sign_in
from tests.support.web import shot
from tests.support.world import World

pytestmark = pytest.mark.slow


def test_a_cadre_fast_tracks_a_case_on_the_phone(world: World, phone: Any) -> None:
    case_id = world.apply(world.household("东沟村"), risk_types=["illness"])
    with session_scope() as s:
        household = s.get_one(Household, world.case(case_id).household_id)
        household.head.openid = "o_farmer_fast"
        head = household.head.name
        auditor = s.scalars(select(Cadre).where(Cadre.name == "王审核")).one()
        auditor.openid = "o_township_fast"
        auditor_id = auditor.id

    phone.goto("/inbox")
    sign_in(phone, "刘书记")
    open_case(phone, head)
    phone.locator("summary", has_text="先帮扶后认定").click()
    phone.get_by_label("其他突发困难").check()
    phone.get_by_label("事实经过").fill("11月1日夜间失火，烧毁住房两间及口粮。")
    phone.get_by_label("已落实的帮扶措施").select_option("综合保障")
    phone.get_by_label("帮扶内容").fill("发放临时救助金3000元")
    phone.get_by_role("button", name="登记先帮扶后认定").click()
    # without the public's agreement there is no fast track: told, nothing lost
    expect(phone.get_by_role("alert")).to_contain_text("群众认可")
    expect(phone.get_by_label("事实经过")).to_have_value("11月1日夜间失火，烧毁住房两间及口粮。")
    assert not world.case(case_id).fast_tracked

    phone.get_by_label("群众认可").check()
    phone.get_by_role("button", name="登记先帮扶后认定").click()
    expect(phone.get_by_text("已按先帮扶后认定登记，帮扶已落实")).to_be_visible()
    expect(phone.locator("#fast-track")).to_contain_text("其他突发困难：11月1日夜间失火")
    expect(phone.locator(".timeline")).to_contain_text("先帮扶后认定，已落实临时帮扶")
    shot(phone, "case-fast-tracked")

    case = world.case(case_id)
    assert case.fast_tracked and case.category == "sudden"
    with session_scope() as s:
        given = s.scalars(select(Measure).where(Measure.case_id == case_id)).one()
        assert given.kind == "综合保障" and given.done_on == local_date(world.clock.now())

    world.advance(case_id)  # the worker's pass: tells, and the procedure goes on
    assert world.stage(case_id) == Stage.HOME_VERIFICATION
    world.advance(case_id)  # a pass again adds nothing
    with session_scope() as s:
        told = {m.recipient: m for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.event.in_(["case_fast_tracked", "case_fast_tracked_township"])))}
    assert set(told) == {"o_farmer_fast", f"cadre:{auditor_id}"}
    farmer = told["o_farmer_fast"]
    assert "先帮扶后认定" in render(farmer.event, farmer.params).text
    township = told[f"cadre:{auditor_id}"]
    assert township.audience == Audience.CADRE
    text = render(township.event, township.params).text
    assert "其他突发困难" in text and "发放临时救助金3000元" in text and head in text

    world.approve_through(case_id, None)  # the procedure runs after, to the end
    assert world.case(case_id).status == "enrolled"


def test_a_named_cause_is_added_to_the_risks_and_a_case_is_fast_tracked_once(
        world: World, phone: Any) -> None:
    case_id = world.apply(world.household("东沟村", 1), risk_types=["illness"])
    with session_scope() as s:
        head = s.get_one(Household, world.case(case_id).household_id).head.name
    phone.goto("/inbox")
    sign_in(phone, "刘书记")
    open_case(phone, head)
    phone.locator("summary", has_text="先帮扶后认定").click()
    phone.locator("#fast-track-form").get_by_label("因自然灾害").check()
    phone.get_by_label("事实经过").fill("暴雨冲毁住房，家中财物受损。")
    phone.get_by_label("群众认可").check()
    phone.get_by_label("已落实的帮扶措施").select_option("住房安全")
    phone.get_by_label("帮扶内容").fill("安排临时住所并发放救灾物资")
    phone.get_by_role("button", name="登记先帮扶后认定").click()
    expect(phone.locator("#fast-track")).to_contain_text("因自然灾害")
    expect(phone.locator("#fast-track-form")).to_have_count(0)  # once is enough
    assert world.case(case_id).risk_types == ["illness", "disaster"]
