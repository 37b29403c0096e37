"""Who holds a task is one rule, and every part that names the holder follows it: a task
handed to a colleague is theirs while they are active, and their seat's again once they are
not: the inbox, the supervisors' figures and list, the reminders and the farmer's 进度."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from approvals.assistance import handover
from approvals.desk import dashboard
from approvals.procedure import inbox
from approvals.procedure.permissions import Actor
from approvals.record.calendar import LOCAL
from approvals.record.models import Cadre, Member
from bot import progress
from bot.conversation import Context
from notifications import reminders
from notifications.models import OutboxMessage
from tests.db import session_scope, transaction_scope
from tests.support.world import World


def held(world: World, case_id: int, viewer: Actor) -> tuple[bool, str | None]:
    """Whether the task is in the viewer's inbox, and whom it shows it handed to."""
    with session_scope() as s:
        found = [i for i in inbox.inbox(s, viewer, world.clock.now(), world.services.calendar)
                 .items if i.case_id == case_id]
    return bool(found), found[0].held_by if found else None


def overdue_holders(world: World, supervisor: Actor) -> tuple[list[str], list[str]]:
    """The dashboard's holders of overdue tasks, and the list's one line of why."""
    with session_scope() as s:
        figures = dashboard.figures(s, supervisor, world.clock.now())
        rows, _ = dashboard.cases(s, supervisor, world.clock.now(), world.services.calendar,
                                  dashboard.Filters(overdue=True), {})
    return [name for _, name, _ in figures["by_cadre"]], [r.why for r in rows]


def told(cadre_id: int) -> int:
    with session_scope() as s:
        return len(s.scalars(select(OutboxMessage.id).where(
            OutboxMessage.recipient == f"cadre:{cadre_id}",
            OutboxMessage.event == "cadre_digest")).all())


def progress_of(world: World, openid: str) -> str:
    with Context(world.config, world.services.calendar, world.clock.now(),
                 transaction_scope) as ctx:
        return progress.progress(ctx, openid)


def test_a_task_handed_to_a_colleague_is_theirs_while_active_then_its_seats(
        world: World) -> None:
    household = world.household("东沟村")
    case_id = world.apply(household)
    village, helper = world.cadre("village_cadre", "东沟村"), world.cadre("helper", "东沟村")
    supervisor = world.cadre("supervisor")
    with session_scope() as s:
        handover.transfer_task(s, world.open_task(case_id).id, village, helper.id,
                               reason="熟悉该户情况", now=world.clock.now())
        for cadre in (village, helper):
            s.execute(update(Cadre).where(Cadre.id == cadre.id)
                      .values(openid=f"o_cadre_{cadre.id}"))
        s.execute(update(Member).where(Member.household_id == household, Member.is_head)
                  .values(openid="o_farmer"))
    world.clock.current = dt.datetime(2026, 11, 9, 9, 0, tzinfo=LOCAL)  # overdue since Fri

    assert held(world, case_id, helper) == (True, None)
    assert held(world, case_id, village) == (True, helper.name)  # handed on, marked
    names, why = overdue_holders(world, supervisor)
    assert names == [helper.name] and why[0].startswith(f"{helper.name}（")
    assert f"由{helper.name}（村干部/驻村工作队）办理" in progress_of(world, "o_farmer")
    with session_scope() as s:
        reminders.sweep(s, world.clock.now(), world.services.calendar,
                        reminders.Rules(due_soon_working_days=1, escalate_after_working_days=5))
    assert (told(helper.id), told(village.id)) == (1, 0)

    with session_scope() as s:  # the colleague leaves without handing the task back
        s.execute(update(Cadre).where(Cadre.id == helper.id).values(active=False))
    world.clock.advance(days=1)

    assert held(world, case_id, village) == (True, None)  # the seat's again: theirs
    names, why = overdue_holders(world, supervisor)
    assert names == [village.name] and why[0].startswith(f"{village.name}（")
    # the seat's again: the farmer hears its cadres by name and role
    assert f"由{village.name}（村干部/驻村工作队）办理" in progress_of(world, "o_farmer")
    with session_scope() as s:
        reminders.sweep(s, world.clock.now(), world.services.calendar,
                        reminders.Rules(due_soon_working_days=1, escalate_after_working_days=5))
    assert (told(helper.id), told(village.id)) == (1, 1)
