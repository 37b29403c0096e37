"""The farmer is told the decision: through the outbox, in the chat within 48 hours, by
template message after (bot/test_subscriptions.py: by subscription notification); the
access token shared and refreshed once; the API down."""

from __future__ import annotations

from sqlalchemy import select

from approvals.record.definitions import Stage
from approvals.record.models import Case, Verdict
from bot.dialogue import MENU
from bot.wechat_adapter import WeChatApi
from fangfan.services import Services
from notifications.dispatch import MAX_ATTEMPTS, dispatch
from notifications.models import OutboxMessage, OutboxStatus
from tests.bot.fake_api import FakeWeChatApi
from tests.bot.sender import WeChatSender
from tests.db import session_scope
from tests.support.world import World, roster_head


def applies(farmer: WeChatSender, world: World, index: int = 0) -> int:
    name, id_number, household_id = roster_head(index=index)
    for said in ("申请", f"{name} {id_number}", "老伴住院做手术", "两万", "同意"):
        farmer.say(said)
    with session_scope() as s:
        case_id = s.scalars(select(Case.id).where(Case.household_id == household_id)).one()
    world.advance(case_id)
    return case_id


def outbox() -> list[OutboxMessage]:
    with session_scope() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def decisions_told(texts: list[str]) -> list[str]:
    """The messages about decisions, without the ones about stages passed."""
    return [t for t in texts if "已通过「" not in t and "期满无异议" not in t]


def deliver(services: Services):
    # the webhook writes a question's record (which opens the 48 hours) behind, within a
    # second (bot/inbound_log.py); the dispatcher, a minute's sweep, runs later than that
    services.inbound_log().flush()
    return dispatch(services.database, services.channels(), services.clock, local=services.local())


def test_enrolment_is_told_in_the_chat_with_the_paired_cadre(
        farmer: WeChatSender, world: World, services: Services, fake_api: FakeWeChatApi) -> None:
    case_id = applies(farmer, world)
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    farmer.say("进度")  # within 48 hours of the farmer's last message: a chat message
    world.passes(case_id)
    assert world.case(case_id).status == "enrolled"
    assert deliver(services).sent == 5  # each stage passed, in plain words, then the decision
    *steps, text = fake_api.texts_to(farmer.openid)
    assert [s.split("）")[1].split("，")[0] for s in steps] == [
        "已通过「入户核实」", "已通过「村民主评议」", "公示期满无异议", "已通过「乡镇审核」"]
    helper = world.cadre("helper")
    assert "纳入监测" in text and world.case(case_id).number in text and helper.name in text
    assert deliver(services).sent == 0  # sent once, not again
    world.advance(case_id)  # a pass re-run enqueues nothing new
    assert deliver(services).sent == 0 and len(outbox()) == 5


def test_return_and_rejection_are_told_with_the_reason(
        farmer: WeChatSender, world: World, services: Services, fake_api: FakeWeChatApi) -> None:
    case_id = applies(farmer, world)
    world.approve_through(case_id, Stage.TOWNSHIP_AUDIT)
    farmer.say("进度")
    world.decides(case_id, world.approver(case_id), Verdict.RETURNED,
                  return_to=Stage.HOME_VERIFICATION, reason="请补充住院发票")
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    farmer.say("进度")
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED,
                  reason="家庭收入高于监测范围")
    assert deliver(services).sent == 9  # 3 stages passed, returned, 4 passed again, rejected
    returned, rejected = decisions_told(fake_api.texts_to(farmer.openid))
    assert "退回" in returned and "请补充住院发票" in returned
    assert "不予纳入" in rejected and "家庭收入高于监测范围" in rejected and "复核" in rejected


def test_after_48_hours_a_template_message(
        farmer: WeChatSender, world: World, services: Services, fake_api: FakeWeChatApi) -> None:
    case_id = applies(farmer, world)
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)  # takes more than a week
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED, reason="不符合条件")
    assert deliver(services).sent == 5
    assert fake_api.custom == []
    *steps, template = fake_api.templates
    assert [t["data"]["keyword2"]["value"] for t in steps] == [
        "已通过入户核实", "已通过村民主评议", "公示期满无异议", "已通过乡镇审核"]
    assert template["touser"] == farmer.openid
    assert template["template_id"] == services.config.wechat.templates["case_update"].id
    shown = {key: field["value"] for key, field in template["data"].items()}
    # WeChat shows no first line or remark and 20 characters a field: each says one thing
    assert shown == {"keyword1": world.case(case_id).number, "keyword2": "不予纳入",
                     "keyword3": "不符合条件", "keyword4": "情况有变化可重新申请",
                     "keyword5": "不服可回复申请复核或拨12317"}
    assert {m.channel for m in outbox()} == {"template"}


def test_45015_from_wechat_falls_back_to_a_template(
        farmer: WeChatSender, world: World, services: Services, fake_api: FakeWeChatApi) -> None:
    case_id = applies(farmer, world)
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    farmer.say("进度")  # the farmer wrote recently: fangfan tries a customer-service message
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED, reason="不符合条件")
    fake_api.outside_window.add(farmer.openid)  # but WeChat says the window is closed
    assert deliver(services).sent == 5
    assert fake_api.custom == [] and len(fake_api.templates) == 5


def test_expired_token_is_refreshed_once_and_shared(
        services: Services, fake_api: FakeWeChatApi, world: World) -> None:
    api = services.wechat_api()
    api.send_text("o_someone", "你好")
    other_process = WeChatApi(services.database, services.config.wechat.api_base_url,
                              services.config.wechat.mp.app_id,
                              services.config.wechat.mp.app_secret, 2)
    other_process.send_text("o_someone", "又见面了")
    assert fake_api.token_fetches == 1  # one token for every process
    fake_api.expire_token()
    other_process.send_text("o_someone", "令牌过期后")
    assert fake_api.token_fetches == 2 and len(fake_api.custom) == 3
    api.create_menu(MENU)
    assert fake_api.token_fetches == 2  # the refreshed token is seen by the other one too
    assert [b["name"] for b in fake_api.menus[0]["button"]] == ["我要申请", "查询进度", "政策说明"]


def test_api_down_keeps_the_application_and_retries_then_gives_up_visibly(
        farmer: WeChatSender, world: World, services: Services, fake_api: FakeWeChatApi) -> None:
    fake_api.down = True
    case_id = applies(farmer, world)  # the chat does not need WeChat's API: nothing lost
    world.approve_through(case_id, None)
    assert deliver(services).retried == 1  # the first; the later ones wait behind it, in order
    first, *rest = outbox()
    assert first.status == OutboxStatus.PENDING and "503" in first.last_error
    assert all(m.attempts == 0 for m in rest)
    for _ in range(5 * MAX_ATTEMPTS):
        world.clock.advance(hours=1)
        deliver(services)
    assert all(m.status == OutboxStatus.DEAD and m.attempts == MAX_ATTEMPTS for m in outbox())
    fake_api.down = False
    world.clock.advance(hours=1)
    assert deliver(services).sent == 0  # dead stays dead until someone looks at it
