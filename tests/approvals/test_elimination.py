"""风险消除: the criteria on each edge, the procedure to its end, and 回退."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, update

from approvals.procedure import elimination
from approvals.record.calendar import local_date
from approvals.record.definitions import Stage
from approvals.record.errors import NotAllowed, Refused
from approvals.record.models import (
    AuditEntry,
    Case,
    CaseKind,
    CaseStatus,
    Household,
    IncomeRecord,
    Measure,
    Member,
    MonitoringStatus,
    Revisit,
    Task,
    TaskStatus,
    Verdict,
)
from fangfan import config as config_module
from fangfan.settings import ROOT
from tests.db import session_scope

GOOD = ((200, "9500"), (100, "9800"), (10, "9700"))  # (days ago, per-capita net income)


def monitored(world, *, months: int = 7, measures_done: int = 1,
              incomes: tuple[tuple[int, str], ...] = GOOD,
              secure: dict[str, bool] | None = None) -> int:
    """A household enrolled `months` ago with its measures carried out, its revisits' incomes
    and, on the latest revisit, 两不愁三保障, 饮水 and rigid expenditure (all secure unless
    told otherwise)."""
    hh = world.household("北岭村", 1)
    today = local_date(world.clock.now())
    helper = world.cadre("helper", "北岭村").id
    with session_scope() as s:
        household = s.get_one(Household, hh)
        household.monitoring = MonitoringStatus.MONITORED
        household.category = "marginal"
        household.monitored_since = today - relativedelta(months=months)
        for _ in range(measures_done):
            s.add(Measure(household_id=hh, kind="就业", planned_on=today, done_on=today))
        for i, (days_ago, amount) in enumerate(incomes):
            on, net = today - dt.timedelta(days=days_ago), Decimal(amount)
            visit = Revisit(household_id=hh, cadre_id=helper, visited_on=on, members=1,
                            wage=net, business=0, property=0, transfer=0, production_costs=0,
                            out_of_pocket=0, per_capita_net=net, risk_remains=False,
                            secure=(dict.fromkeys(elimination.SECURITY, True) | (secure or {})
                                    if i == len(incomes) - 1 else {}),
                            recorded_at=world.clock.now())
            s.add(visit)
            s.flush()
            s.add(IncomeRecord(household_id=hh, per_capita_net=net, recorded_on=on,
                               revisit_id=visit.id))
    return hh


def unmet(world, hh: int) -> list[str]:
    with session_scope() as s:
        return elimination.unmet_criteria(s, s.get_one(Household, hh),
                                          world.config.elimination_rules(),
                                          local_date(world.clock.now()))


def propose(world, hh: int):
    actor = world.cadre("village_cadre", "北岭村")
    with session_scope() as s:
        return elimination.propose(
            s, s.get_one(Household, hh), actor, rules=world.config.elimination_rules(),
            definition=world.config.definition(CaseKind.RISK_ELIMINATION),
            calendar=world.services.calendar, now=world.clock.now()).id


def test_exactly_six_months_is_enough_one_day_less_is_not(world):
    today = local_date(world.clock.now())
    since = (today - (today - relativedelta(months=6))).days  # revisited that day and today
    hh = monitored(world, months=6, incomes=((since, "9500"), (0, "9700")))
    case_id = propose(world, hh)
    assert world.case(case_id).kind == CaseKind.RISK_ELIMINATION
    with session_scope() as s:
        s.get_one(Household, hh).monitored_since += dt.timedelta(days=1)
    with session_scope() as s:
        rules = world.config.elimination_rules()
        problems = elimination.unmet_criteria(s, s.get_one(Household, hh), rules,
                                              local_date(world.clock.now()))
    assert any("不满6个月" in p for p in problems)


def test_no_measure_carried_out_is_refused(world):
    hh = monitored(world, measures_done=0)
    with pytest.raises(Refused, match="已落实的帮扶措施不足1项"):
        propose(world, hh)


def test_income_must_be_at_or_above_the_line_on_every_revisit_of_the_span(world):
    line = world.config.elimination_rules().line_for(2026).amount
    assert line == Decimal("8900")
    with pytest.raises(Refused, match="低于当年监测范围8900元"):
        propose(world, monitored(world, incomes=((200, "9500"), (10, str(line - 1)))))


def test_a_dip_inside_the_span_fails_even_with_good_records_around_it(world):
    hh = monitored(world, incomes=((200, "9500"), (120, "8000"), (60, "9800"), (10, "9900")))
    assert any("回访人均纯收入8000元，低于当年监测范围8900元" in p for p in unmet(world, hh))


def test_a_dip_before_the_span_no_longer_counts(world):
    """The span runs back six months from the latest revisit: an older dip is history."""
    hh = monitored(world, months=12, incomes=((330, "7000"), (200, "9500"), (10, "9900")))
    assert unmet(world, hh) == []


def test_two_good_records_a_month_apart_are_not_enough(world):
    hh = monitored(world, incomes=((40, "12000"), (10, "12000")))
    problems = unmet(world, hh)
    assert any("回访收入记录跨度不足6个月" in p for p in problems), problems
    with pytest.raises(Refused, match="跨度不足6个月"):
        propose(world, hh)


def test_the_span_must_be_within_this_monitoring_period(world):
    """Income from before the household entered monitoring proves nothing of this period."""
    hh = monitored(world, months=7, incomes=((260, "9500"), (100, "9800"), (10, "9700")))
    assert any("跨度不足6个月" in p for p in unmet(world, hh))


def test_the_span_in_months_is_config(world):
    world.services.config = config_module.load(
        ROOT / "config.yaml", {"elimination.stable_income_months": "1"})
    assert unmet(world, monitored(world, incomes=((40, "12000"), (10, "12000")))) == []


def test_income_exactly_on_the_line_passes(world):
    assert propose(world, monitored(world, incomes=((200, "8900"), (10, "8900"))))


def test_no_revisit_income_is_refused(world):
    with pytest.raises(Refused, match="没有回访收入记录"):
        propose(world, monitored(world, incomes=()))


def test_a_measure_of_an_earlier_monitoring_period_does_not_count(world):
    hh = monitored(world, measures_done=0)
    with session_scope() as s:
        since = s.get_one(Household, hh).monitored_since
        s.add(Measure(household_id=hh, kind="就业", planned_on=since - dt.timedelta(days=400),
                      done_on=since - dt.timedelta(days=300)))
    assert "纳入监测以来已落实的帮扶措施不足1项。" in unmet(world, hh)


@pytest.mark.parametrize("key", list(elimination.SECURITY))
def test_each_of_two_worries_three_guarantees_water_and_expenditure_must_be_secure(world, key):
    hh = monitored(world, secure={key: False})
    problems = unmet(world, hh)
    assert len(problems) == 1 and elimination.SECURITY[key] in problems[0], problems


def test_without_a_check_of_the_guarantees_it_is_refused(world):
    hh = monitored(world)
    with session_scope() as s:
        s.execute(update(Revisit).where(Revisit.household_id == hh).values(secure={}))
    assert unmet(world, hh) == ["回访或入户核实尚未记录两不愁三保障及饮水安全情况。"]


def test_a_later_home_verification_recording_the_guarantees_supersedes_the_revisit(world):
    """The home verification records the four 保障 (its form's `securities`); what it did
    not ask (两不愁's food and clothing, rigid expenditure) stays the revisit's."""
    hh = monitored(world)
    case_id = propose(world, hh)
    world.advance(case_id)
    task = world.open_task(case_id)
    four = {"compulsory_education": True, "basic_medical": True, "housing": True,
            "drinking_water": False}
    with session_scope() as s:
        s.execute(update(Task).where(Task.id == task.id).values(
            status=TaskStatus.DECIDED, verdict=Verdict.APPROVED,
            decided_at=world.clock.now() + dt.timedelta(days=1), data={"securities": four}))
        check = elimination.security(s, hh)
    assert check is not None
    assert check.secure == dict.fromkeys(elimination.SECURITY, True) | {"drinking_water": False}
    assert [seen[-2:] for seen in check.seen] == ["回访", "核实"]  # 两不愁 first, then the 保障
    assert unmet(world, hh) == ["以下各项未保障或未核实：饮水安全有保障。"]


def test_a_household_with_no_one_able_to_work_is_never_proposed(world):
    hh = monitored(world)
    with session_scope() as s:
        assert s.get_one(Household, hh).anyone_able_to_work
        s.execute(update(Member).where(Member.household_id == hh).values(able_to_work=False))
    with session_scope() as s:
        assert not s.get_one(Household, hh).anyone_able_to_work
    with pytest.raises(Refused, match="整户无劳动能力"):
        propose(world, hh)


def test_never_without_labour_is_a_config_rule(world):
    """The rule is config.yaml's (`elimination.never_without_labour`, on by default); a
    county that turns it off decides such households on the other criteria alone."""
    assert world.config.elimination.never_without_labour is True
    hh = monitored(world)
    with session_scope() as s:
        s.execute(update(Member).where(Member.household_id == hh).values(able_to_work=False))
    world.services.config = config_module.load(
        ROOT / "config.yaml", {"elimination.never_without_labour": "false"})
    assert unmet(world, hh) == []
    assert propose(world, hh)


def test_elimination_runs_the_same_machine_and_reverts(world):
    hh = monitored(world)
    case_id = propose(world, hh)
    world.advance(case_id)
    assert world.stage(case_id) == Stage.HOME_VERIFICATION
    world.approve_through(case_id, until=None)
    assert world.case(case_id).status == CaseStatus.ELIMINATED
    with session_scope() as s:
        assert s.get_one(Household, hh).monitoring == MonitoringStatus.ELIMINATED
    village = world.cadre("village_cadre", "北岭村")
    county = world.cadre("county_approver")
    with session_scope() as s, pytest.raises(Refused, match="须由审定风险消除的工作人员办理"):
        elimination.revert(s, s.get_one(Household, hh), village, reason="因病返贫风险",
                           now=world.clock.now())
    with session_scope() as s:
        elimination.revert(s, s.get_one(Household, hh), county, reason="家人突发重病，风险回升",
                           now=world.clock.now())
    with session_scope() as s:
        household = s.get_one(Household, hh)
        assert household.monitoring == MonitoringStatus.MONITORED
        assert household.eliminated_on is None
    assert world.case(case_id).status == CaseStatus.ELIMINATED  # the history stays


def test_a_household_outside_the_jurisdiction_is_not_allowed(world):
    hh = monitored(world)
    outsider = world.cadre("village_cadre", "南滩村")
    with session_scope() as s, pytest.raises(NotAllowed, match="不在您的管辖范围内"):
        elimination.propose(
            s, s.get_one(Household, hh), outsider, rules=world.config.elimination_rules(),
            definition=world.config.definition(CaseKind.RISK_ELIMINATION),
            calendar=world.services.calendar, now=world.clock.now())
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_a_county_without_the_elimination_notice_eliminates_without_one(world):
    """A county whose config.yaml says `procedures.risk_elimination.with_public_notice: false`:
    from the proposal to 风险消除, no 公示 task ever opens."""
    world.services.config = config_module.load(
        ROOT / "config.yaml", {"procedures.risk_elimination.with_public_notice": "false"})
    hh = monitored(world)
    case_id = propose(world, hh)
    world.advance(case_id)
    stages = []
    while (stage := world.stage(case_id)) is not None:
        stages.append(stage)
        world.passes(case_id)
    assert stages == [Stage.HOME_VERIFICATION, Stage.VILLAGE_REVIEW, Stage.TOWNSHIP_AUDIT,
                      Stage.COUNTY_APPROVAL]
    assert world.case(case_id).status == CaseStatus.ELIMINATED
    with session_scope() as s:
        assert s.get_one(Household, hh).monitoring == MonitoringStatus.ELIMINATED
        opened = s.scalars(select(Task.stage).where(Task.case_id == case_id)).all()
        logged = s.scalars(select(AuditEntry.payload).where(
            AuditEntry.case_id == case_id, AuditEntry.action == "task.open")
            .order_by(AuditEntry.id)).all()
    assert Stage.PUBLIC_NOTICE not in opened
    assert [p["stage"] for p in logged] == stages


def test_a_household_not_monitored_cannot_be_proposed(world):
    with pytest.raises(Refused, match="不是监测对象"):
        propose(world, world.household("北岭村", 2))
