"""Importing the roster (households and members), cadres and pairings from Excel or CSV in
the ledger's own layout. All or nothing: every row is checked first and every problem is
reported as row, column and what is wrong, in Chinese; only a file without problems is
applied, in one transaction. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from approvals import audit
from approvals.errors import NotAllowed
from approvals.models import Cadre, Household, Member, Pairing, Place
from approvals.permissions import Actor

ROSTER = ("乡镇", "村", "村民小组", "户主身份证号", "姓名", "身份证号", "与户主关系", "联系电话",
          "劳动能力")
CADRES = ("姓名", "岗位", "乡镇", "村", "联系电话", "单位")
PAIRINGS = ("户主身份证号", "帮扶联系人", "联系人电话", "开始日期")
YES, NO = {"有", "是", "能", "有劳动能力", ""}, {"无", "否", "不能", "无劳动能力", "丧失劳动能力"}


@dataclass(frozen=True)
class Problem:
    row: int  # as the spreadsheet numbers it (the header is row 1)
    column: str
    text: str

    def __str__(self) -> str:
        return f"第{self.row}行「{self.column}」：{self.text}"


@dataclass
class Result:
    problems: list[Problem] = field(default_factory=list)
    added: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class BadFile(Exception):
    """The file itself cannot be read (not Excel or CSV, headers missing)."""


def read_table(data: bytes, filename: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows as dicts by header, from .xlsx or .csv (UTF-8 or GBK, as Excel saves it)."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
        except Exception:  # openpyxl raises many kinds on a file that is not a workbook
            raise BadFile("文件不是有效的 Excel（.xlsx）文件。") from None
        table = [["" if v is None else _cell(v) for v in row]
                 for row in sheet.iter_rows(values_only=True)]
    elif filename.lower().endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise BadFile("无法识别文件编码，请另存为 UTF-8 的 CSV 或 Excel 文件。")
        table = list(csv.reader(io.StringIO(text)))
    else:
        raise BadFile("只支持 Excel（.xlsx）或 CSV 文件。")
    if not table:
        raise BadFile("文件是空的。")
    header = [h.strip() for h in table[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        raise BadFile(f"缺少列：{'、'.join(missing)}（第1行应为表头：{'、'.join(columns)}）。")
    index = {c: header.index(c) for c in columns}
    return [{c: (r[i].strip() if i < len(r) else "") for c, i in index.items()}
            for r in table[1:]]


def _cell(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value)


def _id(value: str) -> str | None:
    try:
        return ric.validate(value.strip().upper())
    except ValidationError:
        return None


def _villages(s: Session, actor: Actor) -> dict[tuple[str, str], int]:
    township = select(Place.id, Place.name).where(Place.level == "township").subquery()
    return {(t, v): i for i, v, t in s.execute(
        select(Place.id, Place.name, township.c.name)
        .join(township, township.c.id == Place.parent_id)
        .where(Place.level == "village", Place.path.startswith(actor.place_path)))}


def import_roster(s: Session, rows: list[dict[str, str]], actor: Actor, *, now: dt.datetime,
                  progress: Callable[[int], None] | None = None) -> Result:
    """Households and members, one row per member, grouped by the head's ID number."""
    result = Result()
    villages = _villages(s, actor)
    seen: dict[str, int] = {}
    households: dict[str, dict[str, Any]] = {}  # head's ID → {village, group, members}
    for n, row in enumerate(rows, 2):
        if not any(row.values()):
            continue
        problems = result.problems
        village = villages.get((row["乡镇"], row["村"]))
        if village is None:
            problems.append(Problem(n, "村", f"本辖区没有“{row['乡镇']}{row['村']}”"))
        number = _id(row["身份证号"])
        if number is None:
            problems.append(Problem(n, "身份证号", "号码不正确（18位，校验码不符）"))
        elif number in seen:
            problems.append(Problem(n, "身份证号", f"与第{seen[number]}行重复（同一人登记了两次）"))
        else:
            seen[number] = n
        head = _id(row["户主身份证号"])
        if head is None:
            problems.append(Problem(n, "户主身份证号", "号码不正确（18位，校验码不符）"))
        if not row["姓名"]:
            problems.append(Problem(n, "姓名", "不能为空"))
        able = row["劳动能力"]
        if able not in YES | NO:
            problems.append(Problem(n, "劳动能力", "应填“有”或“无”"))
        is_head = row["与户主关系"] == "户主"
        if is_head and number and head and number != head:
            problems.append(Problem(n, "户主身份证号", "户主本人这一行应填自己的身份证号"))
        if number is None or head is None or village is None:
            continue
        entry = households.setdefault(head, {"village": village, "group": row["村民小组"],
                                             "members": [], "row": n})
        if entry["village"] != village:
            problems.append(Problem(n, "村", "同一户的成员不在同一个村"))
        entry["members"].append({"name": row["姓名"], "id_number": number,
                                 "relation": row["与户主关系"] or "其他",
                                 "phone": row["联系电话"] or None, "is_head": is_head,
                                 "able_to_work": able not in NO, "row": n})
    for head, entry in households.items():
        if not any(m["is_head"] and m["id_number"] == head for m in entry["members"]):
            result.problems.append(Problem(entry["row"], "与户主关系",
                                           f"户主（{head[:6]}…{head[-4:]}）没有自己的一行"))
    if result.problems:
        return result
    _apply_roster(s, households, result, actor, now, progress)
    return result


