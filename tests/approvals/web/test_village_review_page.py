"""村民主评议 on the phone: impossible votes and a verdict against the vote are refused with
the answers kept; the minutes' photo is kept with the vote."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from approvals.record.definitions import Stage
from approvals.record.models import Household, Task
from tests.db import session_scope
from tests.support.phone import open_case, sign_in
from tests.support.web import shot
from tests.support.world import World

pytestmark = pytest.mark.slow


def test_twelve_present_and_fifteen_for_is_refused_on_the_phone(
        world: World, phone: Any) -> None:
    case_id = world.apply(world.household("东沟村"))
    world.approve_through(case_id, Stage.VILLAGE_REVIEW)
    with session_scope() as s:
        head = s.get_one(Household, world.case(case_id).household_id).head.name
    phone.goto("/inbox")
    sign_in(phone, "刘书记")
    open_case(phone, head)
    phone.get_by_label("应到人数").fill("15")
    phone.get_by_label("参会人数").fill("12")
    phone.get_by_label("同意票数").fill("15")
    phone.get_by_text("通过", exact=True).click()
    phone.get_by_role("button", name="确认通过").click()
    alert = phone.get_by_role("alert")
    expect(alert).to_contain_text("同意、反对、弃权票数合计15票，多于参会人数（12人）")
    expect(phone.get_by_label("同意票数")).to_have_value("15")  # the answers are kept
    shot(phone, "village-review-refused")
    assert world.stage(case_id) == Stage.VILLAGE_REVIEW

    # a vote that did not pass cannot be approved; it is rejected, with its minutes kept
    phone.get_by_label("同意票数").fill("5")
    phone.get_by_label("反对票数").fill("7")
    phone.get_by_text("通过", exact=True).click()
    phone.get_by_role("button", name="确认通过").click()
    expect(phone.get_by_role("alert")).to_contain_text("表决未通过：同意5票，未超过参会12人的一半")
    phone.locator("#photos").set_input_files(files=[{
        "name": "minutes.jpg", "mimeType": "image/jpeg",
        "buffer": b"\xff\xd8\xff\xe0" + b"minutes" * 100 + b"\xff\xd9"}])
    phone.get_by_text("不予纳入", exact=True).click()
    phone.locator(".p-rejected select").select_option(index=1)
    phone.get_by_role("button", name="确认不予纳入").click()
    expect(phone.get_by_text("村民主评议不予纳入")).to_be_visible()
    with session_scope() as s:
        task = s.scalars(select(Task).where(Task.case_id == case_id,
                                            Task.stage == Stage.VILLAGE_REVIEW)).one()
    assert (task.data["attendance"], task.data["votes_for"], task.data["votes_against"]) == (
        12, 5, 7)
    assert len(task.data["photos"]) == 1
