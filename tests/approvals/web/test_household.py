"""The household on the phone: a revisit form that survives leaving it half-filled, measures
planned and carried out, and an elimination proposal refused or made on its evidence."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select, update

from approvals.assistance import revisits
from approvals.procedure.elimination import SECURITY
from approvals.record.models import Case, CaseKind, Household, IncomeRecord, Measure, Revisit
from tests.db import session_scope
from tests.support.phone import sign_in
from tests.support.web import Desk, cadre_id, shot
from tests.support.world import World


def enrolled(world: World, index: int = 0) -> int:
    case_id = world.apply(world.household("东沟村", index))
    world.approve_through(case_id, None)
    return world.case(case_id).household_id


@pytest.mark.slow
def test_a_revisit_on_the_phone_keeps_a_half_filled_form(world: World, phone: Any) -> None:
    household = enrolled(world)
    phone.goto("/inbox")
    sign_in(phone, "杨帮扶")
    phone.get_by_text("我的结对户").click()
    expect(phone.locator(".weui-cell", has_text="尚未回访")).to_have_count(1)
    phone.locator(".weui-cell", has_text="尚未回访").click()
    phone.get_by_role("link", name="登记定期回访").click()
    phone.get_by_label("工资性收入").fill("24000")
    phone.get_by_label("生产经营性收入").fill("6000")
    phone.get_by_label("转移性收入").fill("3000")
    phone.get_by_label("生产经营费用").fill("3000")
    phone.get_by_label("家庭人口").fill("3")
    expect(phone.locator("#net")).to_have_text("家庭人均纯收入约 10000 元")
    phone.goto("/inbox")  # a call comes in; the cadre comes back later
    phone.goto(f"/h/{household}/revisit")
    expect(phone.get_by_label("工资性收入")).to_have_value("24000")
    phone.get_by_role("button", name="保存回访记录").click()  # the annual content is missing
    expect(phone.get_by_role("alert").get_by_text("今年第一次回访，请填写年度监测内容")
           ).to_be_visible()
    expect(phone.get_by_label("工资性收入")).to_have_value("24000")  # nothing lost
    for field in revisits.ANNUAL.values():
        phone.get_by_label(field, exact=True).fill("正常")
    for label in SECURITY.values():  # 两不愁三保障, 饮水 and rigid expenditure
        phone.get_by_role("radiogroup", name=label).get_by_label("是").check()
    phone.get_by_role("radiogroup", name=SECURITY["drinking_water"]).get_by_label("否").check()
    phone.get_by_label("已消除").check()
    phone.get_by_role("button", name="保存回访记录").click()
    expect(phone.get_by_text("已保存回访记录：家庭人均纯收入 10000 元")).to_be_visible()
    expect(phone.locator("svg[aria-label=人均纯收入图] rect")).to_have_count(1)
    shot(phone, "household-after-revisit")
    with session_scope() as s:
        [revisit] = s.scalars(select(Revisit).where(Revisit.household_id == household)).all()
        assert revisit.per_capita_net == 10000 and revisit.risk_remains is False
        assert revisit.secure == dict.fromkeys(SECURITY, True) | {"drinking_water": False}
    # saved: the kept copy on the phone is gone, the next visit starts from the record
    phone.goto(f"/h/{household}/revisit")
    assert phone.evaluate(f"localStorage.getItem('revisit:{household}')") is None
    expect(phone.locator("p.pad.sub").first).to_contain_text("已按")


def test_measures_are_planned_and_carried_out_from_the_household_page(
        app: Flask, world: World) -> None:
    household = enrolled(world)
    desk = Desk(app.test_client()).signs_in(cadre_id("杨帮扶"))
    page = desk.get(f"/h/{household}").text
    # the proposal: one risk (因病), one measure, none of 综合保障 for a household that works
    assert re.findall(r'name="kind" value="([^"]+)"', page) == ["健康"] and "（因病）" in page
    res = desk.post(f"/h/{household}/measures", kind="就业", subtype="公益性岗位",
                    description="村保洁员", unit="县人社局", planned_on="2026-11-10",
                    amount="800元")
    assert res.status_code == 302
    with session_scope() as s:
        measure = s.scalars(select(Measure).where(Measure.household_id == household,
                                                  Measure.kind == "就业")).one()
    today = world.clock.now().date().isoformat()
    res = desk.post(f"/h/{household}/measures/{measure.id}/done", done_on="2099-01-01",
                    result="已上岗")
    assert res.status_code == 400 and "落实日期不能晚于今天" in res.text
    res = desk.post(f"/h/{household}/measures/{measure.id}/done", done_on=today, result="")
    assert res.status_code == 400 and "请写明落实情况" in res.text
    res = desk.post(f"/h/{household}/measures/{measure.id}/done", done_on=today,
                    result="已上岗")
    assert res.status_code == 302
    assert f"{today} 已落实：已上岗" in desk.get(f"/h/{household}").text
    outsider = Desk(app.test_client()).signs_in(cadre_id("朱书记"))
    res = outsider.post(f"/h/{household}/measures", kind="就业", planned_on="2026-11-10")
    assert res.status_code == 403


def test_an_elimination_is_proposed_only_on_its_evidence(app: Flask, world: World) -> None:
    household = enrolled(world)
    desk = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    page = desk.get(f"/h/{household}").text
    assert "暂不能提出风险消除" in page and "纳入监测满6个月" in page
    res = desk.post(f"/h/{household}/eliminate")
    assert res.status_code == 400 and "纳入监测不满6个月" in res.text
    with session_scope() as s:
        hh = s.get_one(Household, household)
        hh.monitored_since -= dt.timedelta(days=250)
        s.execute(update(Measure).where(Measure.household_id == household)
                  .values(done_on=hh.monitored_since + dt.timedelta(days=5)))
    for months_ago in (8, 4, 1):  # the incomes span more than six months
        with session_scope() as s:
            s.add(Revisit(household_id=household, cadre_id=cadre_id("杨帮扶"),
                          visited_on=world.clock.now().date() - dt.timedelta(days=30 * months_ago),
                          members=3, wage=30000, business=0, property=0, transfer=0,
                          production_costs=0, out_of_pocket=0, per_capita_net=10000,
                          risk_remains=False, annual={}, notes="", photos=[],
                          secure=dict.fromkeys(SECURITY, True),
                          recorded_at=world.clock.now()))
        with session_scope() as s:
            s.add(IncomeRecord(household_id=household, per_capita_net=10000,
                               recorded_on=world.clock.now().date()
                               - dt.timedelta(days=30 * months_ago)))
    page = desk.get(f"/h/{household}").text
    assert "提出风险消除</button>" in page
    outsider = Desk(app.test_client()).signs_in(cadre_id("朱书记"))  # another village's
    res = outsider.post(f"/h/{household}/eliminate")
    assert res.status_code == 403 and "这户不在您的管辖范围内，不能提出风险消除" in res.text
    res = desk.post(f"/h/{household}/eliminate")
    assert res.status_code == 302
    with session_scope() as s:  # one case: the outsider's proposal opened none
        [case_id] = s.scalars(select(Case.id).where(Case.household_id == household,
                                                    Case.kind == CaseKind.RISK_ELIMINATION))
    # every reviewer sees what the proposal rests on
    township = Desk(app.test_client()).signs_in(cadre_id("王审核")).get(f"/c/{case_id}").text
    assert "风险消除依据" in township
    assert "连续6个月以上的回访人均纯收入均不低于监测范围" in township
    assert "不符合" not in township


def test_the_county_reverts_an_eliminated_household_to_monitoring(
        app: Flask, world: World) -> None:
    household = enrolled(world)
    with session_scope() as s:
        s.execute(update(Household).where(Household.id == household)
                  .values(monitoring="eliminated", eliminated_on=world.clock.now().date()))
    village = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    assert "风险消除回退" not in village.get(f"/h/{household}").text
    res = village.post(f"/h/{household}/revert", reason="患病")
    assert res.status_code == 400 and "须由审定风险消除的工作人员办理" in res.text
    county = Desk(app.test_client()).signs_in(cadre_id("赵审定"))
    assert county.post(f"/h/{household}/revert", reason="").status_code == 400
    res = county.post(f"/h/{household}/revert", reason="户主突发重病，收入骤降")
    assert res.status_code == 302
    page = county.get(f"/h/{household}").text
    assert "已回退为监测对象" in page and "监测对象" in page
    with session_scope() as s:
        assert s.get_one(Household, household).monitoring == "monitored"
