"""Levels are configuration: a county that calls its levels 旗 → 苏木 → 嘎查 (Inner Mongolia)
changes config.yaml alone, and no page, chat message, printed notice or export says 县, 乡镇
or 村 as a level's name.

What counts as a level's name: 县, 乡镇 and 村 standing for the level (县级, 县里, 乡镇审核, 本村,
村干部, 所在村). Not: 村民 and its compounds (村民小组, 村民代表, 村民委员会: the residents and
their committee, called so under any level's name), 乡村振兴 and 农村 (rural), and data such as
the demo's cadres' units. Stage and role labels are config.yaml's text, so the county renames
them there with the levels (嘎查民主评议, 苏木审核人员).

The same walk finds no word in Latin letters a reader sees (a raw key, English) but the names
of file formats."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from flask import Flask
from sqlalchemy import select, update

from approvals.record.calendar import LOCAL
from approvals.record.definitions import Stage
from approvals.record.models import Cadre, Case, Member, Place, Verdict
from fangfan import config as config_module
from fangfan.app import create_app
from fangfan.config import Config
from fangfan.services import Services
from fangfan.settings import ROOT
from notifications import reminders
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.bot.sender import WeChatSender
from tests.db import session_scope
from tests.support.web import Desk, cadre_id
from tests.support.world import World

NEW_ID = "11010519491231002X"  # not in the demo roster: the chat asks for the village

# config.yaml's words that name a level, and what 旗/苏木/嘎查 county writes instead
RENAMED = [
    ("  county: 县\n  township: 乡镇\n  village: 村\n",
     "  county: 旗\n  township: 苏木\n  village: 嘎查\n"),
    ("村干部/驻村工作队", "嘎查干部/驻嘎查工作队"), ("乡镇审核人员", "苏木审核人员"),
    ("县级审定人员", "旗级审定人员"), ("label: 村民主评议", "label: 嘎查民主评议"),
    ("label: 乡镇审核", "label: 苏木审核"), ("label: 县级比对审定", "label: 旗级比对审定"),
    ("label: 县级审定", "label: 旗级审定"),
    ("objection_to: 村民委员会或乡镇人民政府", "objection_to: 嘎查村民委员会或苏木人民政府"),
    ("name: 示范县", "name: 示范旗"), ("青山镇", "青山苏木"), ("河湾乡", "河湾苏木"),
    ("东沟村", "东沟嘎查"), ("西坡村", "西坡嘎查"), ("南滩村", "南滩嘎查"), ("北岭村", "北岭嘎查"),
]
NOT_LEVEL_NAMES = ("村民", "乡村振兴", "农村")
# data, not words of the software: fangfan/demo.py's cadres' units, and the visitors the
# demo's filled-in 入户核实 form names (its stage module's demo_form), as a cadre types them
DEMO_DATA = ("县乡村振兴局", "县农业农村局", "县教育局", "村委会", "帮扶联系人、村干部入户")
FILE_FORMATS = {"PDF", "Excel", "xlsx", "CSV"}  # said so in Chinese too
LEVEL_WORD = re.compile(r"县|乡镇|村")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """config.yaml as the 旗 county writes it: nothing else changes."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    for old, new in RENAMED:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return config_module.load(path)


def level_words(text: str) -> list[str]:
    """Where a level is named 县/乡镇/村 in `text`, with a little context each."""
    for word in (*DEMO_DATA, *NOT_LEVEL_NAMES):
        text = text.replace(word, "")
    text = re.sub(r"<script.*?</script>|<style.*?</style>", "", text, flags=re.S)
    return [text[max(0, m.start() - 12):m.end() + 12] for m in LEVEL_WORD.finditer(text)]


def english(text: str) -> list[str]:
    """Words in Latin letters a reader sees (not markup, links or the audit chain's hash)."""
    text = re.sub(r"<script.*?</script>|<style.*?</style>|<[^>]*>|https?://\S+|&\w+;"
                  r"|哈希 [0-9a-f]{16}", " ", text, flags=re.S)
    return [w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in FILE_FORMATS]


def seen(texts: dict[str, str]) -> None:
    found = {where: words for where, text in texts.items() if (words := level_words(text))}
    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())
    raw = {where: words for where, text in texts.items() if (words := english(text))}
    assert not raw, "\n".join(f"{k}: {v}" for k, v in raw.items())


