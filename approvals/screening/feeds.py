"""The six department feeds: their columns, how a file is found, read and validated.

A feed is one file per department, CSV (UTF-8 or GBK) or .xlsx, one row per record, headers in
Chinese. Each column is a field with a key (what rules and code name it), a default header
and a kind that says how a cell is read. A county whose departments export other headers
renames them in config.yaml (`screening.columns`); the keys never change.

Reading is columnar (Polars): a file becomes a frame of typed columns plus `row`, the row's
number as a spreadsheet shows it (the header is row 1). A row with any bad cell (an ID number
whose checksum fails, a missing cell, an amount or date that cannot be read, a value outside
the field's choices) is reported by file, row and column and left out of the frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import cn2an
import polars as pl


class Kind(StrEnum):
    NAME = "name"  # a person's name: required text
    ID = "id"  # 18-digit resident ID number, checksum verified, X upper-cased
    DATE = "date"  # YYYY-MM-DD or YYYY/M/D (or a date cell in .xlsx)
    AMOUNT = "amount"  # yuan, at most two decimals; thousands separators allowed
    CHOICE = "choice"  # one of the field's choices
    TEXT = "text"  # free text, may be empty


@dataclass(frozen=True)
class Field:
    key: str
    header: str  # the default Chinese header
    kind: Kind
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feed:
    key: str  # medical, education, ...
    label: str  # 医保, shown wherever the feed is named
    department: str  # 医保局: who sends it
    fields: tuple[Field, ...]

    @property
    def id_field(self) -> str:
        return next(f.key for f in self.fields if f.kind == Kind.ID)

    @property
    def date_field(self) -> str:
        return next(f.key for f in self.fields if f.kind == Kind.DATE)


GRADES = ("一级", "二级", "三级", "四级")

FEEDS: dict[str, Feed] = {f.key: f for f in (
    Feed("medical", "医保", "医疗保障局", (
        Field("name", "姓名", Kind.NAME),
        Field("id_number", "身份证号", Kind.ID),
        Field("settled_on", "结算日期", Kind.DATE),
        Field("total_cost", "医疗总费用", Kind.AMOUNT),
        Field("reimbursed", "医保报销", Kind.AMOUNT),
        Field("out_of_pocket", "个人自付", Kind.AMOUNT),
    )),
    Feed("education", "教育", "教育局", (
        Field("name", "学生姓名", Kind.NAME),
        Field("id_number", "身份证号", Kind.ID),
        Field("stage", "学段", Kind.TEXT),
        Field("status", "在校状态", Kind.CHOICE, ("在读", "休学", "辍学")),
        Field("changed_on", "变化日期", Kind.DATE),
    )),
    Feed("disability", "残联", "残疾人联合会", (
        Field("name", "姓名", Kind.NAME),
        Field("id_number", "身份证号", Kind.ID),
        Field("disability", "残疾类别", Kind.TEXT),
        Field("grade", "残疾等级", Kind.CHOICE, GRADES),
        Field("issued_on", "发证日期", Kind.DATE),
    )),
    Feed("civil", "民政", "民政局", (
        Field("name", "姓名", Kind.NAME),
        Field("id_number", "身份证号", Kind.ID),
        Field("assistance", "救助类型", Kind.CHOICE, ("低保", "特困", "临时救助")),
        Field("change", "变化", Kind.CHOICE, ("新增", "停止")),
        Field("changed_on", "变化日期", Kind.DATE),
    )),
    Feed("disaster", "应急", "应急管理局", (
        Field("name", "户主姓名", Kind.NAME),
        Field("id_number", "身份证号", Kind.ID),
        Field("disaster", "灾害类型", Kind.TEXT),
        Field("loss", "损失金额", Kind.AMOUNT),
        Field("occurred_on", "发生日期", Kind.DATE),
    )),
    Feed("employment", "人社", "人力资源和社会保障局", (
        Field("name", "姓名", Kind.NAME),
        Field("id_number", "身份证号", Kind.ID),
        Field("status", "就业状态", Kind.CHOICE, ("就业", "失业")),
        Field("changed_on", "变化日期", Kind.DATE),
    )),
)}


@dataclass(frozen=True)
class BadRow:
    """A row left out: which file, which row (as a spreadsheet numbers it), which column
    (its header in the file) and what is wrong, in Chinese. Never the cell's value: it may be
    an ID number."""

    feed: str
    file: str
    row: int
    column: str
    problem: str


class FileProblem(Exception):
    """A whole file kept out of the run (unreadable, too big, a column missing): one line."""


SUFFIXES = (".csv", ".xlsx")


def find(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """Each feed's file in `folder`, found by its name holding the feed's key or label
    (medical.csv, 医保.xlsx, 医保结算2026.csv); and the problems: a feed with two files, a
    file that is no feed's."""
    found: dict[str, list[Path]] = {}
    problems = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if path.name.startswith(".") or path.suffix.lower() not in SUFFIXES:
            continue
        stem = path.stem.lower()
        feeds = [k for k, f in FEEDS.items() if k in stem or f.label in stem]
        if len(feeds) != 1:
            problems.append(f"{path.name}：看不出是哪个部门的数据，文件名应含"
                            f"{'、'.join(f.label for f in FEEDS.values())}之一，已跳过")
            continue
        found.setdefault(feeds[0], []).append(path)
    files = {}
    for key, paths in found.items():
        if len(paths) > 1:
            problems.append(f"{FEEDS[key].label}有多个文件（{'、'.join(p.name for p in paths)}），"
                            f"请只保留一个，本次未读取")
        else:
            files[key] = paths[0]
    return files, problems


