"""The inbox (most urgent first, filters, search), batch approval, stand-ins and hand-over,
as a cadre uses them from the pages."""

from __future__ import annotations

import gzip
import re

import pytest
from flask import Flask
from sqlalchemy import select

from approvals.procedure import inbox as inbox_module
from approvals.record.definitions import Stage
from approvals.record.models import AuditEntry, CaseStatus, Household, Pairing, Task, TaskStatus
from tests.db import session_scope
from tests.support.web import Desk, board, cadre, cadre_id
from tests.support.world import World


def inbox_cases(page: str) -> list[int]:
    return [int(c) for c in re.findall(r'href="/c/(\d+)#task"', page)]


def test_the_inbox_puts_the_most_urgent_first_with_counts_and_filters(
        app: Flask, world: World) -> None:
    late = world.apply(world.household("东沟村", 0))
    world.clock.advance(days=5)  # 3 working days for 入户核实: the first is now overdue
    fresh = world.apply(world.household("东沟村", 1))
    review = world.apply(world.household("东沟村", 2))
    world.approve_through(review, Stage.VILLAGE_REVIEW)
    other_village = world.apply(world.household("西坡村", 0))
    desk = Desk(app.test_client()).signs_in(cadre_id("刘书记"))

    page = desk.get("/inbox").text
    assert inbox_cases(page)[0] == late and set(inbox_cases(page)) == {late, fresh, review}
    assert other_village not in inbox_cases(page)  # 西坡村 is not 刘书记's
    assert re.search(r'class="late">11月5日到期 · 超期\d+个工作日', page)  # the last day
    assert "入户核实 2" in page and "村民主评议 1" in page and "全部 3" in page
    assert inbox_cases(desk.get("/inbox?stage=village_review").text) == [review]
    number = world.case(fresh).number
    assert inbox_cases(desk.get(f"/inbox?q={number}").text) == [fresh]
    with session_scope() as s:
        name = s.get_one(Household, world.case(review).household_id).head.name
    assert review in inbox_cases(desk.get(f"/inbox?q={name}").text)
    assert "没有待办" in desk.get("/inbox?q=不存在的人").text

    township = Desk(app.test_client()).signs_in(cadre_id("王审核"))
    assert inbox_cases(township.get("/inbox").text) == []  # nothing at the township yet


def test_batch_approval_decides_each_case_on_its_own(app: Flask, world: World) -> None:
    cases = [world.apply(world.household("东沟村", i)) for i in range(3)]
    for case_id in cases:
        world.approve_through(case_id, Stage.TOWNSHIP_AUDIT)
    tasks = [world.open_task(c).id for c in cases]
    desk = Desk(app.test_client()).signs_in(cadre_id("王审核"))
    assert all(f'value="{t}"' in desk.get("/batch").text for t in tasks)
    res = desk.post("/batch", stage="township_audit", task=tasks, opinion="材料齐全，同意")
    assert res.status_code == 302
    assert "已通过 3 件" in desk.get(res.headers["Location"]).text
    with session_scope() as s:
        decided = s.scalars(select(AuditEntry).where(AuditEntry.action == "decide.approved",
                                                     AuditEntry.case_id.in_(cases))).all()
        assert sorted(e.payload["task"] for e in decided
                      if e.payload.get("stage") == Stage.TOWNSHIP_AUDIT) == sorted(tasks)
    for case_id in cases:
        world.advance(case_id)
        assert world.stage(case_id) == Stage.COUNTY_APPROVAL

    county = Desk(app.test_client()).signs_in(cadre_id("赵审定"))
    county_tasks = [world.open_task(c).id for c in cases]
    helper = cadre("helper", "东沟村")
    chosen = {f"{key}-{t}": value for t in county_tasks for key, value in (
        ("category", "sudden"), ("paired_cadre_id", helper), ("measure_kind", "健康"),
        ("measure_planned_on", "2026-11-30"))}
    res = county.post("/batch", stage="county_approval", task=county_tasks, opinion="",
                      **chosen)
    page = county.get(res.headers["Location"]).text
    assert "3 件没有办成：「部门数据比对情况」" in page  # the county must write what it compared
    county.post("/batch", stage="county_approval", task=county_tasks,
                opinion="与医保、民政数据比对一致", **chosen)
    for case_id in cases:
        world.advance(case_id)
        assert world.case(case_id).status == CaseStatus.ENROLLED


