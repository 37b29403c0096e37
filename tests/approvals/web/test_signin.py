"""Signing in as in production: WeChat's 网页授权 (the fake WeChat on 127.0.0.1 plays its
sign-in page and API), a one-time code binding the cadre's WeChat the first time."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from approvals.record import bindings
from approvals.record.models import Cadre
from fangfan.services import Services
from tests.bot.fake_api import FakeWeChatApi
from tests.db import session_scope
from tests.support.web import cadre_id
from tests.support.world import World

pytestmark = pytest.mark.slow


def issue(world: World, name: str) -> str:
    with session_scope() as s:
        return bindings.issue_code(s, cadre_id(name), now=world.clock.now(), valid_days=7)


def test_first_sign_in_binds_with_the_code_then_wechat_alone_signs_in(
        world: World, wechat: FakeWeChatApi, production_site: str, browser: Any) -> None:
    case_id = world.apply(world.household("东沟村"))
    task_id = world.open_task(case_id).id
    code = issue(world, "刘书记")
    wechat.browser_openid = "o_cadre_liu"
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                                  base_url=production_site)
    page = context.new_page()
    page.goto(f"/t/{task_id}")  # the reminder's link, opened inside WeChat
    expect(page).to_have_url(re.compile(r"/bind\b"))
    expect(page.get_by_role("button", name="绑定并登录")).to_be_visible()
    expect(page.get_by_text("演示模式")).to_have_count(0)  # no demo list in production
    page.get_by_label("绑定码").fill("0000-0000-0000-0000")
    page.get_by_role("button", name="绑定并登录").click()
    expect(page.get_by_role("alert").get_by_text("绑定码不正确")).to_be_visible()
    page.get_by_label("绑定码").fill(code)
    page.get_by_role("button", name="绑定并登录").click()
    expect(page).to_have_url(re.compile(rf"/c/{case_id}#task$"))  # straight to the task
    expect(page.locator(".bar")).to_contain_text("刘书记")
    with session_scope() as s:
        cadre = s.get_one(Cadre, cadre_id("刘书记"))
        assert cadre.openid == "o_cadre_liu" and cadre.bind_code_hash is None
    context.close()

    # another day, another browser: WeChat says who it is, no code asked
    context = browser.new_context(base_url=production_site, locale="zh-CN")
    page = context.new_page()
    page.goto("/inbox")
    expect(page).to_have_url(re.compile(r"^[^?#]*/inbox([?#]|$)"))
    expect(page.locator(".bar")).to_contain_text("刘书记")
    context.close()


def test_a_used_or_expired_code_does_not_bind(world: World, services: Services) -> None:
    code = issue(world, "王审核")
    with session_scope() as s:
        assert bindings.bind(s, code, "o_wang", session_key="a", now=world.clock.now()).cadre_id
    with session_scope() as s:
        again = bindings.bind(s, code, "o_someone_else", session_key="b", now=world.clock.now())
    assert again.cadre_id is None and "绑定码不正确" in (again.refusal or "")
    late = issue(world, "赵审定")
    world.clock.advance(days=8)
    with session_scope() as s:
        expired = bindings.bind(s, late, "o_zhao", session_key="c", now=world.clock.now())
    assert expired.cadre_id is None and "绑定码已过期" in (expired.refusal or "")
    with session_scope() as s:
        assert s.scalar(select(Cadre.openid).where(Cadre.id == cadre_id("赵审定"))) is None


def test_a_code_is_read_out_and_typed_loosely(world: World) -> None:
    """16 characters of Crockford's base32 in groups: lower case, no dashes, spaces, O for 0
    and I or L for 1 all find the same code."""
    code = issue(world, "王审核")
    assert len(code) == 19 and code.count("-") == 3
    assert all(c in bindings.ALPHABET for c in code.replace("-", ""))
    typed = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    assert bindings.split(typed) == bindings.split(code)
    with session_scope() as s:
        assert bindings.bind(s, typed, "o_wang", session_key="a", now=world.clock.now()
                             ).cadre_id == cadre_id("王审核")


def test_a_forged_oauth_callback_signs_nobody_in(
        world: World, wechat: FakeWeChatApi, production_site: str, browser: Any) -> None:
    context = browser.new_context(base_url=production_site, locale="zh-CN")
    page = context.new_page()
    page.goto("/login/wechat?code=code-1&state=guessed")
    expect(page.get_by_text("登录链接已失效")).to_be_visible()
    page.goto("/inbox")  # still not signed in: WeChat is asked again
    expect(page).to_have_url(re.compile(r"/bind\b"))
    expect(page.locator(".bar")).to_have_count(0)
    context.close()