def headers(feed: Feed, renamed: Mapping[str, str]) -> dict[str, str]:
    """Field key → the header this county's file has for it."""
    return {f.key: renamed.get(f.key, f.header) for f in feed.fields}


def read_table(path: Path, *, max_rows: int, max_bytes: int) -> pl.DataFrame:
    """A file's cells as text (stripped; empty cells null), columns by their header. CSV in
    UTF-8 (with or without BOM) or GBK (GB 18030, its superset)."""
    size = path.stat().st_size
    if size > max_bytes:
        raise FileProblem(f"{path.name}：文件 {size / 2**20:.0f}MB，超过上限 "
                          f"{max_bytes / 2**20:.0f}MB")
    try:
        if path.suffix.lower() == ".xlsx":
            frame = pl.read_excel(path, engine="calamine", read_options={"dtypes": "string"})
        else:
            frame = pl.read_csv(_utf8(path.read_bytes()), infer_schema=False,
                                n_rows=max_rows + 1, truncate_ragged_lines=True)
    except FileProblem:
        raise
    except Exception:  # the readers' errors are English and may quote cells
        raise FileProblem(f"{path.name}：无法读取，请确认是 CSV（UTF-8 或 GBK 编码）或 "
                          f".xlsx 文件") from None
    if frame.height > max_rows:
        raise FileProblem(f"{path.name}：超过 {max_rows} 行，请分批提供")
    frame = frame.rename({c: c.strip() for c in frame.columns})
    return frame.with_columns(pl.col(pl.String).str.strip_chars().replace("", None))


def _utf8(raw: bytes) -> bytes:
    try:
        raw.decode("utf-8")
        return raw.removeprefix(b"\xef\xbb\xbf")
    except UnicodeDecodeError:
        try:
            return raw.decode("gb18030").encode("utf-8")
        except UnicodeDecodeError:
            raise FileProblem("编码无法识别") from None


def header(path: Path) -> list[str]:
    """A file's column headers, reading no further than its first row."""
    try:
        if path.suffix.lower() == ".xlsx":
            columns = pl.read_excel(path, engine="calamine",
                                    read_options={"n_rows": 0}).columns
        else:
            with path.open("rb") as f:
                first = f.readline(1 << 16)
            columns = pl.read_csv(_utf8(first), n_rows=0, infer_schema=False).columns
    except Exception:  # said by the caller: the file does not read
        raise FileProblem(f"{path.name}：无法读取，请确认是 CSV（UTF-8 或 GBK 编码）或 "
                          f".xlsx 文件") from None
    return [c.strip() for c in columns]


def missing(feed: Feed, found: list[str], renamed: Mapping[str, str]) -> list[str]:
    """The feed's headers (as this county names them) a file's header row lacks."""
    return [h for h in headers(feed, renamed).values() if h not in found]


def looks_like(found: list[str], columns: Mapping[str, Mapping[str, str]]) -> Feed | None:
    """The feed whose headers a file has all of, if any (a file put in the wrong slot)."""
    return next((f for f in FEEDS.values() if not missing(f, found, columns.get(f.key, {}))),
                None)


# GB 11643: the check character of the first 17 digits, weighted 2^(17-i) mod 11
_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CHECK = "10X98765432"
_DATE_TIME = r"\s+\d{1,2}:\d{2}(:\d{2})?$"  # an .xlsx date cell read as text


def valid_id(col: pl.Expr) -> pl.Expr:
    """Whether an ID number (upper-cased) has 18 characters, its birth date exists and its
    check character is right; as one expression over the column (python-stdnum's check,
    row by row, would take longer than the whole run)."""
    total = pl.sum_horizontal(col.str.slice(i, 1).cast(pl.Int32, strict=False) * w
                              for i, w in enumerate(_WEIGHTS))
    check = (total % 11).replace_strict(list(range(11)), list(_CHECK), default=None)
    return (col.str.contains(r"^\d{17}[\dX]$")
            & col.str.slice(6, 8).str.to_date("%Y%m%d", strict=False).is_not_null()
            & (check == col.str.slice(17, 1))).fill_null(False)


