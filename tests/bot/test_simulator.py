"""The chat simulator of `make run`: real signed messages to the real webhook, dev_mode only."""

from __future__ import annotations

import re
import threading

import requests
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from approvals.record.models import Cadre, Case, Place, Verdict
from fangfan.app import create_app
from fangfan.services import Services
from notifications.dispatch import dispatch
from tests.db import session_scope
from tests.support.world import World, roster_head


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
