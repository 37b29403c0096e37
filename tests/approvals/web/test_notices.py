"""公示 is real: its period starts when the village records the posting (where, the day, a
photo); an unposted notice is overdue past its deadline and never passes; each household has
its own period; the household hears an upheld objection's outcome in the system's words."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from sqlalchemy import select, update

from approvals.desk import dashboard
from approvals.procedure import notices, objections
from approvals.record.calendar import LOCAL, last_day
from approvals.record.definitions import Stage
from approvals.record.errors import Refused
from approvals.record.models import Member, Place
from notifications import reminders
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.db import session_scope
from tests.support.web import Desk, cadre_id
from tests.support.world import World
from workflows.advance import mark_stalled

MONTHS_LATER = 60


def at_notice(world: World, index: int = 0) -> int:
    case_id = world.apply(world.household("东沟村", index))
    world.approve_through(case_id, until=Stage.PUBLIC_NOTICE)
    return case_id


def test_an_unposted_notice_never_passes_even_long_after_its_due_date(world: World) -> None:
    case_id = at_notice(world)
    due = world.open_task(case_id).due_at
    for days in (6, 30, MONTHS_LATER):
        world.clock.current = due + dt.timedelta(days=days)
        assert mark_stalled(world.services.database, world.clock.now()) == 0
        world.advance(case_id)
        assert world.stage(case_id) == Stage.PUBLIC_NOTICE
    assert not notices.posted(world.open_task(case_id).data)


def test_a_notice_not_posted_by_its_deadline_is_overdue_for_reminders_and_dashboard(
        world: World) -> None:
    case_id = at_notice(world)
    notice = world.open_task(case_id)
    # the first working day after the deadline: the usual overdue machinery picks it up
    day = last_day(notice.due_at) + dt.timedelta(days=1)
    while not world.services.calendar.is_workday(day):
        day += dt.timedelta(days=1)
    world.clock.current = dt.datetime.combine(day, dt.time(8, 30), LOCAL)
    with session_scope() as s:
        s.execute(update(reminders.Cadre).where(reminders.Cadre.name == "刘书记")
                  .values(openid="o_liu"))
    rules = reminders.Rules(due_soon_working_days=1, escalate_after_working_days=2)
    with session_scope() as s:
        reminders.sweep(s, world.clock.now(), world.services.calendar, rules)
    with session_scope() as s:
        [digest] = s.scalars(select(OutboxMessage).where(
            OutboxMessage.event == "cadre_digest")).all()
        items = [i for i in digest.params["items"] if i.get("task_id") == notice.id]
        assert [i["kind"] for i in items] == ["overdue"]
        assert "【已超期" in render(digest.event, digest.params).text
        county = world.cadre("supervisor")
        rows, _ = dashboard.cases(s, county, world.clock.now(), world.services.calendar,
                                  dashboard.Filters(overdue=True), {})
    [row] = [r for r in rows if r.number == world.case(case_id).number]
    assert row.overdue and "公示尚未登记张贴" in row.why and "期限已过" in row.why


def test_a_late_posting_starts_the_period_from_its_own_day(world: World) -> None:
    case_id = at_notice(world)
    deadline = world.open_task(case_id).due_at
    world.clock.current = deadline + dt.timedelta(days=3, hours=2)  # three days late
    ends = world.posts_notice(case_id)
    notice = world.open_task(case_id)
    posted = world.clock.now().astimezone(LOCAL).date()
    assert notice.data["posted_late"] is True and notice.data["starts_on"] == posted.isoformat()
    assert last_day(ends) == posted + dt.timedelta(days=5)
    world.clock.current = ends - dt.timedelta(minutes=1)
    world.advance(case_id)
    assert world.stage(case_id) == Stage.PUBLIC_NOTICE
    world.clock.current = ends
    world.advance(case_id)
    assert world.stage(case_id) == Stage.TOWNSHIP_AUDIT


def test_the_period_never_starts_before_the_posting_and_a_posting_needs_a_photo(
        world: World) -> None:
    case_id = at_notice(world)
    world.clock.advance(days=2)
    today = world.clock.now().astimezone(LOCAL).date()
    with pytest.raises(Refused, match="公示期不能早于张贴日期开始"):
        world.posts_notice(case_id, posted_on=today, starts_on=today - dt.timedelta(days=1))
    with pytest.raises(Refused, match="张贴日期应在公示环节开始之后"):
        world.posts_notice(case_id, posted_on=today - dt.timedelta(days=5))
    task = world.open_task(case_id)
    with session_scope() as s, pytest.raises(Refused, match="照片"):
        notices.post_notice(s, task.id, world.approver(case_id), posted_on=today,
                            where="村委会公示栏", photos=[], now=world.clock.now(),
                            calendar=world.services.calendar)
    assert not notices.posted(world.open_task(case_id).data)
    # a later start is the village's to name: the period is counted from it
    ends = world.posts_notice(case_id, posted_on=today, starts_on=today + dt.timedelta(days=1))
    assert last_day(ends) == today + dt.timedelta(days=6)
    with pytest.raises(Refused, match="已经登记过张贴"):
        world.posts_notice(case_id)


def test_each_household_has_its_own_period_on_the_printed_notice(
        app: Flask, world: World) -> None:
    first, second, third = (at_notice(world, i) for i in range(3))
    world.posts_notice(first)
    world.clock.advance(days=3)
    world.posts_notice(second)
    with session_scope() as s:
        village = s.scalar(select(Place.id).where(Place.name == "东沟村"))
        heads = {c: s.scalar(select(Member.name).where(
            Member.household_id == world.case(c).household_id, Member.is_head))
            for c in (first, second, third)}
    start = world.clock.now().astimezone(LOCAL).date() - dt.timedelta(days=3)
    county = Desk(app.test_client()).signs_in(cadre_id("刘书记"))
    page = county.get(f"/notices/{village}").text
    rows = {c: page[page.index(heads[c]):].split("</tr>")[0] for c in heads}
    later = start + dt.timedelta(days=3)
    assert f"{start.month}月{start.day}日至<br>{start.month}月{start.day + 5}日" in rows[first]
    assert f"{later.month}月{later.day}日至<br>{later.month}月{later.day + 5}日" in rows[second]
    assert "自张贴之日起5天" in rows[third]  # not posted yet: no dates of another household


def test_an_upheld_objection_is_told_to_the_household_in_the_systems_words(
        world: World) -> None:
    case_id = at_notice(world)
    household = world.case(case_id).household_id
    with session_scope() as s:
        s.execute(update(Member).where(Member.household_id == household, Member.is_head)
                  .values(openid="o_applicant"))
    world.posts_notice(case_id)
    objection = world.object(case_id, "该户家中新购货车一辆")
    handling = "经向举报人张三核实，该户确有新购货车"
    with session_scope() as s:
        objections.handle_objection(s, objection, world.approver(case_id), substantiated=True,
                                    handling=handling, now=world.clock.now())
    world.advance(case_id)
    assert world.stage(case_id) == Stage.HOME_VERIFICATION
    with session_scope() as s:
        told = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == "o_applicant")).all()
    texts = [render(m.event, m.params).text for m in told]
    [upheld] = [t for m, t in zip(told, texts, strict=True) if m.event == "objection_upheld"]
    assert "公示期间收到群众反映，经调查核实，需要重新办理「入户核实」" in upheld
    assert not any("张三" in t or "货车" in t for t in texts)
    assert "张三" not in str([m.params for m in told])
