"""入户核实 records what the policy texts say it checks, and the category and measures are
decided where they are known: the verification proposes the category, the county confirms or
changes it, in a single approval and in a batch, for a case filed through the chat."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select, update

from approvals.procedure import decisions
from approvals.procedure.cases import open_elimination
from approvals.procedure.stages import county_approval, home_verification
from approvals.record.definitions import Stage
from approvals.record.errors import Refused
from approvals.record.models import (
    Case,
    CaseKind,
    CaseRisk,
    CaseStatus,
    Household,
    Measure,
    Member,
    Pairing,
    Source,
    Task,
    TaskStatus,
    Verdict,
)
from fangfan import config as config_module
from fangfan.settings import ROOT
from tests.bot.conftest import farmer, serve_webhook, webhook_url  # noqa: F401 (fixtures)
from tests.bot.sender import WeChatSender
from tests.db import session_scope
from tests.support.phone import sign_in
from tests.support.web import Desk, cadre, cadre_id, shot
from tests.support.world import World, roster_head

pytestmark = pytest.mark.slow

JPEG = b"\xff\xd8\xff\xe0" + b"home" * 100 + b"\xff\xd9"
NEW_MEMBER_ID = "11010519491231002X"  # not in the demo roster


def members_of(household_id: int) -> list[Member]:
    with session_scope() as s:
        found = s.scalars(select(Member).where(Member.household_id == household_id)
                          .order_by(Member.id)).all()
        for m in found:
            s.expunge(m)
        return list(found)


def verification(case_id: int) -> Task:
    with session_scope() as s:
        return s.scalars(select(Task).where(Task.case_id == case_id,
                                            Task.stage == Stage.HOME_VERIFICATION)
                         .order_by(Task.id.desc())).first()


def test_the_verification_record_is_complete_through_the_phone_page(
        world: World, phone: Any) -> None:
    household = world.household("东沟村", 0)
    case_id = world.apply(household, category=None)  # as the chat files it: no category
    before = members_of(household)
    head, other = before[0], before[1]

    phone.goto(f"/c/{case_id}")
    sign_in(phone, "刘书记")
    phone.goto(f"/c/{case_id}")
    phone.get_by_text("通过", exact=True).click()
    phone.locator("#visitor2").fill("杨帮扶")
    # members: a correction, who has left, one added, capacity in three values
    phone.get_by_label(f"{head.name}劳动能力").select_option("partial")
    phone.get_by_label(f"{other.name}在户情况").select_option("left")
    phone.get_by_label("新增成员1姓名").fill("王小花")
    phone.get_by_label("新增成员1与户主关系").fill("孙女")
    phone.get_by_label("新增成员1身份证号").fill(NEW_MEMBER_ID)
    phone.get_by_label("新增成员1劳动能力").select_option("none")
    # income over 12 months by kind, minus production costs; the year's line is shown
    expect(phone.get_by_text("2026年监测范围：人均8,900元")).to_be_visible()
    for label, value in (("工资性收入", "12000"), ("生产经营性收入", "5000"),
                         ("财产性收入", "0"), ("转移性收入", "3000"),
                         ("减：生产经营费用", "2000"), ("医疗支出", "40000"),
                         ("合规自付支出", "22000")):
        phone.get_by_label(label, exact=True).fill(value)
    phone.get_by_role("radiogroup", name="饮水安全").get_by_label("无保障").check()
    # the category the findings point to: illness, not a 脱贫户 → 突发严重困难户
    expect(phone.locator("#category")).to_have_value("sudden")
    phone.get_by_label("核实情况").fill("户主住院，自付医疗费用较大；次子已外出落户；孙女随住。")
    shot(phone, "case-home-verification")
    phone.locator("#photos").set_input_files(files=[
        {"name": "home.jpg", "mimeType": "image/jpeg", "buffer": JPEG}])
    phone.get_by_role("button", name="确认通过").click()
    number = world.case(case_id).number
    expect(phone.get_by_text(f"已提交：{number} 入户核实通过")).to_be_visible()
    world.advance(case_id)

    data = verification(case_id).data
    present = len(before) - 1 + 1  # one left, one added
    assert Decimal(data["per_capita_net"]) == (Decimal(18000) / present).quantize(Decimal("0.01"))
    assert (data["medical"], data["out_of_pocket"]) == ("40000", "22000")
    assert data["securities"] == {"compulsory_education": True, "basic_medical": True,
                                  "housing": True, "drinking_water": False}
    assert data["category"] == "sudden" and len(data["photos"]) == 1
    # the household record now says what the visit found
    after = {m.id_number: m for m in members_of(household)}
    assert after[head.id_number].labour == "partial"
    assert after[other.id_number].left_on is not None
    assert after[NEW_MEMBER_ID].labour == "none" and after[NEW_MEMBER_ID].relation == "孙女"
    phone.goto(f"/c/{case_id}")
    timeline = phone.locator(".timeline")
    expect(timeline.get_by_text(re.compile(r"人均纯收入[\d,]+元；饮水安全无保障"))).to_be_visible()
    expect(phone.get_by_text(f"{other.name}").first).to_be_visible()
    expect(phone.get_by_text(re.compile("已离户"))).to_be_visible()

    # the county sees the proposal and the income against the line
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    sign_in(phone, "赵审定")
    phone.goto(f"/c/{case_id}")
    phone.get_by_text("通过", exact=True).click()
    proposal = phone.locator("#proposal")
    expect(proposal).to_contain_text("入户核实建议类别：突发严重困难户")
    expect(proposal).to_contain_text("低于2026年监测范围8,900元")
    expect(phone.locator("#category")).to_have_value("sudden")
    shot(phone, "case-county-enrolment")


def test_the_verification_decides_the_risks_the_county_plans_by(
        world: World, phone: Any) -> None:
    """The applicant said illness; the visit finds unsafe drinking water instead: the case's
    risks become the visit's, and the county is proposed a measure for that risk."""
    case_id = world.apply(world.household("东沟村", 2), category=None, risk_types=["illness"])
    phone.goto(f"/c/{case_id}")
    sign_in(phone, "刘书记")
    phone.goto(f"/c/{case_id}")
    phone.get_by_text("通过", exact=True).click()
    risks = phone.get_by_role("group", name="风险类型")
    expect(risks.get_by_label("因病")).to_be_checked()  # the applicant's, to start from
    risks.get_by_label("因病").uncheck()
    risks.get_by_label("因饮水安全").check()
    phone.locator("#visitor2").fill("杨帮扶")
    phone.get_by_label("核实情况").fill("住院费用已报销；家中水井水质不达标，饮水无保障。")
    phone.get_by_role("radiogroup", name="饮水安全").get_by_label("无保障").check()
    phone.get_by_role("button", name="确认通过").click()
    expect(phone.get_by_text(f"已提交：{world.case(case_id).number} 入户核实通过")).to_be_visible()
    world.advance(case_id)

    assert world.case(case_id).risk_types == ["water"]
    with session_scope() as s:
        assert s.scalars(select(CaseRisk.risk).where(CaseRisk.case_id == case_id)).all() == \
            ["water"]
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    sign_in(phone, "赵审定")
    phone.goto(f"/c/{case_id}")
    phone.get_by_text("通过", exact=True).click()
    expect(phone.get_by_label("帮扶措施1")).to_have_value("饮水安全")

    # a risk type config does not know is refused, not stored
    other = world.apply(world.household("东沟村", 3), category=None)
    form = world.form(other, Stage.HOME_VERIFICATION) | {"risk_types": ["lottery"]}
    with session_scope() as s, pytest.raises(Refused, match="「风险类型」应为"):
        decisions.decide(s, world.open_task(other).id, world.approver(other),
                         Verdict.APPROVED, now=world.clock.now(), data=form)


