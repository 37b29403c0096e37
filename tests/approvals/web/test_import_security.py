"""Roster imports attacked from outside, over real HTTP to /import as the county cadre and
through `fangfan import`: a file that would move people between households, leave one
without a head, overflow a column or unpack to gigabytes is refused with Chinese row errors
(or one Chinese line), nothing changes, and the pages that read households still answer."""

from __future__ import annotations

import csv
import io
import re
import time
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest
import requests
from sqlalchemy import func, select

from approvals.desk import imports
from approvals.record.models import Case, Household, Member, Place
from tests.db import session_scope
from tests.support.cli import fangfan, fangfan_peak
from tests.support.web import cadre_id
from tests.support.world import World

pytestmark = pytest.mark.slow


def county_session(site: str) -> requests.Session:
    """The county supervisor signed in over HTTP (dev sign-in), with the form's CSRF token."""
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{site}/login").text)
    res = http.post(f"{site}/login/dev", data={"csrf_token": token.group(1),
                                               "cadre_id": cadre_id("钱督导")},
                    allow_redirects=False)
    assert res.status_code == 302
    return http


def upload(http: requests.Session, site: str, name: str, data: bytes,
           kind: str = "roster") -> requests.Response:
    page = http.get(f"{site}/import")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return http.post(f"{site}/import", data={"csrf_token": token, "kind": kind},
                     files={"file": (name, data)}, timeout=120)


def household_members(village: str, index: int) -> list[Member]:
    with session_scope() as s:
        household = s.scalars(select(Household).join(Place).where(Place.name == village)
                              .order_by(Household.id)).all()[index]
        return list(household.members)


def snapshot() -> list[tuple]:
    with session_scope() as s:
        return [tuple(r) for r in s.execute(
            select(Member.id, Member.household_id, Member.name, Member.phone, Member.is_head,
                   Member.relation).order_by(Member.id))]


def roster_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.ROSTER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def row(member: Member, head: str, relation: str, village: str = "东沟村",
        name: str | None = None, phone: str = "") -> list[str]:
    return ["青山镇", village, "1组", head, name or member.name, member.id_number, relation,
            phone, "有"]


def moving_file() -> tuple[bytes, list[Member], list[Member]]:
    """Household B's head and spouse as they are; household A's head as B's child, A's
    spouse as a member of a new household: both would leave their household."""
    a, b = household_members("东沟村", 0), household_members("东沟村", 1)
    b_head = b[0].id_number
    new_head = "522631199001010019"
    data = roster_csv([
        row(b[0], b_head, "户主"), row(b[1], b_head, "配偶"),
        row(a[0], b_head, "子女"),
        ["青山镇", "东沟村", "2组", new_head, "孙新户", new_head, "户主", "", "有"],
        row(a[1], new_head, "配偶"),
    ])
    return data, a, b


def test_a_roster_moving_people_between_households_is_refused_over_http(
        world: World, site: str, caplog: pytest.LogCaptureFixture) -> None:
    case_id = world.apply(world.household("东沟村", 0))
    data, a, b = moving_file()
    before = snapshot()
    http = county_session(site)
    with caplog.at_level("INFO"):
        res = upload(http, site, "花名册.csv", data)
    assert res.status_code == 400
    problems = re.findall(r"<li>(.*?)</li>", res.text)
    masked = {m.id_number: f"{m.id_number[:6]}********{m.id_number[-4:]}" for m in a + b}
    assert problems[0].startswith("第4行「身份证号」：此人已登记在东沟村户主"
                                  f"{a[0].name}（{masked[a[0].id_number]}）的户，")
    assert f"列入东沟村户主{b[0].name}（{masked[b[0].id_number]}）的户" in problems[0]
    assert problems[1].startswith(f"第6行「身份证号」：此人已登记在东沟村户主{a[0].name}")
    assert "本文件第5行户主孙新户（522631********0019）的新户" in problems[1]
    assert len(problems) == 2 and "未导入任何数据" in res.text
    assert snapshot() == before
    for m in a + b:
        assert m.id_number not in res.text and m.id_number not in caplog.text
    # the record is whole: every page that reads the household still answers
    for page in ("/", f"/c/{case_id}", f"/h/{a[0].household_id}", "/ledger"):
        assert http.get(f"{site}{page}").status_code == 200, page
    with session_scope() as s:
        whole = s.scalar(select(Place.id).where(Place.level == "county"))
    ledger = openpyxl.load_workbook(io.BytesIO(
        http.get(f"{site}/ledger.xlsx?place={whole}").content))
    assert a[0].name in [c.value for c in ledger.active["E"]]


