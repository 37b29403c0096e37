"""The chat simulator of `make run`: real signed messages to the real webhook, dev_mode only.

Photos and voice messages as WeChat sends them, the conversation kept in the browser across
a reload, and the pushes still waiting (held by the quiet hours) shown with when they go."""

from __future__ import annotations

import re
import struct
import threading
import zlib
from pathlib import Path
from typing import Any

import requests
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from approvals.record.calendar import FixedClock
from approvals.record.models import Cadre, Case, Member, Place, Verdict
from approvals.record.photos import farmer_photos
from fangfan.app import create_app
from fangfan.services import Services
from notifications.dispatch import dispatch
from tests.db import session_scope
from tests.support.web import shot
from tests.support.world import World, roster_head

POLLED = 10_000  # ms: the page asks for pushes every 3 s


def test_a_newcomer_applies_in_the_simulator_and_is_told_the_decision(
        webhook_url: str, world: World, services: Services) -> None:
    base = webhook_url.replace("/wechat/mp", "/dev/wechat")
    name, id_number, household_id = roster_head()
    page = requests.get(base, timeout=5).text
    assert "公众号模拟器" in page and f"{name} {id_number}" in page  # demo heads to tap

    def say(text: str) -> str:
        res = requests.post(f"{base}/say", json={"openid": "o_sim_test01", "text": text},
                            timeout=10)
        assert res.status_code == 200
        return res.json()["reply"]

    assert "防返贫" in requests.post(f"{base}/say", timeout=10, json={
        "openid": "o_sim_test01", "event": "subscribe"}).json()["reply"]
    for text in ("申请", f"{name} {id_number}", "看病花了很多钱", "两万"):
        say(text)
    assert "申请编号" in say("同意")
    assert "已受理" in say("进度")

    with session_scope() as s:
        case_id = s.scalars(select(Case.id).where(Case.household_id == household_id)).one()
    world.advance(case_id)
    world.approve_through(case_id, None)
    # the worker's dispatcher, against the simulator's stand-in for WeChat's API
    stand_in = services.config.wechat.model_copy(update={"api_base_url": f"{base}/api"})
    services.config = services.config.model_copy(update={"wechat": stand_in})
    services._cache.clear()
    # 4 stages, then enrolled
    assert dispatch(services.database, services.channels(), services.clock).sent == 5
    pushed = requests.get(f"{base}/pushed", params={"openid": "o_sim_test01"}, timeout=5).json()
    assert "已通过「入户核实」" in pushed["messages"][0]["text"]
    assert "纳入监测" in pushed["messages"][-1]["text"]


def test_the_heads_to_tap_are_first_those_who_never_applied(webhook_url: str, world: World
                                                            ) -> None:
    """A newcomer taps the first head: their 「进度」 then shows only the case they file, not a
    rejection from before."""
    base = webhook_url.replace("/wechat/mp", "/dev/wechat")
    rejected_name, _, rejected = roster_head("东沟村", 0)
    case_id = world.apply(rejected)
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED, reason="收入高于监测范围")
    never, _, _ = roster_head("东沟村", 1)
    heads = re.findall(r'class="head" data-who="(\S+) ', requests.get(base, timeout=5).text)
    assert heads[0] == never and heads[0] != rejected_name  # the roster's first, rejected


