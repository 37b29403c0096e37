"""The screening engine on hand-made feeds: each rule's hit, its near misses on every
threshold, members added up per household, windows, bad rows, IDs not in the roster, GBK and
.xlsx files, renamed columns. No database: the roster is a frame as `engine.roster` gives it
(its query is tested in test_roster.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from stdnum.cn import ric

from approvals.screening import engine, store
from approvals.screening.engine import ROSTER_SCHEMA, Screened
from approvals.screening.rules import Rule, describe
from fangfan.config import Config

AS_OF = dt.date(2026, 12, 1)
LIMITS = {"max_rows": 1000, "max_bytes": 2**20}
HEADERS = {
    "medical": "姓名,身份证号,结算日期,医疗总费用,医保报销,个人自付",
    "education": "学生姓名,身份证号,学段,在校状态,变化日期",
    "disability": "姓名,身份证号,残疾类别,残疾等级,发证日期",
    "civil": "姓名,身份证号,救助类型,变化,变化日期",
    "disaster": "户主姓名,身份证号,灾害类型,损失金额,发生日期",
    "employment": "姓名,身份证号,就业状态,变化日期",
}


def id_number(born: dt.date, seq: int) -> str:
    body = f"150102{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the digits before the last


# household → members: (name, birth date); ids follow from the order
HOUSEHOLDS = {
    1: [("王大", dt.date(1970, 5, 1)), ("王二", dt.date(1972, 3, 3))],
    2: [("李一", dt.date(1980, 1, 1)), ("李小", dt.date(2014, 12, 2))],  # 11 on the 1st
    3: [("赵一", dt.date(1960, 1, 1)), ("赵小", dt.date(2020, 12, 1))],  # 6 on the as-of day
    4: [("钱一", dt.date(1990, 6, 6)), ("钱小", dt.date(2010, 12, 2))],  # 15, 16 on 12-02
    5: [("孙一", dt.date(1985, 2, 2))],
}
PEOPLE = {name: id_number(born, seq) for seq, (name, born) in
          enumerate((m for ms in HOUSEHOLDS.values() for m in ms), start=1)}


def roster_frame(out_of_scope: tuple[int, ...] = ()) -> pl.DataFrame:
    rows = []
    member_id = 0
    for household, members in HOUSEHOLDS.items():
        for name, _born in members:
            member_id += 1
            rows.append({"id_number": PEOPLE[name], "member_id": member_id,
                         "household_id": household, "name": name,
                         "village_id": 100 + household, "township_id": 10 + household % 2,
                         "in_scope": household not in out_of_scope})
    return pl.DataFrame(rows, schema=ROSTER_SCHEMA)


def write(folder: Path, feed: str, rows: list[str], name: str | None = None,
          encoding: str = "utf-8", header: str | None = None) -> Path:
    path = folder / (name or f"{feed}.csv")
    path.write_text("\n".join([header or HEADERS[feed], *rows]) + "\n", encoding=encoding)
    return path


def run(folder: Path, config: Config, out_of_scope: tuple[int, ...] = (),
        columns: dict[str, dict[str, str]] | None = None) -> tuple[engine.Feeds, Screened]:
    feeds = engine.read(folder, columns or {}, **LIMITS)
    return feeds, engine.screen(feeds.loaded, roster_frame(out_of_scope),
                                config.screening.rules, AS_OF)


def hits(screened: Screened, rule: str) -> dict[int, dict]:
    return {h.household_id: h.figures for h in screened.hits if h.rule == rule}


def test_medical_out_of_pocket_adds_up_the_members_over_365_days(tmp_path: Path,
                                                                 config: Config) -> None:
    write(tmp_path, "medical", [
        # household 1: 12,000 + 8,000 by two members within the window: a hit at exactly 20,000
        f"王大,{PEOPLE['王大']},2026-03-01,30000,18000,12000",
        f"王二,{PEOPLE['王二']},2025/12/2,10000,2000,8000",  # the window's first day
        # household 2: 19,999.99 in the window, plus 5,000 a day before it: a near miss
        f"李一,{PEOPLE['李一']},2026-11-30,40000,20000.01,19999.99",
        f"李一,{PEOPLE['李一']},2025-12-01,9000,4000,5000",
        # household 3: 25,000 but after the as-of date: not counted
        f"赵一,{PEOPLE['赵一']},2026-12-02,50000,25000,25000",
    ])
    _, screened = run(tmp_path, config)
    found = hits(screened, "medical_out_of_pocket")
    assert list(found) == [1]
    assert found[1]["total"] == 20000 and found[1]["records"] == 2
    assert found[1]["since"] == "2025-12-02" and found[1]["as_of"] == "2026-12-01"
    assert describe(found[1]) == ("医保数据：2025-12-02至2026-12-01家庭成员个人自付合计"
                                  "20,000元（2条记录），达到20,000元的预警线。")
    hit = next(h for h in screened.hits if h.rule == "medical_out_of_pocket")
    assert [(e["name"], e["row"], e["date"]) for e in hit.evidence] == [
        ("王二", 3, "2025-12-02"), ("王大", 2, "2026-03-01")]
    assert hit.evidence[1]["values"]["个人自付"] == 12000 and "身份证号" not in hit.evidence[1][
        "values"]


def test_school_dropout_reads_each_members_latest_status_and_age(tmp_path: Path,
                                                                  config: Config) -> None:
    # 李小 (11) dropped out, the latest record; 赵小 turns 6 on the as-of day (what comes
    # after it does not count yet); 钱小 (15) went back to school; 王二 is an adult
    write(tmp_path, "education", [
        f"李小,{PEOPLE['李小']},小学,在读,2025-09-01",
        f"李小,{PEOPLE['李小']},小学,辍学,2026-10-08",
        f"赵小,{PEOPLE['赵小']},小学,辍学,2026-11-01",
        f"赵小,{PEOPLE['赵小']},小学,在读,2026-12-02",  # after the as-of date: not yet
        f"钱小,{PEOPLE['钱小']},初中,辍学,2026-06-01",
        f"钱小,{PEOPLE['钱小']},初中,在读,2026-07-01",  # back at school: the latest
        f"王二,{PEOPLE['王二']},成人,辍学,2026-06-01",
    ])
    _, screened = run(tmp_path, config)
    found = hits(screened, "school_dropout")
    assert sorted(found) == [2, 3]
    assert found[2]["age"] == 11 and found[2]["value"] == "辍学"
    assert found[3]["age"] == 6
    assert describe(found[2]) == "教育数据：李小（11岁）最新在校状态为「辍学」，2026-10-08变化。"


def test_age_range_ends_on_both_sides(tmp_path: Path, config: Config) -> None:
    write(tmp_path, "education", [f"钱小,{PEOPLE['钱小']},初中,辍学,2026-06-01"])
    _, screened = run(tmp_path, config)
    assert hits(screened, "school_dropout")[4]["age"] == 15  # 16 tomorrow
    later = engine.screen(engine.read(tmp_path, {}, **LIMITS).loaded, roster_frame(),
                          config.screening.rules, dt.date(2026, 12, 2))
    assert hits(later, "school_dropout") == {}


def test_severe_disability_a_grade_one_or_two_certificate_within_a_year(
        tmp_path: Path, config: Config) -> None:
    write(tmp_path, "disability", [
        f"王大,{PEOPLE['王大']},肢体,二级,2026-01-10",
        f"李一,{PEOPLE['李一']},视力,三级,2026-05-01",  # grade 3: no
        f"赵一,{PEOPLE['赵一']},听力,1级,2025-12-01",  # grade 1 (as 1级) a day too early: no
        f"钱一,{PEOPLE['钱一']},精神,一级,2025-12-02",  # on the window's first day: yes
    ])
    feeds, screened = run(tmp_path, config)
    assert not feeds.loaded["disability"].bad
    assert sorted(hits(screened, "severe_disability")) == [1, 4]
    assert describe(hits(screened, "severe_disability")[1]) == (
        "残联数据：2025-12-02至2026-12-01王大有1条记录残疾等级为二级。")


def test_new_assistance_only_additions_within_180_days(tmp_path: Path,
                                                        config: Config) -> None:
    write(tmp_path, "civil", [
        f"王大,{PEOPLE['王大']},低保,新增,2026-06-04",  # day 181 back: no (window 06-05..)
        f"李一,{PEOPLE['李一']},临时救助,新增,2026-06-05",  # day 180: yes
        f"赵一,{PEOPLE['赵一']},特困,停止,2026-11-01",  # a stop: no
    ])
    _, screened = run(tmp_path, config)
    assert list(hits(screened, "new_assistance")) == [2]


def test_disaster_loss_adds_up_the_household(tmp_path: Path, config: Config) -> None:
    write(tmp_path, "disaster", [
        f"王大,{PEOPLE['王大']},冰雹,6000,2026-07-01",
        f"王大,{PEOPLE['王大']},洪涝,4000,2026-08-01",
        f"李一,{PEOPLE['李一']},干旱,9999.99,2026-08-01",
    ])
    _, screened = run(tmp_path, config)
    assert hits(screened, "disaster_loss")[1]["total"] == 10000
    assert 2 not in hits(screened, "disaster_loss")


def test_job_loss_latest_status_changed_within_180_days(tmp_path: Path,
                                                        config: Config) -> None:
    write(tmp_path, "employment", [
        f"王大,{PEOPLE['王大']},失业,2026-06-05",  # within: yes
        f"李一,{PEOPLE['李一']},失业,2026-06-04",  # a day too old: no
        f"赵一,{PEOPLE['赵一']},失业,2026-09-01",
        f"赵一,{PEOPLE['赵一']},就业,2026-10-01",  # found work again: no
    ])
    _, screened = run(tmp_path, config)
    assert list(hits(screened, "job_loss")) == [1]


def test_bad_rows_are_reported_by_file_row_and_column_and_left_out(
        tmp_path: Path, config: Config) -> None:
    bad_id = PEOPLE["王大"][:-1] + ("0" if PEOPLE["王大"][-1] != "0" else "1")
    write(tmp_path, "medical", [
        f"王大,{bad_id},2026-03-01,30000,0,25000",  # checksum
        f",{PEOPLE['王二']},2026-03-01,30000,0,25000",  # no name
        f"李一,{PEOPLE['李一']},2026-02-30,30000,0,25000",  # no such day
        f"李一,{PEOPLE['李一']},2026-03-01,30000,0,两万",  # not a number
        f"赵一,{PEOPLE['赵一']},2026-03-01,30000,0,-5",  # negative
        f"孙一,{PEOPLE['孙一']},2026-03-01,30000,0,21000",  # the one good row
    ])
    write(tmp_path, "education", [f"李小,{PEOPLE['李小']},小学,退学,2026-10-08"])
    feeds, screened = run(tmp_path, config)
    assert [(b.file, b.row, b.column, b.problem[:4])
            for b in feeds.loaded["medical"].bad] == [
        ("medical.csv", 2, "身份证号", "身份证号"), ("medical.csv", 3, "姓名", "空白"),
        ("medical.csv", 4, "结算日期", "日期无法"), ("medical.csv", 5, "个人自付", "金额无法"),
        ("medical.csv", 6, "个人自付", "金额无法")]
    assert feeds.loaded["medical"].rows == 6 and feeds.loaded["medical"].frame.height == 1
    assert feeds.loaded["education"].bad[0].problem == "在校状态应为：在读、休学、辍学"
    assert list(hits(screened, "medical_out_of_pocket")) == [5]
    assert all(bad_id not in b.problem for b in feeds.loaded["medical"].bad)


def test_ids_not_in_the_roster_are_counted_and_listed(tmp_path: Path,
                                                      config: Config) -> None:
    stranger = id_number(dt.date(1975, 1, 1), 999)
    write(tmp_path, "medical", [f"路人,{stranger},2026-03-01,30000,0,25000",
                                f"王大,{PEOPLE['王大']},2026-03-01,300,0,250"])
    _, screened = run(tmp_path, config)
    assert screened.unmatched.rows() == [("medical", "medical.csv", 2, stranger)]
    assert screened.hits == []


def test_gbk_csv_xlsx_and_renamed_columns(tmp_path: Path, config: Config) -> None:
    write(tmp_path, "medical", [f"王大,{PEOPLE['王大']},2026-03-01,30000,0,25000"],
          name="医保结算2026.csv", encoding="gbk",
          header="姓名,身份证号,结算日期,医疗总费用,医保报销,自付金额")
    book = xlsxwriter.Workbook(tmp_path / "应急.xlsx")
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, HEADERS["disaster"].split(","))
    sheet.write_row(1, 0, ["李一", PEOPLE["李一"], "洪涝"])
    sheet.write_number(1, 3, 12000)
    sheet.write_datetime(1, 4, dt.datetime(2026, 8, 1), book.add_format({"num_format": "yyyy-m-d"}))
    book.close()
    feeds, screened = run(tmp_path, config,
                          columns={"medical": {"out_of_pocket": "自付金额"}})
    assert feeds.loaded["medical"].file == "医保结算2026.csv"
    assert list(hits(screened, "medical_out_of_pocket")) == [1]
    assert hits(screened, "disaster_loss")[2]["total"] == 12000
    assert "未提供教育、残联、民政、人社数据，相关规则本次未比对" in feeds.problems


def test_a_file_without_a_column_is_kept_out_whole(tmp_path: Path, config: Config) -> None:
    write(tmp_path, "medical", ["王大,x"], header="姓名,身份证号")
    (tmp_path / "名单.csv").write_text("a\n1\n", encoding="utf-8")
    feeds, _ = run(tmp_path, config)
    assert "medical" not in feeds.loaded
    assert feeds.problems[0].startswith("名单.csv：看不出是哪个部门的数据")
    assert feeds.problems[1].startswith(
        "medical.csv：缺少列 结算日期、医疗总费用、医保报销、个人自付")


def test_an_unreadable_or_oversized_file(tmp_path: Path, config: Config) -> None:
    (tmp_path / "医保.xlsx").write_bytes(b"not a workbook")
    feeds = engine.read(tmp_path, {}, **LIMITS)
    assert feeds.problems[0] == (
        "医保.xlsx：无法读取，请确认是 CSV（UTF-8 或 GBK 编码）或 .xlsx 文件")
    (tmp_path / "医保.xlsx").unlink()
    write(tmp_path, "medical", [f"王大,{PEOPLE['王大']},2026-03-01,1,0,1"] * 20)
    feeds = engine.read(tmp_path, {}, max_rows=10, max_bytes=2**20)
    assert feeds.problems[0] == "medical.csv：超过 10 行，请分批提供"
    feeds = engine.read(tmp_path, {}, max_rows=100, max_bytes=100)
    assert feeds.problems[0].startswith("medical.csv：文件 0MB，超过上限")


def test_out_of_scope_households_are_known_but_not_screened(tmp_path: Path,
                                                            config: Config) -> None:
    write(tmp_path, "medical", [f"王大,{PEOPLE['王大']},2026-03-01,30000,0,25000"])
    _, screened = run(tmp_path, config, out_of_scope=(1,))
    assert screened.hits == [] and screened.unmatched.height == 0
    assert screened.households == 4


def test_the_same_data_gives_the_same_fingerprint_new_data_a_new_one(
        tmp_path: Path, config: Config) -> None:
    rows = [f"王大,{PEOPLE['王大']},2026-03-01,30000,0,25000"]
    write(tmp_path, "medical", rows)
    _, first = run(tmp_path, config)
    write(tmp_path, "medical", ["王二,x,x,x,x,x", *rows])  # rows move, a bad row comes first
    _, again = run(tmp_path, config)
    later = engine.screen(engine.read(tmp_path, {}, **LIMITS).loaded, roster_frame(),
                          config.screening.rules, AS_OF + dt.timedelta(days=30))
    write(tmp_path, "medical", [*rows, f"王二,{PEOPLE['王二']},2026-11-03,300,0,200"])
    _, more = run(tmp_path, config)
    prints = [s.hits[0].fingerprint for s in (first, again, later, more)]
    assert prints[0] == prints[1] == prints[2] != prints[3]


def test_a_runs_frames_are_kept_for_the_county(tmp_path: Path, config: Config) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    write(feeds, "medical", [f"王大,{PEOPLE['王大']},2026-03-01,30000,5000,25000",
                             f"李一,{PEOPLE['李一']},2026-04-01,300,0,250"])
    write(feeds, "civil", [f"王二,{PEOPLE['王二']},低保,新增,2026-10-01"])
    _, screened = run(feeds, config)
    folder = store.save(tmp_path / "screening", 7, screened.matched)
    assert oct(folder.stat().st_mode)[-3:] == "700"
    found = store.records(tmp_path / "screening", 7, 1)
    assert [(r.label, r.name, r.date, r.row) for r in found] == [
        ("民政", "王二", "2026-10-01", 2), ("医保", "王大", "2026-03-01", 2)]
    assert found[1].values == {"结算日期": "2026-03-01", "医疗总费用": 30000.0,
                               "医保报销": 5000.0, "个人自付": 25000.0}
    assert store.records(tmp_path / "screening", 8, 1) == []


@pytest.mark.parametrize("rule", ["total", "latest", "any"])
def test_a_rule_must_fit_its_feed(rule: str) -> None:
    base = {"name": "测试规则", "explanation": "用于测试的规则说明", "risk": "illness",
            "action": "visit", "level": "黄", "feed": "medical", "shape": rule}
    with pytest.raises(ValueError):
        Rule.model_validate(base | {"field": "settled_on", "where": {"grade": ["一级"]}})
