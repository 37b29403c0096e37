"""Subscription notifications (订阅通知): the farmer's consent recorded from WeChat's events at
the real webhook, the channels tried in config's order against the fake WeChat API over real
HTTP, a one-time consent spent, 43101 ending it, and a decision that says why, what comes
next and how to ask for 复核 in every channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from approvals.record.calendar import FixedClock
from approvals.record.definitions import Stage
from approvals.record.models import Verdict
from bot.models import InboundMessage, WeChatSubscription
from bot.push import fitted
from fangfan.config import Config
from fangfan.services import Services
from notifications import outbox
from notifications.models import OutboxMessage, OutboxStatus
from notifications.wording import CHANNEL_NAMES
from tests.bot.fake_api import LONG_TERM, FakeWeChatApi
from tests.bot.sender import WeChatSender
from tests.bot.test_push import applies, deliver
from tests.db import session_scope
from tests.support.world import World


def configured(services: Services, **wechat: Any) -> Config:
    """The services' config with `wechat` keys changed, validated as config.yaml would be."""
    raw = services.config.model_dump()
    for key, value in wechat.items():
        if isinstance(value, dict) and isinstance(raw["wechat"].get(key), dict):
            for name, conf in value.items():
                raw["wechat"][key][name] = {**raw["wechat"][key].get(name, {}), **conf}
        else:
            raw["wechat"][key] = value
    services.config = Config.model_validate(raw)
    return services.config


def clock(services: Services) -> FixedClock:
    assert isinstance(services.clock, FixedClock)  # the tests' clock, which they move
    return services.clock


def template_id(services: Services) -> str:
    return services.config.wechat.subscriptions["case_update"].id


def consent(openid: str) -> WeChatSubscription | None:
    with session_scope() as s:
        return s.scalars(select(WeChatSubscription)
                         .where(WeChatSubscription.openid == openid)).one_or_none()


def subscribes(farmer: WeChatSender, services: Services, fake_api: FakeWeChatApi,
               times: int = 1) -> None:
    """The farmer accepts the popup in an article `times` times, a second apart (LONG_TERM:
    once, a long-term template): WeChat keeps the consent and tells us each time."""
    tpl = template_id(services)
    for _ in range(1 if times == LONG_TERM else times):
        clock(services).advance(seconds=1)
        sent = farmer.subscribes(tpl)
        assert (sent.status, sent.body) == (200, "success")  # no reply to an event like this
    fake_api.consent(farmer.openid, tpl, times)


def tell(services: Services, openid: str, event: str = "case_rejected", key: str = "m1",
         **params: Any) -> None:
    """One message for the farmer in the outbox, as a pass writes it."""
    with services.database.transaction_scope() as conn:
        outbox.enqueue(conn, [{"key": key, "recipient": openid, "event": event,
                               "params": {"number": "2026000001", "reason": "家庭收入高于监测范围",
                                          **params}}], services.clock.now())


def sent_by() -> list[tuple[str, str | None]]:
    with session_scope() as s:
        return [(m.status, m.channel) for m in s.scalars(
            select(OutboxMessage).order_by(OutboxMessage.id))]


def shown(message: dict[str, Any]) -> dict[str, str]:
    return {key: field["value"] for key, field in message["data"].items()}


# -- the consent, from the webhook ----------------------------------------------------------