def test_a_risk_found_not_real_cannot_be_approved(world: World, phone: Any) -> None:
    case_id = world.apply(world.household("东沟村", 1))
    phone.goto(f"/c/{case_id}")
    sign_in(phone, "刘书记")
    phone.goto(f"/c/{case_id}")
    phone.get_by_text("通过", exact=True).click()
    expect(phone.get_by_role("radiogroup", name="风险是否属实")).to_be_visible()
    phone.locator("#visitor2").fill("杨帮扶")
    phone.get_by_label("核实情况").fill("家中务工收入稳定，住院费用已全部报销。")
    phone.get_by_role("radiogroup", name="风险是否属实").get_by_label("不属实").check()
    phone.get_by_role("button", name="确认通过").click()
    expect(phone.get_by_role("alert")).to_contain_text("请选择“不予纳入”并写明理由，不能通过")
    assert world.open_task(case_id).status == TaskStatus.OPEN

    form = world.form(case_id, Stage.HOME_VERIFICATION) | {"risk_confirmed": False}
    with session_scope() as s, pytest.raises(Refused, match="不能通过"):
        decisions.decide(s, world.open_task(case_id).id, world.approver(case_id),
                         Verdict.APPROVED, now=world.clock.now(), data=form)
    world.decides(case_id, world.approver(case_id), Verdict.REJECTED,
                  reason="经入户核实，申请反映的情况与实际不符")
    assert world.case(case_id).status == CaseStatus.REJECTED