def _apply_roster(s: Session, households: dict[str, dict[str, Any]], result: Result,
                  actor: Actor, now: dt.datetime, progress: Callable[[int], None] | None) -> None:
    numbers = [m["id_number"] for e in households.values() for m in e["members"]]
    existing: dict[str, Any] = {}
    for chunk in _chunks(numbers, 5000):
        existing.update({r.id_number: r for r in s.execute(
            select(Member.id, Member.id_number, Member.household_id, Member.name,
                   Member.relation, Member.phone, Member.is_head, Member.able_to_work)
            .where(Member.id_number.in_(chunk)))})
    new_households = [(head, e) for head, e in households.items() if head not in existing]
    ids = s.execute(insert(Household).returning(Household.id, sort_by_parameter_order=True),
                    [{"village_id": e["village"], "group_name": e["group"] or None,
                      "monitoring": "none"} for _, e in new_households]).scalars().all() \
        if new_households else []
    household_of = {head: hid for (head, _), hid in zip(new_households, ids, strict=True)}
    household_of |= {head: existing[head].household_id for head in households
                     if head in existing}
    fields = ("name", "relation", "phone", "is_head", "able_to_work")
    inserts, updates = [], []
    for head, entry in households.items():
        for m in entry["members"]:
            row = {k: m[k] for k in fields}
            found = existing.get(m["id_number"])
            if found is None:
                inserts.append({**row, "id_number": m["id_number"],
                                "household_id": household_of[head]})
            elif any(getattr(found, k) != row[k] for k in fields) or \
                    found.household_id != household_of[head]:
                updates.append({**row, "member_id": found.id,
                                "household_id": household_of[head]})
            else:
                result.unchanged += 1
    for chunk in _chunks(inserts, 5000):
        s.execute(insert(Member), chunk)
        if progress:
            progress(len(chunk))
    if updates:
        s.connection().execute(
            update(Member.__table__).where(Member.__table__.c.id == bindparam("member_id")),
            updates)
    result.added, result.changed = len(inserts), len(updates)
    if inserts or updates:
        audit.append(s, actor=f"cadre:{actor.id}", action="import.roster", now=now,
                     payload={"households": len(new_households), "added": len(inserts),
                              "changed": len(updates)})


def import_cadres(s: Session, rows: list[dict[str, str]], actor: Actor, *,
                  role_labels: dict[str, str], now: dt.datetime) -> Result:
    """Cadres by name, post and place; matched again by phone (or name and place)."""
    result = Result()
    roles = {label: key for key, label in role_labels.items()} | {k: k for k in role_labels}
    villages = _villages(s, actor)
    townships = dict(s.execute(select(Place.name, Place.id).where(
        Place.level == "township", Place.path.startswith(actor.place_path))).tuples().all())
    county = s.scalar(select(Place.id).where(Place.path == actor.place_path))
    wanted = []
    for n, row in enumerate(rows, 2):
        if not any(row.values()):
            continue
        role = roles.get(row["岗位"])
        if role is None:
            result.problems.append(Problem(n, "岗位", f"应为：{'、'.join(role_labels.values())}"))
        if not row["姓名"]:
            result.problems.append(Problem(n, "姓名", "不能为空"))
        if row["村"]:
            place = villages.get((row["乡镇"], row["村"]))
        elif row["乡镇"]:
            place = townships.get(row["乡镇"])
        else:
            place = county
        if place is None:
            result.problems.append(Problem(n, "村" if row["村"] else "乡镇",
                                           "不在您的管辖范围内，或没有这个地方"))
        if role and place:
            wanted.append({"name": row["姓名"], "role": role, "place_id": place,
                           "phone": row["联系电话"] or None, "unit": row["单位"] or None})
    if result.problems:
        return result
    for w in wanted:
        found = s.scalars(select(Cadre).where(
            (Cadre.phone == w["phone"]) if w["phone"] else
            ((Cadre.name == w["name"]) & (Cadre.place_id == w["place_id"])))).first()
        if found is None:
            s.add(Cadre(**w, active=True))
            result.added += 1
        elif any(getattr(found, k) != v for k, v in w.items()):
            for k, v in w.items():
                setattr(found, k, v)
            result.changed += 1
        else:
            result.unchanged += 1
    if result.added or result.changed:
        audit.append(s, actor=f"cadre:{actor.id}", action="import.cadres", now=now,
                     payload={"added": result.added, "changed": result.changed})
    return result