def test_a_decision_goes_by_subscription_and_spends_the_one_time_consent(
        farmer: WeChatSender, world: World, services: Services,
        fake_api: FakeWeChatApi) -> None:
    case_id = applies(farmer, world)
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)  # a week and more: no chat window
    assert deliver(services).sent == 4 and len(fake_api.templates) == 4  # no consent yet
    tpl = template_id(services)
    subscribes(farmer, services, fake_api)
    row = consent(farmer.openid)
    assert row and (row.remaining, row.long_term) == (1, False)
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED, reason="家庭收入高于监测范围")
    assert deliver(services).sent == 1
    (notification,) = fake_api.subscribed
    assert notification["touser"] == farmer.openid and notification["template_id"] == tpl
    assert shown(notification) == {
        "character_string1": world.case(case_id).number, "thing2": "不予纳入",
        "thing3": "家庭收入高于监测范围", "thing4": "情况有变化可重新申请",
        "thing5": "不服可回复申请复核或拨12317"}
    assert sent_by()[-1] == ("sent", "subscribe") and CHANNEL_NAMES["subscribe"] == "订阅通知"
    assert consent(farmer.openid).remaining == 0  # type: ignore[union-attr]
    # the popup opened no 48 hours: it is not the farmer writing
    services.inbound_log().flush()
    with session_scope() as s:
        seen = s.scalars(select(InboundMessage.received_at)
                         .where(InboundMessage.openid == farmer.openid)).all()
    assert max(seen) < services.clock.now() - dt.timedelta(hours=48)
    tell(services, farmer.openid, key="later")
    assert deliver(services).sent == 1 and len(fake_api.subscribed) == 1  # spent: a template
    assert fake_api.refused == [] and sent_by()[-1] == ("sent", "template")


def test_a_retried_popup_event_counts_once_and_a_reject_ends_it(
        farmer: WeChatSender, services: Services, fake_api: FakeWeChatApi) -> None:
    tpl = template_id(services)
    xml = farmer.consent_xml("subscribe_msg_popup_event", [
        {"TemplateId": tpl, "SubscribeStatusString": "accept", "PopupScene": "2"},
        {"TemplateId": "someone-elses-template", "SubscribeStatusString": "accept",
         "PopupScene": "2"}])
    for _ in range(3):  # WeChat retries an event it got no quick answer to
        assert farmer.post(xml).status == 200
    assert consent(farmer.openid).remaining == 1  # type: ignore[union-attr]
    with session_scope() as s:  # a template config does not name is not kept
        assert s.scalars(select(WeChatSubscription.template_id)).all() == [tpl]
    clock(services).advance(seconds=5)
    assert farmer.subscribes(tpl).status == 200  # a second acceptance, later: two
    assert consent(farmer.openid).remaining == 2  # type: ignore[union-attr]
    clock(services).advance(seconds=5)
    # turned off in the notification settings (the guide's example wraps it like the popup)
    off = farmer.consent_xml("subscribe_msg_change_event", [
        {"TemplateId": tpl, "SubscribeStatusString": "reject"}],
        wrapper="SubscribeMsgPopupEvent")
    assert farmer.post(off).status == 200
    assert consent(farmer.openid).remaining == 0  # type: ignore[union-attr]
    fake_api.consent(farmer.openid, tpl, 2)  # even if WeChat would still take it
    tell(services, farmer.openid)
    assert deliver(services).sent == 1
    assert fake_api.subscribed == [] and sent_by() == [("sent", "template")]


def test_a_long_term_consent_lasts_and_a_sent_event_with_43101_ends_it(
        farmer: WeChatSender, services: Services, fake_api: FakeWeChatApi) -> None:
    configured(services, subscriptions={"case_update": {"long_term": True}})
    tpl = template_id(services)
    subscribes(farmer, services, fake_api, LONG_TERM)
    for key in ("m1", "m2", "m3"):
        tell(services, farmer.openid, key=key)
    assert deliver(services).sent == 3 and len(fake_api.subscribed) == 3
    assert consent(farmer.openid).long_term  # type: ignore[union-attr]
    clock(services).advance(seconds=5)
    assert farmer.post(farmer.consent_xml("subscribe_msg_sent_event", [
        {"TemplateId": tpl, "MsgID": "1700827132819554304", "ErrorCode": "43101",
         "ErrorStatus": "failed:user refuse accept"}])).status == 200
    assert not consent(farmer.openid).long_term  # type: ignore[union-attr]


def test_43101_ends_the_consent_and_falls_back_to_a_template(
        farmer: WeChatSender, services: Services, fake_api: FakeWeChatApi) -> None:
    """We recorded an acceptance, but the farmer turned it off and WeChat's change event
    never reached us: WeChat answers 43101, the template message goes, and the consent is
    not tried again."""
    tpl = template_id(services)
    subscribes(farmer, services, fake_api)
    fake_api.consent(farmer.openid, tpl, 0)
    tell(services, farmer.openid)
    assert deliver(services).sent == 1 and sent_by() == [("sent", "template")]
    assert len(fake_api.refused) == 1 and consent(farmer.openid).remaining == 0  # type: ignore[union-attr]
    tell(services, farmer.openid, key="m2")
    assert deliver(services).sent == 1 and len(fake_api.refused) == 1


