"""县级比对审定 compares the case with the departments' data: the county is shown every record
the latest finished screening run holds for the household, by department, ticks each one it
checked (or says why not), and the approval records which; the case page shows a screening
case's evidence in plain Chinese, with its warning level. SQLite and PostgreSQL alike."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select

from approvals.procedure import decisions, stages
from approvals.record.definitions import Stage
from approvals.record.errors import Refused
from approvals.record.models import (
    Case,
    CaseKind,
    CaseStatus,
    HitOutcome,
    Household,
    Member,
    RunStatus,
    ScreeningHit,
    ScreeningRun,
    Source,
    Task,
)
from approvals.screening import comparison, engine, store
from approvals.screening.feeds import FEEDS
from approvals.screening.rules import describe
from fangfan.services import Services
from tests.db import session_scope
from tests.support.cli import fangfan
from tests.support.phone import open_case, sign_in
from tests.support.web import Desk, cadre, cadre_id, shot
from tests.support.world import World

COUNTY = "county_approval"
FEEDS_BY_LABEL = {f.label: f.key for f in FEEDS.values()}
AS_OF = dt.date(2026, 10, 31)


@pytest.fixture
def screening_dir(services: Services, tmp_path: Path) -> Path:
    """This test's screening folder, as the pages are given it (their Context)."""
    root = tmp_path / "screening"
    services.settings = dataclasses.replace(services.settings, screening_dir=root)
    return root


def members(household_id: int) -> list[tuple[int, str, str]]:
    """(id, name, ID number) of the household's members, the head first."""
    with session_scope() as s:
        return [(m.id, m.name, m.id_number) for m in s.scalars(
            select(Member).where(Member.household_id == household_id)
            .order_by(Member.is_head.desc(), Member.id))]


def kept_run(root: Path, household_id: int, rows: dict[str, list[dict[str, Any]]], *,
             scope: str = "all", status: RunStatus = RunStatus.DONE,
             finished: dt.datetime = dt.datetime(2026, 11, 1, 2, tzinfo=dt.UTC)) -> int:
    """A run recorded as the flow records one, with its matched frames kept (store.save):
    per feed, the rows given, each naming `member` (an index into the household's members)
    and `row`, the rest of the feed's fields by key."""
    people = members(household_id)
    with session_scope() as s:
        run = ScreeningRun(as_of=AS_OF, scope=scope, trigger="县级上传", started_by="cli",
                           feeds_dir="", status=status, created_at=finished,
                           started_at=finished, finished_at=finished, report={})
        s.add(run)
        s.flush()
        run_id = run.id
    frames = {}
    for feed, given in rows.items():
        fields = FEEDS[feed].fields
        frames[feed] = pl.DataFrame([{
            "row": r["row"], "file": f"{FEEDS[feed].label}.csv",
            **{f.key: r.get(f.key) for f in fields if f.key not in ("name", "id_number")},
            "name": people[r["member"]][1], "id_number": people[r["member"]][2],
            "household_id": household_id, "member_id": people[r["member"]][0],
            "member_name": people[r["member"]][1]} for r in given])
    store.save(root, run_id, frames)
    return run_id


def roster(world: World) -> pl.DataFrame:
    return engine.roster(world.services.database.engine.url, "all")


def screened_run(world: World, root: Path, files: dict[str, str]
                 ) -> tuple[int, engine.Screened]:
    """A run as the flow makes one: the feeds' files read and matched to the roster by the
    engine, its frames kept (store.save)."""
    folder = root / "inbox"
    folder.mkdir(parents=True)
    for name, content in files.items():
        (folder / name).write_text(content, encoding="utf-8")
    feeds = engine.read(folder, {}, max_rows=1000, max_bytes=2**20)
    assert set(feeds.loaded) == {n.removesuffix(".csv") for n in files} or set(
        feeds.loaded) == {FEEDS_BY_LABEL[n.removesuffix(".csv")] for n in files}
    screened = engine.screen(feeds.loaded, roster(world), world.config.screening.rules, AS_OF)
    finished = world.clock.now()
    with session_scope() as s:
        run = ScreeningRun(as_of=AS_OF, scope="all", trigger="县级上传", started_by="cli",
                           feeds_dir=str(folder), status=RunStatus.DONE, created_at=finished,
                           started_at=finished, finished_at=finished, report={})
        s.add(run)
        s.flush()
        run_id = run.id
    store.save(root, run_id, screened.matched)
    return run_id, screened


