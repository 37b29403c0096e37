"""回电请求 on the phone pages: the cadre who must call sees the card in 我的待办 (who asked,
the village, the phone as their role may see it, what they said, by when in Beijing time,
late ones marked), taps 已回电 with a note, and it is gone; the record keeps who and when.
Nobody outside the village may close it; the message's link opens the card; the supervisors'
dashboard counts the late ones."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select, update

from approvals.procedure import callbacks
from approvals.record.calendar import LOCAL
from approvals.record.models import Cadre, CallbackRequest, CallbackStatus, Member, Pairing
from tests.db import session_scope
from tests.support.phone import sign_in
from tests.support.web import Desk, cadre_id, shot
from tests.support.world import World

SAID = "老伴住院了，想问问能不能申请帮扶"


def asks(world: World, household_id: int, openid: str = "o_farmer") -> int:
    with session_scope() as s:
        return callbacks.request(
            s, household_id=household_id, village_id=None, openid=openid, said=SAID,
            now=world.clock.now(), calendar=world.services.calendar, working_days=1,
            role_labels={k: r.label for k, r in world.config.roles.items()}).request_id


def head(household_id: int) -> Member:
    with session_scope() as s:
        return s.scalars(select(Member).where(Member.household_id == household_id,
                                              Member.is_head)).one()


def record(request_id: int) -> CallbackRequest:
    with session_scope() as s:
        return s.get_one(CallbackRequest, request_id)


def test_the_cadre_sees_the_card_and_closes_it(app: Flask, world: World) -> None:
    household = world.household("东沟村")
    farmer = head(household)
    request_id = asks(world, household)  # Mon 2 Nov 9:00, by Tue 3 Nov
    liu = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    page = liu.get("/inbox").text
    before = int(re.search(r"共(\d+)件", page).group(1))
    assert "回电请求" in page and f'id="callback-{request_id}"' in page
    assert farmer.name in page and "东沟村" in page and SAID in page
    assert f'href="tel:{farmer.phone}"' in page  # a personal-data role: in full, to dial
    assert "11月2日 09:00请求" in page and "请于11月3日（周二）前回电" in page
    assert SAID not in liu.get(f"/cb/{request_id}").headers["Location"]
    assert liu.get(f"/cb/{request_id}").headers["Location"].endswith(
        f"/inbox#callback-{request_id}")

    # outside the village: 403, and the card is not theirs to see
    chen = Desk(app.test_client()).signs_in(cadre_id("陈书记"))
    assert f"callback-{request_id}" not in chen.get("/inbox").text
    assert chen.post(f"/callbacks/{request_id}/done").status_code == 403
    # no CSRF token: refused as every form is
    assert liu.client.post(f"/callbacks/{request_id}/done").status_code == 400
    res = liu.post(f"/callbacks/{request_id}/done", note="长" * 201)
    assert res.status_code == 400 and "备注请不超过200字" in res.text

    world.clock.advance(hours=1, minutes=30)
    res = liu.post(f"/callbacks/{request_id}/done", note="已电话说明申请流程")
    page = liu.get(res.headers["Location"]).text
    assert "已记录回电" in page and f"callback-{request_id}" not in page
    assert f"共{before - 1}件" in page  # the count in the title counts the call-backs too
    row = record(request_id)
    assert (row.status, row.done_by, row.done_by_name, row.done_at, row.note) == (
        CallbackStatus.DONE, cadre_id("刘书记"), "刘书记", world.clock.now(), "已电话说明申请流程")
    res = liu.post(f"/callbacks/{request_id}/done")  # a second tap: said who did it
    assert "已由刘书记于11月2日10:30标记为已回电" in liu.get(res.headers["Location"]).text


def test_the_phone_is_masked_for_other_roles_and_late_ones_are_marked(
        app: Flask, world: World) -> None:
    household = world.household("东沟村")
    farmer = head(household)
    assert farmer.phone
    helper = cadre_id("杨帮扶")
    with session_scope() as s:  # paired with a township cadre: not a personal-data role
        s.execute(update(Cadre).where(Cadre.id == helper).values(role="township_cadre"))
        s.add(Pairing(household_id=household, cadre_id=helper, started_on=dt.date(2026, 10, 1)))
    asks(world, household)
    world.clock.current = dt.datetime(2026, 11, 5, 10, 0, tzinfo=LOCAL)  # Thursday: late
    page = Desk(app.test_client()).signs_in(helper).get("/inbox").text
    assert farmer.name in page and farmer.phone not in page
    assert f"{farmer.phone[:3]}****{farmer.phone[-4:]}" in page
    assert "已超期2个工作日" in page

    supervisor = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    board = supervisor.get("/dashboard").text
    assert re.search(r'id="callbacks".*?待回电 <span class="big">1</span> 件，其中超期 '
                     r'<span class="big late">1</span> 件', board, re.S)


@pytest.mark.slow
def test_a_cadre_taps_called_back_on_the_phone(world: World, phone: Any) -> None:
    household = world.household("东沟村")
    farmer = head(household)
    request_id = asks(world, household)
    phone.goto(f"/cb/{request_id}")  # the message's link: sign in, then the card
    sign_in(phone, "刘书记")
    expect(phone).to_have_url(re.compile(rf"/inbox#callback-{request_id}$"))
    card = phone.locator(f"#callback-{request_id}")
    expect(card).to_contain_text(farmer.name)
    expect(card).to_contain_text(SAID)
    expect(card.get_by_role("link", name=farmer.phone)).to_have_attribute(
        "href", f"tel:{farmer.phone}")
    shot(phone, "inbox-callback")
    card.get_by_label("回电情况").fill("已回电，下周入户")
    card.get_by_role("button", name="已回电").click()
    expect(phone.get_by_text("已记录回电。")).to_be_visible()
    expect(phone.locator(f"#callback-{request_id}")).to_have_count(0)
    row = record(request_id)
    assert (row.status, row.done_by_name, row.note) == (
        CallbackStatus.DONE, "刘书记", "已回电，下周入户")
    assert row.done_at == world.clock.now()
