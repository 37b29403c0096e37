"""The county desk's 部门筛查预警 page in Chromium: the six example files uploaded, the run
followed until it finishes, its hits filtered and linked, the lists downloaded as Excel; the
refusals (a wrong file type, a file over the bound); only the county's staff get in."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect

from fangfan.services import Services
from fangfan.settings import ROOT
from tests.support.phone import sign_in
from tests.support.web import shot
from tests.support.world import World

FEEDS = ROOT / "docs" / "examples" / "feeds"
FILES = {"medical": "医保.csv", "education": "教育.csv", "disability": "残联.xlsx",
         "civil": "民政.csv", "disaster": "应急.csv", "employment": "人社.csv"}


@pytest.fixture
def desk_page(browser: Any, site: str, services: Services, world: World,
              tmp_path: Path) -> Any:
    """A desktop browser on the site; the screening folder this test's own."""
    services.settings = dataclasses.replace(services.settings,
                                            screening_dir=tmp_path / "screening")
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai", base_url=site,
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)  # a loaded machine (make test runs in parallel)
    yield page
    context.close()


def _workbook(download: Any) -> Any:
    """A downloaded .xlsx (Playwright keeps it without its extension, which openpyxl wants)."""
    return openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes()))


def _upload(page: Any, files: dict[str, Path], as_of: str = "2026-11-02") -> None:
    for feed, path in files.items():
        page.set_input_files(f"#f-{feed}", str(path))
    page.fill("#as_of", as_of)
    page.get_by_role("button", name="上传并开始比对").click()


def test_the_county_uploads_the_six_files_and_reads_the_hits(desk_page: Any,
                                                             services: Services) -> None:
    page = desk_page
    page.goto("/inbox")
    sign_in(page, "赵审定")
    page.get_by_text("部门筛查预警（上传部门数据、比对结果）").click()
    expect(page.get_by_role("heading", name="部门筛查预警")).to_be_visible()
    expect(page.locator("#runs")).to_contain_text("还没有筛查")
    _upload(page, {feed: FEEDS / name for feed, name in FILES.items()})

    expect(page).to_have_url(re.compile(r"/screening/\d+$"))
    run_id = page.url.rsplit("/", 1)[1]
    # the page reloads itself while the run goes on
    expect(page.locator("#state")).to_have_text("已完成", timeout=60_000)
    # no case open and nobody monitored in this county yet: every open_case rule opens one
    expect(page.locator("#opened")).to_have_text("6")
    report = page.locator("#report")
    expect(report).to_contain_text("补充到在办案件 0 条")
    expect(report).to_contain_text("列入走访 2 条")
    expect(report).to_contain_text("有问题的行 2 行")
    expect(report).to_contain_text("身份证号不在户籍名单中 1 条")
    hits = page.locator("#hits a")
    expect(hits).to_have_count(8)
    red = hits.filter(has_text="大额医疗自付").first
    expect(red.locator(".level")).to_have_text("红色预警")
    expect(red).to_contain_text("合计")
    expect(red).to_contain_text("达到20,000元的预警线")
    shot(page, "screening-run")

    # filters: red only, then one township
    page.select_option("#filters select[name=level]", "红")
    page.get_by_role("button", name="筛选").click()
    expect(hits).to_have_count(4)
    page.select_option("#filters select[name=level]", "")
    page.select_option("#filters select[name=township]", label="青山镇")
    page.get_by_role("button", name="筛选").click()
    expect(hits).to_have_count(1)  # 李国强户 of 东沟村, its large medical bills
    expect(hits.first).to_contain_text("据此立案")
    hits.first.click()  # a case opened: the link is the case's
    expect(page).to_have_url(re.compile(r"/c/\d+"))
    page.go_back()

    # the list of ID numbers not in the roster, as Excel under its Chinese name
    page.goto(f"/screening/{run_id}")
    with page.expect_download() as download:
        page.locator("#unmatched").click()
    assert download.value.suggested_filename == f"部门筛查_未匹配身份证号_{run_id}.xlsx"
    sheet = _workbook(download.value).active
    assert [c.value for c in sheet[1]] == ["部门", "文件", "行号", "身份证号"]
    assert [c.value for c in sheet[2]] == ["医保", "医保.csv", 10, "522631198806150022"]
    with page.expect_download() as download:
        page.locator("#bad-rows").click()
    assert download.value.suggested_filename == f"部门筛查_有问题的行_{run_id}.xlsx"
    rows = list(_workbook(download.value).active.values)
    assert sorted(rows[1:]) == [
        ("人社.csv", 7, "就业状态", "就业状态应为：就业、失业"),
        ("医保.csv", 9, "身份证号", "身份证号不正确（应为18位，校验位须正确）")]

    # the list of runs says how it went
    page.goto("/screening")
    expect(page.locator(f"#runs a[data-run='{run_id}']")).to_contain_text(
        "已完成：预警 8 条，新立案 6")


