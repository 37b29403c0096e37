"""Pairing (结对帮扶) as the texts say: a household's 帮扶联系人 may be a county or township
cadre or the resident work team, not only a helper placed at the village; a monitored
household without an active pairing is an alert; a pairings import ends the previous pairing
instead of opening a second."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from approvals.assistance import measures
from approvals.desk import imports
from approvals.record.calendar import LOCAL
from approvals.record.definitions import Stage
from approvals.record.models import Cadre, Member, Pairing, Place
from notifications import reminders
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.db import session_scope
from tests.support.web import Desk, cadre_id
from tests.support.world import World

RULES = reminders.Rules(due_soon_working_days=1, escalate_after_working_days=2)


def add_cadre(name: str, role: str, place: str, phone: str) -> int:
    with session_scope() as s:
        where = s.scalars(select(Place.id).where(Place.name == place)).one()
        cadre = Cadre(name=name, role=role, place_id=where, phone=phone, unit="县直单位",
                      active=True)
        s.add(cadre)
        s.flush()
        return cadre.id


def options(page: str) -> list[str]:
    select_ = page[page.index('id="paired_cadre_id"'):]
    select_ = select_[:select_.index("</select>")]
    return [o.split(">", 1)[1].split("<", 1)[0] for o in select_.split("<option")[1:]]


def test_the_candidates_are_county_and_township_cadres_the_work_team_and_helpers(
        app: Flask, world: World) -> None:
    add_cadre("孙县直", "county_cadre", "示范县", "13911110001")
    township = add_cadre("周乡干", "township_cadre", "青山镇", "13911110002")
    add_cadre("吴乡干", "township_cadre", "河湾乡", "13911110003")  # another township's
    add_cadre("郑审核", "township_auditor", "青山镇", "13911110004")  # not pairable
    case_id = world.apply(world.household("东沟村"))
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    page = Desk(app.test_client()).signs_in(cadre_id("赵审定")).get(f"/c/{case_id}").text
    shown = options(page)
    # the village's helpers and its village cadre / work team, then the township's, the county's
    assert "孙县直（县直单位）" in shown and "周乡干（县直单位）" in shown
    assert any(o.startswith("刘书记") for o in shown)  # 村干部/驻村工作队 of 东沟村
    assert sum(1 for o in shown if "帮扶" in o or "联络" in o) == 2  # 东沟村's two helpers
    assert not any(o.startswith(("吴乡干", "郑审核", "钱督导", "赵审定")) for o in shown)
    assert shown.index("周乡干（县直单位）") < shown.index("孙县直（县直单位）")
    # the county pairs the household with the township cadre: the decision accepts it
    form = world.form(case_id, Stage.COUNTY_APPROVAL) | {"paired_cadre_id": township}
    world.decides(case_id, world.approver(case_id), data=form)
    world.advance(case_id)
    with session_scope() as s:
        assert s.scalars(select(Pairing.cadre_id).where(
            Pairing.household_id == world.case(case_id).household_id,
            Pairing.ended_on.is_(None))).all() == [township]


def test_the_handover_lists_township_and_county_cadres_who_hold_pairings(
        app: Flask, world: World) -> None:
    add_cadre("孙县直", "county_cadre", "示范县", "13911110001")
    add_cadre("周乡干", "township_cadre", "青山镇", "13911110002")
    page = Desk(app.test_client()).signs_in(cadre_id("钱督导")).get("/handover").text
    assert "孙县直（示范县 · 县直帮扶干部）" in page and "周乡干（青山镇 · 乡镇帮扶干部）" in page
    assert "赵审定（" not in page  # the county's approver holds no pairing


def _enrol(world: World, village: str = "东沟村", index: int = 0) -> int:
    case_id = world.apply(world.household(village, index))
    world.approve_through(case_id, None)
    return world.case(case_id).household_id


def test_a_monitored_household_without_an_active_pairing_is_an_alert(
        app: Flask, world: World) -> None:
    household = _enrol(world)
    paired = _enrol(world, index=1)  # still paired: no alert for it
    today = world.clock.now().date()
    with session_scope() as s:
        for p in s.scalars(select(Pairing).where(Pairing.household_id == household)):
            p.ended_on = today  # its helper left with no successor
        village_cadre = s.scalar(select(Cadre.id).join(Place).where(
            Cadre.role == "village_cadre", Place.name == "东沟村"))
        s.get_one(Cadre, village_cadre).openid = "o_village"
        head = s.scalars(select(Member.name).where(Member.household_id == household,
                                                   Member.is_head)).one()
    with session_scope() as s:
        assert [h for h, _, _ in measures.without_pairing(s)] == [household]
    # the household page says so to whoever opens it
    page = Desk(app.test_client()).signs_in(cadre_id("刘书记")).get(f"/h/{household}").text
    assert "这户是监测对象，目前没有帮扶联系人，请尽快确定结对。" in page
    assert "目前没有帮扶联系人" not in Desk(app.test_client()).signs_in(
        cadre_id("刘书记")).get(f"/h/{paired}").text
    # the village cadres hear of it in their digest from the next working day
    day = today + dt.timedelta(days=1)
    while not world.services.calendar.is_workday(day):
        day += dt.timedelta(days=1)
    world.clock.current = dt.datetime.combine(day, dt.time(8, 30), LOCAL)
    with session_scope() as s:
        found = reminders.without_pairing(s, day, world.services.calendar, RULES)
        assert [(c, i["household_id"]) for c, i in found] == [(village_cadre, household)]
        reminders.sweep(s, world.clock.now(), world.services.calendar, RULES)
    with session_scope() as s:
        [digest] = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == f"cadre:{village_cadre}"))
        text = render(digest.event, digest.params, "https://ff.example.cn").text
    since = f"{today.month}月{today.day}日"
    assert f"【未结对】东沟村 {head} 是监测对象，{since}起没有帮扶联系人" in text
    # paired again: the alert is gone
    with session_scope() as s:
        s.add(Pairing(household_id=household, cadre_id=cadre_id("杨帮扶"), started_on=day))
    with session_scope() as s:
        assert measures.without_pairing(s) == []


def _head_id(household: int) -> str:
    with session_scope() as s:
        return s.scalars(select(Member.id_number).where(Member.household_id == household,
                                                        Member.is_head)).one()


def _import(world: World, table: list[dict[str, str]]) -> imports.Result:
    with session_scope() as s:
        return imports.run(s, "pairings", table, world.cadre("supervisor"),
                           now=world.clock.now(), roles=world.config.roles)


def test_a_pairings_import_ends_the_previous_pairing_instead_of_opening_a_second(
        world: World) -> None:
    household = world.household("东沟村")
    with session_scope() as s:
        first, second = s.execute(select(Cadre.name, Cadre.phone).join(Place).where(
            Cadre.role == "helper", Place.name == "东沟村").order_by(Cadre.id)).all()
    head = _head_id(household)

    def row(cadre: tuple[str, str], start: str) -> dict[str, str]:
        return {"户主身份证号": head, "帮扶联系人": cadre[0], "联系人电话": cadre[1],
                "开始日期": start}

    assert _import(world, [row(first, "2026-10-01")]).added == 1
    result = _import(world, [row(second, "2026-11-01")])
    assert result.ok and result.added == 1
    assert _import(world, [row(second, "2026-11-01")]).unchanged == 1  # the same file again
    with session_scope() as s:
        pairings = s.execute(select(Cadre.name, Pairing.started_on, Pairing.ended_on)
                             .join(Cadre, Cadre.id == Pairing.cadre_id)
                             .where(Pairing.household_id == household)
                             .order_by(Pairing.id)).all()
    assert [tuple(p) for p in pairings] == [
        (first[0], dt.date(2026, 10, 1), dt.date(2026, 11, 1)),
        (second[0], dt.date(2026, 11, 1), None)]


def test_a_pairings_import_takes_county_cadres_and_refuses_roles_never_paired(
        world: World) -> None:
    add_cadre("孙县直", "county_cadre", "示范县", "13911110001")
    head = _head_id(world.household("东沟村"))
    result = _import(world, [
        {"户主身份证号": head, "帮扶联系人": "孙县直", "联系人电话": "13911110001",
         "开始日期": "2026-11-01"}])
    assert result.ok and result.added == 1
    with session_scope() as s:
        supervisor = s.execute(select(Cadre.name, Cadre.phone).where(
            Cadre.role == "supervisor")).one()
    refused = _import(world, [{"户主身份证号": head, "帮扶联系人": supervisor[0],
                               "联系人电话": supervisor[1], "开始日期": "2026-11-02"}])
    assert [str(p) for p in refused.problems] == [
        "第2行「帮扶联系人」：应为帮扶联系人、村干部/驻村工作队、乡镇帮扶干部、县直帮扶干部"]