def _date(col: pl.Expr) -> pl.Expr:
    text = col.str.replace(_DATE_TIME, "")
    return pl.coalesce(text.str.to_date("%Y-%m-%d", strict=False),
                       text.str.to_date("%Y/%m/%d", strict=False))


def _amount(col: pl.Expr) -> pl.Expr:
    number = col.str.replace_all(r"[,，\s]", "").str.strip_suffix("元")
    value = number.cast(pl.Float64, strict=False)
    return pl.when(value >= 0).then(value.round(2))


def _choice(frame: pl.DataFrame, header: str, choices: tuple[str, ...]) -> pl.Expr:
    """The column with each value as the field writes it: 3级 is 三级 (cn2an), unknown
    values null."""
    seen = frame.get_column(header).drop_nulls().unique().to_list()
    canonical: dict[str, str] = {}
    for value in seen:  # a handful of distinct values, however many rows
        if value in choices:
            canonical[value] = value
            continue
        try:
            spelled = cn2an.transform(value, "an2cn")
        except (ValueError, KeyError):
            continue
        if spelled in choices:
            canonical[value] = spelled
    return pl.col(header).replace_strict(canonical, default=None, return_dtype=pl.String)


PROBLEMS = {
    Kind.NAME: "姓名为空",
    Kind.ID: "身份证号不正确（应为18位，校验位须正确）",
    Kind.DATE: "日期无法识别（应为 2026-03-01 或 2026/3/1）",
    Kind.AMOUNT: "金额无法识别（应为不小于0的数字，单位元）",
    Kind.TEXT: "",
}


def validate(feed: Feed, file: str, raw: pl.DataFrame, renamed: Mapping[str, str]
             ) -> tuple[pl.DataFrame, list[BadRow]]:
    """The rows whose every cell reads as its field says, typed, with `row` (the header is
    row 1), without the name (checked, not kept); and one BadRow per bad cell of the
    others."""
    names = headers(feed, renamed)
    missing = [h for h in names.values() if h not in raw.columns]
    if missing:
        raise FileProblem(f"{file}：缺少列 {'、'.join(missing)}"
                          f"（{feed.label}数据应有列：{'、'.join(names.values())}）")
    # Each cell is read once into its typed column (first select), then judged from it (the
    # second): a null there is a cell that is empty or does not read.
    typed = [pl.int_range(2, raw.height + 2, dtype=pl.Int64).alias("row")]
    problems: list[tuple[str, pl.Expr, str]] = []  # header, "this cell is bad", why
    empty = []
    for f in feed.fields:
        col, header = pl.col(names[f.key]), names[f.key]
        match f.kind:
            case Kind.ID:
                typed.append(col.str.to_uppercase().alias(f.key))
                problems.append((header, ~valid_id(pl.col(f.key)), PROBLEMS[Kind.ID]))
            case Kind.DATE:
                typed.append(_date(col).alias(f.key))
                problems.append((header, pl.col(f.key).is_null(), PROBLEMS[Kind.DATE]))
            case Kind.AMOUNT:
                typed.append(_amount(col).alias(f.key))
                problems.append((header, pl.col(f.key).is_null(), PROBLEMS[Kind.AMOUNT]))
            case Kind.CHOICE:
                typed.append(_choice(raw, header, f.choices).alias(f.key))
                problems.append((header, pl.col(f.key).is_null(),
                                 f"{header}应为：{'、'.join(f.choices)}"))
            case Kind.NAME:
                typed.append(col.alias(f.key))
                problems.append((header, pl.col(f.key).is_null(), PROBLEMS[Kind.NAME]))
            case Kind.TEXT:
                typed.append(col.alias(f.key))
        if f.kind != Kind.TEXT:
            empty.append(col.is_null().alias(f"empty{len(problems) - 1}"))
    flags = [f"bad{i}" for i in range(len(problems))]
    frame = (raw.select(*typed, *empty)
             .with_columns(bad.alias(flag) for flag, (_h, bad, _w) in zip(flags, problems,
                                                                          strict=True)))
    any_bad = pl.any_horizontal(flags)
    report = []
    for row in frame.filter(any_bad).iter_rows(named=True):  # a few, however long the file
        for i, (header, _bad, why) in enumerate(problems):
            if row[f"bad{i}"]:
                report.append(BadRow(feed.key, file, row["row"], header,
                                     "空白" if row[f"empty{i}"] else why))
    report.sort(key=lambda b: (b.row, b.column))
    # the feed's own name column is only checked: a member is named as the roster names them
    unused = [f.key for f in feed.fields if f.kind == Kind.NAME]
    return frame.filter(~any_bad).drop(flags, *(f"empty{i}" for i in range(len(empty))),
                                       *unused), report