MEDICAL = [{"member": 0, "row": 2, "settled_on": dt.date(2026, 3, 2), "total_cost": 48000.0,
            "reimbursed": 23000.0, "out_of_pocket": 25000.0},
           {"member": 0, "row": 7, "settled_on": dt.date(2026, 8, 15), "total_cost": 3000.0,
            "reimbursed": 1800.5, "out_of_pocket": 1199.5}]
EDUCATION = [{"member": 1, "row": 4, "stage": "初中", "status": "在读",
              "changed_on": dt.date(2026, 9, 1)}]


def at_county(world: World, index: int = 0) -> tuple[int, int]:
    case_id = world.apply(world.household("东沟村", index))
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    return case_id, world.open_task(case_id).id


def county_form(world: World, case_id: int, **data: Any) -> dict[str, Any]:
    return world.form(case_id, COUNTY) | data


def decide(world: World, case_id: int, data: dict[str, Any]) -> decisions.Decided:
    return world.decides(case_id, world.approver(case_id), data=data, advance=False)


# -- the stage's form --------------------------------------------------------------------------

def test_the_checked_records_are_kept_with_the_approval_and_counted_in_its_summary(
        world: World) -> None:
    case_id, task_id = at_county(world)
    shown = ["medical:7:3", "medical:2:3", "education:4:3"]
    decide(world, case_id, county_form(world, case_id, records=shown,
                                       checked=["education:4:3", "medical:7:3", "medical:2:3"]))
    with session_scope() as s:
        data = s.get_one(Task, task_id).data
    assert data["records"] == shown
    assert data["checked"] == shown  # in the order shown
    assert data["unchecked_reason"] == ""
    summary = stages.of(COUNTY).summary(data)
    assert summary.startswith("与医保、民政数据比对一致。 核对部门记录3条。 监测类别：")


def test_a_record_left_unchecked_needs_a_reason(world: World) -> None:
    case_id, task_id = at_county(world)
    shown = ["medical:2:3", "education:4:3"]
    with pytest.raises(Refused, match=r"^还有1条部门记录没有勾选核对：请在案件页面逐条核对后"
                                      r"勾选，或在「未核对原因」中写明原因。$"):
        decide(world, case_id, county_form(world, case_id, records=shown,
                                           checked=["medical:2:3"]))
    assert world.open_task(case_id).id == task_id  # nothing decided
    decide(world, case_id, county_form(world, case_id, records=shown, checked=["medical:2:3"],
                                       unchecked_reason="学籍为外县学校，已电话核实在读"))
    with session_scope() as s:
        data = s.get_one(Task, task_id).data
    assert data["checked"] == ["medical:2:3"]
    assert "核对部门记录1条（共2条，未核对原因：学籍为外县学校，已电话核实在读）。" in \
        stages.of(COUNTY).summary(data)


def test_a_reference_not_among_the_records_shown_is_refused(world: World) -> None:
    case_id, task_id = at_county(world)
    with pytest.raises(Refused, match="勾选的部门记录不在本户当前的部门数据中"):
        decide(world, case_id, county_form(world, case_id, records=["medical:2:3"],
                                           checked=["medical:2:3", "medical:2:2"]))
    with pytest.raises(Refused, match="勾选的部门记录不在本户当前的部门数据中"):
        decide(world, case_id, county_form(world, case_id, checked=["civil:5:1"]))
    assert world.open_task(case_id).id == task_id


