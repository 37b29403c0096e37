"""公示: its period from config, counted from the posting; an open objection holds the case;
a true one returns it."""

from __future__ import annotations

import datetime as dt

import pytest

from approvals.procedure import objections
from approvals.record.calendar import LOCAL
from approvals.record.definitions import Stage
from approvals.record.errors import Refused
from tests.db import session_scope
from workflows.advance import mark_stalled


def test_notice_passes_by_itself_after_its_period_from_the_posting(world):
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=Stage.PUBLIC_NOTICE)
    opened = world.open_task(case_id).opened_at.astimezone(LOCAL).date()
    world.clock.advance(days=2)  # posted two days after the stage opened
    world.posts_notice(case_id)
    notice = world.open_task(case_id)
    posted = opened + dt.timedelta(days=2)
    # five calendar days, the day it is posted not counted: it ends at the end of day 5
    assert notice.due_at.astimezone(LOCAL) == dt.datetime.combine(
        posted + dt.timedelta(days=6), dt.time(), LOCAL)
    world.clock.current = notice.due_at - dt.timedelta(minutes=1)
    world.advance(case_id)
    assert world.stage(case_id) == Stage.PUBLIC_NOTICE
    world.clock.current = notice.due_at
    # the worker's sweep finds the finished notice
    assert mark_stalled(world.services.database, world.clock.now()) == 1
    world.advance(case_id)
    assert world.stage(case_id) == Stage.TOWNSHIP_AUDIT


def test_an_open_objection_holds_the_case_in_notice(world):
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=Stage.PUBLIC_NOTICE)
    world.posts_notice(case_id)
    world.object(case_id)
    world.clock.advance(days=10)
    assert mark_stalled(world.services.database, world.clock.now()) == 0
    world.advance(case_id)
    assert world.stage(case_id) == Stage.PUBLIC_NOTICE


def test_a_dismissed_objection_lets_the_notice_end(world):
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=Stage.PUBLIC_NOTICE)
    world.posts_notice(case_id)
    objection_id = world.object(case_id)
    world.clock.advance(days=10)
    with session_scope() as s:
        objections.handle_objection(s, objection_id, world.approver(case_id), substantiated=False,
                                    handling="经村委会调查，反映情况不属实", now=world.clock.now())
    world.advance(case_id)
    assert world.stage(case_id) == Stage.TOWNSHIP_AUDIT


def test_a_substantiated_objection_sends_the_case_back_to_home_verification(world):
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=Stage.PUBLIC_NOTICE)
    objection_id = world.object(case_id, "该户家中新购货车一辆")
    with session_scope() as s:
        objections.handle_objection(s, objection_id, world.approver(case_id), substantiated=True,
                                    handling="经核实确有新购货车", now=world.clock.now())
    world.advance(case_id)
    assert world.stage(case_id) == Stage.HOME_VERIFICATION
    assert world.open_task(case_id).round == 2
    with session_scope() as s, pytest.raises(Refused, match="已经处理过"):
        objections.handle_objection(s, objection_id, world.approver(case_id), substantiated=False,
                                    handling="再次处理", now=world.clock.now())


def test_objections_only_during_the_notice(world):
    case_id = world.apply(world.household())
    with pytest.raises(Refused, match="不在公示期内"):
        world.object(case_id)