def test_a_failed_send_gives_the_one_time_consent_back(
        farmer: WeChatSender, services: Services, fake_api: FakeWeChatApi) -> None:
    subscribes(farmer, services, fake_api)
    fake_api.down = True
    tell(services, farmer.openid)
    assert deliver(services).retried == 1
    assert consent(farmer.openid).remaining == 1  # type: ignore[union-attr]
    fake_api.down = False
    clock(services).advance(minutes=5)
    assert deliver(services).sent == 1 and sent_by() == [("sent", "subscribe")]


def test_long_values_are_cut_to_what_each_field_takes(
        farmer: WeChatSender, services: Services, fake_api: FakeWeChatApi) -> None:
    """WeChat refuses a thing over 20 characters (47003) and a phrase over 5: values are cut
    to fit, words with "…"; a blank one says 无."""
    configured(services, subscriptions={"case_update": {"fields": {
        "character_string1": "{number}", "phrase2": "{result}", "thing3": "{reason}",
        "thing4": "{detail}", "thing5": "{title}"}}})
    subscribes(farmer, services, fake_api)
    reason = "家庭人均纯收入高于当地防返贫监测标准且没有大额刚性支出"
    tell(services, farmer.openid, event="media_saved", reason=reason, count=2)
    tell(services, farmer.openid, event="stage_passed", key="m2", passed="入户核实",
         next="村民主评议")
    subscribes(farmer, services, fake_api)
    assert deliver(services).sent == 2 and fake_api.refused == []
    saved, passed = map(shown, fake_api.subscribed)
    assert saved["phrase2"] == "已保存" and saved["thing3"] == "无"
    assert len(passed["thing4"]) == 20 and passed["thing4"].endswith("…")
    assert passed["phrase2"] == "已通过入户"


def test_a_value_wechat_refuses_passes_the_message_on_and_keeps_the_consent(
        farmer: WeChatSender, services: Services, fake_api: FakeWeChatApi) -> None:
    """A phrase takes Chinese only: a number there is config's mistake, which sending again
    would not mend (47003). The template message goes at once; the consent is kept."""
    configured(services, subscriptions={"case_update": {"fields": {"phrase1": "{number}"}}})
    subscribes(farmer, services, fake_api)
    tell(services, farmer.openid)
    assert deliver(services).sent == 1 and sent_by() == [("sent", "template")]
    assert fake_api.refused and fake_api.subscribed == []
    assert consent(farmer.openid).remaining == 1  # type: ignore[union-attr]


# -- the order of the channels --------------------------------------------------------------

@pytest.mark.parametrize(("order", "writes", "agrees", "went"), [
    (["custom", "subscribe", "template"], True, True, "custom"),
    (["custom", "subscribe", "template"], False, True, "subscribe"),
    (["custom", "subscribe", "template"], False, False, "template"),
    (["subscribe", "custom", "template"], True, True, "subscribe"),
    (["subscribe", "custom", "template"], True, False, "custom"),
    (["template", "custom", "subscribe"], True, True, "template"),
    (["subscribe", "template"], True, False, "template"),
    (["custom", "template"], False, True, "template"),
])
def test_the_channels_are_tried_in_configs_order(
        order: list[str], writes: bool, agrees: bool, went: str, farmer: WeChatSender,
        services: Services, fake_api: FakeWeChatApi) -> None:
    configured(services, farmer_channels=order)
    if writes:  # within 48 hours of the farmer's last message
        farmer.say("帮助")
    if agrees:
        subscribes(farmer, services, fake_api)
    tell(services, farmer.openid)
    assert deliver(services).sent == 1 and sent_by() == [("sent", went)]
    assert [len(fake_api.custom), len(fake_api.subscribed), len(fake_api.templates)] == [
        int(went == c) for c in ("custom", "subscribe", "template")]