def test_without_department_records_the_summary_is_the_comparison_as_before(
        world: World) -> None:
    case_id, task_id = at_county(world)
    decide(world, case_id, county_form(world, case_id))
    with session_scope() as s:
        data = s.get_one(Task, task_id).data
    assert (data["records"], data["checked"]) == ([], [])
    assert "核对部门记录" not in stages.of(COUNTY).summary(data)


# -- what the page reads and hands the form ----------------------------------------------------

def test_the_latest_finished_run_is_the_one_shown(
        world: World, screening_dir: Path) -> None:
    household = world.household("东沟村")
    with session_scope() as s:
        assert comparison.household_records(s.connection(), screening_dir,
                                            household) == comparison.DepartmentData()
    full = kept_run(screening_dir, household, {"medical": MEDICAL})
    later = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    kept_run(screening_dir, household, {"medical": MEDICAL[:1]}, status=RunStatus.FAILED,
             finished=later)
    with session_scope() as s:
        found = comparison.household_records(s.connection(), screening_dir, household)
    assert found.run is not None and found.run.id == full
    assert found.refs == [f"medical:7:{full}", f"medical:2:{full}"]  # newest first
    medical = found.departments[0]
    assert (medical.label, medical.department) == ("医保", "医疗保障局")
    assert medical.records[0].facts == ["医疗总费用：3,000元", "医保报销：1,800.50元",
                                        "个人自付：1,199.50元"]
    assert (medical.records[0].date_label, medical.records[0].date) == ("结算日期", "2026-08-15")

    # a key-group round keeps every household's records: the latest run, whatever its scope
    key = kept_run(screening_dir, household, {"medical": MEDICAL[:1]}, scope="key",
                   finished=later)
    with session_scope() as s:
        found = comparison.household_records(s.connection(), screening_dir, household)
    assert found.run is not None and found.run.id == key and len(found.refs) == 1


def test_the_page_checks_the_ticks_against_the_records_it_shows(
        app: Flask, world: World, screening_dir: Path) -> None:
    case_id, task_id = at_county(world)
    household = world.case(case_id).household_id
    run = kept_run(screening_dir, household, {"medical": MEDICAL, "education": EDUCATION})
    county = Desk(app.test_client()).signs_in(cadre_id("赵审定"))
    page = county.get(f"/c/{case_id}").text
    refs = re.findall(r'name="checked" value="([^"]+)"', page)
    assert refs == [f"medical:7:{run}", f"medical:2:{run}", f"education:4:{run}"]
    form = county_form(world, case_id)
    posted = {"verdict": "approved", "comparison": form["comparison"],
              "category": form["category"], "paired_cadre_id": form["paired_cadre_id"],
              "measure_kind": "健康", "measure_planned_on": "2026-11-30"}

    # a record of the household's that this run does not hold, smuggled in with a `records`
    forged = county.post(f"/t/{task_id}/decide", **posted, records=["medical:9:1"],
                         checked=[*refs, "medical:9:1"])
    assert forged.status_code == 400
    assert "勾选的部门记录不在本户当前的部门数据中" in forged.text
    assert world.open_task(case_id).id == task_id

    some = county.post(f"/t/{task_id}/decide", **posted, checked=refs[:2])
    assert some.status_code == 400 and "还有1条部门记录没有勾选核对" in some.text
    kept = re.findall(r'name="checked" value="([^"]+)" checked', some.text)
    assert kept == refs[:2]  # the ticks kept on the form shown again

    done = county.post(f"/t/{task_id}/decide", **posted, checked=refs)
    assert done.status_code == 302
    with session_scope() as s:
        data = s.get_one(Task, task_id).data
    assert data["records"] == data["checked"] == refs
    world.advance(case_id)
    assert world.case(case_id).status == CaseStatus.ENROLLED


