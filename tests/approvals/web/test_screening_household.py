"""部门数据提示 on the household page: a household a screening run listed for a visit shows the
rule, its level and what the departments' data say, until the cadre records the visit."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.support import hits
from tests.support.phone import sign_in
from tests.support.web import shot
from tests.support.world import World


@pytest.mark.slow
def test_a_listed_household_shows_the_data_until_the_visit_is_recorded(
        world: World, phone: Any) -> None:
    household = world.household("北岭村", 3)
    assert hits.apply(world, [hits.assistance(household)]).listed == 1
    cadre = world.cadre("village_cadre", "北岭村")
    phone.goto("/inbox")
    sign_in(phone, cadre.name)
    phone.goto(f"/h/{household}")
    listed = phone.locator("#screening")
    expect(listed).to_contain_text("新纳入社会救助黄色预警")
    expect(listed).to_contain_text("民政数据：2026-05-05至2026-10-31有1条记录救助类型为临时救助")
    shot(phone, "household-screening-listed")
    phone.get_by_text("登记走访情况").click()
    phone.get_by_role("button", name="已走访").click()  # nothing said about the visit
    expect(phone.get_by_role("alert")).to_contain_text("请填写走访了解的情况")
    phone.get_by_label("走访情况").fill("临时救助已到位，家中无其他困难。")
    phone.get_by_role("button", name="已走访").click()
    expect(phone.get_by_text("已记录走访情况，部门数据提示已处理。")).to_be_visible()
    expect(phone.locator("#screening")).to_have_count(0)
    [hit] = hits.hits_of(household)
    assert hit.visited_at is not None
