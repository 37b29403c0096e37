"""Lists that behave, as a supervisor uses them: a figure's drill-down shows every filter it
set and keeps it when another changes; a page past the end shows the last page; notices are
listed by village; the ledger, the import and the notices are a tap from the dashboard for
the roles that may use them; every download has a Chinese name (RFC 5987), every time."""

from __future__ import annotations

import datetime as dt
import html
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from approvals.desk import dashboard
from approvals.record.calendar import local_date
from approvals.record.definitions import Stage
from approvals.record.models import Household, Member, Place
from approvals.web.download import EXAMPLE_NAMES, disposition
from fangfan.demo import id_number
from tests.approvals.web.test_dashboard import known
from tests.db import session_scope
from tests.support.phone import sign_in
from tests.support.web import Desk, cadre, cadre_id, shot
from tests.support.world import World


class _Form(HTMLParser):
    """What a browser sends when the form `form_id` is submitted as it stands: hidden and
    text inputs, checked boxes, each select's selected option (its first when none is)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []
        self.select: str | None = None
        self.options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self.select, self.options = a.get("name"), []
        elif tag == "option" and self.select:
            self.options.append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        if tag == "select" and self.select:
            chosen = [v for v, on in self.options if on] or [self.options[0][0]]
            self.fields.append((self.select, chosen[0]))
            self.select = None


def submitted(page: str, form_id: str = "filters", **changed: str) -> str:
    """The query the form sends, non-empty fields only (as the list reads them), after the
    supervisor changes `changed`."""
    form = _Form(form_id)
    form.feed(page)
    fields = dict(form.fields) | changed
    return urlencode({k: v for k, v in fields.items() if v})


def chips(page: str) -> dict[str, str]:
    """The filters the list shows as chips: what each says, and the list without it."""
    return {html.unescape(text).strip(): html.unescape(href) for href, text in re.findall(
        r'<a class="chip" data-key="[^"]+" href="([^"]+)"[^>]*>([^<]+)<b', page)}


def link(page: str, table: str, row: str) -> str:
    """The drill-down link of a dashboard table's row."""
    body = re.search(rf'<table id="{table}">(.*?)</table>', page, re.S).group(1)  # type: ignore[union-attr]
    return html.unescape(re.search(  # type: ignore[union-attr]
        rf'<tr><td>{row}</td><td class="n"><a href="([^"]+)"', body).group(1))


