"""The supervisors' dashboard against a known data set: every figure, its drill-down list,
and why each stuck case is stuck; screenshots at phone and desktop sizes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from approvals.record.definitions import Stage
from approvals.record.models import Place
from tests.db import session_scope
from tests.support.phone import sign_in
from tests.support.web import Desk, cadre_id, shot
from tests.support.world import World


def known(world: World) -> dict[str, int]:
    """Monday 2 Nov: two at 入户核实 in 东沟村 (one goes overdue), one at 乡镇审核 in 西坡村,
    one at 入户核实 in 南滩村; then nine days pass."""
    cases = {"late_dg": world.apply(world.household("东沟村", 0)),
             "review_xp": world.apply(world.household("西坡村", 0)),
             "late_nt": world.apply(world.household("南滩村", 0))}
    world.approve_through(cases["review_xp"], Stage.TOWNSHIP_AUDIT)
    world.clock.advance(days=9)  # 入户核实 (3 working days) is long past for the first two
    cases["fresh_dg"] = world.apply(world.household("东沟村", 1))
    return cases


def test_the_figures_and_their_lists_match_the_data(app: Flask, world: World) -> None:
    cases = known(world)
    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    page = county.get("/dashboard").text
    stages = dict(re.findall(r"<tr><td>([^<]+)</td><td class=\"n\"><a href=\"[^\"]*stage=[^\"]*\">"
                             r"(\d+)</a>", page))
    assert stages == {"入户核实": "3", "村民主评议": "0", "公示": "0", "乡镇审核": "1",
                      "县级比对审定": "0"}
    assert re.search(r'class="big" href="[^"]*">4</a> 件，其中超期 <a class="big late"[^>]*>(\d+)<',
                     page
                     ).group(1) == "3"  # the two at 入户核实 and the township audit
    places = re.findall(r'<tr><td>([^<]+)</td><td class="n"><a href="[^"]*place=(\d+)'
                        r'&amp;overdue=1">(\d+)</a>', page)
    assert {name: int(n) for name, _, n in places} == {"青山镇": 2, "河湾乡": 1}
    cadres = dict(re.findall(r'<tr><td>([^<]+)</td><td class="n"><a href="[^"]*cadre=\d+'
                             r'&amp;overdue=1">(\d+)</a>', page))
    assert cadres == {"刘书记": "1", "朱书记": "1", "王审核": "1"}

    listed = county.get("/dashboard/cases?overdue=1").text
    assert "共3件" in listed
    assert re.search(r"刘书记（村干部/驻村工作队）自11月2日起办理，11月5日的期限已过\d+个工作日",
                     listed)
    township = Desk(app.test_client()).signs_in(cadre_id("王审核"))  # 青山镇 only
    assert "共3件" in township.get("/dashboard/cases").text
    assert "南滩村" not in township.get("/dashboard/cases").text
    by_stage = county.get("/dashboard/cases?stage=township_audit").text
    assert "共1件" in by_stage and world.case(cases["review_xp"]).number in by_stage
    fresh = county.get("/dashboard/cases?age=0").text
    assert "共1件" in fresh and world.case(cases["fresh_dg"]).number in fresh
    with session_scope() as s:
        dg = s.scalar(select(Place.id).where(Place.name == "东沟村"))
    assert "共2件" in county.get(f"/dashboard/cases?place={dg}").text
    assert "共0件" in county.get("/dashboard/cases?risk=disaster").text
    assert "共4件" in county.get("/dashboard/cases?risk=illness").text
    assert Desk(app.test_client()).signs_in(cadre_id("刘书记")).get(
        "/dashboard").status_code == 403


@pytest.mark.slow
def test_the_dashboard_on_a_phone_and_a_desk(world: World, phone: Any, browser: Any,
                                             site: str) -> None:
    known(world)
    phone.goto("/dashboard")
    sign_in(phone, "钱督导")
    phone.locator("#c-stage canvas").wait_for()  # a locator wait: the page's CSP forbids eval
    shot(phone, "dashboard-phone")
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                               base_url=site).new_page()
    desk.goto("/dashboard")
    sign_in(desk, "钱督导")
    desk.locator("#c-week canvas").wait_for()
    shot(desk, "dashboard-desktop")
    desk.locator("#t-place a").first.click()  # a figure opens its list
    expect(desk).to_have_url(re.compile(r"/dashboard/cases\?"))
    expect(desk.locator("#cases")).to_contain_text("的期限已过")
    desk.context.close()