def test_with_no_channel_left_the_message_waits_and_says_why(
        farmer: WeChatSender, services: Services, fake_api: FakeWeChatApi) -> None:
    configured(services, farmer_channels=["custom", "subscribe"])
    tell(services, farmer.openid)
    assert deliver(services).retried == 1
    with session_scope() as s:
        message = s.scalars(select(OutboxMessage)).one()
    assert message.status == OutboxStatus.PENDING
    why = message.last_error or ""
    assert "48小时" in why and "没有订阅" in why


@pytest.mark.parametrize(("channels", "wrong"), [
    (["custom", "custom"], "重复的渠道 custom"), (["sms"], "custom"), ([], "at least 1")])
def test_the_order_is_checked(channels: list[str], wrong: str, services: Services) -> None:
    with pytest.raises(ValidationError, match=wrong):
        configured(services, farmer_channels=channels)


def test_subscription_keys_and_wording_are_checked(services: Services) -> None:
    with pytest.raises(ValidationError, match="没有这些类型的字段 keyword1"):
        configured(services, subscriptions={"case_update": {"fields": {"keyword1": "{result}"}}})
    with pytest.raises(ValidationError, match="没有这些字段 why"):
        configured(services, subscriptions={"case_update": {"fields": {"thing1": "{why}"}}})
    with pytest.raises(ValidationError, match="没有这些字段 outcome"):
        configured(services, templates={"case_update": {"fields": {"keyword1": "{outcome}"}}})


# -- a decision says why, what next and where to turn, in every channel -----------------------

CHANNELS = {"custom": lambda api: [m["text"]["content"] for m in api.custom],
            "subscribe": lambda api: ["；".join(shown(m).values()) for m in api.subscribed],
            "template": lambda api: ["；".join(shown(m).values()) for m in api.templates]}


@pytest.mark.parametrize("channel", list(CHANNELS))
def test_a_decision_says_why_what_next_and_how_to_ask_for_reexamination(
        channel: str, farmer: WeChatSender, services: Services, fake_api: FakeWeChatApi
        ) -> None:
    configured(services, farmer_channels=[channel])
    if channel == "custom":
        farmer.say("帮助")
    subscribes(farmer, services, fake_api, times=3)
    tell(services, farmer.openid, "case_rejected", "rejected")
    tell(services, farmer.openid, "case_enrolled", "enrolled", cadre="李帮扶",
         cadre_phone="13800000000", measures=["健康", "综合保障"])
    tell(services, farmer.openid, "elimination_rejected", "kept", reason="收入还不稳定")
    assert deliver(services).sent == 3
    rejected, enrolled, kept = CHANNELS[channel](fake_api)
    assert "不予纳入" in rejected and "家庭收入高于监测范围" in rejected  # the reason
    assert "重新申请" in rejected  # what happens next
    assert "申请复核" in rejected and "12317" in rejected  # how to ask for 复核
    assert "纳入监测" in enrolled and "符合监测条件" in enrolled and "12317" in enrolled
    assert "李帮扶" in enrolled  # the cadre who comes next
    assert "收入还不稳定" in kept and "继续" in kept and "12317" in kept
    if channel == "custom":  # the whole text also names the township and the chat's way
        assert "乡镇人民政府申请复核" in rejected and "回复「申请复核」" in rejected
        assert "健康、综合保障" in enrolled


def test_each_kind_of_field_is_cut_to_its_limit() -> None:
    long = "一二三四五六七八九十" * 4
    assert fitted("thing7", long) == long[:19] + "…"
    assert fitted("phrase1", "已通过入户核实") == "已通过入户"
    assert fitted("character_string2", "A" * 40) == "A" * 32
    assert fitted("time3", "2026年12月3日 18:30") == "2026年12月3日 18:30"  # a format, not cut
    assert fitted("thing1", "第一行\n第二行") == "第一行 第二行"  # WeChat shows no line breaks
    assert (fitted("thing1", ""), fitted("character_string1", "")) == ("无", "-")
    assert fitted("keyword3", long, template=True) == long[:19] + "…"  # shown to 20
    assert fitted("remark", long, template=True) == long  # not shown at all
    assert fitted("keyword3", "", template=True) == ""
