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
    Task,
)
from fangfan import config as config_module
from fangfan.settings import ROOT
from tests.db import session_scope


def monitored(world, *, months: int = 7, measures_done: int = 1,
              incomes: tuple[str, ...] = ("9500", "9800")) -> int:
    """A household enrolled `months` ago with its measures and revisit incomes."""
    hh = world.household("北岭村", 1)
    today = local_date(world.clock.now())
    with session_scope() as s:
        household = s.get_one(Household, hh)
        household.monitoring = MonitoringStatus.MONITORED
        household.category = "marginal"
        household.monitored_since = today - relativedelta(months=months)
        for _ in range(measures_done):
            s.add(Measure(household_id=hh, kind="就业", planned_on=today, done_on=today))
        for i, amount in enumerate(incomes):
            s.add(IncomeRecord(household_id=hh, per_capita_net=Decimal(amount),
                               recorded_on=today - dt.timedelta(days=90 * (len(incomes) - i))))
    return hh


def propose(world, hh: int):
    actor = world.cadre("village_cadre", "北岭村")
    with session_scope() as s:
        return elimination.propose(
            s, s.get_one(Household, hh), actor, rules=world.config.elimination_rules(),
            definition=world.config.definition(CaseKind.RISK_ELIMINATION),
            calendar=world.services.calendar, now=world.clock.now()).id


def test_exactly_six_months_is_enough_one_day_less_is_not(world):
    hh = monitored(world, months=6)
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


def test_income_must_be_at_or_above_the_line_on_the_last_records(world):
    line = world.config.elimination_rules().line_for(2026).amount
    assert line == Decimal("8900")
    with pytest.raises(Refused, match="低于当年监测线8900元"):
        propose(world, monitored(world, incomes=("9500", str(line - 1))))


def test_income_exactly_on_the_line_passes(world):
    assert propose(world, monitored(world, incomes=("8900", "8900")))


def test_too_few_income_records_is_refused(world):
    with pytest.raises(Refused, match="回访收入记录不足2次"):
        propose(world, monitored(world, incomes=("9900",)))


def test_a_household_with_no_one_able_to_work_is_never_proposed(world):
    hh = monitored(world)
    with session_scope() as s:
        s.execute(update(Member).where(Member.household_id == hh).values(able_to_work=False))
    with pytest.raises(Refused, match="整户无劳动能力"):
        propose(world, hh)


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
    with session_scope() as s, pytest.raises(Refused, match="须由本县"):
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