def test_a_stand_in_acts_for_a_colleague_within_the_dates(app: Flask, world: World) -> None:
    case_id = world.apply(world.household("东沟村"))
    task_id = world.open_task(case_id).id
    liu = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    res = liu.post("/me/stand-in", stand_in=cadre_id("朱书记"), starts_on="2026-11-02",
                   ends_on="2026-11-04", reason="外出学习")
    assert res.status_code == 400 and "不是同一辖区同一岗位" in res.text  # another township
    res = liu.post("/me/stand-in", stand_in=cadre_id("陈书记"), starts_on="2026-11-02",
                   ends_on="2026-11-04", reason="外出学习")
    assert res.status_code == 302

    chen = Desk(app.test_client()).signs_in(cadre_id("陈书记"))
    page = chen.get("/inbox").text
    assert case_id in inbox_cases(page) and "代理刘书记" in page
    assert chen.get(f"/c/{case_id}").status_code == 200
    res = chen.post(f"/t/{task_id}/decide", verdict="rejected", reason_typed="核实不属实")
    assert res.status_code == 302
    with session_scope() as s:
        task = s.get_one(Task, task_id)
        assert task.status == TaskStatus.DECIDED and task.decided_by_name == "陈书记"

    world.clock.advance(days=3)  # the stand-in's dates are over
    later = world.apply(world.household("东沟村", 1))
    chen = Desk(app.test_client()).signs_in(cadre_id("陈书记"))
    assert later not in inbox_cases(chen.get("/inbox").text)
    assert chen.get(f"/c/{later}").status_code == 403


def test_a_leaving_cadres_pairings_and_tasks_go_to_the_successor(
        app: Flask, world: World) -> None:
    enrolled = world.apply(world.household("东沟村"))
    world.approve_through(enrolled, None)  # the county pairs it with the first 帮扶联系人
    with session_scope() as s:
        pairing = s.scalars(select(Pairing).where(Pairing.ended_on.is_(None))).one()
        leaving = pairing.cadre_id
    successor = cadre_id("黄联络")
    assert leaving == cadre_id("杨帮扶")

    village = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    assert village.get("/handover").status_code == 403  # not a manager
    desk = Desk(app.test_client()).signs_in(cadre_id("王审核"))
    res = desk.post("/handover", **{"from": leaving, "to": successor, "reason": "工作调动"})
    assert res.status_code == 302
    assert "结对帮扶 1 户" in desk.get(res.headers["Location"]).text
    with session_scope() as s:
        rows = s.scalars(select(Pairing).where(Pairing.household_id == pairing.household_id)
                         .order_by(Pairing.id)).all()
        assert [(p.cadre_id, p.ended_on is None) for p in rows] == [
            (leaving, False), (successor, True)]
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "cadre.hand_over"))
    outside = Desk(app.test_client()).signs_in(cadre_id("李审核"))
    res = outside.post("/handover", **{"from": successor, "to": leaving, "reason": "x"})
    assert res.status_code == 403


def test_the_household_page_tells_its_story_within_the_jurisdiction(
        app: Flask, world: World) -> None:
    case_id = world.apply(world.household("东沟村"))
    world.approve_through(case_id, None)
    household = world.case(case_id).household_id
    page = Desk(app.test_client()).signs_in(cadre_id("杨帮扶")).get(f"/h/{household}").text
    assert "监测对象" in page and "杨帮扶" in page and world.case(case_id).number in page
    assert "健康" in page  # the measure the county planned
    assert Desk(app.test_client()).signs_in(cadre_id("朱书记")).get(
        f"/h/{household}").status_code == 403


