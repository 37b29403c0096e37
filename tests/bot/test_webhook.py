"""The callback protocol: signatures, plain and safe mode, bad bodies, WeChat's retries."""

from __future__ import annotations

import threading
from dataclasses import replace

import requests
from sqlalchemy import func, select

from approvals.record.models import Case
from bot.models import Conversation, InboundMessage
from fangfan.services import Services
from tests.bot.sender import WeChatSender, sha1_signature
from tests.db import session_scope
from tests.support.world import roster_head


def count(model: type) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def signed_now(sender: WeChatSender, nonce: str = "42") -> dict[str, str]:
    ts = str(int(sender.now()))
    return {"timestamp": ts, "nonce": nonce, "signature": sha1_signature(sender.token, ts, nonce)}


def test_url_verification_echoes_only_when_signed(farmer: WeChatSender) -> None:
    params = signed_now(farmer) | {"echostr": "echo-123"}
    good = requests.get(farmer.url, timeout=5, params=params)
    assert good.status_code == 200 and good.text == "echo-123"
    bad = requests.get(farmer.url, timeout=5, params=params | {"signature": "0" * 40})
    assert bad.status_code == 403 and "echo-123" not in bad.text


def test_safe_mode_reply_is_encrypted_and_signed(farmer: WeChatSender) -> None:
    sent = farmer.post(farmer.text_xml("帮助"))
    assert sent.status == 200 and "<Encrypt>" in sent.body and "帮助" not in sent.body
    assert "申请" in sent.text  # the sender checked MsgSignature and decrypted it


def test_plain_mode(plain_farmer: WeChatSender) -> None:
    sent = plain_farmer.post(plain_farmer.text_xml("帮助"))
    assert "<Encrypt>" not in sent.body and "申请" in sent.text


def test_bad_signature_is_refused_and_changes_nothing(farmer: WeChatSender,
                                                      plain_farmer: WeChatSender) -> None:
    for sender in (farmer, plain_farmer):
        assert sender.post(sender.text_xml("申请"), bad_signature=True).status == 403
    assert count(InboundMessage) == 0 and count(Conversation) == 0


def test_malformed_bodies_are_a_400_never_a_500(farmer: WeChatSender,
                                               plain_farmer: WeChatSender) -> None:
    for n, body in enumerate((b"", b"not xml at all", b"<xml><FromUserName>x</xml>",
                              b"\xff\xfe\x00",
                              b"<xml><MsgType>text</MsgType><CreateTime>soon</CreateTime></xml>")):
        res = requests.post(plain_farmer.url, params=signed_now(plain_farmer, str(n)),
                            data=body, timeout=5)
        assert res.status_code == 400 and res.text == "消息格式不正确", body
    garbage = "<xml><Encrypt><![CDATA[bm90IGVuY3J5cHRlZA==]]></Encrypt></xml>"
    signed = signed_now(farmer)
    res = requests.post(farmer.url, data=garbage, timeout=5, params=signed | {
        "encrypt_type": "aes", "msg_signature": sha1_signature(
            farmer.token, signed["timestamp"], signed["nonce"], "bm90IGVuY3J5cHRlZA==")})
    assert res.status_code == 400
    huge = requests.post(farmer.url, params=signed, data=b"<xml>" + b"x" * 200_000, timeout=5)
    assert huge.status_code == 413
    assert count(Conversation) == 0


def test_a_retried_message_is_answered_once_and_acts_once(farmer: WeChatSender) -> None:
    name, id_number, household_id = roster_head()
    for said in ("申请", f"{name} {id_number}", "住院", "两万"):
        farmer.say(said)
    final = farmer.text_xml("同意", msg_id=990001)
    first = farmer.post(final)
    assert "申请编号" in first.text
    again = farmer.post(final)  # WeChat did not get our answer in time and retries
    assert again.text == first.text
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Case)
                        .where(Case.household_id == household_id)) == 1


def test_retries_arriving_at_the_same_moment_act_once(
        farmer: WeChatSender) -> None:
    name, id_number, household_id = roster_head(index=1)
    for said in ("申请", f"{name} {id_number}", "住院", "两万"):
        farmer.say(said)
    final = farmer.text_xml("同意", msg_id=990002)
    replies: list[str] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        barrier.wait()
        replies.append(farmer.post(final).text)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Case)
                        .where(Case.household_id == household_id)) == 1
    answered = [r for r in replies if r]
    assert answered and all("申请编号" in r for r in answered)


def test_events_dedupe_on_sender_and_create_time(farmer: WeChatSender,
                                                 services: Services) -> None:
    first = farmer.event("subscribe", created=1790000000)
    assert "防返贫" in first.text
    assert farmer.event("subscribe", created=1790000000).text == first.text
    services.inbound_log().flush()  # a welcome's record is written behind
    assert count(InboundMessage) == 1
    menu = farmer.event("CLICK", key="PROGRESS", created=1790000001)
    assert "还没有查到" in menu.text
    other = replace(farmer, openid="o_other_user")
    assert other.event("subscribe", created=1790000000).status == 200
    services.inbound_log().flush()
    assert count(InboundMessage) == 3