def test_a_wrong_file_type_and_an_oversized_file_are_refused_in_chinese(
        desk_page: Any, services: Services, tmp_path: Path) -> None:
    page = desk_page
    page.goto("/inbox")
    sign_in(page, "赵审定")
    page.goto("/screening")
    pdf = tmp_path / "医保数据.pdf"
    pdf.write_bytes(b"%PDF-1.4 not a feed")
    _upload(page, {"medical": pdf, "civil": FEEDS / "民政.csv"})
    expect(page.get_by_role("alert")).to_have_text(
        "医保：只接受 CSV 或 Excel（.xlsx）文件，「医保数据.pdf」不是。")
    expect(page.locator("#runs")).to_contain_text("还没有筛查")  # nothing started

    conf = services.config.screening.model_copy(update={"max_file_mb": 1})
    services.config = services.config.model_copy(update={"screening": conf})
    big = tmp_path / "医保.csv"
    big.write_bytes((FEEDS / "医保.csv").read_bytes() + b"\r\n" * (1024 * 1024))
    page.goto("/screening")
    _upload(page, {"medical": big})
    expect(page.get_by_role("alert")).to_contain_text(
        "医保：文件「医保.csv」有 2.0MB，超过了 1MB 的上限")
    fake = tmp_path / "残联.xlsx"
    fake.write_text("姓名,身份证号\n", encoding="utf-8")
    _upload(page, {"disability": fake})
    expect(page.get_by_role("alert")).to_contain_text("不是有效的 Excel（.xlsx）文件")
    # a department's file in another's slot: refused at once, naming the file as uploaded
    _upload(page, {"education": FEEDS / "医保.csv"})
    expect(page.get_by_role("alert")).to_have_text(
        "教育：文件「医保.csv」缺少列 学生姓名、学段、在校状态、变化日期；"
        "它看起来是医保的数据，请放到「医保」一栏。")
    expect(page.locator("#runs")).to_contain_text("还没有筛查")
    assert not list((services.settings.screening_dir / "uploads").glob("*/*"))


def test_only_the_county_may_open_it(desk_page: Any) -> None:
    page = desk_page
    page.goto("/inbox")
    sign_in(page, "刘书记")  # 东沟村's village cadre
    expect(page.get_by_text("部门筛查预警（上传部门数据、比对结果）")).to_have_count(0)
    response = page.goto("/screening")
    assert response.status == 403
    expect(page.get_by_role("heading", name="无权操作")).to_be_visible()
    expect(page.get_by_text("部门筛查预警由县级人员办理。")).to_be_visible()
    sign_in(page, "王审核")  # a township's auditor: the desk, but not this page
    assert page.goto("/screening/1").status == 403
    assert page.goto("/screening/1/unmatched.xlsx").status == 403



def test_an_upload_over_the_whole_bound_is_a_chinese_413_page(
        desk: Any, services: Services, world: World) -> None:
    """Six files of max_file_mb each and the form: more than that is refused before the form
    is read (the CSRF check reads it first), with the screening's own bound said."""
    from tests.support.web import cadre_id

    conf = services.config.screening.model_copy(update={"max_file_mb": 1})
    services.config = services.config.model_copy(update={"screening": conf})
    desk.signs_in(cadre_id("赵审定"))
    res = desk.client.post("/screening", data={
        "csrf_token": desk.token, "as_of": "2026-11-02", "scope": "all",
        "medical": (io.BytesIO(b"1" * (8 * 1024 * 1024)), "医保.csv")},
        content_type="multipart/form-data")
    assert res.status_code == 413, res.text
    assert "上传的部门数据文件太大（每个不超过1MB）" in res.text
    small = desk.client.post("/screening", data={
        "csrf_token": desk.token, "as_of": "2026-11-02", "scope": "all",
        "medical": (io.BytesIO(b"1" * (2 * 1024 * 1024)), "医保.csv")},
        content_type="multipart/form-data")  # under the whole bound: the file's own check
    assert small.status_code == 400 and "超过了 1MB 的上限" in small.text


def test_an_upload_larger_than_the_apps_bound_for_photos_is_taken(
        desk: Any, services: Services, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The app refuses requests over 40MB (photos); a department's file may be far larger
    (screening.max_file_mb, 1024 by default), and is kept whole."""
    from tests.support.web import cadre_id

    started: list[tuple[int, Path]] = []
    monkeypatch.setattr(services, "start_screening",
                        lambda run_id, folder, as_of, scope: started.append((run_id, folder)))
    desk.signs_in(cadre_id("赵审定"))
    size = 45 * 1024 * 1024
    res = desk.client.post("/screening", data={
        "csrf_token": desk.token, "as_of": "2026-11-02", "scope": "key",
        "medical": (io.BytesIO((FEEDS / "医保.csv").read_bytes().ljust(size, b" ")), "x.csv")},
        content_type="multipart/form-data")
    assert res.status_code == 303, res.text
    [(run_id, folder)] = started
    assert res.headers["Location"].endswith(f"/screening/{run_id}")
    assert (folder / "医保.csv").stat().st_size == size
