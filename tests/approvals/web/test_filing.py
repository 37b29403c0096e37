"""干部走访排查 from the phone: a cadre files for a household of their jurisdiction (the same
`applications.apply` as the chat) with the household's 承诺授权: a photo of the signed form,
or a tick the household confirms in the chat, before which no stage is approved."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from approvals.record.definitions import Stage
from approvals.record.models import Case, Household, Source
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.bot.fake_api import FakeWeChatApi
from tests.bot.sender import WeChatSender
from tests.db import session_scope
from tests.support.bot import sender_clock
from tests.support.phone import sign_in
from tests.support.web import shot
from tests.support.world import World

pytestmark = pytest.mark.slow

SIGNED = b"\xff\xd8\xff\xe0" + b"signed" * 100 + b"\xff\xd9"


def _household(world: World, index: int) -> tuple[int, str]:
    household_id = world.household("东沟村", index)
    with session_scope() as s:
        return household_id, s.get_one(Household, household_id).head.name


def _fill(phone: Any, head: str) -> None:
    """From the inbox: find the household, open its form, fill in the application."""
    phone.get_by_role("link", name="走访排查：代为申请").click()
    phone.get_by_label("户主姓名").fill(head)
    phone.get_by_role("button", name="查找").click()
    phone.locator("#found a", has_text=head).click()
    expect(phone.get_by_role("heading")).to_contain_text(f"代为申请：{head}户")
    phone.get_by_label("因病").check()
    phone.get_by_label("困难情况").fill("户主突发脑梗住院，自付医疗费用约五万元。")
    phone.get_by_label("家庭人口").fill("4")
    phone.get_by_label("近12个月家庭总收入（元）").fill("9000")


def test_a_cadre_files_from_the_phone_with_the_signed_form_photographed(
        world: World, phone: Any) -> None:
    household_id, head = _household(world, 4)
    phone.goto("/inbox")
    sign_in(phone, "刘书记")
    _fill(phone, head)
    phone.get_by_label("农户已签字，拍照上传").check()
    phone.get_by_role("button", name="提交申请").click()  # no photo yet: told, nothing lost
    expect(phone.get_by_role("alert")).to_contain_text("请拍照上传农户签字的")
    expect(phone.get_by_label("困难情况")).to_have_value("户主突发脑梗住院，自付医疗费用约五万元。")
    phone.get_by_label("签字的授权书照片").set_input_files(files=[{
        "name": "consent.jpg", "mimeType": "image/jpeg", "buffer": SIGNED}])
    phone.get_by_role("button", name="提交申请").click()
    expect(phone).to_have_url(re.compile(r"/c/\d+$"))
    expect(phone.get_by_text("已代为申请，编号")).to_be_visible()
    expect(phone.locator("#consent")).to_have_text("已上传签字照片")
    expect(phone.locator("#consent-pending")).to_have_count(0)
    photo = phone.get_by_role("img", name="承诺授权书 1")
    expect(photo).to_be_visible()
    assert phone.request.get(photo.get_attribute("src")).status == 200
    shot(phone, "case-filed-by-cadre")

    with session_scope() as s:
        case = s.scalars(select(Case).where(Case.household_id == household_id)).one()
        assert case.source == Source.CADRE_VISIT and case.filed_by == "刘书记"
        assert case.answers["consent"]["how"] == "photo" and not case.consent_pending
        assert case.answers["household_size"] == 4 and case.risk_types == ["illness"]
        case_id = case.id
    world.advance(case_id)
    assert world.stage(case_id) == Stage.HOME_VERIFICATION


def test_the_household_confirms_in_the_chat_and_until_then_nothing_is_approved(
        world: World, fake_api: FakeWeChatApi, phone: Any, site: str) -> None:
    household_id, head = _household(world, 5)
    mp = world.services.config.wechat.mp
    farmer = WeChatSender(f"{site}/wechat/mp", mp.token, mp.app_id, mp.encoding_aes_key,
                          now=sender_clock(world.clock), openid="o_consent_farmer")
    with session_scope() as s:
        s.get_one(Household, household_id).head.openid = farmer.openid

    phone.goto("/inbox")
    sign_in(phone, "刘书记")
    _fill(phone, head)
    phone.get_by_label("请农户在微信中确认").check()
    phone.get_by_role("button", name="提交申请").click()
    expect(phone.get_by_text("已请农户在微信中确认承诺授权")).to_be_visible()
    expect(phone.locator("#consent-pending")).to_contain_text("确认之前不能通过审核")
    case_id = int(phone.url.rsplit("/", 1)[1])
    world.advance(case_id)  # the first pass asks the household on its WeChat
    with session_scope() as s:
        asked = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == farmer.openid)).one()
    assert asked.event == "consent_requested"
    assert "回复「确认授权」" in render(asked.event, asked.params).text

    phone.reload()  # the visit goes on, but its approval waits for the household
    phone.get_by_text("通过", exact=True).click()
    phone.locator("#visitor2").fill("杨帮扶")
    phone.get_by_label("核实情况").fill("户主住院属实。")
    phone.get_by_label("工资性收入").fill("4500")
    phone.get_by_role("button", name="确认通过").click()
    expect(phone.get_by_role("alert")).to_contain_text("农户尚未确认《监测对象申请及承诺授权查询书》")
    assert world.stage(case_id) == Stage.HOME_VERIFICATION

    assert "已确认授权" in farmer.say("确认授权")
    phone.goto(f"/c/{case_id}")
    expect(phone.locator("#consent-pending")).to_have_count(0)
    expect(phone.locator("#consent")).to_have_text("农户已在微信中确认")
    phone.get_by_text("通过", exact=True).click()
    phone.locator("#visitor2").fill("杨帮扶")
    phone.get_by_label("核实情况").fill("户主住院属实。")
    phone.get_by_label("工资性收入").fill("4500")
    phone.get_by_role("button", name="确认通过").click()
    expect(phone.get_by_text("入户核实通过")).to_be_visible()
    assert "没有需要您确认授权的申请" in farmer.say("确认授权")


def test_no_chat_confirmation_for_a_household_without_wechat_nor_filing_outside(
        world: World, phone: Any) -> None:
    _, head = _household(world, 6)
    phone.goto("/inbox")
    sign_in(phone, "刘书记")
    _fill(phone, head)
    expect(phone.get_by_label("请农户在微信中确认")).to_be_disabled()
    south = world.household("南滩村")
    res = phone.goto(f"/h/{south}/apply")
    assert res.status == 403


def test_the_signed_form_photographed_later_lifts_the_wait(world: World, phone: Any) -> None:
    household_id, head = _household(world, 7)
    with session_scope() as s:
        s.get_one(Household, household_id).head.openid = "o_never_answers"
    phone.goto("/inbox")
    sign_in(phone, "刘书记")
    _fill(phone, head)
    phone.get_by_label("请农户在微信中确认").check()
    phone.get_by_role("button", name="提交申请").click()
    pending = phone.locator("#consent-pending")
    expect(pending).to_contain_text("确认之前不能通过审核")
    pending.get_by_label("签字的授权书照片").set_input_files(files=[{
        "name": "consent.jpg", "mimeType": "image/jpeg", "buffer": SIGNED}])
    pending.get_by_role("button", name="改为上传签字的授权书").click()
    expect(phone.get_by_text("已保存签字的承诺授权书")).to_be_visible()
    expect(phone.locator("#consent-pending")).to_have_count(0)
    expect(phone.locator("#consent")).to_have_text("已上传签字照片")
    expect(phone.get_by_role("img", name="承诺授权书 1")).to_be_visible()
    expect(phone.locator(".timeline")).to_contain_text("确认承诺授权")