def test_a_second_head_and_overlong_or_wrong_cells_are_row_errors(
        world: World, site: str, caplog: pytest.LogCaptureFixture) -> None:
    a = household_members("东沟村", 0)
    before = snapshot()
    data = roster_csv([
        row(a[1], a[1].id_number, "户主"),  # A's spouse made head, A's head not listed
        row(a[0], a[0].id_number, "户主", village="西坡村", name="王" * 40,
            phone="1381234567890123456789"),
        ["青山镇", "东沟村", "1组", "522631199001010019", "李四", "522631199001010019", "户主",
         "12345", "有"],
        ["青山镇", "东沟村", "1组", "522631199001010027", "赵五", "522631199001010027", "户主",
         "0851-8123456", "有"],
    ])
    http = county_session(site)
    with caplog.at_level("INFO"):
        res = upload(http, site, "花名册.csv", data)
    assert res.status_code == 400
    problems = re.findall(r"<li>(.*?)</li>", res.text)
    assert "第3行「姓名」：超过32个字" in problems
    assert "第3行「联系电话」：超过20位" in problems
    assert any(p.startswith("第4行「联系电话」：号码不正确") for p in problems)
    assert not any(p.startswith("第5行") for p in problems)  # a landline with its area code
    assert snapshot() == before
    # cells that fit, households that do not: B gets a second head, A another village
    b = household_members("东沟村", 1)
    data = roster_csv([row(b[1], b[1].id_number, "户主"),
                       row(a[0], a[0].id_number, "户主", village="西坡村"),
                       row(a[1], a[0].id_number, "配偶", village="西坡村")])
    res = upload(http, site, "花名册.csv", data)
    problems = re.findall(r"<li>(.*?)</li>", res.text)
    assert any(p.startswith("第2行「与户主关系」") and f"已有户主{b[0].name}" in p
               and "一户只能有一位户主" in p for p in problems), problems
    assert any(p.startswith("第3行「村」") and "登记在东沟村，与本行所填地方不符" in p
               for p in problems), problems
    assert snapshot() == before
    assert a[0].id_number not in caplog.text
    # changing the head within one file is allowed: the old head is listed with a relation
    data = roster_csv([row(a[1], a[1].id_number, "户主"), row(a[0], a[1].id_number, "配偶")])
    res = upload(http, site, "花名册.csv", data)
    assert res.status_code == 200 and "导入完成" in res.text, res.text
    with session_scope() as s:
        heads = s.scalars(select(Member.name).where(Member.household_id == a[0].household_id,
                                                    Member.is_head)).all()
    assert heads == [a[1].name]


def test_the_cli_refuses_the_same_file_and_names_both_households(
        world: World, database_url: str, tmp_path: Path) -> None:
    data, a, b = moving_file()
    path = tmp_path / "花名册.csv"
    path.write_bytes(data)
    before = snapshot()
    result = fangfan("import", "roster", str(path), database_url=database_url)
    assert result.returncode != 0
    assert f"此人已登记在东沟村户主{a[0].name}" in result.stderr
    assert f"列入东沟村户主{b[0].name}" in result.stderr
    assert "未导入任何数据" in result.stderr
    assert snapshot() == before
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Household).where(
            ~Household.members.any(Member.is_head))) == 0
        assert s.scalar(select(func.count()).select_from(Case)) == 0


# Zip bombs: sheet XML that packs a few hundred MB into a fraction of one.

ROW = b'<row><c t="inlineStr"><is><t>0</t></is></c></row>'


def bomb(unpacked_mb: int) -> bytes:
    """A real workbook whose sheet is followed by `unpacked_mb` MB of empty-ish rows."""
    book = openpyxl.Workbook()
    book.active.append(list(imports.ROSTER))
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED,
                                                        compresslevel=9) as dst:
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item, src.read(item))
                continue
            head, _, tail = src.read(item).partition(b"</sheetData>")
            chunk = ROW * (2**20 // len(ROW))
            with dst.open(item.filename, "w", force_zip64=True) as sheet:
                sheet.write(head)
                for _ in range(unpacked_mb):
                    sheet.write(chunk)
                sheet.write(b"</sheetData>" + tail)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "花名册.xlsx"
    path.write_bytes(bomb(300))
    assert path.stat().st_size < 2 * 2**20
    return path


def test_a_zip_bomb_is_refused_in_moments_over_http(world: World, site: str,
                                                    bomb_file: Path) -> None:
    http = county_session(site)
    before = snapshot()
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        res = upload(http, site, "花名册.xlsx", bomb_file.read_bytes())
        took = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.status_code == 400
    assert "文件解压后超过 100 MB（可能是“压缩炸弹”），已拒绝" in res.text
    assert took < 3, took
    assert peak < 64 * 2**20, peak  # both ends of the request; openpyxl would take GBs
    assert snapshot() == before


def test_a_zip_bomb_is_refused_by_the_cli_in_little_memory(
        world: World, database_url: str, bomb_file: Path) -> None:
    t0 = time.perf_counter()
    result, peak = fangfan_peak("import", "roster", str(bomb_file), database_url=database_url)
    took = time.perf_counter() - t0
    assert result.returncode != 0
    assert "文件解压后超过 100 MB（可能是“压缩炸弹”），已拒绝" in result.stderr
    assert took < 30, took  # the start of the command itself included
    assert peak < 400 * 2**20, peak
