"""The ledger (台账): one row per household of a county, township or village, as Excel.

The rows are read with a few set-based queries (households, their latest case and its open
task, pairings, measures, latest income), never one query per household, and written
row by row by XlsxWriter in constant-memory mode, so 100k households stay well under the
30 s the issue asks. Chinese headers, a frozen header row, column widths, dates as dates.
ID numbers are masked unless the exporting role needs them (config workbench). The audit
chain's head at export is printed under the rows and in the page footer (approvals.record.audit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from approvals.procedure.permissions import Actor
from approvals.record import audit, wording
from approvals.record.calendar import last_day, local_date
from approvals.record.definitions import Level
from approvals.record.errors import NotAllowed, NotFound
from approvals.record.identity import mask_id
from approvals.record.models import (
    Cadre,
    Case,
    CaseStatus,
    Definition,
    Household,
    IncomeRecord,
    Measure,
    Member,
    MonitoringStatus,
    Pairing,
    Place,
    Task,
    TaskStatus,
)
from approvals.record.models.cases import case_number, parsed_definition
from approvals.record.models.households import size_of

COLUMNS = [  # header, width; the levels' headers are config.yaml's names for them
    ("序号", 6), (Level.TOWNSHIP, 10), (Level.VILLAGE, 10), ("村民小组", 8), ("户主姓名", 10),
    ("户主身份证号", 21),
    ("家庭人口", 8), ("监测状态", 10), ("监测类别", 14), ("风险类型", 22), ("纳入监测日期", 12),
    ("案件编号", 12), ("案件类型", 10), ("申请日期", 12), ("当前环节", 12), ("环节期限", 12),
    ("是否超期", 8), ("案件状态", 10), ("帮扶联系人", 14), ("帮扶措施", 30),
    ("最近人均纯收入（元）", 14), ("收入记录日期", 12),
]


@dataclass(frozen=True)
class Scope:
    place_id: int
    stage: str | None = None
    overdue: bool = False
    monitored_only: bool = False


@dataclass(frozen=True)
class Labels:
    categories: Mapping[str, str]
    risk_types: Mapping[str, str]


def _stage_label(s: Session, case: Any) -> str:
    """The open task's stage, as the case's own definition names it."""
    return parsed_definition(s, case.digest).stage(case.stage).label if case.stage else ""


def _place(s: Session, actor: Actor, place_id: int) -> Place:
    place = s.get(Place, place_id)
    if place is None:
        raise NotFound("没有找到这个地区。")
    if not actor.covers(place.path):
        raise NotAllowed("这个地区不在您的管辖范围内，不能导出。")
    return place


def rows(s: Session, actor: Actor, scope: Scope, labels: Labels, now: dt.datetime, *,
         full_ids: bool) -> Iterator[list[Any]]:
    place = _place(s, actor, scope.place_id)
    village, township = aliased(Place), aliased(Place)
    households = s.execute(
        select(Household.id, township.name, village.name, Household.group_name, Member.name,
               Member.id_number, Household.monitoring, Household.category,
               Household.monitored_since, Household.declared_size)
        .join(village, village.id == Household.village_id)
        .join(township, township.id == village.parent_id)
        .join(Member, (Member.household_id == Household.id) & Member.is_head)
        .where(village.path.startswith(place.path))
        .order_by(township.id, village.id, Household.group_name, Household.id)).all()
    ids = [h.id for h in households]
    if not ids:
        return
    in_scope = select(Household.id).join(Place, Place.id == Household.village_id).where(
        Place.path.startswith(place.path)).scalar_subquery()
    sizes = dict(s.execute(select(Member.household_id, func.count()).where(
        Member.household_id.in_(in_scope)).group_by(Member.household_id)).tuples().all())
    latest = select(func.max(Case.id)).where(Case.household_id.in_(in_scope)).group_by(
        Case.household_id).scalar_subquery()
    cases = {c.household_id: c for c in s.execute(
        select(Case.household_id, Case.id, Case.kind, Case.opened_at, Case.status,
               Case.risk_types, Case.due_at, Task.stage, Task.due_at.label("task_due"),
               Definition.digest)
        .join(Definition, Definition.id == Case.definition_id)
        .outerjoin(Task, (Task.case_id == Case.id) & (Task.status == TaskStatus.OPEN))
        .where(Case.id.in_(latest)))}
    cadres = dict(s.execute(
        select(Pairing.household_id, func.aggregate_strings(Cadre.name, "、"))
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .where(Pairing.ended_on.is_(None), Pairing.household_id.in_(in_scope))
        .group_by(Pairing.household_id)).tuples().all())
    measures: dict[int, list[str]] = {}
    for household_id, kind, done in s.execute(
            select(Measure.household_id, Measure.kind, Measure.done_on)
            .where(Measure.household_id.in_(in_scope)).order_by(Measure.id)):
        measures.setdefault(household_id, []).append(f"{kind}（{'已落实' if done else '计划'}）")
    newest = select(IncomeRecord.household_id, func.max(IncomeRecord.id).label("id")).where(
        IncomeRecord.household_id.in_(in_scope)).group_by(IncomeRecord.household_id).subquery()
    incomes = {r.household_id: r for r in s.execute(
        select(IncomeRecord.household_id, IncomeRecord.per_capita_net,
               IncomeRecord.recorded_on).join(newest, newest.c.id == IncomeRecord.id))}
    n = 0
    for h in households:
        case = cases.get(h.id)
        if scope.monitored_only and h.monitoring != MonitoringStatus.MONITORED:
            continue
        if (scope.stage or scope.overdue) and (case is None or case.status != CaseStatus.OPEN):
            continue
        if scope.stage and (case is None or case.stage != scope.stage):
            continue
        due = case.task_due if case is not None and case.task_due is not None else (
            case.due_at if case is not None and case.status == CaseStatus.OPEN else None)
        late = due is not None and due < now
        if scope.overdue and not late:
            continue
        if case is None and h.monitoring == MonitoringStatus.NONE:
            continue  # a household the procedure never touched is not in the ledger
        n += 1
        income = incomes.get(h.id)
        case_columns: list[Any] = ["", "", "", None, "", None, "", ""]
        if case is not None:
            case_columns = [
                "、".join(labels.risk_types.get(r, r) for r in case.risk_types),
                case_number(case.id, case.opened_at), wording.CASE_KIND.get(case.kind, ""),
                local_date(case.opened_at), _stage_label(s, case),
                last_day(due) if due else None, ("是" if late else "否") if due else "",
                wording.case_status(case.status, case.kind)]
        risks, *case_rest = case_columns
        yield [
            n, h[1], h[2], h.group_name or "", h[4],
            h.id_number if full_ids else mask_id(h.id_number),
            size_of(sizes.get(h.id, 0), h.declared_size),
            wording.MONITORING.get(h.monitoring, h.monitoring),
            labels.categories.get(h.category or "", ""), risks, h.monitored_since, *case_rest,
            cadres.get(h.id, ""), "、".join(measures.get(h.id, [])),
            Decimal(income.per_capita_net) if income else None,
            income.recorded_on if income else None]


def write(path: Path | Any, title: str, data: Iterator[list[Any]],
          progress: Callable[[int], None] | None = None,
          chain: audit.Head | None = None, *, levels: Mapping[Level, str]) -> int:
    """Write the rows to an .xlsx file (a path or a binary stream); returns how many.
    `chain`, the audit chain's head, goes under the rows and into the page footer; `levels`
    names the township and village columns (config.yaml)."""
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "in_memory": not isinstance(
        path, (str, Path))})
    sheet = book.add_worksheet("台账")
    head = book.add_format({"bold": True, "bg_color": "#E8F5E9", "border": 1,
                            "text_wrap": True, "valign": "vcenter"})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "#,##0"})
    for col, (_name, width) in enumerate(COLUMNS):
        sheet.set_column(col, col, width)
    sheet.write_row(0, 0, [levels[Level(name)] if name in Level.__members__.values() else name
                           for name, _ in COLUMNS], head)
    sheet.freeze_panes(1, 0)
    sheet.set_header(f"&C{title}")
    if chain is not None:
        sheet.set_footer(f"&L{chain}&R第&P页，共&N页")
    count = 0
    for count, row in enumerate(data, 1):
        for col, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(count, col, dt.datetime.combine(value, dt.time()), date)
            elif isinstance(value, Decimal):
                sheet.write_number(count, col, float(value), money)
            elif isinstance(value, int):
                sheet.write_number(count, col, value)
            elif value:  # as text, always: a name beginning with "=" is not a formula
                sheet.write_string(count, col, str(value))
        if progress and count % 1000 == 0:
            progress(1000)
    if count:
        sheet.autofilter(0, 0, count, len(COLUMNS) - 1)
    if chain is not None:
        sheet.write_string(count + 2, 0, f"{chain}（导出时）")
    if progress:
        progress(count % 1000)
    book.close()
    return count
