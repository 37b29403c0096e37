"""Cadres on their phones (Chromium, 390 × 844): a case from application to county approval
through the pages, a return and its rework, an objection during the notice."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from approvals.record.definitions import Stage
from approvals.record.models import (
    AuditEntry,
    CaseStatus,
    Household,
    MonitoringStatus,
    Pairing,
    Task,
    TaskStatus,
)
from tests.db import session_scope
from tests.support.phone import open_case, sign_in
from tests.support.web import shot
from tests.support.world import World

pytestmark = pytest.mark.slow


def head_of(world: World, case_id: int) -> str:
    with session_scope() as s:
        return s.get_one(Household, world.case(case_id).household_id).head.name


def test_a_case_from_application_to_county_approval_on_the_phone(
        world: World, phone: Any) -> None:
    case_id = world.apply(world.household("东沟村"))
    head = head_of(world, case_id)
    task = world.open_task(case_id)

    # the link of the reminder: sign-in first, then straight to the task
    phone.goto(f"/t/{task.id}")
    sign_in(phone, "刘书记")
    expect(phone).to_have_url(re.compile(rf"/c/{case_id}#task$"))
    expect(phone.locator("#task .weui-cells__title")).to_contain_text("当前环节：入户核实")
    phone.get_by_text("通过", exact=True).click()
    phone.locator("#visitor2").fill("杨帮扶")
    phone.get_by_label("核实情况").fill("户主住院治疗，自付医疗费用约四万元，情况属实。")
    phone.get_by_label("工资性收入").fill("4200")
    phone.get_by_role("button", name="确认通过").click()
    number = world.case(case_id).number
    expect(phone.get_by_text(f"已提交：{number} 入户核实通过")).to_be_visible()
    world.advance(case_id)  # the worker's pass
    assert world.stage(case_id) == Stage.VILLAGE_REVIEW

    shot(phone, "inbox-village-cadre")
    open_case(phone, head)
    phone.get_by_text("通过", exact=True).click()
    phone.get_by_label("应到人数").fill("27")
    phone.get_by_label("参会人数").fill("25")
    phone.get_by_label("同意票数").fill("23")
    phone.get_by_label("反对票数").fill("1")
    phone.get_by_role("button", name="确认通过").click()
    expect(phone.get_by_text(f"已提交：{number} 村民主评议通过")).to_be_visible()
    world.advance(case_id)
    assert world.stage(case_id) == Stage.PUBLIC_NOTICE

    open_case(phone, head)
    phone.get_by_label("张贴地点").fill("村委会公示栏")
    phone.get_by_role("button", name="登记张贴").click()  # no photo of the board: refused
    expect(phone.get_by_role("alert").get_by_text("请拍一张公示张贴在公示栏上的照片")
           ).to_be_visible()
    phone.locator("#photos").set_input_files(files=[{
        "name": "board.jpg", "mimeType": "image/jpeg",
        "buffer": b"\xff\xd8\xff\xe0" + b"board" * 100 + b"\xff\xd9"}])
    phone.get_by_role("button", name="登记张贴").click()
    expect(phone.get_by_text("已登记公示，公示期至11月")).to_be_visible()
    world.clock.advance(days=6)  # the notice runs out with no objection
    world.advance(case_id)
    assert world.stage(case_id) == Stage.TOWNSHIP_AUDIT

    # the township: two taps, choose and confirm
    sign_in(phone, "王审核")
    open_case(phone, head)
    phone.get_by_text("通过", exact=True).click()
    phone.get_by_role("button", name="确认通过").click()
    expect(phone.get_by_text(f"已提交：{number} 乡镇审核通过")).to_be_visible()
    world.advance(case_id)
    assert world.stage(case_id) == Stage.COUNTY_APPROVAL

    sign_in(phone, "赵审定")
    open_case(phone, head)
    shot(phone, "case-county-approval")
    phone.get_by_text("通过", exact=True).click()
    phone.get_by_label("部门数据比对情况").fill("与医保、民政数据比对一致。")
    phone.get_by_role("button", name="确认通过").click()
    expect(phone.get_by_text(f"已提交：{number} 县级比对审定通过")).to_be_visible()
    world.advance(case_id)

    case = world.case(case_id)
    assert case.status == CaseStatus.ENROLLED
    with session_scope() as s:
        household = s.get_one(Household, case.household_id)
        assert household.monitoring == MonitoringStatus.MONITORED
        assert s.scalar(select(Pairing.id).where(Pairing.household_id == household.id))
        home = s.scalars(select(Task).where(Task.case_id == case_id,
                                            Task.stage == Stage.HOME_VERIFICATION)).one()
        assert home.data["visitors"] == sorted(["刘书记", "杨帮扶"])
        assert home.data["wage"] == "4200"
        notice = s.scalars(select(Task).where(Task.case_id == case_id,
                                              Task.stage == Stage.PUBLIC_NOTICE)).one()
        assert notice.data["where"] == "村委会公示栏"
    # the case page tells its whole story
    phone.goto(f"/c/{case_id}")
    for step in ("提交申请", "「入户核实」通过", "张贴公示（村委会公示栏）", "「乡镇审核」通过",
                 "纳入监测"):
        expect(phone.locator(".timeline").get_by_text(step)).to_be_visible()


def test_a_return_is_reworked_and_resubmitted(world: World, phone: Any) -> None:
    case_id = world.apply(world.household("东沟村", 1))
    head = head_of(world, case_id)
    world.approve_through(case_id, Stage.TOWNSHIP_AUDIT)

    phone.goto("/inbox")
    sign_in(phone, "王审核")
    open_case(phone, head)
    phone.get_by_text("退回", exact=True).click()
    phone.get_by_label("入户核实").check()
    phone.get_by_role("button", name="确认退回").click()  # no reason yet: told, nothing lost
    expect(phone.get_by_role("alert").get_by_text("退回时必须写明需要补充或修改的内容")
           ).to_be_visible()
    expect(phone.get_by_label("入户核实")).to_be_checked()
    phone.locator(".p-returned textarea").fill("请补充住院费用票据照片。")
    phone.get_by_role("button", name="确认退回").click()
    number = world.case(case_id).number
    expect(phone.get_by_text(f"已提交：{number} 乡镇审核退回")).to_be_visible()
    world.advance(case_id)
    assert world.stage(case_id) == Stage.HOME_VERIFICATION

    sign_in(phone, "刘书记")
    open_case(phone, head)
    expect(phone.locator(".timeline").get_by_text("请补充住院费用票据照片。")).to_be_visible()
    phone.get_by_text("通过", exact=True).click()
    phone.locator("#visitor2").fill("黄联络")
    phone.get_by_label("核实情况").fill("已补充住院票据，自付部分属实。")
    phone.locator("#photos").set_input_files(files=[{
        "name": "bill.jpg", "mimeType": "image/jpeg",
        "buffer": b"\xff\xd8\xff\xe0" + b"bill" * 100 + b"\xff\xd9"}])
    phone.get_by_role("button", name="确认通过").click()
    expect(phone.get_by_text(f"已提交：{number} 入户核实通过")).to_be_visible()
    world.advance(case_id)
    assert world.stage(case_id) == Stage.VILLAGE_REVIEW
    phone.goto(f"/c/{case_id}")
    photo = phone.locator(".photos img").first
    expect(photo).to_be_visible()
    assert phone.request.get(photo.get_attribute("src")).status == 200
    with session_scope() as s:
        rounds = s.scalars(select(Task.round).where(
            Task.case_id == case_id, Task.stage == Stage.HOME_VERIFICATION)
            .order_by(Task.round)).all()
    assert rounds == [1, 2]  # the first visit stays as history


def test_an_objection_holds_the_notice_until_it_is_handled(world: World, phone: Any) -> None:
    case_id = world.apply(world.household("东沟村", 2))
    head = head_of(world, case_id)
    world.approve_through(case_id, Stage.PUBLIC_NOTICE)
    world.posts_notice(case_id)

    phone.goto("/inbox")
    sign_in(phone, "刘书记")
    open_case(phone, head)
    phone.locator("summary", has_text="登记异议").click()
    phone.get_by_label("异议人").fill("本组村民甲")
    phone.get_by_label("异议内容").fill("该户新购一辆货车，收入需再核实。")
    phone.get_by_role("button", name="登记异议").click()
    expect(phone.get_by_text("已登记异议")).to_be_visible()

    world.clock.advance(days=6)
    world.advance(case_id)
    assert world.stage(case_id) == Stage.PUBLIC_NOTICE  # held past its period

    phone.goto(f"/c/{case_id}")
    phone.get_by_label("调查核实情况").fill("经核实，货车为亲属所有，与该户无关。")
    phone.get_by_label("异议不成立").check()
    phone.get_by_role("button", name="提交处理结果").click()
    expect(phone.get_by_text("已记录：异议不成立")).to_be_visible()
    world.advance(case_id)
    assert world.stage(case_id) == Stage.TOWNSHIP_AUDIT


def test_a_double_tap_decides_once_and_a_late_cadre_sees_who_decided(
        world: World, phone: Any, browser: Any, site: str) -> None:
    case_id = world.apply(world.household("东沟村", 3))
    head = head_of(world, case_id)
    world.approve_through(case_id, Stage.TOWNSHIP_AUDIT)
    other = browser.new_context(viewport={"width": 390, "height": 844}, base_url=site,
                                locale="zh-CN").new_page()
    for page in (phone, other):  # two auditors' phones on the same case
        page.goto("/inbox")
        sign_in(page, "王审核")
        open_case(page, head)
        page.get_by_text("通过", exact=True).click()
    phone.get_by_role("button", name="确认通过").dblclick()
    other.get_by_role("button", name="确认通过").click()
    expect(other.get_by_text("这项任务已由王审核于")).to_be_visible()  # not an error page
    # the first phone's answer is in too: decided (or, had its second tap gone out, told so)
    expect(phone.get_by_role("status")).to_have_text(re.compile("乡镇审核通过|这项任务已由王审核于"))
    with session_scope() as s:
        decided = s.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id,
                                                     AuditEntry.action == "decide.approved")
                            ).all()
        township = s.scalars(select(Task).where(Task.case_id == case_id,
                                                Task.stage == Stage.TOWNSHIP_AUDIT)).one()
    assert township.status == TaskStatus.DECIDED
    assert sum(1 for e in decided if e.payload.get("stage") == Stage.TOWNSHIP_AUDIT) == 1
    other.context.close()
