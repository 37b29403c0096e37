"""The bounds of reading an import: a zip that lies about its sizes, more rows than allowed
(stated or padded), rows of thousands of cells, oversized files, control characters and
phones. Each is refused with a Chinese message, quickly."""

from __future__ import annotations

import io
import struct
import time
import zipfile

import openpyxl
import pytest

from approvals.desk import imports
from tests.support.world import World

LIMITS = imports.Limits()


def workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for r in rows:
        book.active.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_sheet(data: bytes, sheet_xml: bytes, *, level: int = 6,
               part: str = "xl/worksheets/sheet1.xml") -> bytes:
    """The workbook with its sheet's XML (or another part) replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(
            out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst:
        for item in src.infolist():
            body = sheet_xml if item.filename == part else src.read(item)
            dst.writestr(item.filename, body)
    return out.getvalue()


SHEET = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         b"<sheetData>%s</sheetData></worksheet>")


def lying(data: bytes, member: str, declared: int) -> bytes:
    """The zip with `member`'s declared (unpacked) size set to `declared`, in the local
    header and the central directory, as a crafted bomb would."""
    buf = bytearray(data)
    name = member.encode()
    at = 0
    while (at := buf.find(b"PK\x03\x04", at)) != -1:
        n = struct.unpack_from("<H", buf, at + 26)[0]
        if bytes(buf[at + 30:at + 30 + n]) == name:
            struct.pack_into("<I", buf, at + 22, declared)
        at += 4
    at = 0
    while (at := buf.find(b"PK\x01\x02", at)) != -1:
        n = struct.unpack_from("<H", buf, at + 28)[0]
        if bytes(buf[at + 46:at + 46 + n]) == name:
            struct.pack_into("<I", buf, at + 24, declared)
        at += 4
    return bytes(buf)


def test_zipfile_inflates_no_more_than_the_declared_size() -> None:
    """What the limits stand on: a member's stream stops at its declared size, so a zip
    cannot unpack to more than its central directory says."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.xml", b"<a/>" * (50 * 2**20 // 4))  # 50 MB of it
    forged = lying(packed.getvalue(), "big.xml", 1000)
    with zipfile.ZipFile(io.BytesIO(forged)) as z:
        assert z.getinfo("big.xml").file_size == 1000
        got = b""
        with pytest.raises(zipfile.BadZipFile), z.open("big.xml") as f:  # the CRC then fails
            while chunk := f.read(65536):
                got += chunk
        assert len(got) <= 1000


def test_a_workbook_lying_about_its_sizes_is_refused_quickly() -> None:
    header = workbook([list(imports.ROSTER)])
    rows = b"".join(b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
                    for _ in range(200_000))
    big = with_sheet(header, SHEET % rows)
    forged = lying(big, "xl/worksheets/sheet1.xml", 4096)
    t0 = time.perf_counter()
    with pytest.raises(imports.BadFile, match="不是有效的 Excel"):
        imports.read_table(forged, "花名册.xlsx", imports.ROSTER, LIMITS)
    assert time.perf_counter() - t0 < 2


def test_rows_over_the_limit_stated_or_padded_are_refused() -> None:
    small = imports.Limits(max_rows=10)
    eleven = workbook([list(imports.ROSTER), *[["青山镇"]] * 11])
    with pytest.raises(imports.BadFile, match="文件超过 10 行"):
        imports.read_table(eleven, "x.xlsx", imports.ROSTER, small)
    ten = workbook([list(imports.ROSTER), *[["青山镇"]] * 10])
    assert len(imports.read_table(ten, "x.xlsx", imports.ROSTER, small)) == 10
    # one row numbered 1,048,576: openpyxl would pad a million empty rows before it
    header = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{c}</t></is></c>'
                     for i, c in enumerate(imports.ROSTER)).encode()
    far = with_sheet(eleven, SHEET % (b'<row r="1">' + header + b'</row>'
                                      b'<row r="1048576"><c r="A1048576"><v>1</v></c></row>'))
    t0 = time.perf_counter()
    with pytest.raises(imports.BadFile, match=f"文件超过 {LIMITS.max_rows} 行"):
        imports.read_table(far, "x.xlsx", imports.ROSTER, LIMITS)
    assert time.perf_counter() - t0 < 1
    csv = ("\n".join([",".join(imports.ROSTER), *["青山镇"] * 11]) + "\n").encode()
    with pytest.raises(imports.BadFile, match="文件超过 10 行"):
        imports.read_table(csv, "x.csv", imports.ROSTER, small)