def test_without_a_finished_run_the_county_is_told_there_are_no_department_data(
        app: Flask, world: World, screening_dir: Path) -> None:
    case_id, _ = at_county(world)
    kept_run(screening_dir, world.case(case_id).household_id, {"medical": MEDICAL},
             status=RunStatus.RUNNING)
    page = Desk(app.test_client()).signs_in(cadre_id("赵审定")).get(f"/c/{case_id}").text
    assert "尚无部门数据" in page and 'name="checked"' not in page
    township = Desk(app.test_client()).signs_in(cadre_id("王审核")).get(f"/c/{case_id}").text
    assert "您可以查看，不能办理" in township and "尚无部门数据" in township


def test_a_run_whose_files_are_gone_is_said_so(
        app: Flask, world: World, screening_dir: Path) -> None:
    case_id, _ = at_county(world)
    run = kept_run(screening_dir, world.case(case_id).household_id, {"medical": MEDICAL})
    store.run_folder(screening_dir, run).rename(screening_dir / "moved")
    page = Desk(app.test_client()).signs_in(cadre_id("赵审定")).get(f"/c/{case_id}").text
    assert f"第{run}次筛查（全面排查，数据截至2026-10-31）的数据文件已不在服务器上" in page
    assert "没有这户成员的记录" not in page


def test_a_batch_approval_leaves_a_household_with_department_records_to_its_case_page(
        app: Flask, world: World, screening_dir: Path) -> None:
    compared, plain = at_county(world, 0), at_county(world, 1)
    kept_run(screening_dir, world.case(compared[0]).household_id, {"medical": MEDICAL})
    county = Desk(app.test_client()).signs_in(cadre_id("赵审定"))
    assert "有部门数据记录的户，须进入案件逐条核对，不能批量通过。" in county.get(
        "/batch?stage=county_approval").text
    helper = cadre("helper", "东沟村")
    tasks = [compared[1], plain[1]]
    chosen = {f"{key}-{t}": value for t in tasks for key, value in (
        ("category", "sudden"), ("paired_cadre_id", helper), ("measure_kind", "健康"),
        ("measure_planned_on", "2026-11-30"))}
    res = county.post("/batch", stage="county_approval", task=tasks,
                      opinion="与医保、民政数据比对一致", **chosen)
    page = county.get(res.headers["Location"]).text
    assert "已通过 1 件" in page
    assert "1 件没有办成：还有2条部门记录没有勾选核对：请在案件页面逐条核对后勾选" in page
    assert world.open_task(compared[0]).id == compared[1]  # still the county's
    world.advance(plain[0])
    assert world.case(plain[0]).status == CaseStatus.ENROLLED


# -- in the browser ----------------------------------------------------------------------------

def screening_case(world: World, root: Path) -> tuple[int, str]:
    """A case opened by a screening hit, as outcomes.py records one (the hit as the engine
    found it in a medical file): its id, and its evidence in Chinese."""
    household = world.household("东沟村", 2)
    name, id_number = members(household)[0][1:]
    run_id, screened = screened_run(world, root, {
        "医保.csv": "姓名,身份证号,结算日期,医疗总费用,医保报销,个人自付\n"
                    f"{name},{id_number},2026-03-02,48000,23000,25000\n"
                    f"{name},{id_number},2026/8/15,3000,1800.5,1199.5\n"})
    (found,) = [h for h in screened.hits if h.household_id == household]
    case_id = world.apply(household, source=Source.SCREENING, filed_by=f"screening:{run_id}")
    rule = world.config.screening.rules[found.rule]
    with session_scope() as s:
        s.add(ScreeningHit(run_id=run_id, household_id=household, case_id=case_id,
                           rule=found.rule, rule_name=rule.name, level=rule.level,
                           risk=rule.risk, action=rule.action, as_of=AS_OF,
                           figures=found.figures, evidence=found.evidence,
                           fingerprint=found.fingerprint, outcome=HitOutcome.OPENED,
                           created_at=world.clock.now()))
    return case_id, describe(found.figures)


