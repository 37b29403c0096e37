"""What a cadre sees on the phone: a returned case says why at the top and is marked in the
inbox; the county's batch list opens on its own stage; the last approval says the case is
closed and with what; the household size a farmer gave in the chat is on the case page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from approvals.record.definitions import Stage
from approvals.record.models import CaseStatus, Household, Verdict
from tests.db import session_scope
from tests.support.phone import open_case, sign_in
from tests.support.web import shot
from tests.support.world import World

pytestmark = pytest.mark.slow


def head_of(world: World, case_id: int) -> str:
    with session_scope() as s:
        return s.get_one(Household, world.case(case_id).household_id).head.name


def test_a_returned_case_says_why_at_the_top_and_is_marked_in_the_inbox(
        world: World, phone: Any) -> None:
    case_id = world.apply(world.household("东沟村"))
    head = head_of(world, case_id)
    world.approve_through(case_id, Stage.TOWNSHIP_AUDIT)
    world.decides(case_id, world.approver(case_id), Verdict.RETURNED,
                  reason="请补充住院费用票据照片。", return_to=Stage.HOME_VERIFICATION)
    assert world.stage(case_id) == Stage.HOME_VERIFICATION

    phone.goto("/inbox")
    sign_in(phone, "刘书记")
    row = phone.locator("#tasks a", has_text=head)
    expect(row).to_contain_text("（退回）")
    shot(phone, "inbox-returned")
    open_case(phone, head)
    top = phone.locator("#returned")
    expect(top).to_contain_text("乡镇审核")
    expect(top).to_contain_text("请补充住院费用票据照片。")
    # it comes before the stage's form: the first thing the cadre reads
    assert phone.evaluate("document.querySelector('#returned').compareDocumentPosition("
                          "document.querySelector('#task')) & Node.DOCUMENT_POSITION_FOLLOWING")

    other = world.apply(world.household("东沟村", 1))
    phone.goto("/inbox")
    expect(phone.locator("#tasks a", has_text=head_of(world, other))).not_to_contain_text("退回")


def test_the_county_batch_page_opens_on_county_approval(world: World, phone: Any) -> None:
    case_id = world.apply(world.household("东沟村"))
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    phone.goto("/inbox")
    sign_in(phone, "赵审定")
    phone.get_by_role("link", name="批量审批").click()
    expect(phone).to_have_url(re.compile(r"/batch$"))
    expect(phone.locator(".tabs a.on")).to_contain_text("县级比对审定")
    expect(phone.get_by_text(head_of(world, case_id))).to_be_visible()

    sign_in(phone, "王审核")  # the township's opens on its own
    phone.goto("/batch")
    expect(phone.locator(".tabs a.on")).to_contain_text("乡镇审核")


def test_the_last_approval_says_the_case_is_closed_and_with_what(
        world: World, phone: Any) -> None:
    case_id = world.apply(world.household("东沟村"))
    head = head_of(world, case_id)
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    number = world.case(case_id).number

    phone.goto("/inbox")
    sign_in(phone, "赵审定")
    open_case(phone, head)
    phone.get_by_text("通过", exact=True).click()
    phone.get_by_label("部门数据比对情况").fill("与医保、民政数据比对一致。")
    phone.get_by_role("button", name="确认通过").click()
    told = phone.get_by_text(f"已提交：{number} 县级比对审定通过")
    expect(told).to_contain_text("案件办结：纳入监测")
    expect(told).to_contain_text("结对帮扶干部为")
    expect(told).to_contain_text("帮扶措施：")
    expect(told).not_to_contain_text("下一环节")
    world.advance(case_id)
    assert world.case(case_id).status == CaseStatus.ENROLLED

    phone.goto(f"/c/{case_id}")
    closed = phone.locator("#enrolled")
    expect(closed).to_contain_text("案件已办结")
    expect(closed).to_contain_text("监测类别：")
    expect(closed).not_to_contain_text("监测类别：—")
    expect(closed).not_to_contain_text("结对帮扶干部：—")
    shot(phone, "case-closed")