def test_a_row_of_thousands_of_cells_is_refused_before_openpyxl_builds_it() -> None:
    cells = b"".join(b"<c><v>%d</v></c>" % i for i in range(300_000))  # packs only ~10:1
    wide = with_sheet(workbook([list(imports.ROSTER)]), SHEET % (b"<row>" + cells + b"</row>"))
    t0 = time.perf_counter()
    with pytest.raises(imports.BadFile, match="单元格过多"):
        imports.read_table(wide, "x.xlsx", imports.ROSTER, LIMITS)
    assert time.perf_counter() - t0 < 2
    utf16 = (b'<?xml version="1.0" encoding="UTF-16"?>' + SHEET % (
        b"<row>" + cells + b"</row>")).decode().encode("utf-16")  # Excel writes UTF-8 only
    with pytest.raises(imports.BadFile, match="非 UTF-8 编码"):
        imports.read_table(with_sheet(workbook([list(imports.ROSTER)]), utf16), "x.xlsx",
                           imports.ROSTER, LIMITS)
    csv = (",".join(imports.ROSTER) + "\n" + "," * 5000 + "\n").encode()
    with pytest.raises(imports.BadFile, match="第2行的列数过多"):
        imports.read_table(csv, "x.csv", imports.ROSTER, LIMITS)


def test_styles_of_a_million_entries_are_refused_before_openpyxl_builds_them() -> None:
    styles = (b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b"<cellXfs>" + b"".join(b'<xf numFmtId="%d"/>' % i for i in range(600_000))
              + b"</cellXfs></styleSheet>")
    bloated = with_sheet(workbook([list(imports.ROSTER)]), styles, part="xl/styles.xml")
    t0 = time.perf_counter()
    with pytest.raises(imports.BadFile, match="部件中的条目过多"):
        imports.read_table(bloated, "x.xlsx", imports.ROSTER, LIMITS)
    assert time.perf_counter() - t0 < 2


def test_a_file_over_the_size_limit_is_not_read_past_it() -> None:
    tiny = imports.Limits(max_file_bytes=1024)
    stream = io.BytesIO(b"x" * (10 * 2**20))
    with pytest.raises(imports.BadFile, match="文件超过 0 MB"):
        imports.read_upload(stream, "x.csv", imports.ROSTER, tiny)
    assert stream.tell() == 1025


def test_control_characters_and_phones_are_row_errors(world: World) -> None:
    def roster(phone: str, name: str = "赵德胜") -> list[dict[str, str]]:
        return [dict(zip(imports.ROSTER, ["河湾乡", "北岭村", "1组", "522631195511110011", name,
                                          "522631195511110011", "户主", phone, "无"],
                         strict=True))]

    def problems(table: list[dict[str, str]]) -> list[str]:
        from tests.db import session_scope

        with session_scope() as s:
            result = imports.run(s, "roster", table, world.cadre("supervisor"),
                                 now=world.clock.now(), roles={})
            s.rollback()
        return [str(p) for p in result.problems]

    assert problems(roster("", "赵\x00德胜")) == [
        "第2行「姓名」：含有不可见的控制字符，请删除后重新导入"]
    for good in ("13812345678", "138 1234 5678", "+86 13812345678", "0851-8123456",
                 "(010)65123456", ""):
        assert problems(roster(good)) == [], good
    for bad in ("12345", "23812345678", "1381234567", "0851-812345678", "+1 2025550123",
                "400-123-4567", "电话"):
        assert [p.split("：")[0] for p in problems(roster(bad))] == ["第2行「联系电话」"], bad
