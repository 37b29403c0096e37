"""The authorisation matrix: every route × every role × inside and outside the jurisdiction.
Refused is a Chinese 403 page and nothing changed; the one cadre entitled succeeds. A form
without its CSRF token is refused, and a signed-out visitor is sent to sign in."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from approvals.record.definitions import Stage
from approvals.record.models import AuditEntry, Cadre, Objection, Task, TaskStatus
from tests.db import session_scope
from tests.support.web import Desk, board, cadre_id
from tests.support.world import World

# The demo county's cadres (fangfan.demo.roster); the cases below are in 东沟村, 青山镇.
INSIDE = ["刘书记", "杨帮扶", "王审核", "赵审定", "钱督导"]  # 东沟村, 东沟村, 青山镇, county ×2
OUTSIDE = ["陈书记", "赵帮扶", "朱书记", "郭帮扶", "李审核"]  # 西坡村 ×2, 南滩村 ×2, 河湾乡
EVERYONE = INSIDE + OUTSIDE
JPEG = b"\xff\xd8\xff\xe0" + b"minutes" * 50 + b"\xff\xd9"
WHO_DECIDES = {Stage.HOME_VERIFICATION: "刘书记", Stage.VILLAGE_REVIEW: "刘书记",
               Stage.PUBLIC_NOTICE: "刘书记", Stage.TOWNSHIP_AUDIT: "王审核",
               Stage.COUNTY_APPROVAL: "赵审定"}


def snapshot(case_id: int) -> tuple[Any, ...]:
    """What a refused request must leave as it was."""
    with session_scope() as s:
        tasks = s.execute(select(Task.id, Task.status, Task.assignee_id, Task.data, Task.due_at)
                          .where(Task.case_id == case_id).order_by(Task.id)).all()
        audit = s.scalar(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.case_id == case_id))
        objections = s.scalar(select(func.count()).select_from(Objection)
                              .where(Objection.case_id == case_id))
    return tuple(tasks), audit, objections


def case_at(world: World, stage: Stage, index: int = 0) -> tuple[int, int]:
    case_id = world.apply(world.household("东沟村", index))
    world.approve_through(case_id, stage)
    return case_id, world.open_task(case_id).id


def check_matrix(app: Flask, case_id: int, allowed: list[str],
                 request: Callable[[Desk], Any], changed_ok: Callable[[Any], bool]) -> None:
    for name in EVERYONE:
        if name in allowed:
            continue
        before = snapshot(case_id)
        res = request(Desk(app.test_client()).signs_in(cadre_id(name)))
        assert res.status_code == 403, (name, res.status_code)
        assert "无权" in res.text and "<html" in res.text, name
        assert snapshot(case_id) == before, name
    for name in allowed:
        res = request(Desk(app.test_client()).signs_in(cadre_id(name)))
        assert changed_ok(res), (name, res.status_code)


@pytest.mark.parametrize("stage", list(WHO_DECIDES))
def test_the_case_page_is_seen_only_within_the_jurisdiction(
        app: Flask, world: World, stage: Stage) -> None:
    case_id, task_id = case_at(world, stage)
    for url in (f"/c/{case_id}", f"/t/{task_id}"):
        check_matrix(app, case_id, INSIDE,
                     lambda d, url=url: d.client.get(url, follow_redirects=True),
                     lambda res: res.status_code == 200 and "办理过程" in res.text)


def test_photos_and_the_household_page_only_within_the_jurisdiction(
        app: Flask, world: World) -> None:
    case_id, task_id = case_at(world, Stage.VILLAGE_REVIEW)
    desk = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    desk.post(f"/t/{task_id}/decide", verdict="approved", meeting_on="2026-11-02",
              expected="25", attendance="20", votes_for="18",
              photos=(io.BytesIO(JPEG), "minutes.jpg"))
    with session_scope() as s:
        assert len(s.get_one(Task, task_id).data["photos"]) == 1
    household = world.case(case_id).household_id
    for url in (f"/c/{case_id}/photos/task/{task_id}/0", f"/h/{household}"):
        check_matrix(app, case_id, INSIDE, lambda d, url=url: d.client.get(url),
                     lambda res: res.status_code == 200)


def test_a_refused_decision_leaves_no_photo_behind(app: Flask, world: World) -> None:
    """Photos are written before the decision commits (on PostgreSQL it commits by itself),
    so every refusal must take them away again."""
    case_id, task_id = case_at(world, Stage.VILLAGE_REVIEW)
    folder = world.services.settings.media_dir / "cases" / str(case_id)
    form = {"verdict": "approved", "meeting_on": "2026-11-02", "expected": "25",
            "attendance": "20"}
    outsider = Desk(app.test_client()).signs_in(cadre_id("陈书记"))
    res = outsider.post(f"/t/{task_id}/decide", votes_for="18", **form,
                        photos=(io.BytesIO(JPEG), "minutes.jpg"))
    assert res.status_code == 403
    cadre = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    res = cadre.post(f"/t/{task_id}/decide", **form, photos=(io.BytesIO(JPEG), "minutes.jpg"))
    assert res.status_code == 400 and "同意票数" in res.text
    assert not folder.exists() or not any(folder.iterdir())
    assert cadre.post(f"/t/{task_id}/decide", votes_for="18", **form,
                      photos=(io.BytesIO(JPEG), "a.jpg")).status_code == 302
    res = cadre.post(f"/t/{task_id}/decide", votes_for="18", **form,
                     photos=(io.BytesIO(JPEG), "again.jpg"))
    assert "无需重复操作" in cadre.client.get(res.location).text
    with session_scope() as s:
        kept = s.get_one(Task, task_id).data["photos"]
    assert sorted(p.name for p in folder.iterdir()) == kept


def test_a_decision_without_a_verdict_or_a_task_is_told_and_changes_nothing(
        app: Flask, world: World) -> None:
    case_id, task_id = case_at(world, Stage.VILLAGE_REVIEW)
    cadre = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    before = snapshot(case_id)
    res = cadre.post(f"/t/{task_id}/decide", meeting_on="2026-11-02", attendance="20")
    assert res.status_code == 400 and "请先选择“通过”“退回”或“不予纳入”" in res.text
    assert 'value="20"' in res.text  # what was typed is still there
    assert snapshot(case_id) == before
    res = cadre.post(f"/t/{task_id + 10_000}/decide", verdict="approved")
    assert res.status_code == 404 and "没有找到这项任务" in res.text


@pytest.mark.parametrize("stage", list(WHO_DECIDES))
def test_a_stage_is_decided_only_by_its_role_within_the_jurisdiction(
        app: Flask, world: World, stage: Stage) -> None:
    case_id, task_id = case_at(world, stage)
    verdict = ({"verdict": "returned", "return_to": Stage.HOME_VERIFICATION,
                "reason_typed": "请补充材料"} if stage != Stage.HOME_VERIFICATION
               else {"verdict": "rejected", "reason_typed": "经核实情况不属实"})
    check_matrix(app, case_id, [WHO_DECIDES[stage]],
                 lambda d: d.post(f"/t/{task_id}/decide", **verdict),
                 lambda res: res.status_code == 302)
    with session_scope() as s:
        assert s.get_one(Task, task_id).status == TaskStatus.DECIDED


def test_a_task_is_handed_over_only_by_whoever_may_act_on_it(app: Flask, world: World) -> None:
    case_id, task_id = case_at(world, Stage.HOME_VERIFICATION)
    to = cadre_id("杨帮扶")
    check_matrix(app, case_id, ["刘书记"],
                 lambda d: d.post(f"/t/{task_id}/transfer", to=to, transfer_reason="外出培训"),
                 lambda res: res.status_code == 302)
    with session_scope() as s:
        assert s.get_one(Task, task_id).assignee_id == to


def test_a_task_goes_only_to_a_colleague_of_its_post_and_place(app: Flask, world: World) -> None:
    case_id, task_id = case_at(world, Stage.TOWNSHIP_AUDIT)
    desk = Desk(app.test_client()).signs_in(cadre_id("王审核"))
    before = snapshot(case_id)
    for to, says in (("李审核", "只能转交给本辖区同岗位的工作人员"), ("王审核", "不能转交给自己"),
                     ("刘书记", "只能转交给本辖区同岗位的工作人员")):
        res = desk.post(f"/t/{task_id}/transfer", to=cadre_id(to), transfer_reason="外出")
        assert res.status_code == 400 and says in res.text, to
    assert desk.post(f"/t/{task_id}/transfer", to=cadre_id("李审核")).status_code == 400
    assert snapshot(case_id) == before


def test_the_notice_and_its_objections_are_kept_by_the_village(app: Flask, world: World) -> None:
    case_id, task_id = case_at(world, Stage.PUBLIC_NOTICE)
    check_matrix(app, case_id, ["刘书记"],
                 lambda d: d.post(f"/t/{task_id}/notice", posted_on="2026-11-02",
                                  where="村委会公示栏", photos=board()),
                 lambda res: res.status_code == 302)
    check_matrix(app, case_id, ["刘书记"],
                 lambda d: d.post(f"/c/{case_id}/objections", raised_by="村民甲",
                                  content="收入不实"),
                 lambda res: res.status_code == 302)
    with session_scope() as s:
        objection = s.scalars(select(Objection.id).where(Objection.case_id == case_id)).one()
    check_matrix(app, case_id, ["刘书记"],
                 lambda d: d.post(f"/objections/{objection}", result="dismissed",
                                  handling="经核实不属实"),
                 lambda res: res.status_code == 302)


def test_batch_approval_refuses_the_tasks_of_others(app: Flask, world: World) -> None:
    case_id, task_id = case_at(world, Stage.TOWNSHIP_AUDIT)
    before = snapshot(case_id)
    res = Desk(app.test_client()).signs_in(cadre_id("李审核")).post(
        "/batch", stage="township_audit", task=task_id, opinion="同意")
    assert res.status_code == 302
    assert snapshot(case_id) == before  # 河湾乡's auditor: refused, case by case
    desk = Desk(app.test_client()).signs_in(cadre_id("李审核"))
    page = desk.client.get("/batch?stage=township_audit").text
    assert "没有待审批的案件" in page


def test_a_form_without_its_csrf_token_changes_nothing(app: Flask, world: World) -> None:
    case_id, task_id = case_at(world, Stage.TOWNSHIP_AUDIT)
    desk = Desk(app.test_client()).signs_in(cadre_id("王审核"))
    before = snapshot(case_id)
    res = desk.client.post(f"/t/{task_id}/decide", data={"verdict": "approved"})
    assert res.status_code == 400
    assert "页面已过期" in res.text
    assert snapshot(case_id) == before
    assert desk.post(f"/t/{task_id}/decide", verdict="approved").status_code == 302


def test_a_signed_out_visitor_is_sent_to_sign_in_and_changes_nothing(
        app: Flask, world: World) -> None:
    case_id, task_id = case_at(world, Stage.TOWNSHIP_AUDIT)
    client = app.test_client()
    before = snapshot(case_id)
    for url in (f"/c/{case_id}", f"/t/{task_id}", "/inbox", "/batch", "/handover"):
        res = client.get(url)
        assert res.status_code == 302 and "/login" in res.headers["Location"], url
    # no session: Flask-WTF refuses the form before any view runs
    assert client.post(f"/t/{task_id}/decide", data={"verdict": "approved"}).status_code == 400
    assert snapshot(case_id) == before


def test_a_cadre_deactivated_while_signed_in_is_sent_to_sign_in_and_decides_nothing(
        app: Flask, world: World) -> None:
    """The decision reads the cadre on its own connection (signed_in_lazily): a cadre
    deactivated after opening the page is sent to sign in all the same."""
    case_id, task_id = case_at(world, Stage.TOWNSHIP_AUDIT)
    desk = Desk(app.test_client()).signs_in(cadre_id("王审核"))
    before = snapshot(case_id)
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.name == "王审核").values(active=False))
    res = desk.client.post(f"/t/{task_id}/decide", headers={"Referer": f"/t/{task_id}"},
                           data={"csrf_token": desk.token, "verdict": "approved"})
    assert res.status_code == 302  # back to the task's page after signing in, not the form's
    assert res.headers["Location"] == f"/login?next=/t/{task_id}"
    assert snapshot(case_id) == before
    assert desk.client.get("/inbox").headers["Location"].startswith("/login")  # signed out


def test_cookies_are_httponly_and_samesite(app: Flask, world: World) -> None:
    client = app.test_client()
    token_page = client.get("/login").text
    assert "csrf_token" in token_page
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_after_sign_in_supervisors_land_on_the_dashboard_others_on_the_inbox(
        app: Flask, world: World) -> None:
    for name, home in (("钱督导", "/dashboard"), ("王审核", "/inbox")):
        client = app.test_client()
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        res = client.post("/login/dev", data={"csrf_token": token, "cadre_id": cadre_id(name)})
        assert res.headers["Location"] == home, name
    client = app.test_client()
    page = client.get("/login?next=//evil.example.com/x").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    res = client.post("/login/dev", data={"csrf_token": token, "cadre_id": cadre_id("王审核"),
                                          "next": "//evil.example.com/x"})
    assert res.headers["Location"] == "/inbox"  # never to another site


def test_flasks_own_error_pages_speak_chinese(app: Flask, world: World) -> None:
    desk = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    assert "请从页面上的按钮或链接进入" in desk.client.get("/login/dev").text  # GET on a POST
    big = desk.post("/import", kind="roster", file=(io.BytesIO(b"x" * (41 * 1024 * 1024)),
                                                    "big.csv"))
    assert big.status_code == 413 and "文件太大" in big.text