def test_the_elimination_check_asks_whether_the_risk_is_stably_eliminated(
        world: World, desk: Desk) -> None:
    household = world.household("东沟村", 3)
    case_id = world.apply(household)
    world.approve_through(case_id, None)
    with session_scope() as s:
        hh = s.get_one(Household, household)
        case = world.config.definition(CaseKind.RISK_ELIMINATION)
        elimination = open_elimination(s, hh, definition=case, calendar=world.services.calendar,
                                       now=world.clock.now(), filed_by="test").id
    world.advance(elimination)
    page = desk.signs_in(cadre_id("刘书记")).get(f"/c/{elimination}").text
    assert "风险是否稳定消除" in page and "已稳定消除" in page and "风险是否属实" not in page
    assert "建议监测类别" not in page
    form = world.form(elimination, Stage.HOME_VERIFICATION) | {"risk_eliminated": False}
    with session_scope() as s, pytest.raises(Refused, match="风险尚未稳定消除"):
        decisions.decide(s, world.open_task(elimination).id, world.approver(elimination),
                         Verdict.APPROVED, now=world.clock.now(), data=form)
    world.decides(elimination, world.approver(elimination))
    assert world.stage(elimination) == Stage.VILLAGE_REVIEW
    assert "风险已稳定消除" in home_verification.STAGE.summary(verification(elimination).data)


def with_visitors(tmp_path: Path, visitors: int) -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    first = "deadline: {days: 3, unit: working}, visitors: 2}"
    assert text.count(first) == 1  # identification's 入户核实
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(first, first.replace("visitors: 2", f"visitors: {visitors}")),
                    encoding="utf-8")
    return path


def test_how_many_visitors_is_the_countys_choice_kept_with_the_case(
        world: World, tmp_path: Path) -> None:
    two = world.apply(world.household("东沟村", 1))  # config.yaml: two
    world.services.config = config_module.load(with_visitors(tmp_path, 1))
    one = world.apply(world.household("东沟村", 2))
    alone = {"visitors": ["刘书记"]}
    with session_scope() as s, pytest.raises(Refused, match="至少需要两名不同的入户人员"):
        decisions.decide(s, world.open_task(two).id, world.approver(two), Verdict.APPROVED,
                         now=world.clock.now(), data=world.form(two, Stage.HOME_VERIFICATION)
                         | alone)
    world.decides(one, world.approver(one),
                  data=world.form(one, Stage.HOME_VERIFICATION) | alone)
    assert world.stage(one) == Stage.VILLAGE_REVIEW
    assert world.stage(two) == Stage.HOME_VERIFICATION  # its definition still asks two
    with pytest.raises(config_module.ConfigError, match="visitors"):
        config_module.load(with_visitors(tmp_path, 0))