def test_a_drill_down_shows_its_filters_and_keeps_them_when_another_changes(
        app: Flask, world: World) -> None:
    cases = known(world)
    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    board = county.get("/dashboard").text

    # 刘书记's overdue cases: the holder, invisible before, is a chip beside 只看超期
    held = county.get(link(board, "t-cadre", "刘书记")).text
    assert "共1件" in held and world.case(cases["late_dg"]).number in held
    assert set(chips(held)) == {"经办人：刘书记", "只看超期"}
    assert 'name="overdue" value="1" checked' in held

    # a second filter chosen and 筛选 tapped: both kept, and the other one too
    query = submitted(held, stage=Stage.HOME_VERIFICATION)
    assert parse_qs(query) == {"cadre": [str(cadre_id("刘书记"))], "overdue": ["1"],
                               "stage": [Stage.HOME_VERIFICATION], "sort": ["due"]}
    both = county.get(f"/dashboard/cases?{query}").text
    assert set(chips(both)) == {"经办人：刘书记", "只看超期", "环节：入户核实"}
    assert "共1件" in both
    # each chip takes away its own filter and nothing else
    without_holder = county.get(chips(both)["经办人：刘书记"]).text
    assert set(chips(without_holder)) == {"只看超期", "环节：入户核实"}
    assert "共2件" in without_holder  # 东沟村's and 南滩村's, both late at 入户核实

    # a figure by age: its band is the selected option of its own control, and a chip
    fresh = county.get(link(board, "t-age", "0–2天")).text
    assert set(chips(fresh)) == {"在本环节0–2天"}
    assert re.search(r'<select class="weui-select" id="age" name="age">.*?'
                     r'<option value="0" selected>0–2天</option>', fresh, re.S)
    kept = county.get(f"/dashboard/cases?{submitted(fresh, overdue='1')}").text
    assert set(chips(kept)) == {"在本环节0–2天", "只看超期"} and "共0件" in kept

    # a township's overdue cases, then a source: the place stays selected
    township = county.get(link(board, "t-place", "青山镇")).text
    assert set(chips(township)) == {"青山镇", "只看超期"} and "共2件" in township
    by_source = county.get(f"/dashboard/cases?{submitted(township, source='wechat')}").text
    assert set(chips(by_source)) == {"青山镇", "只看超期", "来源：农户自主申报"}
    with session_scope() as s:
        qs = s.scalar(select(Place.id).where(Place.name == "青山镇"))
    assert f'<option value="{qs}" selected>青山镇' in by_source
    # the dashboard's scope goes with every figure's link, the holders' too
    scoped = county.get(f"/dashboard?place={qs}").text
    in_township = county.get(link(scoped, "t-cadre", "刘书记")).text
    assert set(chips(in_township)) == {"青山镇", "经办人：刘书记", "只看超期"}

    # a week's new cases: the dates are one chip and stay in their inputs
    week = county.get(link(board, "t-week", "11/2起")).text
    assert set(chips(week)) == {"申请日期：2026-11-02至2026-11-08"}
    assert 'name="from" value="2026-11-02"' in week and 'name="to" value="2026-11-08"' in week
    assert parse_qs(submitted(week, risk="illness")).keys() == {"from", "to", "risk", "sort"}

    # what the form could not show is not applied behind its back
    odd = county.get("/dashboard/cases?stage=nonsense&place=999999&risk=x&sort=y").text
    assert chips(odd) == {} and "共4件" in odd
    huge = county.client.get(f"/dashboard/cases?cadre={'9' * 30}&age=99&page=2147483647",
                             follow_redirects=True)
    assert huge.status_code == 200 and chips(huge.text) == {} and "共4件" in huge.text
    assert "没有符合条件的案件" not in huge.text


def test_a_page_past_the_end_shows_the_last_page(app: Flask, world: World) -> None:
    known(world)
    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    res = county.get("/dashboard/cases?overdue=1&page=99")
    assert res.status_code == 302
    assert parse_qs(urlsplit(res.headers["Location"]).query) == {"overdue": ["1"],
                                                                 "page": ["1"]}
    last = county.client.get("/dashboard/cases?overdue=1&page=99", follow_redirects=True).text
    assert "共3件" in last and "没有符合条件的案件" not in last
    assert set(chips(last)) == {"只看超期"}
    # nothing at all is still said plainly, on its one page
    none = county.get("/dashboard/cases?risk=disaster&page=99")
    assert none.status_code == 200 and "共0件" in none.text and "没有符合条件的案件" in none.text
    for page in ("-5", "0", "abc", "9" * 40):  # bounded: never an error page
        assert county.client.get(f"/dashboard/cases?page={page}",
                                 follow_redirects=True).status_code == 200


def test_past_the_end_of_two_pages_is_the_second(app: Flask, world: World) -> None:
    with session_scope() as s:  # the demo county's households, and enough more in 东沟村
        village = s.scalars(select(Place).where(Place.name == "东沟村")).one()
        for i in range(dashboard.PAGE):
            s.add(Household(village=village, group_name="5组", members=[Member(
                name=f"新户{i}", relation="户主", is_head=True,
                id_number=id_number(9000 + i, dt.date(1970, 1, 1 + i % 28), male=True))]))
        s.flush()
        households = s.scalars(select(Household.id).order_by(Household.id)).all()
    for household in households[:dashboard.PAGE + 3]:
        world.apply(household)
    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    first = county.get("/dashboard/cases").text
    total = int(re.search(r"共(\d+)件", first).group(1))  # type: ignore[union-attr]
    assert total == dashboard.PAGE + 3 and "第1/2页" in first
    last = county.client.get("/dashboard/cases?page=7&sort=opened", follow_redirects=True).text
    assert f"共{total}件" in last and "第2/2页" in last
    assert len(re.findall(r'class="weui-cell weui-cell_access" href="/c/\d+"', last)) == (
        total - dashboard.PAGE)
    assert "sort=opened" in re.search(r'<a href="([^"]+)">上一页', last).group(1)  # type: ignore[union-attr]