def test_personal_data_is_masked_for_the_roles_that_do_not_need_it(
        app: Flask, world: World) -> None:
    case_id = world.apply(world.household("东沟村"))
    world.approve_through(case_id, Stage.TOWNSHIP_AUDIT)
    with session_scope() as s:
        head = s.get_one(Household, world.case(case_id).household_id).head
        full_id, phone = head.id_number, head.phone
    village = Desk(app.test_client()).signs_in(cadre_id("刘书记")).get(f"/c/{case_id}").text
    assert full_id in village and phone in village
    township = Desk(app.test_client()).signs_in(cadre_id("王审核")).get(f"/c/{case_id}").text
    assert full_id not in township and phone not in township
    assert f"{full_id[:6]}********{full_id[-4:]}" in township and "证件号、电话已隐去" in township


def test_every_page_weighs_under_100_kb_on_a_first_visit(app: Flask, world: World) -> None:
    cases = [world.apply(world.household("东沟村", i)) for i in range(11)]
    world.approve_through(cases[0], Stage.COUNTY_APPROVAL)
    desk = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    css = sum(len(desk.client.get(f"/assets/{name}", headers={"Accept-Encoding": "gzip"}).data)
              for name in ("weui-2.6.26.min.css", "fangfan.css"))
    household = world.case(cases[0]).household_id
    for url in ("/inbox", f"/c/{cases[0]}", f"/c/{cases[1]}", f"/h/{household}",
                "/me/stand-in", "/login"):
        res = desk.client.get(url, headers={"Accept-Encoding": "gzip"})
        assert res.status_code == 200, url
        weight = len(gzip.compress(res.data)) + css
        assert weight < 100 * 1024, (url, weight)


def test_posting_a_notice_that_has_ended_tells_who_ended_it(app: Flask, world: World) -> None:
    case_id = world.apply(world.household("东沟村"))
    world.approve_through(case_id, Stage.PUBLIC_NOTICE)
    notice = world.open_task(case_id).id
    world.posts_notice(case_id)  # posted on another phone: its period runs from today
    world.clock.advance(days=6)
    world.advance(case_id)  # the period ran out: the system passed it
    desk = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    res = desk.post(f"/t/{notice}/notice", posted_on="2026-11-02", where="村委会公示栏",
                    photos=board())
    assert res.status_code == 302
    assert "这项任务已由系统于" in desk.get(res.headers["Location"]).text


def test_a_short_name_matching_many_households_asks_for_more_of_it(
        app: Flask, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    cases = [world.apply(world.household("东沟村", i)) for i in range(3)]
    households = [world.case(c).household_id for c in cases]
    with session_scope() as s:
        for household, name in zip(households, ("欧阳甲", "欧阳乙", "欧阳丙"), strict=True):
            s.get_one(Household, household).head.name = name
    monkeypatch.setattr(inbox_module, "SEARCH_CAP", 2)
    desk = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    page = desk.get("/inbox?q=欧阳").text
    assert "请输入完整姓名" in page and len(inbox_cases(page)) == 2
    page = desk.get("/inbox?q=欧阳乙").text
    assert "请输入完整姓名" not in page and inbox_cases(page) == [cases[1]]


def test_a_transferred_task_leaves_the_inbox_of_the_others(app: Flask, world: World) -> None:
    case_id = world.apply(world.household("东沟村"))
    task_id = world.open_task(case_id).id
    liu = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    assert liu.post(f"/t/{task_id}/transfer", to=cadre_id("杨帮扶"),
                    transfer_reason="熟悉该户情况").status_code == 302
    helper = Desk(app.test_client()).signs_in(cadre_id("杨帮扶"))
    assert case_id in inbox_cases(helper.get("/inbox").text)
    timeline = helper.get(f"/c/{case_id}").text
    assert "转交给杨帮扶" in timeline and "熟悉该户情况" in timeline
    # 入户核实 handed to a 帮扶联系人 stays in the village cadre's inbox, marked as handed
    page = liu.get("/inbox").text
    assert case_id in inbox_cases(page) and "已交杨帮扶办理" in page