def test_renamed_levels_name_every_page_message_notice_and_export(  # and no raw keys
        farmer: WeChatSender, world: World, services: Services) -> None:
    app: Flask = create_app(services)
    texts: dict[str, str] = {}

    # the chat: a new household applies, asks for help, the policy and its progress
    texts["欢迎"] = farmer.post(farmer.xml(
        "event", "<Event><![CDATA[subscribe]]></Event>")).text
    texts["帮助"] = farmer.say("帮助")
    texts["政策"] = farmer.say("政策")
    texts["申请"] = farmer.say("申请")
    texts["身份"] = farmer.say(f"王小五 {NEW_ID}")
    assert "您家在哪个嘎查" in texts["身份"]
    for said in ("1", "4", "老伴住院做手术", "两万", "跳过"):
        texts[said] = farmer.say(said)
    assert "所在嘎查：东沟嘎查" in texts["跳过"]  # the summary to confirm
    texts["修改"] = farmer.say("修改")
    assert "所在嘎查" in texts["修改"]
    farmer.say("7")  # the phone again
    farmer.say("跳过")
    texts["同意"] = farmer.say("同意")
    with session_scope() as s:
        case_id = s.scalars(select(Case.id).join(Member, Member.household_id == Case.household_id)
                            .where(Member.id_number == NEW_ID)).one()
        household_id = world.case(case_id).household_id
        village_id = world.case(case_id).village_id
        county_id = s.scalars(select(Place.id).where(Place.name == "示范旗")).one()
    world.advance(case_id)
    texts["进度"] = farmer.say("进度")
    assert "嘎查干部/驻嘎查工作队" in texts["进度"] or "（帮扶联系人）" in texts["进度"]

    village = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    township = Desk(app.test_client()).signs_in(cadre_id("王审核"))
    county = Desk(app.test_client()).signs_in(cadre_id("赵审定"))
    supervisor = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    for stage in (Stage.HOME_VERIFICATION, Stage.VILLAGE_REVIEW, Stage.PUBLIC_NOTICE):
        world.approve_through(case_id, stage)
        texts[f"案件页 {stage}"] = village.get(f"/c/{case_id}").text
        texts[f"待办 {stage}"] = village.get("/inbox").text
    texts["公示（打印）"] = village.get(f"/notices/{village_id}").text
    assert "嘎查村民委员会或苏木人民政府" in texts["公示（打印）"]
    texts["代理"] = village.get("/me/stand-in").text
    assert "打印本嘎查公示" in texts[f"案件页 {Stage.PUBLIC_NOTICE}"]
    world.approve_through(case_id, Stage.TOWNSHIP_AUDIT)
    texts["苏木案件页"] = township.get(f"/c/{case_id}").text
    assert "苏木审核" in texts["苏木案件页"]
    texts["苏木待办"] = township.get("/inbox").text
    assert 'for="village">嘎查</label>' in texts["苏木待办"]  # the filter of its villages
    texts["苏木批量"] = township.get("/batch?stage=township_audit").text
    texts["交接"] = township.get("/handover").text
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    texts["旗案件页"] = county.get(f"/c/{case_id}").text
    texts["旗批量"] = county.get("/batch?stage=county_approval").text
    texts["导入"] = county.get("/import").text
    texts["看板"] = supervisor.get("/dashboard").text
    texts["案件列表"] = supervisor.get("/dashboard/cases").text
    texts["台账"] = supervisor.get("/ledger").text
    texts["户页"] = village.get(f"/h/{household_id}").text
    texts["无权"] = township.get("/import").text  # refused: said with the levels' names

    world.decides(case_id, world.approver(case_id), Verdict.REJECTED,
                  reason="家庭人均纯收入明显高于监测范围")
    texts["办结进度"] = farmer.say("进度")
    assert "向苏木人民政府申请复核" in texts["办结进度"]
    texts["办结案件页"] = county.get(f"/c/{case_id}").text
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre_id("刘书记")).values(openid="o_liu"))
        told = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == farmer.openid)).all()
        for m in told:
            texts[f"通知 {m.event} {m.id}"] = render(m.event, m.params, local=services.local()).text
    assert any("向苏木人民政府申请复核" in t for t in texts.values() if "不予纳入" in t)

    other = world.apply(world.household("东沟嘎查"))  # a task left to run late: the digest
    world.clock.current = world.clock.current.astimezone(LOCAL).replace(hour=8, minute=30)
    digest = None
    while digest is None:  # working day by working day until 刘书记 hears of it
        world.clock.advance(days=1)
        with session_scope() as s:
            reminders.sweep(s, world.clock.now(), services.calendar, reminders.Rules(
                due_soon_working_days=1, escalate_after_working_days=2))
            digest = s.scalars(select(OutboxMessage).where(
                OutboxMessage.recipient == f"cadre:{cadre_id('刘书记')}",
                OutboxMessage.event == "cadre_digest")).first()
    texts["提醒"] = render(digest.event, digest.params, "https://ff.example.cn").text
    assert str(world.case(other).number) in texts["提醒"]

    ledger = supervisor.get(f"/ledger.xlsx?place={county_id}")
    assert ledger.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(ledger.data)).active
    headers = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert headers[1:3] == ["苏木", "嘎查"]
    texts["台账导出"] = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row
                              if c.value is not None)
    seen(texts)


def test_imports_head_the_level_columns_as_config_names_the_levels(
        world: World, services: Services) -> None:
    """A 旗 county's roster and cadre files head their level columns 苏木 and 嘎查: the
    examples it downloads say so, such files import, and a bad row is told by that name."""
    app: Flask = create_app(services)
    county = Desk(app.test_client()).signs_in(cadre_id("钱督导"))
    example = county.get("/import/examples/cadres.csv").data.decode("utf-8-sig")
    assert example.splitlines()[0] == "姓名,岗位,苏木,嘎查,联系电话,单位"

    def imported(rows: str) -> object:
        body = f"姓名,岗位,苏木,嘎查,联系电话,单位\n{rows}".encode()
        return county.post("/import", kind="cadres", file=(io.BytesIO(body), "干部.csv"))

    wrong = imported("苏新干部,帮扶联系人,青山苏木,西沟嘎查,13800001111,\n")
    assert wrong.status_code == 400  # type: ignore[attr-defined]
    page = wrong.text  # type: ignore[attr-defined]
    assert "第2行「嘎查」：不在您的管辖范围内" in page and not level_words(page)
    done = imported("苏新干部,帮扶联系人,青山苏木,东沟嘎查,13800001111,\n")
    assert done.status_code == 200, done.text  # type: ignore[attr-defined]
    with session_scope() as s:
        assert s.scalars(select(Place.name).join(Cadre, Cadre.place_id == Place.id)
                         .where(Cadre.name == "苏新干部")).one() == "东沟嘎查"
    without = county.post("/import", kind="cadres", file=(io.BytesIO(
        "姓名,岗位,联系电话,单位\n".encode()), "干部.csv"))
    assert "缺少列：苏木、嘎查" in without.text  # type: ignore[attr-defined]
