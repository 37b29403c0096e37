"""`fangfan case list --source screening --json` and `case show ID --json`: the source and the
evidence of 部门筛查预警; the members' ID numbers masked as `case show` masks them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from approvals.record.models import Member
from tests.db import session_scope
from tests.support import hits
from tests.support.cli import fangfan
from tests.support.hits import head
from tests.support.world import World

pytestmark = pytest.mark.slow

KEYS = {"rule", "rule_name", "level", "risk", "outcome", "as_of", "text", "figures",
        "evidence"}


def test_case_list_and_show_give_the_source_and_the_evidence(world: World,
                                                             database_url: str) -> None:
    screened, applied = world.household("东沟村", 1), world.household("西坡村", 2)
    farmer_case = world.apply(applied)  # an application: evidence added to it later
    [opened] = hits.apply(world, [hits.medical(screened), hits.disability(screened)]).opened
    assert hits.apply(world, [hits.assistance(applied)]).added == 1

    listed = json.loads(fangfan("case", "list", "--source", "screening", "--json",
                                database_url=database_url).stdout)
    assert [(c["id"], c["source"]) for c in listed] == [(opened, "screening")]
    [first, second] = listed[0]["evidence"]
    assert KEYS <= set(first)
    assert (first["rule"], first["rule_name"], first["level"], first["risk"],
            first["outcome"], first["as_of"]) == (
        "medical_out_of_pocket", "大额医疗自付", "红", "illness", "opened", "2026-10-31")
    assert first["text"].startswith("医保数据：") and "达到20,000元的预警线" in first["text"]
    assert first["figures"]["total"] == 23_500.0 and second["rule"] == "severe_disability"
    row = first["evidence"][0]
    assert (row["name"], row["file"], row["values"]["个人自付"]) == (
        head(screened)[1], "medical.csv", 23_500.0)

    everything = json.loads(fangfan("case", "list", "--json",
                                    database_url=database_url).stdout)
    by_id = {c["id"]: c for c in everything}
    assert by_id[farmer_case]["source"] == "wechat"
    assert [e["outcome"] for e in by_id[farmer_case]["evidence"]] == ["added"]

    shown = json.loads(fangfan("case", "show", str(opened), "--json",
                               database_url=database_url).stdout)
    assert shown["source"] == "screening"
    assert [e["rule"] for e in shown["evidence"]] == ["medical_out_of_pocket",
                                                      "severe_disability"]
    with session_scope() as s:  # nothing in full: the evidence has none, members masked
        id_numbers = s.scalars(select(Member.id_number).where(
            Member.household_id == screened)).all()
    assert id_numbers and not any(n in json.dumps(shown) for n in id_numbers)
    plain = fangfan("case", "list", "--source", "screening", database_url=database_url)
    assert "部门筛查预警" in plain.stdout

    unknown = fangfan("case", "list", "--source", "fax", database_url=database_url)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("错误：--source fax：没有这个来源")
    assert "screening（部门筛查预警）" in unknown.stderr