@pytest.mark.slow
def test_the_county_sees_the_households_department_records_and_approves_having_checked_them(
        world: World, phone: Any, screening_dir: Path) -> None:
    case_id, _ = at_county(world)
    household = world.case(case_id).household_id
    (_, head, head_id), (_, child, child_id) = members(household)[:2]
    other = members(world.household("东沟村", 3))[0][2]  # another household's: not shown
    run, _ = screened_run(world, screening_dir, {
        "医保.csv": "姓名,身份证号,结算日期,医疗总费用,医保报销,个人自付\n"
                    f"{head},{head_id},2026-03-02,48000,23000,25000\n"
                    f"x,{other},2026-04-01,100,50,50\n"
                    f"{head},{head_id},2026/8/15,3000,1800.5,1199.5\n",
        "教育.csv": "学生姓名,身份证号,学段,在校状态,变化日期\n"
                    f"{child},{child_id},初中,在读,2026-09-01\n"})

    phone.goto("/inbox")
    sign_in(phone, "赵审定")
    with session_scope() as s:
        open_case(phone, s.get_one(Household, household).head.name)
    records = phone.locator("#department-records")
    expect(records).to_contain_text("部门数据（各部门最近一次提供的数据）")
    expect(records.locator(".run").first).to_have_text(
        f"来自第{run}次筛查（全面排查，数据截至2026-10-31）")
    expect(records.locator(".dept")).to_have_text(["医保（医疗保障局）· 2条",
                                                   "教育（教育局）· 1条"])
    medical = records.locator("label.record").filter(has_text="结算日期 2026-03-02")
    expect(medical).to_contain_text(head)
    expect(medical).to_contain_text("个人自付：25,000元")
    expect(medical).to_contain_text("医保.csv 第2行")
    expect(records.locator("label.record").filter(has_text="结算日期 2026-08-15")
           ).to_contain_text("医保.csv 第4行")
    expect(records.locator("label.record").filter(has_text=child)).to_contain_text(
        "在校状态：在读")
    shot(phone, "county-department-records")

    records.locator("label.record").first.click()
    expect(records.locator("input[name=checked]").first).to_be_checked()
    phone.get_by_text("通过", exact=True).click()
    phone.get_by_label("部门数据比对情况").fill("医保自付与入户核实一致，子女在读。")
    phone.get_by_role("button", name="确认通过").click()
    expect(phone.get_by_role("alert")).to_have_text(
        "还有2条部门记录没有勾选核对：请在案件页面逐条核对后勾选，或在「未核对原因」中写明原因。")
    boxes = phone.locator("#department-records input[name=checked]")
    expect(boxes.first).to_be_checked()  # the ticks kept
    for label in phone.locator("#department-records label.record").all()[1:]:
        label.click()
    for i in range(3):
        expect(boxes.nth(i)).to_be_checked()
    phone.get_by_text("通过", exact=True).click()
    phone.get_by_role("button", name="确认通过").click()
    number = world.case(case_id).number
    expect(phone.get_by_text(f"已提交：{number} 县级比对审定通过")).to_be_visible()

    world.advance(case_id)
    assert world.case(case_id).status == CaseStatus.ENROLLED
    phone.goto(f"/c/{case_id}")
    expect(phone.locator(".timeline")).to_contain_text(  # which records, by name
        re.compile(r"医保自付与入户核实一致，子女在读。 核对部门记录3条：医保 \S+ 2026-08-15、"
                   r"医保 \S+ 2026-03-02、教育 \S+ 2026-09-01。"))


