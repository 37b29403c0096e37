"""The identification procedure end to end: enrolment, fast track, the total clock, versions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from approvals.procedure.queries import list_cases, show_case
from approvals.record.calendar import LOCAL
from approvals.record.definitions import Deadline, Stage
from approvals.record.errors import Refused
from approvals.record.models import (
    CaseKind,
    CaseStatus,
    Definition,
    Household,
    Measure,
    MonitoringStatus,
    Pairing,
    Source,
)
from tests.db import session_scope


def test_an_approved_case_enrols_the_household_with_a_paired_cadre_and_a_measure(world):
    hh = world.household()
    case_id = world.apply(hh)
    world.approve_through(case_id, until=None)
    assert world.case(case_id).status == CaseStatus.ENROLLED
    helper = world.cadre("helper")
    with session_scope() as s:
        household = s.get_one(Household, hh)
        assert household.monitoring == MonitoringStatus.MONITORED
        assert household.category == "sudden"
        pairing = s.scalars(select(Pairing).where(Pairing.household_id == hh)).one()
        assert pairing.cadre_id == helper.id and pairing.ended_on is None
        measures = s.scalars(select(Measure).where(Measure.household_id == hh)).all()
        assert [(m.kind, m.done_on) for m in measures] == [("健康", None)]
    # enrolled households do not apply again
    with pytest.raises(Refused, match="已经是监测对象"):
        world.apply(hh)


def test_a_second_application_while_one_is_open_is_refused(world):
    hh = world.household()
    world.apply(hh)
    with pytest.raises(Refused, match="已有正在办理的案件"):
        world.apply(hh)


def test_fast_track_records_assistance_at_once_then_runs_the_procedure(world):
    hh = world.household()
    case_id = world.apply(hh, risk_types=["disaster"], category="sudden",
                          source=Source.CADRE_VISIT,
                          assistance=[{"kind": "综合保障", "description": "临时救助3000元"}])
    case = world.case(case_id)
    assert case.fast_tracked
    with session_scope() as s:
        given = s.scalars(select(Measure).where(Measure.household_id == hh)).one()
        assert given.done_on is not None  # assisted first
    assert world.stage(case_id) == Stage.HOME_VERIFICATION  # identified after
    world.approve_through(case_id, until=None)
    assert world.case(case_id).status == CaseStatus.ENROLLED


def test_fast_track_only_for_sudden_disaster_or_accident(world):
    with pytest.raises(Refused, match="先帮扶后认定"):
        world.apply(world.household(), risk_types=["schooling"], category="marginal",
                    assistance=[{"kind": "教育"}])


def test_the_total_clock_counts_working_days_across_national_day(world, config):
    working = config.model_copy(update={"procedures": {
        **config.procedures,
        CaseKind.IDENTIFICATION: config.procedures[CaseKind.IDENTIFICATION].model_copy(
            update={"total": Deadline(days=15, unit="working")})}})
    world.services.config = working
    world.clock.current = dt.datetime(2026, 9, 28, 10, 0, tzinfo=LOCAL)
    case_id = world.apply(world.household())
    # 15 working days after 9-28: 9-29, 9-30, 10-08, 10-09, 10-10 (调休), 10-12 … 10-23
    assert world.case(case_id).due_at == dt.datetime(2026, 10, 24, tzinfo=LOCAL)
    world.clock.current = dt.datetime(2026, 10, 23, 23, 0, tzinfo=LOCAL)
    with session_scope() as s:
        row = show_case(s, case_id, world.clock.now())
        assert not row["overdue"]
    world.clock.current = dt.datetime(2026, 10, 24, 0, 1, tzinfo=LOCAL)
    with session_scope() as s:
        assert show_case(s, case_id, world.clock.now())["overdue"]
        assert [c["id"] for c in list_cases(s, world.clock.now(), overdue=True)] == [case_id]


def test_the_default_total_clock_is_fifteen_calendar_days(world):
    case_id = world.apply(world.household())
    opened = world.clock.now().astimezone(LOCAL).date()
    assert world.case(case_id).due_at == dt.datetime.combine(
        opened + dt.timedelta(days=16), dt.time(), LOCAL)


def test_a_case_in_flight_keeps_the_definition_it_started_with(world, config):
    old_case = world.apply(world.household(index=0))
    township = config.procedures[CaseKind.IDENTIFICATION].stages[Stage.TOWNSHIP_AUDIT]
    changed_stage = township.model_copy(update={"label": "镇级审核", "deadline": Deadline(
        days=10, unit="calendar")})
    proc = config.procedures[CaseKind.IDENTIFICATION]
    world.services.config = config.model_copy(update={"procedures": {
        **config.procedures, CaseKind.IDENTIFICATION: proc.model_copy(update={
            "stages": {**proc.stages, Stage.TOWNSHIP_AUDIT: changed_stage}})}})
    new_case = world.apply(world.household(index=1))
    for case_id in (old_case, new_case):
        world.approve_through(case_id, until=Stage.TOWNSHIP_AUDIT)
    old_task, new_task = world.open_task(old_case), world.open_task(new_case)
    assert (old_task.due_at - old_task.opened_at).days < 10  # two working days, as before
    new_opened = new_task.opened_at.astimezone(LOCAL).date()
    assert new_task.due_at == dt.datetime.combine(  # ten calendar days, from the new config
        new_opened + dt.timedelta(days=11), dt.time(), LOCAL)
    with session_scope() as s:
        versions = s.scalars(select(Definition.version).order_by(Definition.version)).all()
        assert versions == [1, 2]
        assert show_case(s, old_case, world.clock.now())["definition_version"] == 1
        assert show_case(s, new_case, world.clock.now())["stage_label"] == "镇级审核"
        assert show_case(s, old_case, world.clock.now())["stage_label"] == "乡镇审核"
    for case_id in (old_case, new_case):  # both finish under their own rules
        world.approve_through(case_id, until=None)
        assert world.case(case_id).status == CaseStatus.ENROLLED
