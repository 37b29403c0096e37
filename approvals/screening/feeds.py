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

from dataclasses import dataclass
from enum import StrEnum


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