@pytest.mark.slow
def test_the_case_page_tells_a_screening_cases_evidence_and_level(
        world: World, phone: Any, screening_dir: Path) -> None:
    case_id, said = screening_case(world, screening_dir)
    assert said == ("医保数据：2025-11-01至2026-10-31家庭成员个人自付合计26,199.50元（2条记录），"
                    "达到20,000元的预警线。")
    name = members(world.household("东沟村", 2))[0][1]

    phone.goto(f"/c/{case_id}")
    sign_in(phone, "刘书记")  # the village's cadre, who verifies it at home
    expect(phone).to_have_url(re.compile(rf"/c/{case_id}"))
    expect(phone.locator("#source")).to_have_text("部门筛查预警")
    hit = phone.locator("#screening-hits .hit")
    expect(hit).to_have_count(1)
    expect(hit.locator("strong")).to_have_text("大额医疗自付")
    level = hit.locator(".level")
    expect(level).to_have_text("红色预警")
    expect(level).to_have_class(re.compile(r"\bred\b"))
    expect(level).to_have_css("background-color", "rgb(250, 81, 81)")
    expect(hit.locator(".said")).to_have_text(said)
    expect(hit).to_contain_text("数据截至2026-10-31 · 据此立案")
    expect(hit.locator(".evidence li")).to_have_text([  # each row's figures beside it
        f"医保 · {name} · 2026-03-02 · 医疗总费用：48,000元；医保报销：23,000元；"
        "个人自付：25,000元 · 医保.csv 第2行",
        f"医保 · {name} · 2026-08-15 · 医疗总费用：3,000元；医保报销：1,800.50元；"
        "个人自付：1,199.50元 · 医保.csv 第3行"])
    shot(phone, "case-screening-evidence")
    with session_scope() as s:
        assert s.get_one(Case, case_id).kind == CaseKind.IDENTIFICATION


def test_the_command_line_compares_as_the_page_does(world: World, screening_dir: Path,
                                                    database_url: str, tmp_path: Path) -> None:
    """`fangfan case decide` at 比对审定 is given the household's records as the page is: the
    operator's form must tick them or say why not; the demo's answers (dev mode) tick them."""
    case_id, task_id = at_county(world)
    run = kept_run(screening_dir, world.case(case_id).household_id, {"medical": MEDICAL})
    env = {"FANGFAN_SCREENING_DIR": str(screening_dir)}
    form = tmp_path / "county.json"
    form.write_text(json.dumps(county_form(world, case_id), default=str), encoding="utf-8")
    refused = fangfan("case", "decide", str(case_id), "--form", str(form),
                      database_url=database_url, env=env)
    assert refused.returncode != 0
    assert "还有2条部门记录没有勾选核对" in refused.stderr
    done = fangfan("case", "decide", str(case_id), database_url=database_url, env=env)
    assert done.returncode == 0, done.stderr
    with session_scope() as s:
        data = s.get_one(Task, task_id).data
    assert data["checked"] == data["records"] == [f"medical:7:{run}", f"medical:2:{run}"]
    shown = json.loads(fangfan("case", "show", str(case_id), "--json",
                               database_url=database_url, env=env).stdout)
    [county] = [t for t in shown["tasks"] if t["stage"] == "county_approval"]
    name = members(world.case(case_id).household_id)[0][1]
    assert f"核对部门记录2条：医保 {name} 2026-08-15、医保 {name} 2026-03-02。" in \
        county["findings"]



def test_a_run_of_some_departments_keeps_the_others_from_the_run_before(
        world: World, screening_dir: Path) -> None:
    """A county uploads one department's new file: the others' records stay those of the
    latest run that read their files (the newest run alone would hide them)."""
    household = world.household("东沟村")
    full = kept_run(screening_dir, household, {"medical": MEDICAL, "education": EDUCATION})
    with session_scope() as s:
        s.get_one(ScreeningRun, full).report = {"feeds": [{"feed": "medical"},
                                                          {"feed": "education"}]}
    partial = kept_run(screening_dir, household, {"education": EDUCATION},
                       finished=dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    with session_scope() as s:
        s.get_one(ScreeningRun, partial).report = {"feeds": [{"feed": "education"}]}
    with session_scope() as s:
        found = comparison.household_records(s.connection(), screening_dir, household)
    assert [(d.feed, d.run.id) for d in found.departments] == [("medical", full),
                                                              ("education", partial)]
    assert found.refs == [f"medical:7:{full}", f"medical:2:{full}", f"education:4:{partial}"]
    assert found.run is not None and found.run.id == partial