def test_no_simulator_without_dev_mode(services: Services, world: World) -> None:
    services.config = services.config.model_copy(update={"dev_mode": False})
    server = make_server("127.0.0.1", 0, create_app(services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert requests.get(f"{base}/dev/wechat", timeout=5).status_code == 404
        assert requests.post(f"{base}/dev/wechat/api/cgi-bin/message/custom/send",
                             timeout=5).status_code == 404
    finally:
        server.shutdown()


def test_the_cadres_side_lists_what_each_cadre_was_sent(webhook_url: str, world: World) -> None:
    with session_scope() as s:
        cadre = s.scalars(select(Cadre).join(Place).where(Cadre.role == "village_cadre",
                                                          Place.name == "东沟村")).one()
        cadre.openid = "o_demo_cadre"
        name = cadre.name
    world.apply(world.household("东沟村"))
    page = requests.get(webhook_url.replace("/wechat/mp", "/dev/wechat/messages"), timeout=5).text
    assert "干部收到的消息" in page and name in page
    mine = page.split(name, 1)[1].split("<section>", 1)[0]
    assert "新待办" in mine and "入户核实" in mine and "待发送" in mine


def test_the_simulator_page_chats_in_a_phone_browser(
        webhook_url: str, world: World, browser: object) -> None:
    """As a newcomer opens it from README: http://127.0.0.1:8000/dev/wechat, no trailing slash."""
    name, id_number, _ = roster_head()
    page = browser.new_page(viewport={"width": 390, "height": 844})  # type: ignore[attr-defined]
    page.goto(webhook_url.replace("/wechat/mp", "/dev/wechat"))

    bubbles = page.locator(".msg.bot")  # the account's answers, one bubble each
    expect(bubbles).to_have_count(0)
    page.fill("#text", "申请")
    page.click("form#send button")
    expect(bubbles).to_have_count(1)
    expect(bubbles.nth(0)).to_contain_text("姓名和身份证号")
    page.locator("a.head", has_text=name).click()  # the demo head fills the input
    expect(page.locator("#text")).to_have_value(f"{name} {id_number}")
    page.click("form#send button")
    expect(bubbles).to_have_count(2)
    expect(bubbles.nth(1)).to_contain_text("困难")
    page.close()


# -- photos, voice, the transcript, the pushes waiting ------------------------------------------

def photo_png() -> bytes:
    """A real picture (64×48 PNG), as a phone's album gives one: its bytes must arrive."""
    rows = b"".join(b"\x00" + bytes([200, 60, 40 + y]) * 64 for y in range(48))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 48, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def open_simulator(browser: Any, webhook_url: str) -> tuple[Any, str]:
    """The simulator in a phone-sized page, and the openid it chats as."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(webhook_url.replace("/wechat/mp", "/dev/wechat"))
    return page, page.evaluate("localStorage.getItem('fangfan-sim-openid')")


def applied_as(world: World, openid: str, village: str = "东沟村") -> int:
    """A roster household's application, its head chatting as `openid`: the case."""
    household = world.household(village)
    with session_scope() as s:
        s.scalars(select(Member).where(Member.household_id == household, Member.is_head)
                  ).one().openid = openid
    return world.apply(household)


def stand_in(services: Services, webhook_url: str) -> None:
    """WeChat's API is the simulator's stand-in (as config.yaml's demo has it)."""
    api = webhook_url.replace("/wechat/mp", "/dev/wechat/api")
    services.config = services.config.model_copy(update={
        "wechat": services.config.wechat.model_copy(update={"api_base_url": api})})
    services._cache.clear()


def test_a_photo_sent_in_the_simulator_reaches_the_case(
        webhook_url: str, world: World, services: Services, browser: object) -> None:
    stand_in(services, webhook_url)
    page, openid = open_simulator(browser, webhook_url)
    case_id = applied_as(world, openid)
    picture = photo_png()
    page.set_input_files("#photo", files=[
        {"name": "住院发票.png", "mimeType": "image/png", "buffer": picture}])
    sent = page.locator(".msg.me img")
    expect(sent).to_have_count(1)
    expect(sent).to_have_js_property("naturalWidth", 64)  # the picture itself, shown back
    expect(page.locator(".msg.bot")).to_have_count(1)
    expect(page.locator(".msg.bot")).to_contain_text("收到照片")
    # bot/media.py fetches it from the stand-in in a thread started before the answer went
    for fetching in [t for t in threading.enumerate() if t.name == "wechat-media"]:
        fetching.join(timeout=30)
    with session_scope() as s:
        saved = farmer_photos(s, case_id)
    assert len(saved) == 1 and Path(saved[0][1]).read_bytes() == picture
    assert "住院发票" not in page.locator(".msg.me img").get_attribute("src")  # type: ignore[operator]
    dispatch(services.database, services.channels(), services.clock)
    expect(page.locator(".msg.pushed")).to_contain_text("已保存1张照片", timeout=POLLED)
    shot(page, "simulator-photo")
    page.close()


def test_the_simulator_refuses_what_is_not_a_photo_and_stands_in_for_the_api(
        webhook_url: str, world: World) -> None:
    base = webhook_url.replace("/wechat/mp", "/dev/wechat")
    refused = requests.post(f"{base}/photo", data={"openid": "o_sim_photo1"}, timeout=10,
                            files={"photo": ("a.txt", b"not a picture", "text/plain")})
    assert refused.status_code == 400 and "只能发送照片" in refused.json()["error"]
    assert requests.get(f"{base}/api/cgi-bin/media/get", params={"media_id": "../x"},
                        timeout=5).json()["errcode"] == 40007  # as WeChat answers an unknown id
    # 订阅通知, as the worker sends them on a laptop
    assert requests.post(f"{base}/api/cgi-bin/message/subscribe/bizsend", json={}, timeout=5
                         ).json() == {"errcode": 0, "errmsg": "ok"}


def test_a_voice_message_is_read_by_what_wechat_recognised(
        webhook_url: str, world: World, browser: object) -> None:
    base = webhook_url.replace("/wechat/mp", "/dev/wechat")
    typed = requests.post(f"{base}/say", json={"openid": "o_sim_typed1", "text": "政策"},
                          timeout=10).json()["reply"]
    page, _ = open_simulator(browser, webhook_url)
    answers = page.locator(".msg.bot")
    page.click("#voice-open")
    page.fill("#heard", "政策")
    page.click("#voice button")
    expect(page.locator(".msg.me")).to_have_text("［语音］识别文字：政策")
    expect(answers).to_have_count(1)
    expect(answers.nth(0)).to_have_text(typed)  # as if it had been typed
    page.click("#voice button")  # nothing recognised
    expect(answers).to_have_count(2)
    expect(answers.nth(1)).to_contain_text("打字")
    page.close()


def test_the_conversation_is_kept_across_a_reload_until_cleared(
        webhook_url: str, world: World, browser: object) -> None:
    page, openid = open_simulator(browser, webhook_url)
    page.fill("#text", "帮助")
    page.click("form#send button")
    answers = page.locator(".msg.bot")
    expect(answers).to_have_count(1)
    answer = answers.nth(0).text_content()
    page.reload()
    expect(page.locator(".msg.me")).to_have_text(["帮助"])
    expect(answers).to_have_text([answer or ""])
    assert page.evaluate("localStorage.getItem('fangfan-sim-openid')") == openid
    page.click("#clear")
    expect(page.locator("#log .msg")).to_have_count(0)
    page.reload()
    expect(page.locator("#log .msg")).to_have_count(0)
    assert page.evaluate("localStorage.getItem('fangfan-sim-openid')") != openid  # a new user
    page.close()


def test_a_decision_in_the_quiet_hours_waits_in_the_chat_then_arrives(
        webhook_url: str, world: World, services: Services, clock: FixedClock,
        browser: object) -> None:
    page, openid = open_simulator(browser, webhook_url)
    case_id = applied_as(world, openid)
    world.advance(case_id)
    clock.advance(hours=14)  # 23:00 in Beijing: quiet hours (config.yaml: 22:00-07:00)
    world.decides(case_id, world.approver(case_id))  # 入户核实 approved
    quiet = services.quiet_hours()
    dispatch(services.database, services.channels(), clock, quiet=quiet)
    waiting = page.locator(".msg.waiting", has_text="已通过「入户核实」")
    expect(waiting).to_have_count(1, timeout=POLLED)
    expect(waiting).to_contain_text("待发送：")
    expect(waiting).to_contain_text("（夜间免打扰，将于明早7:00后发送）")
    expect(page.locator("#now")).to_have_text("演示时间：2026-11-02 23:00")
    outbox_id = waiting.get_attribute("data-outbox")
    shot(page, "simulator-waiting")
    page.reload()  # still waiting after a reload, once
    expect(waiting).to_have_count(1)

    clock.advance(hours=8, minutes=5)  # 07:05
    assert dispatch(services.database, services.channels(), clock, quiet=quiet).sent == 1
    arrived = page.locator(f'[data-outbox="{outbox_id}"]')
    expect(arrived).to_have_class(re.compile(r"\bpushed\b"), timeout=POLLED)  # the same bubble
    expect(arrived).to_contain_text("已通过「入户核实」")
    expect(arrived).not_to_contain_text("待发送")
    expect(page.locator(".msg.waiting")).to_have_count(0)
    page.reload()  # the push shown once, not again
    expect(page.locator("#log")).to_have_attribute("data-polls", re.compile(r"\d"),
                                                    timeout=POLLED)
    expect(page.locator(".msg.pushed", has_text="已通过「入户核实」")).to_have_count(1)
    page.close()
