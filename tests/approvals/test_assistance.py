"""After identification: measures proposed by risk and capacity, the alert for a household
with none carried out, revisits computing income from its parts, and the evidence that an
elimination proposal rests on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from approvals.assistance import measures, revisits
from approvals.procedure import elimination
from approvals.record.calendar import LOCAL, local_date
from approvals.record.errors import NotAllowed, Refused
from approvals.record.models import (
    CaseKind,
    Household,
    IncomeRecord,
    Labour,
    Measure,
    Member,
    Pairing,
)
from notifications import reminders
from tests.db import session_scope
from tests.support.world import World

ANNUAL = {k: "正常" for k in revisits.ANNUAL}


def enrolled(world: World, index: int = 0, risks: tuple[str, ...] = ("illness",)) -> int:
    """A household of 东沟村 through the whole procedure: monitored, paired, one measure
    planned (not yet carried out)."""
    case_id = world.apply(world.household("东沟村", index), risk_types=list(risks))
    world.approve_through(case_id, None)
    return world.case(case_id).household_id


def proposed(world: World, household_id: int) -> dict[str, str]:
    with session_scope() as s:
        household = s.get_one(Household, household_id)
        found = measures.propose(s, household, world.config.assistance_rules(),
                                 world.config.risk_types)
    return {p.kind: p.why for p in found}


def visit(world: World, household_id: int, **answers: object) -> revisits.Revisit:
    data = {"visited_on": local_date(world.clock.now()).isoformat(), "members": 3,
            "wage": "24000", "business": "6000", "property": "0", "transfer": "3000",
            "production_costs": "3000", "out_of_pocket": "1200", "risk_remains": False,
            "annual": ANNUAL} | answers
    helper = world.cadre("helper", "东沟村")
    with session_scope() as s:
        revisit = revisits.record(s, s.get_one(Household, household_id), helper, data,
                                  photos=[], now=world.clock.now(),
                                  reopen=reopening(world)).revisit
        s.expunge(revisit)
        return revisit


def reopening(world: World) -> revisits.Reopening:
    return revisits.Reopening(world.config.definition(CaseKind.IDENTIFICATION),
                              world.services.calendar, world.config.elimination_rules())


def test_measures_are_proposed_by_risk_and_capacity(world: World) -> None:
    """003 (二): a single risk, a single measure; several, a combination; development
    measures first for a household that can work, 综合保障 only where capacity is lost."""
    rules, labels = world.config.assistance_rules(), world.config.risk_types

    def kinds(risks: tuple[str, ...], labour: Labour) -> list[str]:
        return [p.kind for p in measures.proposals(risks, labour, rules, labels)]

    assert kinds(("illness",), Labour.FULL) == ["健康"]  # single risk, single measure
    assert kinds(("illness", "schooling"), Labour.FULL) == ["健康", "教育"]  # combined
    assert kinds(("illness", "industry"), Labour.FULL) == ["产业", "健康"]  # development first
    assert kinds(("disability",), Labour.FULL) == ["公益岗位"]  # not 综合保障: can work
    assert kinds(("family",), Labour.FULL) == ["社会帮扶"]
    assert kinds(("water",), Labour.FULL) == ["饮水安全"]
    assert kinds(("disability",), Labour.PARTIAL) == ["公益岗位"]
    assert kinds(("disability",), Labour.NONE) == ["综合保障"]  # capacity lost
    assert kinds(("accident",), Labour.FULL) == ["防贫保险"]
    assert all(k in world.config.measure_types for k in ("防贫保险", "社会帮扶"))

    able = enrolled(world, 0, ("illness", "schooling"))
    assert proposed(world, able) == {"健康": "因病", "教育": "因学"}
    unable = enrolled(world, 1, ("housing",))
    with session_scope() as s:
        s.execute(update(Member).where(Member.household_id == unable).values(able_to_work=False))
    assert proposed(world, unable) == {"住房安全": "住房出现安全问题",
                                       "综合保障": "整户无劳动能力，兜底保障"}
    visit(world, unable, weak_motivation=True, members=2)
    assert proposed(world, unable)["扶志扶智"] == "回访发现内生动力不足"


def test_a_measure_is_planned_and_carried_out_by_the_households_cadres(world: World) -> None:
    household = enrolled(world)
    helper, outsider = world.cadre("helper", "东沟村"), world.cadre("village_cadre", "南滩村")
    today = local_date(world.clock.now())
    with session_scope() as s:
        hh = s.get_one(Household, household)
        with pytest.raises(NotAllowed):
            measures.plan(s, hh, outsider, kind="就业", subtype=None, description="", unit="",
                          planned_on=today, amount=None,
                          measure_types=world.config.measure_types, now=world.clock.now())
        with pytest.raises(Refused, match="请从这些类型中选择"):
            measures.plan(s, hh, helper, kind="发钱", subtype=None, description="", unit="",
                          planned_on=today, amount=None,
                          measure_types=world.config.measure_types, now=world.clock.now())
        measure = measures.plan(s, hh, helper, kind="就业", subtype="公益性岗位",
                                description="村保洁员", unit="县人社局", planned_on=today,
                                amount=Decimal("800"), measure_types=world.config.measure_types,
                                now=world.clock.now())
        measure_id = measure.id
    with session_scope() as s, pytest.raises(Refused, match="请写明落实情况"):
        measures.carry_out(s, measure_id, helper, done_on=today, result=" ", amount=None,
                           now=world.clock.now())
    with session_scope() as s:
        done = measures.carry_out(s, measure_id, helper, done_on=today, result="已上岗",
                                  amount=None, now=world.clock.now())
        assert (done.done_on, done.result, done.amount) == (today, "已上岗", Decimal("800"))
    with session_scope() as s, pytest.raises(Refused, match="已于"):
        measures.carry_out(s, measure_id, helper, done_on=today, result="再次", amount=None,
                           now=world.clock.now())


def sweep(world: World, day: dt.date) -> dict[int, list[dict]]:
    world.clock.current = dt.datetime.combine(day, dt.time(8, 30), LOCAL)
    found: dict[int, list[dict]] = {}
    with session_scope() as s:
        for cadre_id, item in reminders.without_measures(s, day, world.services.calendar,
                                                         reminders.Rules(1, 2)):
            found.setdefault(cadre_id, []).append(item)
    return found


def test_no_measure_carried_out_after_30_days_alerts_the_paired_cadre(world: World) -> None:
    household = enrolled(world)
    with session_scope() as s:
        since = s.get_one(Household, household).monitored_since
        paired = s.scalars(select(Pairing.cadre_id).where(Pairing.household_id == household)
                           ).one()
    assert sweep(world, since + dt.timedelta(days=29)) == {}
    day = since + dt.timedelta(days=30)
    while not world.services.calendar.is_workday(day):
        day += dt.timedelta(days=1)
    alerts = sweep(world, day)
    assert [i["kind"] for i in alerts[paired]] == ["no_measure"]
    assert sweep(world, day + dt.timedelta(days=1)) == {}  # not every day: every 5 working days
    with session_scope() as s:
        s.execute(update(Measure).where(Measure.household_id == household)
                  .values(done_on=day))
    assert sweep(world, day + dt.timedelta(days=7)) == {}


def test_a_revisit_computes_per_capita_net_income_from_its_parts(world: World) -> None:
    household = enrolled(world)
    with pytest.raises(Refused, match=r"今年第一次回访，请填写年度监测内容：.*住房安全"):
        visit(world, household, annual={"social_security": "已参保"})
    first = visit(world, household)
    assert first.per_capita_net == Decimal("10000.00")  # (24000+6000+0+3000−3000) ÷ 3
    with session_scope() as s:
        assert s.scalars(select(IncomeRecord.per_capita_net)
                         .where(IncomeRecord.household_id == household)).all() == [
            Decimal("10000.00")]
        assert revisits.prefill(s, s.get_one(Household, household))["wage"] == Decimal("24000")
    world.clock.advance(days=30)  # the same year: the annual content is not asked again
    second = visit(world, household, annual={}, members=2, wage="10000", business="0")
    assert second.per_capita_net == Decimal("5000.00")
    with pytest.raises(Refused, match="「家庭人口」"):
        visit(world, household, members=0)
    with pytest.raises(Refused, match="「工资性收入」不能小于0"):
        visit(world, household, wage="-5")


def test_the_revisit_reminder_follows_the_last_revisit(world: World) -> None:
    household = enrolled(world)  # 突发严重困难户: a key household, monthly
    visit(world, household)
    today = local_date(world.clock.now())
    rules_ = reminders.Rules(1, 2)
    with session_scope() as s:
        due_early = reminders.revisits_due(s, today + dt.timedelta(days=20),
                                           world.services.calendar, rules_)
        day = today + dt.timedelta(days=30)
        while not world.services.calendar.is_workday(day):
            day += dt.timedelta(days=1)
        due = reminders.revisits_due(s, day, world.services.calendar, rules_)
    assert [i["household_id"] for _, i in due_early] == []
    assert [i["household_id"] for _, i in due] == [household]


def test_the_evidence_shows_each_criterion_and_an_open_risk_blocks_the_proposal(
        world: World) -> None:
    household = enrolled(world)
    with session_scope() as s:
        hh = s.get_one(Household, household)
        hh.monitored_since -= dt.timedelta(days=300)
        s.execute(update(Measure).where(Measure.household_id == household)
                  .values(done_on=hh.monitored_since + dt.timedelta(days=10)))
    world.clock.advance(days=1)
    visit(world, household, risk_remains=True)
    world.clock.advance(days=200)  # the revisits' incomes span more than six months
    visit(world, household, risk_remains=True,  # 2027: the annual content again
          secure=dict.fromkeys(revisits.SECURITY, True))
    config = world.config
    with session_scope() as s:
        hh = s.get_one(Household, household)
        rows = elimination.evidence(s, hh, config.elimination_rules(), local_date(
            world.clock.now()))
        unmet = elimination.unmet_criteria(s, hh, config.elimination_rules(),
                                           local_date(world.clock.now()))
    assert [(e.criterion, e.met) for e in rows] == [
        ("纳入监测满6个月", True), ("本轮监测期内至少落实1项帮扶措施", True),
        ("连续6个月以上的回访人均纯收入均不低于监测范围", True),
        ("最近一次回访风险已消除", False),
        ("两不愁三保障及饮水安全有保障，刚性支出问题已解决", True),
        ("家中有劳动能力的成员", True)]
    assert unmet == [next(u for u in unmet if "回访时风险仍存在" in u)]
    world.clock.advance(days=30)
    visit(world, household, risk_remains=False)
    with session_scope() as s:
        assert elimination.unmet_criteria(s, s.get_one(Household, household),
                                          config.elimination_rules(),
                                          local_date(world.clock.now())) == []
