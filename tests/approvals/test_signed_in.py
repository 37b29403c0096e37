"""The signed-in cadre, read in one statement with whom they stand in for on the day."""

from __future__ import annotations

import datetime as dt

import pytest

from approvals.assistance import handover
from approvals.procedure import decisions
from approvals.procedure.permissions import Actor
from approvals.record.errors import NotFound
from tests.db import connection_scope, session_scope
from tests.support.web import cadre_id
from tests.support.world import World


def test_the_cadre_comes_with_whom_they_stand_in_for_that_day_once_each(world: World) -> None:
    liu, chen = cadre_id("刘书记"), cadre_id("陈书记")  # 东沟村 and 西坡村, both 青山镇
    with session_scope() as s:
        for starts, ends in ((4, 5), (5, 6)):  # two periods overlapping on the 5th
            handover.name_stand_in(s, Actor.load(s, liu), chen, starts_on=dt.date(2026, 11, starts),
                                   ends_on=dt.date(2026, 11, ends), reason="外出学习",
                                   now=world.clock.now())
    with connection_scope() as conn:
        before, during, after = (Actor.signed_in(conn, chen, dt.date(2026, 11, day))
                                 for day in (3, 5, 7))
        with pytest.raises(NotFound):
            Actor.signed_in(conn, chen + 10_000, dt.date(2026, 11, 5))
    assert (before.name, before.stands_for) == ("陈书记", ())
    assert during.name == "陈书记" and [p.name for p in during.stands_for] == ["刘书记"]
    assert during.ids == (chen, liu) and after.stands_for == ()
    assert during.sees(during.stands_for[0].place_path) and not before.sees(
        during.stands_for[0].place_path)


def test_the_decision_reads_the_cadre_and_the_task_in_one_statement(world: World) -> None:
    """`signed_in_at`: what `Actor.signed_in` and `load_ref` read, together; each side None
    when it is not there."""
    liu, chen = cadre_id("刘书记"), cadre_id("陈书记")
    case_id = world.apply(world.household("东沟村"))
    task_id = world.open_task(case_id).id
    day = dt.date(2026, 11, 5)
    with session_scope() as s:
        handover.name_stand_in(s, Actor.load(s, liu), chen, starts_on=day, ends_on=day,
                               reason="外出学习", now=world.clock.now())
    with connection_scope() as conn:
        actor, task = decisions.signed_in_at(conn, chen, day, task_id)
        assert actor == Actor.signed_in(conn, chen, day)
        assert [p.name for p in actor.stands_for] == ["刘书记"]
        assert task == decisions.load_ref(conn, task_id)
        assert decisions.signed_in_at(conn, chen, day, task_id + 10_000) == (actor, None)
        nobody, task_again = decisions.signed_in_at(conn, chen + 10_000, day, task_id)
        assert nobody is None and task_again is None  # no cadre, no rows at all