def test_the_county_confirms_or_changes_the_proposed_category(world: World) -> None:
    poor, other = world.household("东沟村", 4), world.household("东沟村", 5)
    with session_scope() as s:
        s.execute(update(Household).where(Household.id.in_([poor, other]))
                  .values(formerly_poor=False))
        s.execute(update(Household).where(Household.id == poor).values(formerly_poor=True))
    confirmed = world.apply(poor, category=None, risk_types=["employment"])
    assert world.form(confirmed, Stage.HOME_VERIFICATION)["category"] == "unstable"  # 脱贫户
    changed = world.apply(other, category=None, risk_types=["employment"])
    form = world.form(changed, Stage.HOME_VERIFICATION)
    assert form["category"] == "marginal"
    with session_scope() as s, pytest.raises(Refused, match="不是脱贫户"):
        decisions.decide(s, world.open_task(changed).id, world.approver(changed),
                         Verdict.APPROVED, now=world.clock.now(),
                         data=form | {"category": "unstable"})
    for case_id in (confirmed, changed):
        world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    county = world.approver(confirmed)
    world.decides(confirmed, county)  # the demo's form takes the proposal
    with session_scope() as s, pytest.raises(Refused, match="不是脱贫户"):
        decisions.decide(s, world.open_task(changed).id, county, Verdict.APPROVED,
                         now=world.clock.now(), data=world.form(changed, Stage.COUNTY_APPROVAL)
                         | {"category": "unstable"})
    world.decides(changed, county,
                  data=world.form(changed, Stage.COUNTY_APPROVAL) | {"category": "sudden"})
    with session_scope() as s:
        assert s.get_one(Household, poor).category == "unstable"
        assert s.get_one(Household, other).category == "sudden"
        county_task = s.scalars(select(Task).where(Task.case_id == changed,
                                                   Task.stage == Stage.COUNTY_APPROVAL)).one()
        assert (county_task.data["proposed_category"], county_task.data["category"]) == (
            "marginal", "sudden")
    summary = {c: world.case(c) for c in (confirmed, changed)}
    assert all(c.status == CaseStatus.ENROLLED for c in summary.values())
    assert "脱贫不稳定户，确认" in county_approval.STAGE.summary(
        _county_data(confirmed))
    assert "突发严重困难户，调整（入户核实建议边缘易致贫户）" in county_approval.STAGE.summary(
        _county_data(changed))


def _county_data(case_id: int) -> dict[str, Any]:
    with session_scope() as s:
        return s.scalars(select(Task.data).where(Task.case_id == case_id,
                                                 Task.stage == Stage.COUNTY_APPROVAL)).one()


def test_batch_county_approval_of_a_chat_filed_case_asks_per_case(
        app: Flask, world: World, farmer: WeChatSender) -> None:  # noqa: F811
    name, id_number, household = roster_head("东沟村", 0)
    for said in ("申请", f"{name} {id_number}", "老伴住院做手术，花了五万多", "三万", "同意"):
        farmer.say(said)
    with session_scope() as s:
        case_id = s.scalars(select(Case.id).where(Case.household_id == household)).one()
        assert s.get_one(Case, case_id).source == Source.WECHAT
        assert s.get_one(Case, case_id).category is None  # the chat asks no category
    world.advance(case_id)
    world.approve_through(case_id, Stage.COUNTY_APPROVAL)
    task_id = world.open_task(case_id).id

    county = Desk(app.test_client()).signs_in(cadre_id("赵审定"))
    page = county.get("/batch?stage=county_approval").text
    sfx = f"-{task_id}"
    # per case: the verification's category, the pairing candidates, the proposed measures
    assert re.search(rf'id="category{sfx}"[^>]*>.*?<option value="sudden" selected',
                     page, re.S)
    assert f'name="paired_cadre_id{sfx}"' in page and "建议：因病" in page
    assert re.search(rf'name="measure_kind{sfx}"[^>]*>\s*<option value="">不安排</option>'
                     r'.*?<option selected>健康</option>', page, re.S)

    res = county.post("/batch", stage="county_approval", task=[task_id],
                      opinion="与医保数据比对一致", **{f"category{sfx}": "sudden",
                                                   f"measure_kind{sfx}": "健康"})
    assert "1 件没有办成：「帮扶联系人」" in county.get(res.headers["Location"]).text
    assert world.open_task(case_id).status == TaskStatus.OPEN  # nothing made up
    helper = cadre("helper", "东沟村")
    county.post("/batch", stage="county_approval", task=[task_id], opinion="与医保数据比对一致",
                **{f"category{sfx}": "marginal", f"paired_cadre_id{sfx}": helper,
                   f"measure_kind{sfx}": ["健康", "就业", ""],
                   f"measure_description{sfx}": ["医疗救助", "推荐就近务工", ""],
                   f"measure_planned_on{sfx}": ["2026-11-20", "2026-11-30", "2026-11-30"]})
    world.advance(case_id)
    with session_scope() as s:
        case = s.get_one(Case, case_id)
        assert case.status == CaseStatus.ENROLLED and case.category == "marginal"
        assert s.scalar(select(Pairing.cadre_id).where(Pairing.household_id == household,
                                                       Pairing.ended_on.is_(None))) == helper
        planned = s.scalars(select(Measure).where(Measure.case_id == case_id)
                            .order_by(Measure.id)).all()
        assert [(m.kind, m.description) for m in planned] == [
            ("健康", "医疗救助"), ("就业", "推荐就近务工")]