def test_the_dashboard_offers_what_each_role_may_open(app: Flask, world: World) -> None:
    def offered(page: str) -> dict[str, str]:
        body = re.search(r'<p class="pad links" id="desk-links">(.*?)</p>', page).group(1)  # type: ignore[union-attr]
        return {text: html.unescape(href)
                for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', body)}

    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    links = offered(county.get("/dashboard").text)
    assert set(links) == {"公示", "导出台账", "导入名单"}
    for href in links.values():
        assert county.get(href).status_code == 200
    township = Desk(app.test_client()).signs_in(cadre_id("王审核"))
    links = offered(township.get("/dashboard").text)
    assert set(links) == {"公示", "导出台账"}  # the import is the county's
    for href in links.values():
        assert township.get(href).status_code == 200
    assert township.get("/import").status_code == 403
    # the dashboard's scope goes with the ledger: the place chosen, chosen again there
    with session_scope() as s:
        dg = s.scalar(select(Place.id).where(Place.name == "东沟村"))
    ledger = offered(county.get(f"/dashboard?place={dg}").text)["导出台账"]
    assert f'<option value="{dg}" selected>' in county.get(ledger).text


def test_notices_are_listed_by_village_within_reach(app: Flask, world: World) -> None:
    for village, index in (("东沟村", 0), ("东沟村", 1), ("南滩村", 0)):
        world.approve_through(world.apply(world.household(village, index)), Stage.PUBLIC_NOTICE)
    world.apply(world.household("西坡村", 0))  # not in 公示: not listed
    with session_scope() as s:
        ids = dict(s.execute(select(Place.name, Place.id).where(Place.level == "village")).all())

    def listed(desk: Desk) -> dict[str, str]:
        page = desk.get("/notices").text
        return {name: n for name, n in re.findall(
            r'<a href="/notices/\d+">([^<]+)</a> <span class="sub">[^<]*· (\d+)户', page)}

    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    assert listed(county) == {"东沟村": "2", "南滩村": "1"}
    page = county.get("/notices").text
    assert f'href="/notices/{ids["东沟村"]}.pdf"' in page
    assert "东沟村防返贫监测对象识别公示" in county.get(f"/notices/{ids['东沟村']}").text
    assert listed(Desk(app.test_client()).signs_in(cadre_id("王审核"))) == {"东沟村": "2"}
    assert listed(Desk(app.test_client()).signs_in(cadre_id("刘书记"))) == {"东沟村": "2"}
    quiet = Desk(app.test_client()).signs_in(cadre("village_cadre", "西坡村"))
    assert listed(quiet) == {} and "目前没有在公示期的农户" in quiet.get("/notices").text


def test_every_download_is_saved_under_a_chinese_name(app: Flask, world: World) -> None:
    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    day = local_date(world.clock.now())
    with session_scope() as s:
        whole = s.scalar(select(Place.id).where(Place.name == "示范县"))
    saved = {f"/ledger.xlsx?place={whole}": (f"台账_示范县_{day}.xlsx",
                                             f"ledger-{whole}-{day}.xlsx")}
    saved |= {f"/import/examples/{name}": (chinese, name) for name, chinese in
              EXAMPLE_NAMES.items()}
    for url, (name, fallback) in saved.items():
        res = county.get(url)
        assert res.status_code == 200, url
        assert res.headers["Content-Disposition"] == (  # RFC 5987, and ASCII for the rest
            f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}")
        assert res.headers["Cache-Control"] == "no-store"  # a second tap fetches it anew
    # a photo opens in the page, and is saved from it under the case's number
    case_id = world.apply(world.household("东沟村", 0))
    world.approve_through(case_id, Stage.PUBLIC_NOTICE)
    world.posts_notice(case_id)
    task, number = world.open_task(case_id).id, world.case(case_id).number
    res = county.get(f"/c/{case_id}/photos/task/{task}/0")
    assert res.status_code == 200 and res.headers["Content-Disposition"] == (
        f"inline; filename=\"photo-{number}_{task}-1.jpg\"; "
        f"filename*=UTF-8''{quote(f'照片_{number}_{task}-1.jpg')}")
    # the ASCII name can never break the header, whatever it is made of
    assert disposition("台账.xlsx", 'a"b\\c\r\n台.xlsx') == (
        "attachment; filename=\"a_b_c___.xlsx\"; "
        f"filename*=UTF-8''{quote('台账.xlsx')}")


def test_no_page_sets_a_file_name_but_through_the_one_helper() -> None:
    web = Path(__file__).resolve().parents[3] / "approvals" / "web"
    for path in web.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name != "download.py":
            assert "Content-Disposition" not in text and "download_name" not in text, path.name


@pytest.mark.slow
def test_a_supervisor_drills_down_adds_a_filter_and_keeps_both(
        world: World, phone: Any) -> None:
    known(world)
    phone.goto("/dashboard")
    sign_in(phone, "钱督导")
    expect(phone.locator("#desk-links")).to_contain_text("导入名单")
    phone.locator("#t-cadre tr", has_text="刘书记").get_by_role("link").click()
    expect(phone).to_have_url(re.compile(r"/dashboard/cases\?.*cadre=\d+"))
    chip_list = phone.locator("#chips .chip")
    expect(chip_list).to_have_count(2)
    expect(phone.locator("#chips")).to_contain_text("经办人：刘书记")
    expect(phone.locator("#chips")).to_contain_text("只看超期")
    expect(phone.get_by_role("checkbox", name="只看超期")).to_be_checked()

    phone.select_option("#stage", label="入户核实")
    phone.get_by_role("button", name="筛选").click()
    expect(phone).to_have_url(re.compile(r"stage=home_verification"))
    expect(chip_list).to_have_count(3)
    expect(phone.locator("#chips")).to_contain_text("经办人：刘书记")
    expect(phone.locator("#chips")).to_contain_text("环节：入户核实")
    expect(phone.locator("#cases")).to_contain_text("刘书记（村干部/驻村工作队）")
    expect(phone.locator("#stage")).to_have_value("home_verification")
    expect(phone.get_by_role("checkbox", name="只看超期")).to_be_checked()
    shot(phone, "case-list-filters")

    phone.locator("#chips .chip", has_text="经办人").click()  # one tap takes it away
    expect(chip_list).to_have_count(2)
    expect(phone.locator("#chips")).not_to_contain_text("经办人")
    expect(phone.locator("#stage")).to_have_value("home_verification")


@pytest.mark.slow
def test_a_second_tap_on_download_downloads_again(world: World, phone: Any) -> None:
    known(world)
    phone.goto("/dashboard")
    sign_in(phone, "钱督导")
    phone.locator("#desk-links").get_by_role("link", name="导出台账").click()
    expect(phone).to_have_url(re.compile(r"/ledger"))
    day = local_date(world.clock.now())
    for _ in range(2):
        with phone.expect_download() as download:
            phone.get_by_role("button", name="下载 Excel").click()
        assert download.value.suggested_filename == f"台账_示范县_{day}.xlsx"
        assert download.value.failure() is None
