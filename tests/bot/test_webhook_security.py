"""Attacks on /wechat/mp from outside, over real HTTP: replays and downgrades, other senders'
retry keys, hostile XML (and a fuzz of it), chunked bodies, files that are not photos."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from approvals.record.calendar import FixedClock
from approvals.record.models import MediaFile, MediaStatus
from approvals.record.photos import MAX_BYTES
from bot.inbound_log import InboundLog
from bot.models import Conversation, InboundMessage, PlainNonce
from bot.webhook import MAX_BODY
from bot.wechat_adapter import Callback
from fangfan.services import Services
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.bot.fake_api import JPEG, FakeWeChatApi
from tests.bot.sender import WeChatSender, sha1_signature
from tests.db import session_scope
from tests.support.bot import with_mp
from tests.support.world import World, roster_head


def count(model: type, *where: object) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def text_xml(openid: str, content: str, msg_id: int, created: int) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_fangfan]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{created}</CreateTime>"
            f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>"
            f"<MsgId>{msg_id}</MsgId></xml>")


# -- 2. authenticity: safe mode only, fresh signatures, one body per plain-mode nonce --------

def test_safe_mode_refuses_a_plaintext_callback(farmer: WeChatSender) -> None:
    """A signed URL captured from a safe-mode account cannot carry a forged plaintext body."""
    sent = farmer.post(farmer.text_xml("申请"), safe=False)
    assert sent.status == 403 and sent.body == "只接收加密消息"
    assert count(Conversation) == 0 and count(InboundMessage) == 0
    assert "申请" in farmer.post(farmer.text_xml("帮助")).text  # encrypted: answered


def test_compatible_mode_takes_both(services: Services, farmer: WeChatSender,
                                    serve_webhook: Callable[[Services], str]) -> None:
    compatible = dataclasses.replace(services, config=with_mp(services.config,
                                                              mode="compatible"))
    url = serve_webhook(compatible)
    encrypted = dataclasses.replace(farmer, url=url)
    plain = dataclasses.replace(farmer, url=url, aes_key=None, openid="o_compatible")
    assert "申请" in encrypted.post(encrypted.text_xml("帮助")).text
    assert "申请" in plain.post(plain.text_xml("帮助")).text


def test_signatures_outside_the_window_are_refused(farmer: WeChatSender, clock: FixedClock
                                                   ) -> None:
    """The window is read on the injected clock: signed at the test clock's time, a message
    is taken; signed 301 s before or after it, or at the machine's real time (weeks from the
    test clock), it is refused."""
    now = int(clock.now().timestamp())
    for timestamp in (now - 301, now + 301, int(time.time())):
        sent = farmer.post(farmer.text_xml("帮助"), timestamp=timestamp)
        assert sent.status == 403 and sent.body == "签名无效或已过期", timestamp
    for timestamp in (now - 290, now + 290):
        assert farmer.post(farmer.text_xml("帮助"), timestamp=timestamp).status == 200
    clock.advance(seconds=400)  # the sender follows the clock: still fresh
    assert farmer.post(farmer.text_xml("帮助")).status == 200
    assert farmer.post(farmer.text_xml("帮助"), timestamp=now).status == 403
    stale = {"timestamp": str(now), "nonce": "1", "echostr": "x",
             "signature": sha1_signature(farmer.token, str(now), "1")}
    assert requests.get(farmer.url, params=stale, timeout=5).status_code == 403  # URL check


def test_a_plain_mode_nonce_carries_one_body_in_every_process(
        plain_farmer: WeChatSender, plain_services: Services,
        serve_webhook: Callable[[Services], str], clock: FixedClock) -> None:
    """In plain mode the signature covers the timestamp and nonce only: an attacker who saw
    one signed URL replays it with their own body, to this process or another."""
    timestamp, nonce = int(clock.now().timestamp()), "314159"
    first = plain_farmer.text_xml("申请", msg_id=880001)
    answered = plain_farmer.post(first, timestamp=timestamp, nonce=nonce)
    assert "开始申请" in answered.text
    forged = dataclasses.replace(plain_farmer, openid="o_attacker").text_xml("申请")
    other_process = dataclasses.replace(plain_farmer, url=serve_webhook(plain_services))
    for sender in (plain_farmer, other_process):
        refused = sender.post(forged, timestamp=timestamp, nonce=nonce)
        assert refused.status == 403 and refused.body == "签名已用于另一条消息"
    assert count(Conversation, Conversation.openid == "o_attacker") == 0
    # WeChat's retry of the same message, with the same or new parameters: the stored reply
    for again in (other_process.post(first, timestamp=timestamp, nonce=nonce),
                  plain_farmer.post(first)):
        assert again.status == 200 and again.text == answered.text
    assert count(PlainNonce) == 2
    clock.advance(seconds=plain_services.config.wechat.mp.timestamp_window_seconds + 61)
    assert plain_farmer.post(plain_farmer.text_xml("帮助")).status == 200
    assert count(PlainNonce) == 1  # those past the window are pruned


# -- 3. retry keys are per sender -------------------------------------------------------------

def test_another_sender_reusing_a_msgid_gets_their_own_answer(farmer: WeChatSender) -> None:
    name, id_number, _ = roster_head(index=3)
    for said in ("申请", f"{name} {id_number}", "住院"):
        farmer.say(said)
    summary = farmer.post(farmer.text_xml("两万", msg_id=660001))
    assert name in summary.text  # the summary: name, ID number (masked), illness, income
    other = dataclasses.replace(farmer, openid="o_other_sender")
    theirs = other.post(other.text_xml("申请", msg_id=660001))
    assert theirs.status == 200 and "开始申请" in theirs.text and name not in theirs.text
    assert farmer.post(farmer.text_xml("两万", msg_id=660001)).text == summary.text  # a retry


def test_event_keys_name_the_event_and_its_key() -> None:
    def event(key: str, openid: str = "o_a") -> str:
        return (f"<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName>"
                f"<CreateTime>1790000000</CreateTime><MsgType>event</MsgType>"
                f"<Event>CLICK</Event><EventKey>{key}</EventKey></xml>")
    keys = {Callback.parse(event(k, o)).dedupe_key
            for k, o in (("APPLY", "o_a"), ("PROGRESS", "o_a"), ("APPLY", "o_b"))}
    assert len(keys) == 3 and all(len(k) <= 128 for k in keys)


# -- 4. strict parsing, the inbound log, and a fuzz --------------------------------------------

OPENID = "o_shape_test"
HEAD = ("<ToUserName>gh_fangfan</ToUserName><CreateTime>1790000000</CreateTime>"
        "<MsgType>text</MsgType><MsgId>123</MsgId>")
SHAPES = {
    "repeated FromUserName": f"<xml>{HEAD}<FromUserName>{OPENID}</FromUserName>"
                             f"<FromUserName>o_b</FromUserName><Content>帮助</Content></xml>",
    "repeated Content": f"<xml>{HEAD}<FromUserName>{OPENID}</FromUserName>"
                        "<Content>帮助</Content><Content>进度</Content></xml>",
    "repeated MsgId": f"<xml>{HEAD}<FromUserName>{OPENID}</FromUserName><MsgId>9</MsgId>"
                      "<Content>帮助</Content></xml>",
    "child in FromUserName": f"<xml>{HEAD}<FromUserName><a>{OPENID}</a></FromUserName>"
                             "<Content>帮助</Content></xml>",
    "child in Content": f"<xml>{HEAD}<FromUserName>{OPENID}</FromUserName>"
                        "<Content><b>帮助</b></Content></xml>",
    "attribute": f'<xml>{HEAD}<FromUserName id="1">{OPENID}</FromUserName>'
                 "<Content>帮助</Content></xml>",
    "attribute on the root": f'<xml a="b">{HEAD}<FromUserName>{OPENID}</FromUserName>'
                             "<Content>帮助</Content></xml>",
    "openid over 64": f"<xml>{HEAD}<FromUserName>{'o' * 65}</FromUserName>"
                      "<Content>帮助</Content></xml>",
    "text between elements": f"<xml>{HEAD}<FromUserName>{OPENID}</FromUserName>junk"
                             "<Content>帮助</Content></xml>",
    "entity": f'<!DOCTYPE xml [<!ENTITY e "{OPENID}">]><xml>{HEAD}<FromUserName>&e;'
              "</FromUserName><Content>帮助</Content></xml>",
    "MsgId not a number": f"<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime>"
                          f"<MsgType>text</MsgType><MsgId>1e9</MsgId>"
                          f"<FromUserName>{OPENID}</FromUserName><Content>帮助</Content></xml>",
}
# A subscription notification's event: one list of templates under the event's element
EVENT_HEAD = (f"<ToUserName>gh_fangfan</ToUserName><FromUserName>{OPENID}</FromUserName>"
              "<CreateTime>1790000000</CreateTime><MsgType>event</MsgType>")
ITEM = ("<List><TemplateId>tpl-1</TemplateId><SubscribeStatusString>accept"
        "</SubscribeStatusString><PopupScene>2</PopupScene></List>")


def popup(listed: str, event: str = "subscribe_msg_popup_event",
          wrapper: str = "SubscribeMsgPopupEvent", head: str = EVENT_HEAD) -> str:
    return (f"<xml>{head}<Event>{event}</Event>"
            f"<{wrapper}>{listed}</{wrapper}></xml>")


SHAPES |= {
    "21 items in a list": popup(ITEM * 21),
    "a template id over 128": popup(ITEM.replace("tpl-1", "t" * 129)),
    "a status over 16": popup(ITEM.replace(">accept<", f">{'a' * 17}<")),
    "a status WeChat never sends": popup(ITEM.replace(">accept<", ">maybe<")),
    "a template id with spaces": popup(ITEM.replace("tpl-1", "tpl 1")),
    "a field no list has": popup(ITEM.replace("<PopupScene>", "<Content>x</Content><PopupScene>")),
    "a field repeated in an item": popup(ITEM.replace("<PopupScene>2</PopupScene>",
                                                      "<PopupScene>2</PopupScene>" * 2)),
    "nested deeper": popup(ITEM.replace("<TemplateId>tpl-1</TemplateId>",
                                        "<TemplateId><List>tpl-1</List></TemplateId>")),
    "a list in a list": popup(f"<List>{ITEM}</List>"),
    "not a List in the list": popup(ITEM.replace("List>", "Item>")),
    "an attribute on an item": popup(ITEM.replace("<List>", '<List a="1">')),
    "an attribute on the list": popup(ITEM).replace("<SubscribeMsgPopupEvent>",
                                                    '<SubscribeMsgPopupEvent a="1">'),
    "text in the list": popup(f"junk{ITEM}"),
    "text after an item": popup(f"{ITEM}junk"),
    "two lists": popup(ITEM).replace("</xml>", f"<SubscribeMsgSentEvent>{ITEM}"
                                               "</SubscribeMsgSentEvent></xml>"),
    "the list of another event": popup(ITEM, wrapper="SubscribeMsgSentEvent"),
    "a list under a click": popup(ITEM, event="CLICK"),
    "a list in a text message": popup(ITEM, head=HEAD + f"<FromUserName>{OPENID}</FromUserName>"),
    "a sent event's code not a number": popup(
        "<List><TemplateId>tpl-1</TemplateId><MsgID>1</MsgID><ErrorCode>ok</ErrorCode>"
        "<ErrorStatus>success</ErrorStatus></List>", "subscribe_msg_sent_event",
        "SubscribeMsgSentEvent"),
    "a list in a plain field": f"<xml>{EVENT_HEAD}<Event>subscribe</Event>"
                               f"<EventKey>{ITEM}</EventKey></xml>",
}


def test_a_subscription_event_of_wechats_shape_is_taken(farmer: WeChatSender) -> None:
    """The shapes above differ from these by one thing each: these are answered "success"
    (no reply), the change event under either element the guide shows."""
    for xml in (popup(ITEM * 20), popup(ITEM.replace("accept", "reject"),
                                        "subscribe_msg_change_event", "SubscribeMsgChangeEvent"),
                popup(ITEM.replace("accept", "reject"), "subscribe_msg_change_event"),
                popup("<List><TemplateId>tpl-1</TemplateId><MsgID>1</MsgID><ErrorCode>43101"
                      "</ErrorCode><ErrorStatus>failed:user refuse accept</ErrorStatus></List>",
                      "subscribe_msg_sent_event", "SubscribeMsgSentEvent")):
        sent = farmer.post(xml)
        assert (sent.status, sent.body) == (200, "success"), xml


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_every_shape_wechat_never_sends_is_a_400(mode: str, farmer: WeChatSender,
                                                 plain_farmer: WeChatSender,
                                                 services: Services) -> None:
    sender = farmer if mode == "safe" else plain_farmer
    for shape, xml in SHAPES.items():
        sent = sender.post(xml)
        assert sent.status == 400 and sent.body == "消息格式不正确", shape
    services.inbound_log().flush()
    assert count(InboundMessage) == 0 and count(Conversation) == 0


def test_a_bad_message_does_not_hold_up_later_records(plain_farmer: WeChatSender,
                                                      services: Services) -> None:
    assert plain_farmer.post(SHAPES["repeated FromUserName"]).status == 400
    assert "申请" in plain_farmer.say("帮助")
    services.inbound_log().flush()
    assert count(InboundMessage, InboundMessage.openid == plain_farmer.openid) == 1


def test_the_writer_drops_a_bad_row_once_and_writes_the_rest(
        services: Services, caplog: pytest.LogCaptureFixture) -> None:
    """However a row the database refuses got in, it is dropped with one line naming no one;
    the records before and after it are written, and the next flush is clean."""
    inbound = InboundLog(services.engine, every_s=3600)
    now = services.clock.now()
    inbound.add("msg:o_before:1", "o_before", now, "好的")
    inbound.add("msg:o_bad:2", {"o_bad": "two values"}, now, "好的")  # type: ignore[arg-type]
    inbound.add("msg:o_after:3", "o_after", now, "好的")
    with caplog.at_level(logging.WARNING, logger="bot.inbound_log"):
        assert inbound.flush() == 2
        inbound.add("msg:o_later:4", "o_later", now, "好的")
        assert inbound.flush() == 1
    inbound.close()
    with session_scope() as s:
        assert set(s.scalars(select(InboundMessage.openid))) == {"o_before", "o_after",
                                                                  "o_later"}
    logged = [r.getMessage() for r in caplog.records]
    assert len(logged) == 1 and "已丢弃" in logged[0]
    assert not any("o_" in line or r.exc_info for line, r in zip(logged, caplog.records,
                                                                  strict=True))


NAMES = ["ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "Content", "Event",
         "EventKey", "MediaId", "PicUrl", "Recognition", "Encrypt", "xml", "x",
         "SubscribeMsgPopupEvent", "SubscribeMsgChangeEvent", "SubscribeMsgSentEvent", "List",
         "TemplateId", "SubscribeStatusString", "PopupScene", "ErrorCode"]
KINDS = ["text", "image", "voice", "event", "video", "location", "", "TEXT"]
EVENTS = ["subscribe", "unsubscribe", "CLICK", "SCAN", "VIEW", "", "subscribe_msg_popup_event",
          "subscribe_msg_change_event", "subscribe_msg_sent_event"]
texts = st.one_of(st.text(max_size=80), st.sampled_from(
    ["帮助", "进度", "申请", "取消", "APPLY", "PROGRESS", "qrscene_42", "0", "-1", "1e3",
     "99999999999999999999999", "o" * 65, "]]>", "&amp;", "<", "\x00", *KINDS, *EVENTS]))


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@st.composite
def elements(draw: st.DrawFn, depth: int = 0) -> str:
    """One element: a field WeChat sends or another name, holding text (escaped, as CDATA
    or raw), attributes, children or nothing."""
    name = draw(st.sampled_from(NAMES))
    attrs = draw(st.sampled_from(["", ' a="1"', " id='x'"]))
    how = draw(st.sampled_from(["cdata", "escaped", "raw", "children", "empty"]))
    if how == "children" and depth < 2:
        inner = "".join(draw(st.lists(elements(depth + 1), max_size=3)))
    elif how == "empty":
        return f"<{name}{attrs}/>"
    else:
        text = draw(texts)
        inner = (_cdata(text) if how == "cdata" else text if how == "raw"
                 else text.replace("&", "&amp;").replace("<", "&lt;"))
    return f"<{name}{attrs}>{inner}</{name}>"


@st.composite
def messages(draw: st.DrawFn) -> str:
    """A message of WeChat's shape with random content (so that it reaches the dialogue),
    then none to three garblings: elements repeated, dropped, added (nested, with
    attributes), fields out of bounds, the body cut or wrapped."""
    kind = draw(st.sampled_from(KINDS))
    fields = [("ToUserName", "gh_fangfan"),
              ("FromUserName", draw(st.sampled_from(["o_fuzz_1", "o_fuzz_2", "o" * 64]))),
              ("CreateTime", "1790000000"), ("MsgType", kind)]
    listed = ""
    if kind == "event":
        fields += [("Event", draw(st.sampled_from(EVENTS))), ("EventKey", draw(texts))]
        if draw(st.booleans()):  # a subscription event's list, its items drawn
            items = draw(st.lists(st.sampled_from([
                ITEM, ITEM.replace("accept", "reject"), ITEM.replace("tpl-1", "o" * 129),
                "<List><TemplateId>tpl-1</TemplateId><ErrorCode>0</ErrorCode></List>",
                "<List></List>"]), max_size=22))
            wrapper = draw(st.sampled_from(["SubscribeMsgPopupEvent", "SubscribeMsgChangeEvent",
                                            "SubscribeMsgSentEvent"]))
            listed = f"<{wrapper}>{''.join(items)}</{wrapper}>"
    else:
        fields += [("MsgId", str(draw(st.integers(min_value=0, max_value=2**63)))),
                   ("Content", draw(texts)), ("MediaId", draw(texts)), ("PicUrl", draw(texts))]
    parts = [f"<{k}>{_cdata(v)}</{k}>" for k, v in fields] + ([listed] if listed else [])
    wrap = "<xml>{}</xml>"
    for garbling in draw(st.lists(st.sampled_from(
            ["repeat", "drop", "add", "openid", "time", "msgid", "cut", "wrap", "encoding"]),
            max_size=3)):
        if garbling == "repeat":
            parts.append(draw(st.sampled_from(parts)))
        elif garbling == "drop" and parts:
            parts.remove(draw(st.sampled_from(parts)))
        elif garbling == "add":
            parts.insert(draw(st.integers(0, len(parts))), draw(elements()))
        elif garbling == "openid":
            parts.append(f"<FromUserName>{_cdata(draw(texts))}</FromUserName>")
        elif garbling == "time":
            parts.append(f"<CreateTime>{_cdata(draw(texts))}</CreateTime>")
        elif garbling == "msgid":
            parts.append(f"<MsgId>{_cdata(draw(texts))}</MsgId>")
        elif garbling == "cut":
            wrap = "<xml>{}"
        elif garbling == "wrap":
            wrap = draw(st.sampled_from(["<x>{}</x>", '<xml a="1">{}</xml>', "<xml>{}</xml>x",
                                         "<xml><xml>{}</xml></xml>"]))
        elif garbling == "encoding":
            wrap = '<?xml version="1.0" encoding="GBK"?>' + wrap
    return wrap.format("".join(parts))


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_fuzzed_messages_never_give_a_500(mode: str, farmer: WeChatSender,
                                          plain_farmer: WeChatSender) -> None:
    sender = farmer if mode == "safe" else plain_farmer
    seen: dict[int, int] = {}

    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(messages())
    def send(xml: str) -> None:
        status = sender.post(xml).status
        seen[status] = seen.get(status, 0) + 1
        assert status in (200, 400), (status, xml)

    send()
    assert seen.get(200) and seen.get(400)  # both readable and unreadable ones were sent


# -- 9. the body limit counts bytes read; photos are checked by their content -----------------

def test_a_chunked_body_cannot_pass_the_limit(plain_farmer: WeChatSender) -> None:
    small = plain_farmer.post(plain_farmer.text_xml("帮助"), chunked=True)
    assert small.status == 200 and "申请" in small.text  # chunked bodies are read
    huge = plain_farmer.text_xml("帮助" + "很" * MAX_BODY)
    assert plain_farmer.post(huge, chunked=True).status == 413


def _wait_for(media_id: str) -> MediaFile:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with session_scope() as s:
            row = s.scalars(select(MediaFile).where(MediaFile.media_id == media_id)).one()
        if row.status != MediaStatus.PENDING:
            return row
        time.sleep(0.05)
    raise AssertionError(f"{media_id} still pending")


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


def test_files_that_are_not_photos_are_not_kept_and_the_farmer_is_told(
        farmer: WeChatSender, fake_api: FakeWeChatApi, services: Services) -> None:
    fake_api.media |= {"media-page": (b"<html><script>alert(1)</script></html>", "image/jpeg"),
                       "media-huge": (JPEG[:4] + b"\x00" * MAX_BYTES, "image/jpeg")}
    name, id_number, _ = roster_head(index=4)
    farmer.say("申请")
    farmer.say(f"{name} {id_number}")
    for media_id in ("media-page", "media-huge"):
        assert "收到照片" in farmer.photo(media_id)
        row = _wait_for(media_id)
        assert row.status == MediaStatus.FAILED and row.path is None
    assert not any(p.is_file() for p in Path(services.settings.media_dir).rglob("*"))
    with session_scope() as s:
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == farmer.openid)
                         .order_by(OutboxMessage.id)).all()
    said = [render(m.event, m.params).text for m in told]
    assert [m.event for m in told] == ["media_refused", "media_refused"]
    assert "不是照片" in said[0] and "超过10MB" in said[1]


def test_a_photo_is_kept_and_served_as_what_it_is(
        farmer: WeChatSender, fake_api: FakeWeChatApi, world: World) -> None:
    fake_api.media["media-png"] = (PNG, "image/jpeg")  # WeChat's type is not trusted
    name, id_number, _ = roster_head(index=5)
    for said in ("申请", f"{name} {id_number}", "住院", "两万", "同意"):
        farmer.say(said)
    assert "已补充到申请" in farmer.photo("media-png")
    row = _wait_for("media-png")
    assert row.status == MediaStatus.SAVED and row.path.endswith(".png")
    assert "已经收到" in farmer.photo("media-png")  # the same MediaId again: acknowledged
    site = farmer.url.removesuffix("/wechat/mp")
    cadre = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      cadre.get(f"{site}/login", timeout=5).text).group(1)
    assert cadre.post(f"{site}/login/dev", timeout=5, allow_redirects=False, data={
        "csrf_token": token, "cadre_id": world.cadre("village_cadre", "东沟村").id}
        ).status_code == 302
    res = cadre.get(f"{site}/c/{row.case_id}/photos/farmer/{row.id}/0", timeout=5)
    assert res.status_code == 200 and res.content == PNG
    assert res.headers["Content-Type"] == "image/png"
    assert res.headers["X-Content-Type-Options"] == "nosniff"


# -- 16. a subscribe by QR code is welcomed ---------------------------------------------------

def test_a_subscribe_by_qr_code_gets_the_welcome(farmer: WeChatSender) -> None:
    welcome = farmer.event("subscribe", key="qrscene_village_17").text
    assert "防返贫" in welcome and welcome == farmer.event("subscribe").text
