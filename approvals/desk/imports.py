"""Importing the roster (households and members), cadres and pairings from Excel or CSV in
the ledger's own layout. All or nothing: every row is checked first and every problem is
reported as row, column and what is wrong, in Chinese; only a file without problems is
applied, in one transaction. Importing the same file again changes nothing.

A file is read within `Limits` (config imports): its size, its rows and, for an .xlsx,
what it unpacks to. An .xlsx is a zip: its declared member sizes (which bound what zipfile
inflates: a member's stream stops at its declared size) and compression ratios are checked
first, then its XML parts are scanned once (as bytes) for their rows and the size of each,
and only then does openpyxl read the sheet, streaming (read-only), so a zip bomb is refused in
moments and in little memory. Every cell is bounded by its column's length in the database.

The roster never moves a person between households and never leaves a household with no
head or two: a row naming someone registered in another household is a row error naming
both households.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from approvals.procedure.permissions import Actor
from approvals.record import audit
from approvals.record.definitions import Level, RoleDef
from approvals.record.errors import NotAllowed
from approvals.record.identity import mask_id
from approvals.record.models import Cadre, Household, Labour, Member, Pairing, Place

# The level columns by their default names; a place whose levels are named otherwise
# (旗/苏木/嘎查) heads them so in its files: `headers` says how, and the reading maps them back.
TOWNSHIP, VILLAGE = "乡镇", "村"
ROSTER = (TOWNSHIP, VILLAGE, "村民小组", "户主身份证号", "姓名", "身份证号", "与户主关系",
          "联系电话", "劳动能力")
# 脱贫户, an optional column of the roster (the head's row, or any member's, says it)
FORMERLY_POOR = "脱贫户"
# columns a layout reads when a file has them (older files go on working without)
OPTIONAL: dict[tuple[str, ...], tuple[str, ...]] = {ROSTER: (FORMERLY_POOR,)}
CADRES = ("姓名", "岗位", TOWNSHIP, VILLAGE, "联系电话", "单位")
PAIRINGS = ("户主身份证号", "帮扶联系人", "联系人电话", "开始日期")
# 劳动能力 as a roster writes it: 有 / 部分丧失 / 无 (and the usual ways of saying them)
LABOUR = {**dict.fromkeys(("有", "是", "能", "有劳动能力", ""), Labour.FULL),
          **dict.fromkeys(("部分丧失", "部分", "部分丧失劳动能力", "弱劳动力", "半劳动力"),
                          Labour.PARTIAL),
          **dict.fromkeys(("无", "否", "不能", "无劳动能力", "丧失劳动能力"), Labour.NONE)}
YES, NO = {"是", "脱贫户", "有", "√"}, {"", "否", "无", "一般户", "一般农户"}


@dataclass(frozen=True)
class Problem:
    row: int  # as the spreadsheet numbers it (the header is row 1)
    column: str
    text: str

    def __str__(self) -> str:
        return self.said({})

    def said(self, headers: Mapping[str, str]) -> str:
        """In the file's own headers (`headers`: a column's default name → this place's)."""
        return f"第{self.row}行「{headers.get(self.column, self.column)}」：{self.text}"


def headers(levels: Mapping[Level, str]) -> dict[str, str]:
    """The level columns as config.yaml names the levels (乡镇 → 苏木, 村 → 嘎查)."""
    return {TOWNSHIP: levels[Level.TOWNSHIP], VILLAGE: levels[Level.VILLAGE]}


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
    """The file itself cannot be read (not Excel or CSV, headers missing, over a limit)."""


@dataclass(frozen=True)
class Limits:
    """How much of an uploaded file is read (config imports)."""

    max_rows: int = 200_000  # data rows, the header not counted
    max_unpacked_bytes: int = 100 * 2**20  # what an .xlsx's parts unpack to, in all
    max_file_bytes: int = 30 * 2**20  # the file as uploaded


