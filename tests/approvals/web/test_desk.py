"""The desk pages: the village notice as a PDF (read back with pdftotext), the ledger as
Excel (opened and checked cell by cell), and the upload of a roster."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
from urllib.parse import quote

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import func, select

from approvals.desk import examples, imports
from approvals.record.calendar import local_date
from approvals.record.definitions import Stage
from approvals.record.models import Household, Member, Place
from approvals.web.download import EXAMPLE_NAMES
from tests.db import session_scope
from tests.support.web import Desk, cadre_id
from tests.support.world import World


def heads(world: World, cases: list[int]) -> list[Member]:
    households = [world.case(c).household_id for c in cases]
    with session_scope() as s:
        return [s.get_one(Household, h).head for h in households]


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="make test installs poppler-utils")
def test_the_notice_pdf_says_what_it_must_and_nothing_private(
        app: Flask, world: World, tmp_path: object) -> None:
    cases = [world.apply(world.household("东沟村", i), risk_types=risks)
             for i, risks in enumerate((["illness"], ["disaster", "housing"]))]
    for case_id in cases:
        world.approve_through(case_id, Stage.PUBLIC_NOTICE)
    outside = world.apply(world.household("西坡村"))
    world.approve_through(outside, Stage.PUBLIC_NOTICE)
    with session_scope() as s:
        village = s.scalar(select(Place.id).where(Place.name == "东沟村"))
    desk = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    res = desk.get(f"/notices/{village}.pdf")
    assert res.status_code == 200 and res.data.startswith(b"%PDF")
    day = local_date(world.clock.now())
    assert res.headers["Content-Disposition"] == (  # saved under a Chinese name, RFC 5987
        f"inline; filename=\"notice-{village}-{day}.pdf\"; "
        f"filename*=UTF-8''{quote(f'公示_东沟村_{day}.pdf')}")
    text = "".join(subprocess.run(["pdftotext", "-", "-"], input=res.data, capture_output=True,
                                  check=True).stdout.decode().split())  # cells may wrap
    people = heads(world, cases)
    for must in ("东沟村防返贫监测对象识别公示", people[0].name, people[1].name,
                 "突发严重困难户", "家庭刚性支出较大", "遭受自然灾害", "公示时间", "12317"):
        assert must in text, must
    for member in people:
        assert member.id_number not in text and member.id_number[-4:] not in text
        assert member.phone not in text
    for never in ("因病", "患病", "住院", heads(world, [outside])[0].name):
        assert never not in text, never
    assert Desk(app.test_client()).signs_in(cadre_id("朱书记")).get(
        f"/notices/{village}.pdf").status_code == 403
    with session_scope() as s:
        quiet = s.scalar(select(Place.id).where(Place.name == "北岭村"))
    assert desk.get(f"/notices/{quiet}").status_code == 403  # not 刘书记's village
    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    assert "北岭村目前没有在公示期的案件" in county.get(f"/notices/{quiet}").text
    # a supervisor reaches the notice from any case in 公示
    assert f'href="/notices/{village}">查看本村公示' in county.get(f"/c/{cases[0]}").text


def test_the_ledger_opens_in_excel_with_every_cell_as_expected(
        app: Flask, world: World) -> None:
    late = world.apply(world.household("东沟村", 0), income_12m=18000)
    world.clock.advance(days=8)
    enrolled = world.apply(world.household("东沟村", 1))
    world.approve_through(enrolled, None)
    world.apply(world.household("南滩村", 0))
    desk = Desk(app.test_client()).signs_in(cadre_id("王审核"))  # 青山镇
    assert "导出台账" in desk.get("/inbox").text
    with session_scope() as s:
        township = s.scalar(select(Place.id).where(Place.name == "青山镇"))
    res = desk.get(f"/ledger.xlsx?place={township}")
    assert res.status_code == 200 and res.headers["X-Rows"] == "2"
    day = local_date(world.clock.now())  # the export's day, in the saved name
    assert res.headers["Content-Disposition"] == (
        f"attachment; filename=\"ledger-{township}-{day}.xlsx\"; "
        f"filename*=UTF-8''{quote(f'台账_青山镇_{day}.xlsx')}")
    sheet = openpyxl.load_workbook(io.BytesIO(res.data)).active
    assert sheet.freeze_panes == "A2"
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    header, first, second = table[0], dict(zip(table[0], table[1], strict=True)), dict(
        zip(table[0], table[2], strict=True))
    assert header[:6] == ["序号", "乡镇", "村", "村民小组", "户主姓名", "户主身份证号"]
    head = heads(world, [late])[0]
    assert first["户主姓名"] == head.name and first["乡镇"] == "青山镇" and first["村"] == "东沟村"
    assert first["户主身份证号"] == f"{head.id_number[:6]}********{head.id_number[-4:]}"
    assert first["当前环节"] == "入户核实" and first["是否超期"] == "是"
    assert first["案件状态"] == "办理中" and first["风险类型"] == "因病"
    assert isinstance(first["申请日期"], dt.datetime)
    assert second["监测状态"] == "监测对象" and second["案件状态"] == "纳入监测"
    assert second["帮扶联系人"] == "杨帮扶" and second["帮扶措施"] == "健康（计划）"
    assert second["监测类别"] == "突发严重困难户"
    assert len(table) == 5  # 南滩村 is another township's; a blank row, the chain's head
    assert set(table[3]) == {None} and table[4][0].startswith("审计链：第")
    overdue = desk.get(f"/ledger.xlsx?place={township}&overdue=1")
    assert overdue.headers["X-Rows"] == "1"
    with session_scope() as s:
        other = s.scalar(select(Place.id).where(Place.name == "河湾乡"))
    assert desk.get(f"/ledger.xlsx?place={other}").status_code == 403
    assert Desk(app.test_client()).signs_in(cadre_id("刘书记")).get(
        "/ledger").status_code == 403
    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    with session_scope() as s:
        whole = s.scalar(select(Place.id).where(Place.name == "示范县"))
    assert f'<option value="{whole}" selected>示范县' in county.get("/ledger").text
    assert county.get(f"/ledger.xlsx?place={whole}").headers["X-Rows"] == "3"


def test_a_roster_upload_with_bad_rows_changes_nothing_and_says_where(
        app: Flask, world: World) -> None:
    good = examples.read("roster.csv")
    bad = good.replace(b"522631197005200048", b"522631197005200049")
    desk = Desk(app.test_client()).signs_in(cadre_id("钱督导"))

    def members() -> int:
        with session_scope() as s:
            return s.scalar(select(func.count()).select_from(Member))

    before = members()
    res = desk.post("/import", kind="roster", file=(io.BytesIO(bad), "花名册.csv"))
    assert res.status_code == 400
    assert "第3行「身份证号」：号码不正确" in res.text and "未导入任何数据" in res.text
    assert members() == before
    res = desk.post("/import", kind="roster", file=(io.BytesIO(good), "花名册.csv"))
    assert res.status_code == 200 and "新增 4" in res.text
    assert members() == before + 4
    res = desk.post("/import", kind="roster", file=(io.BytesIO(b"x"), "花名册.xlsx"))
    assert res.status_code == 400 and "不是有效的 Excel" in res.text
    assert Desk(app.test_client()).signs_in(cadre_id("王审核")).get(
        "/import").status_code == 403


def test_the_import_page_offers_each_example_file_for_download(
        app: Flask, world: World) -> None:
    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    links = re.findall(r'href="(/import/examples/[^"]+)"', county.get("/import").text)
    assert sorted(links) == sorted(f"/import/examples/{name}" for name in examples.NAMES)
    for link in links:
        name = link.rsplit("/", 1)[1]
        res = county.get(link)
        assert res.status_code == 200 and res.mimetype == "text/csv"
        saved_as = EXAMPLE_NAMES[name]  # a Chinese file name, RFC 5987
        assert res.headers["Content-Disposition"] == (
            f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(saved_as)}")
        assert saved_as.endswith("导入样例.csv")
        assert res.data == examples.read(name)
        kind = name.removesuffix(".csv")  # in the layout its import reads
        assert imports.read_upload(io.BytesIO(res.data), name, imports.COLUMNS[kind],
                                   imports.Limits())
    assert county.get("/import/examples/config.yaml").status_code == 404
    signed_out = app.test_client().get("/import/examples/roster.csv")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]


def test_without_a_chinese_font_the_notice_pdf_is_a_chinese_message_not_boxes(
        app: Flask, world: World, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    case_id = world.apply(world.household("东沟村", 0))
    world.approve_through(case_id, Stage.PUBLIC_NOTICE)
    with session_scope() as s:
        village = s.scalar(select(Place.id).where(Place.name == "东沟村"))
    # a machine whose fontconfig knows no font: what pango (and so WeasyPrint) would see
    empty = tmp_path / "fonts.conf"
    empty.write_text('<?xml version="1.0"?><fontconfig>'
                     f'<dir>{tmp_path / "no-fonts"}</dir><cachedir>{tmp_path / "cache"}</cachedir>'
                     '</fontconfig>')
    monkeypatch.setenv("FONTCONFIG_FILE", str(empty))
    desk = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    res = desk.get(f"/notices/{village}.pdf")
    assert res.status_code == 503 and not res.data.startswith(b"%PDF")
    assert "本机缺少中文字体，无法生成公示PDF" in res.text
    assert "apt-get install fonts-noto-cjk" in res.text
    assert desk.get(f"/notices/{village}").status_code == 200  # the page to print still works