def import_pairings(s: Session, rows: list[dict[str, str]], actor: Actor, *,
                    now: dt.datetime) -> Result:
    """Pairings: a household (by its head's ID) with a cadre (by name and phone)."""
    result = Result()
    wanted = []
    for n, row in enumerate(rows, 2):
        if not any(row.values()):
            continue
        head = _id(row["户主身份证号"])
        household = s.execute(select(Member.household_id, Place.path).join(
            Household, Household.id == Member.household_id).join(
            Place, Place.id == Household.village_id).where(
            Member.id_number == head, Member.is_head)).first() if head else None
        if head is None:
            result.problems.append(Problem(n, "户主身份证号", "号码不正确（18位，校验码不符）"))
        elif household is None:
            result.problems.append(Problem(n, "户主身份证号",
                                           "花名册中没有这位户主，请先导入花名册"))
        elif not actor.covers(household.path):
            result.problems.append(Problem(n, "户主身份证号", "这户不在您的管辖范围内"))
        cadre = s.execute(select(Cadre.id, Place.path).join(Place).where(
            Cadre.name == row["帮扶联系人"], Cadre.phone == (row["联系人电话"] or None),
            Cadre.active)).first()
        if cadre is None:
            result.problems.append(Problem(n, "帮扶联系人", "没有这位在岗人员（姓名和电话须一致）"))
        elif household is not None and not (cadre.path.startswith(household.path) or
                                             household.path.startswith(cadre.path)):
            result.problems.append(Problem(n, "帮扶联系人", "这位干部不在该户所在辖区"))
        try:
            start = dt.date.fromisoformat(row["开始日期"]) if row["开始日期"] else now.date()
        except ValueError:
            result.problems.append(Problem(n, "开始日期", "日期格式应为 2026-01-31"))
            continue
        if household is not None and cadre is not None:
            wanted.append((household.household_id, cadre.id, start))
    if result.problems:
        return result
    for household_id, cadre_id, start in wanted:
        if s.scalar(select(Pairing.id).where(Pairing.household_id == household_id,
                                             Pairing.cadre_id == cadre_id,
                                             Pairing.ended_on.is_(None))):
            result.unchanged += 1
            continue
        s.add(Pairing(household_id=household_id, cadre_id=cadre_id, started_on=start))
        result.added += 1
    if result.added:
        audit.append(s, actor=f"cadre:{actor.id}", action="import.pairings", now=now,
                     payload={"added": result.added})
    return result


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


COLUMNS = {"roster": ROSTER, "cadres": CADRES, "pairings": PAIRINGS}


def run(s: Session, kind: str, rows: list[dict[str, str]], actor: Actor, *, now: dt.datetime,
        role_labels: dict[str, str], progress: Callable[[int], None] | None = None) -> Result:
    """One import of `kind` (a key of COLUMNS); the caller rolls back when it is not ok."""
    if kind == "roster":
        return import_roster(s, rows, actor, now=now, progress=progress)
    if kind == "cadres":
        return import_cadres(s, rows, actor, now=now, role_labels=role_labels)
    return import_pairings(s, rows, actor, now=now)


def ensure_may_import(actor: Actor) -> None:
    if actor.level != "county":
        raise NotAllowed("只有县级人员可以导入名单。")


def read_file(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    return read_table(path.read_bytes(), path.name, columns)
