"""Roster, cadre and pairing imports: every bad row told as row, column and problem; all or
nothing; the same file twice changes nothing."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from approvals.desk import examples, imports
from approvals.procedure.permissions import Actor
from approvals.record.models import Cadre, Household, Member, Pairing, Place
from tests.db import session_scope
from tests.support.world import World


def county(world: World) -> Actor:
    return world.cadre("supervisor")


def rows(name: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    return imports.read_upload(io.BytesIO(examples.read(name)), name, columns, imports.Limits())


def counts() -> tuple[int, int, int, int]:
    with session_scope() as s:
        return tuple(s.scalar(select(func.count()).select_from(t))  # type: ignore[return-value]
                     for t in (Household, Member, Cadre, Pairing))


def run(world: World, kind: str, table: list[dict[str, str]]) -> imports.Result:
    with session_scope() as s:
        result = imports.run(s, kind, table, county(world), now=world.clock.now(),
                             roles=world.config.roles)
        if not result.ok:
            s.rollback()
    return result


def test_the_example_files_import_and_importing_them_again_changes_nothing(
        world: World) -> None:
    before = counts()
    for kind, columns in imports.COLUMNS.items():
        result = run(world, kind, rows(f"{kind}.csv", columns))
        assert result.ok and result.added > 0, (kind, result.problems)
    after = counts()
    assert after == (before[0] + 2, before[1] + 4, before[2] + 2, before[3] + 1)
    for kind, columns in imports.COLUMNS.items():
        again = run(world, kind, rows(f"{kind}.csv", columns))
        assert (again.added, again.changed) == (0, 0) and again.unchanged > 0
    assert counts() == after
    with session_scope() as s:
        head = s.scalars(select(Member).where(Member.id_number == "52263119680315001X")).one()
        household = s.get_one(Household, head.household_id)
        assert household.village.name == "东沟村" and len(household.members) == 3
        assert [m.labour for m in household.members] == ["full", "partial", "none"]
        assert [m.able_to_work for m in household.members] == [True, True, False]
        assert not household.formerly_poor  # the roster's 脱贫户 column
        other = s.scalars(select(Member).where(Member.id_number == "522631195511110011")).one()
        assert s.get_one(Household, other.household_id).formerly_poor


def test_every_bad_row_is_reported_and_nothing_is_imported(world: World) -> None:
    table = [
        {"乡镇": "青山镇", "村": "东沟村", "村民小组": "1组", "户主身份证号": "52263119680315001X",
         "姓名": "王长林", "身份证号": "52263119680315001X", "与户主关系": "户主",
         "联系电话": "", "劳动能力": "有"},
        {"乡镇": "青山镇", "村": "东沟村", "村民小组": "1组", "户主身份证号": "52263119680315001X",
         "姓名": "刘秀珍", "身份证号": "522631197005200040", "与户主关系": "配偶",
         "联系电话": "", "劳动能力": "有"},
        {"乡镇": "青山镇", "村": "西沟村", "村民小组": "1组", "户主身份证号": "522631197005200048",
         "姓名": "张三", "身份证号": "522631197005200048", "与户主关系": "户主",
         "联系电话": "", "劳动能力": "可能"},
        {"乡镇": "青山镇", "村": "东沟村", "村民小组": "1组", "户主身份证号": "52263119680315001X",
         "姓名": "", "身份证号": "52263119680315001X", "与户主关系": "子女",
         "联系电话": "", "劳动能力": "无"},
    ]
    before = counts()
    result = run(world, "roster", table)
    assert [str(p) for p in result.problems] == [
        "第3行「身份证号」：号码不正确（18位，校验码不符）",
        "第4行「村」：本辖区没有“青山镇西沟村”",
        "第4行「劳动能力」：应填“有”“部分丧失”或“无”",
        "第5行「身份证号」：与第2行重复（同一人登记了两次）",
        "第5行「姓名」：不能为空",
    ]
    assert counts() == before


def test_a_cadre_outside_the_jurisdiction_is_refused(world: World) -> None:
    run(world, "roster", rows("roster.csv", imports.ROSTER))
    run(world, "cadres", rows("cadres.csv", imports.CADRES))
    table = [{"户主身份证号": "52263119680315001X", "帮扶联系人": "钱帮扶",  # 东沟村's household
              "联系人电话": "13900009902", "开始日期": "2026-11-01"},  # 南滩村's cadre
             {"户主身份证号": "522631195511110011", "帮扶联系人": "无此人",
              "联系人电话": "", "开始日期": "11/01"}]
    before = counts()
    result = run(world, "pairings", table)
    assert [str(p) for p in result.problems] == [
        "第2行「帮扶联系人」：这位干部不在该户所在辖区",
        "第3行「帮扶联系人」：没有这位在岗人员（姓名和电话须一致）",
        "第3行「开始日期」：日期格式应为 2026-01-31",
    ]
    assert counts() == before


def test_an_excel_file_in_the_ledger_layout_is_read(world: World) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(imports.ROSTER))
    sheet.append(["河湾乡", "北岭村", "1组", "522631195511110011", "赵德胜",
                  "522631195511110011", "户主", 13800002222, "无"])
    data = io.BytesIO()
    book.save(data)
    table = imports.read_table(data.getvalue(), "花名册.xlsx", imports.ROSTER, imports.Limits())
    assert table[0]["联系电话"] == "13800002222"
    assert run(world, "roster", table).added == 1
    with pytest.raises(imports.BadFile, match="缺少列：劳动能力"):
        imports.read_table("乡镇,村,村民小组,户主身份证号,姓名,身份证号,与户主关系,联系电话\n"
                           .encode(), "x.csv", imports.ROSTER, imports.Limits())
    with pytest.raises(imports.BadFile, match="只支持"):
        imports.read_table(b"", "x.txt", imports.ROSTER, imports.Limits())
    gbk = "\n".join([",".join(imports.ROSTER), "河湾乡,北岭村,1组,522631195511110011,赵德胜,"
                     "522631195511110011,户主,,无"]).encode("gb18030")
    read = imports.read_table(gbk, "x.csv", imports.ROSTER, imports.Limits())
    assert read[0]["姓名"] == "赵德胜"
    with session_scope() as s:
        assert s.scalar(select(Place.name).join(Household, Household.village_id == Place.id)
                        .join(Member).where(Member.id_number == "522631195511110011")) == "北岭村"
