"""What a review found holding, attacked again so it keeps holding: a household head whose
name is markup or a spreadsheet formula, imported by the county over real HTTP, is shown as
text on the pages and written as text in the ledger."""

from __future__ import annotations

import csv
import io

import openpyxl
from sqlalchemy import select
from stdnum.cn import ric

from approvals.desk import imports
from approvals.record.models import Member, Place
from tests.db import session_scope
from tests.support.web import cadre, signed_in
from tests.support.world import World

MARKUP = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://x.cn")'


def id_number(serial: int) -> str:
    body = f"52263119700101{serial:03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the digits before the last


def import_heads(site: str, names: list[str]) -> list[int]:
    """The county imports one new household in 东沟村 per name, over HTTP; their ids."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.ROSTER)
    numbers = [id_number(900 + i) for i in range(len(names))]
    for name, number in zip(names, numbers, strict=True):
        writer.writerow(["青山镇", "东沟村", "1组", number, name, number, "户主", "", "有"])
    county = signed_in(site, cadre("supervisor"))
    res = county.post("/import", {"kind": "roster"},
                      files={"file": ("花名册.csv", out.getvalue().encode())})
    assert res.status_code in (200, 302), res.text
    with session_scope() as s:
        return [s.scalars(select(Member.household_id).where(Member.id_number == n)).one()
                for n in numbers]


def test_markup_in_a_name_is_shown_as_text(site: str, world: World) -> None:
    (household,) = import_heads(site, [MARKUP])
    village = signed_in(site, cadre("village_cadre", "东沟村"))
    page = village.get(f"/h/{household}")
    assert page.status_code == 200
    assert MARKUP not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_a_formula_like_name_is_text_in_the_ledger(site: str, world: World) -> None:
    (household,) = import_heads(site, [FORMULA])
    world.apply(household)  # the ledger lists the households with a case
    county = signed_in(site, cadre("supervisor"))
    with session_scope() as s:
        county_id = s.scalars(select(Place.id).where(Place.level == "county")).one()
    res = county.get(f"/ledger.xlsx?place={county_id}")
    assert res.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(res.content)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value == FORMULA]
    assert cells, "the household is in the ledger"
    assert all(c.data_type == "s" for c in cells)  # a string cell, never a formula