MAX_COLUMNS = 50  # columns read from a sheet; the layouts have at most 9
MAX_CELLS_PER_ROW = 2000  # cells of a CSV row
MAX_ROW_BYTES = 256 * 1024  # one row of sheet XML; a roster's row is under 1 KB
MAX_PART_TAGS = 500_000  # tags of a part other than a sheet or the shared strings
MAX_PARTS = 200  # zip members of an .xlsx; Excel writes about a dozen
MAX_RATIO = 100  # unpacked ÷ packed of a large part; sheet XML packs about 10 to 1
RATIO_FROM = 2**20  # parts smaller than this unpack to little whatever their ratio
BOMB = "（可能是“压缩炸弹”），已拒绝。请用 Excel 打开后重新另存，或拆分后分批导入。"
NOT_EXCEL = "文件不是有效的 Excel（.xlsx）文件。"


def read_upload(stream: IO[bytes], filename: str, columns: tuple[str, ...],
                limits: Limits, named: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """The rows of an uploaded file, read no further than the size limit."""
    data = stream.read(limits.max_file_bytes + 1)
    return read_table(data, filename, columns, limits, named)


def read_file(path: Path, columns: tuple[str, ...], limits: Limits,
              named: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    if path.stat().st_size > limits.max_file_bytes:
        raise BadFile(_too_large(limits))
    with open(path, "rb") as f:
        return read_upload(f, path.name, columns, limits, named)


def _too_large(limits: Limits) -> str:
    return f"文件超过 {limits.max_file_bytes // 2**20} MB，请拆分后分批导入。"


def read_table(data: bytes, filename: str, columns: tuple[str, ...],
               limits: Limits, named: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """The rows as dicts by header, from .xlsx or .csv (UTF-8 or GBK, as Excel saves it);
    `named` (`headers`) says what this place calls the level columns, and either name reads."""
    named = named or {}
    if len(data) > limits.max_file_bytes:
        raise BadFile(_too_large(limits))
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _xlsx_rows(data, limits, len(columns))
    elif name.endswith(".csv"):
        table = _csv_rows(data, limits)
    else:
        raise BadFile("只支持 Excel（.xlsx）或 CSV 文件。")
    header = next(table, None)
    if header is None:
        raise BadFile("文件是空的。")
    default = {shown: column for column, shown in named.items()}
    header = [default.get(h.strip(), h.strip()) for h in header]
    missing = [named.get(c, c) for c in columns if c not in header]
    if missing:
        raise BadFile(f"缺少列：{'、'.join(missing)}（第1行应为表头："
                      f"{'、'.join(named.get(c, c) for c in columns)}）。")
    optional = [c for c in OPTIONAL.get(columns, ()) if c in header]
    index = {c: header.index(c) for c in (*columns, *optional)}
    rows = []
    for n, r in enumerate(table, 1):
        if n > limits.max_rows:
            raise BadFile(f"文件超过 {limits.max_rows} 行，请拆分后分批导入。")
        rows.append({c: (r[i].strip() if i < len(r) else "") for c, i in index.items()})
    return rows


def _csv_rows(data: bytes, limits: Limits) -> Iterator[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BadFile("无法识别文件编码，请另存为 UTF-8 的 CSV 或 Excel 文件。")
    try:
        for n, row in enumerate(csv.reader(io.StringIO(text)), 1):
            if len(row) > MAX_CELLS_PER_ROW:
                raise BadFile(f"第{n}行的列数过多，不是正常的名单文件。")
            yield row
    except csv.Error:
        raise BadFile("CSV 文件格式有误（如引号不成对），请用 Excel 打开后重新另存。") from None


def _xlsx_rows(data: bytes, limits: Limits, columns: int) -> Iterator[list[str]]:
    _check_xlsx(data, limits, columns)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a file that is not a workbook
        raise BadFile(NOT_EXCEL) from None
    try:
        sheet = book.active
        if sheet is None:
            raise BadFile(NOT_EXCEL)
        rows = sheet.iter_rows(max_row=limits.max_rows + 1, max_col=MAX_COLUMNS,
                               values_only=True)
        for row in rows:
            yield ["" if v is None else _cell(v) for v in row]
    except Exception:  # as above, for a sheet that is not what its workbook says
        raise BadFile(NOT_EXCEL) from None
    finally:
        book.close()


def _check_xlsx(data: bytes, limits: Limits, columns: int) -> None:
    """Refuse a workbook that would unpack or parse to more than the limits, before
    openpyxl opens it: by the zip's declared sizes and ratios, then one pass over each
    XML part counting rows, bytes per row and shared strings."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise BadFile(NOT_EXCEL) from None
    mb = limits.max_unpacked_bytes // 2**20
    if len(parts) > MAX_PARTS:
        raise BadFile("文件结构异常（包含的部件过多），不是正常的 Excel 文件。")
    if sum(p.file_size for p in parts) > limits.max_unpacked_bytes:
        raise BadFile(f"文件解压后超过 {mb} MB" + BOMB)
    for p in parts:
        if p.file_size > RATIO_FROM and p.file_size > MAX_RATIO * max(p.compress_size, 1):
            raise BadFile("文件压缩比异常" + BOMB)
    strings_allowed = 2 * (limits.max_rows + 1) * columns + 1000
    with archive:
        for p in parts:  # every XML part, whatever its name: the rels may point anywhere
            _scan_xml(archive, p, limits.max_rows + 1, strings_allowed)


_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|si)(?=[\s/>])([^>]{0,1024})")
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*["']\s*(\d{1,12})""")
_NOT_UTF8 = re.compile(rb"""<\?xml[^>]*encoding\s*=\s*["'](?!utf-?8["'])""", re.IGNORECASE)
_CHUNK, _OVERLAP = 1 << 20, 2048  # a tag found in the overlap is looked at in the next round


def _scan_xml(archive: zipfile.ZipFile, part: zipfile.ZipInfo, max_rows: int,
              max_strings: int) -> None:
    """One pass over a part as bytes, in C (bytes.count, re), never building its tree:
    rows (and the row numbers they claim), bytes per row, shared strings, and the tags of
    a part that is neither (styles, workbook: openpyxl builds an object per tag)."""
    rows = strings = tags = 0
    last_row: int | None = None
    offset, buf = 0, b""
    try:
        with archive.open(part) as stream:
            chunk = stream.read(_CHUNK)
            head = chunk.lstrip(b"\xef\xbb\xbf \t\r\n")
            if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _NOT_UTF8.match(head[:256]):
                raise BadFile("文件中有非 UTF-8 编码的部件，请用 Excel 打开后重新另存。")
            if not head.startswith(b"<"):
                return  # not XML (an image, printer settings): openpyxl does not parse it
            while True:
                tags += chunk.count(b"<")
                buf += chunk
                end = len(buf) - _OVERLAP if chunk else len(buf)
                cut = 0
                for m in _TAG.finditer(buf):
                    if m.start() >= end:
                        break
                    at, cut = offset + m.start(), m.end()
                    if m.group(1) == b"row":
                        rows += 1
                        if last_row is not None and at - last_row > MAX_ROW_BYTES:
                            raise BadFile(f"第{rows - 1}行过长（单元格过多）" + BOMB)
                        last_row = at
                        number = _ROW_NUMBER.search(m.group(2))
                        if rows > max_rows or (number and int(number.group(1)) > max_rows):
                            raise BadFile(f"文件超过 {max_rows - 1} 行，请拆分后分批导入。")
                    else:
                        strings += 1
                        if strings > max_strings:
                            raise BadFile("文件中的文字条目过多" + BOMB)
                if not chunk:
                    break
                cut = max(cut, end)
                offset, buf = offset + cut, buf[cut:]
                chunk = stream.read(_CHUNK)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError,
            NotImplementedError):
        raise BadFile(NOT_EXCEL) from None
    if last_row is not None and offset + len(buf) - last_row > MAX_ROW_BYTES:
        raise BadFile(f"第{rows}行过长（单元格过多）" + BOMB)
    if not rows and not strings and tags > MAX_PART_TAGS:
        raise BadFile("文件结构异常（部件中的条目过多）" + BOMB)


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


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # never in a name, ID or phone
PHONE_RULE = "号码不正确（手机号为11位，如13812345678；座机须带区号，如0851-8123456）"


def _length(column: Any) -> int:
    return int(column.property.columns[0].type.length)


def _too_long(n: int, column: str, value: str, limit: int) -> Problem | None:
    """The database column's length (characters) bounds the cell."""
    return Problem(n, column, f"超过{limit}个字") if len(value) > limit else None


MOBILE = re.compile(r"1[3-9]\d{9}")


def _phone_problem(n: int, column: str, value: str, limit: int) -> Problem | None:
    """A mainland mobile (1[3-9]…, 11 digits) or a landline with its area code. Plain
    mobiles, nearly every phone of a roster, match the pattern; the rest (landlines, +86,
    spaces) go to phonenumbers, whose parse takes 0.1 ms a number."""
    if not value:
        return None
    if len(value) > limit:
        return Problem(n, column, f"超过{limit}位")
    if MOBILE.fullmatch(value):
        return None
    import phonenumbers  # its metadata takes 0.2 s to load: only when a phone is checked

    kinds = phonenumbers.PhoneNumberType
    try:
        number = phonenumbers.parse(value, "CN")
    except phonenumbers.NumberParseException:
        return Problem(n, column, PHONE_RULE)
    if (phonenumbers.region_code_for_number(number) != "CN"
            or not phonenumbers.is_valid_number(number)
            or phonenumbers.number_type(number) not in (
                kinds.MOBILE, kinds.FIXED_LINE, kinds.FIXED_LINE_OR_MOBILE)):
        return Problem(n, column, PHONE_RULE)
    return None


def _control_problems(rows: list[dict[str, str]]) -> list[Problem]:
    return [Problem(n, column, "含有不可见的控制字符，请删除后重新导入")
            for n, row in enumerate(rows, 2) for column, value in row.items()
            if CONTROL.search(value)]


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
        village = villages.get((row[TOWNSHIP], row[VILLAGE]))
        if village is None:
            problems.append(Problem(n, VILLAGE, f"本辖区没有“{row[TOWNSHIP]}{row[VILLAGE]}”"))
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
        problems.extend(p for p in (
            _too_long(n, "姓名", row["姓名"], _length(Member.name)),
            _too_long(n, "村民小组", row["村民小组"], _length(Household.group_name)),
            _too_long(n, "与户主关系", row["与户主关系"], _length(Member.relation)),
            _phone_problem(n, "联系电话", row["联系电话"], _length(Member.phone))) if p)
        labour = LABOUR.get(row["劳动能力"])
        if labour is None:
            problems.append(Problem(n, "劳动能力", "应填“有”“部分丧失”或“无”"))
        poor = row.get(FORMERLY_POOR, "")
        if poor not in YES | NO:
            problems.append(Problem(n, FORMERLY_POOR, "应填“是”或“否”"))
        is_head = row["与户主关系"] == "户主"
        if is_head and number and head and number != head:
            problems.append(Problem(n, "户主身份证号", "户主本人这一行应填自己的身份证号"))
        if number is None or head is None or village is None:
            continue
        entry = households.setdefault(head, {"village": village, "group": row["村民小组"],
                                             "members": [], "row": n, "poor": None})
        if FORMERLY_POOR in row:  # a file without the column leaves the flag as it is
            entry["poor"] = bool(entry["poor"]) or poor in YES
        if entry["village"] != village:
            problems.append(Problem(n, VILLAGE, "同一户的成员所在地方不一致"))
        entry["members"].append({"name": row["姓名"], "id_number": number,
                                 "relation": row["与户主关系"] or "其他",
                                 "phone": row["联系电话"] or None, "is_head": is_head,
                                 "labour": labour, "row": n})
    for head, entry in households.items():
        if not any(m["is_head"] and m["id_number"] == head for m in entry["members"]):
            result.problems.append(Problem(entry["row"], "与户主关系",
                                           f"户主（{head[:6]}…{head[-4:]}）没有自己的一行"))
    if result.problems:
        return result
    numbers = [m["id_number"] for e in households.values() for m in e["members"]]
    existing: dict[str, Any] = {}
    for chunk in _chunks(numbers, 5000):
        existing.update({r.id_number: r for r in s.execute(
            select(Member.id, Member.id_number, Member.household_id, Member.name,
                   Member.relation, Member.phone, Member.is_head, Member.labour)
            .where(Member.id_number.in_(chunk)))})
    result.problems.extend(_against_the_record(s, households, existing))
    if result.problems:
        return result
    _apply_roster(s, households, existing, result, actor, now, progress)
    return result


def _against_the_record(s: Session, households: dict[str, dict[str, Any]],
                        existing: dict[str, Any]) -> list[Problem]:
    """The file against the households already registered: nobody moves to another
    household, and every household keeps exactly one head."""
    target = {head: existing[head].household_id if head in existing else None
              for head in households}
    involved = {r.household_id for r in existing.values()}
    heads_of: dict[int, list[Any]] = {}
    for chunk in _chunks(sorted(involved), 5000):
        for r in s.execute(
                select(Member.household_id, Member.name, Member.id_number,
                       Place.name.label("village"), Household.village_id)
                .join(Household, Household.id == Member.household_id)
                .join(Place, Place.id == Household.village_id)
                .where(Member.household_id.in_(chunk), Member.is_head)
                .order_by(Member.id)):
            heads_of.setdefault(r.household_id, []).append(r)
    known = {household: heads[0] for household, heads in heads_of.items()}

    def registered(household_id: int) -> str:
        head = known.get(household_id)
        if head is None:
            return f"系统中编号{household_id}的户（没有户主）"
        return f"{head.village}户主{head.name}（{mask_id(head.id_number)}）的户"

    def in_file(head: str, entry: dict[str, Any]) -> str:
        if (household_id := target[head]) is not None:
            return registered(household_id)
        me = next(m for m in entry["members"] if m["id_number"] == head)
        return f"本文件第{me['row']}行户主{me['name']}（{mask_id(head)}）的新户"

    problems: list[Problem] = []
    claimed: dict[int, str] = {}
    for head, entry in households.items():
        household = target[head]
        for m in entry["members"]:
            found = existing.get(m["id_number"])
            if found is not None and found.household_id != household:
                problems.append(Problem(m["row"], "身份证号", (
                    f"此人已登记在{registered(found.household_id)}，本行却把他（她）列入"
                    f"{in_file(head, entry)}；一人只能在一户，导入不会把人移到另一户，"
                    "如确需迁户或分户，请先办理后再导入")))
        if household is None:
            continue
        if household in claimed:
            problems.append(Problem(entry["row"], "户主身份证号", (
                f"户主{mask_id(head)}与户主{mask_id(claimed[household])}在系统中同属"
                f"{registered(household)}，一户只能有一位户主")))
            continue
        claimed[household] = head
        listed = {m["id_number"] for m in entry["members"]}
        for other in heads_of.get(household, []):
            if other.id_number != head and other.id_number not in listed:
                problems.append(Problem(entry["row"], "与户主关系", (
                    f"{registered(household)}已有户主{other.name}（{mask_id(other.id_number)}），"
                    f"本文件又把{mask_id(head)}登记为户主；一户只能有一位户主。如需变更户主，"
                    "请在同一文件中列出原户主并改填其“与户主关系”")))
        if household in known and known[household].village_id != entry["village"]:
            problems.append(Problem(entry["row"], VILLAGE, (
                f"{registered(household)}登记在{known[household].village}，与本行所填地方不符")))
    return problems


def _apply_roster(s: Session, households: dict[str, dict[str, Any]], existing: dict[str, Any],
                  result: Result, actor: Actor, now: dt.datetime,
                  progress: Callable[[int], None] | None) -> None:
    new_households = [(head, e) for head, e in households.items() if head not in existing]
    ids = s.execute(insert(Household).returning(Household.id, sort_by_parameter_order=True),
                    [{"village_id": e["village"], "group_name": e["group"] or None,
                      "monitoring": "none", "formerly_poor": bool(e["poor"])}
                     for _, e in new_households]).scalars().all() \
        if new_households else []
    household_of = {head: hid for (head, _), hid in zip(new_households, ids, strict=True)}
    household_of |= {head: existing[head].household_id for head in households
                     if head in existing}
    flagged = [{"flagged_id": existing[head].household_id, "formerly_poor": e["poor"]}
               for head, e in households.items() if head in existing and e["poor"] is not None]
    if flagged:
        s.connection().execute(update(Household.__table__).where(
            Household.__table__.c.id == bindparam("flagged_id")), flagged)
    fields = ("name", "relation", "phone", "is_head", "labour")
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
        result.problems.extend(p for p in (
            _too_long(n, "姓名", row["姓名"], _length(Cadre.name)),
            _too_long(n, "单位", row["单位"], _length(Cadre.unit)),
            _phone_problem(n, "联系电话", row["联系电话"], _length(Cadre.phone))) if p)
        if row[VILLAGE]:
            place = villages.get((row[TOWNSHIP], row[VILLAGE]))
        elif row[TOWNSHIP]:
            place = townships.get(row[TOWNSHIP])
        else:
            place = county
        if place is None:
            result.problems.append(Problem(n, VILLAGE if row[VILLAGE] else TOWNSHIP,
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
                    now: dt.datetime, pairable: Mapping[str, str]) -> Result:
    """Pairings: a household (by its head's ID) with a cadre (by name and phone). A household
    paired with someone else already has that pairing ended the day the new one starts. The
    cadre holds a role that may be paired (`pairable`: role → label, config.yaml) and works
    in the household's village or above it, as the county's enrolment checks."""
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
        cadre = s.execute(select(Cadre.id, Cadre.role, Place.path).join(Place).where(
            Cadre.name == row["帮扶联系人"], Cadre.phone == (row["联系人电话"] or None),
            Cadre.active)).first()
        if cadre is None:
            result.problems.append(Problem(n, "帮扶联系人", "没有这位在岗人员（姓名和电话须一致）"))
        elif cadre.role not in pairable:
            result.problems.append(Problem(n, "帮扶联系人",
                                           f"应为{'、'.join(pairable.values())}"))
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
    ended = 0
    for household_id, cadre_id, start in wanted:
        current = s.scalars(select(Pairing).where(Pairing.household_id == household_id,
                                                  Pairing.ended_on.is_(None))
                            .with_for_update()).all()
        if any(p.cadre_id == cadre_id for p in current):
            result.unchanged += 1
            continue
        # one pairing at a time (帮扶责任不脱钩): the new one takes over the day it starts
        for previous in current:
            previous.ended_on = max(start, previous.started_on)
            ended += 1
        s.add(Pairing(household_id=household_id, cadre_id=cadre_id, started_on=start))
        s.flush()
        result.added += 1
    if result.added:
        audit.append(s, actor=f"cadre:{actor.id}", action="import.pairings", now=now,
                     payload={"added": result.added, "ended": ended})
    return result


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


COLUMNS = {"roster": ROSTER, "cadres": CADRES, "pairings": PAIRINGS}


def run(s: Session, kind: str, rows: list[dict[str, str]], actor: Actor, *, now: dt.datetime,
        roles: Mapping[str, RoleDef], progress: Callable[[int], None] | None = None) -> Result:
    """One import of `kind` (a key of COLUMNS); the caller rolls back when it is not ok."""
    unreadable = _control_problems(rows)
    if unreadable:
        return Result(problems=unreadable)
    if kind == "roster":
        return import_roster(s, rows, actor, now=now, progress=progress)
    if kind == "cadres":
        return import_cadres(s, rows, actor, now=now,
                             role_labels={k: r.label for k, r in roles.items()})
    return import_pairings(s, rows, actor, now=now,
                           pairable={k: r.label for k, r in roles.items() if r.may_be_paired})


def ensure_may_import(actor: Actor) -> None:
    if actor.level != "county":
        raise NotAllowed("只有有导入权限的人员可以导入名单。")


