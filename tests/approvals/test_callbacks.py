"""转人工: who is asked to call the farmer back and by when, one open request per WeChat user,
and 已回电 once, by the cadre who must call or a village cadre of the village, nobody else."""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, update

from approvals.procedure import callbacks
from approvals.procedure.callbacks import Promise
from approvals.procedure.permissions import Actor
from approvals.record.calendar import LOCAL, WorkCalendar, last_day
from approvals.record.errors import AlreadyDecided, NotAllowed, Refused
from approvals.record.models import (
    AuditEntry,
    Cadre,
    CallbackRequest,
    CallbackStatus,
    Pairing,
    Place,
)
from tests.db import session_scope
from tests.support.web import cadre_id
from tests.support.world import World


def labels(world: World) -> dict[str, str]:
    return {key: role.label for key, role in world.config.roles.items()}


def asks(world: World, *, household_id: int | None = None, village_id: int | None = None,
         openid: str = "o_farmer", said: str = "想问问低保的事",
         calendar: WorkCalendar | None = None, working_days: int = 1,
         phone: str | None = None) -> Promise:
    with session_scope() as s:
        return callbacks.request(
            s, household_id=household_id, village_id=village_id, openid=openid, said=said,
            now=world.clock.now(), calendar=calendar or world.services.calendar,
            working_days=working_days, role_labels=labels(world), phone=phone)


def pair(world: World, household_id: int, cadre: int) -> None:
    with session_scope() as s:
        s.add(Pairing(household_id=household_id, cadre_id=cadre,
                      started_on=world.clock.now().date() - dt.timedelta(days=30)))


def village(name: str) -> int:
    with session_scope() as s:
        return s.scalars(select(Place.id).where(Place.name == name)).one()


def record(request_id: int) -> CallbackRequest:
    with session_scope() as s:
        return s.get_one(CallbackRequest, request_id)


def closes(world: World, request_id: int, actor: Actor, note: str = "") -> CallbackRequest:
    with session_scope() as s:
        return callbacks.done(s, request_id, by=actor, note=note, now=world.clock.now())


def test_the_paired_cadre_calls_back_a_paired_household(world: World) -> None:
    household = world.household("东沟村")
    pair(world, household, cadre_id("杨帮扶"))
    promise = asks(world, household_id=household)
    assert (promise.cadre_name, promise.role_label, promise.paired, promise.already) == (
        "杨帮扶", "帮扶联系人", True, False)
    row = record(promise.request_id)
    assert row.cadre_id == cadre_id("杨帮扶") and row.household_id == household
    assert row.village_id == village("东沟村") and row.status == CallbackStatus.OPEN
    assert row.said == "想问问低保的事" and row.requested_at == world.clock.now()


def test_an_ended_or_inactive_pairing_leaves_it_to_the_village_cadre(world: World) -> None:
    household = world.household("东沟村")
    pair(world, household, cadre_id("杨帮扶"))
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre_id("杨帮扶")).values(active=False))
    promise = asks(world, household_id=household)
    assert (promise.cadre_name, promise.role_label, promise.paired) == (
        "刘书记", "村干部/驻村工作队", False)


def test_an_unpaired_household_is_called_by_its_village_cadre(world: World) -> None:
    promise = asks(world, household_id=world.household("西坡村"))
    assert (promise.cadre_name, promise.paired) == ("陈书记", False)


def test_a_farmer_not_in_the_roster_is_called_by_the_village_they_named(world: World) -> None:
    promise = asks(world, village_id=village("西坡村"), phone="139 0000 1234")
    row = record(promise.request_id)
    assert promise.cadre_name == "陈书记" and row.household_id is None
    assert row.phone == "13900001234"
    with pytest.raises(Refused, match="住在哪里"):
        asks(world, openid="o_nowhere")  # named no village
    with pytest.raises(Refused, match="住在哪里"):  # a township is not a village
        with session_scope() as s:
            township = s.scalars(select(Place.id).where(Place.name == "青山镇")).one()
        asks(world, openid="o_town", village_id=township)
    with pytest.raises(Refused, match="电话号码不正确"):
        asks(world, openid="o_bad_phone", village_id=village("西坡村"), phone="打我电话")


def test_nobody_to_call_is_refused(world: World) -> None:
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre_id("刘书记")).values(active=False))
    with pytest.raises(Refused, match="暂时没有找到可以给您回电话的干部"):
        asks(world, household_id=world.household("东沟村"))
    with session_scope() as s:
        assert s.scalars(select(CallbackRequest)).all() == []


def test_asking_again_returns_the_first_promise_and_no_second_request(world: World) -> None:
    household = world.household("东沟村")
    first = asks(world, household_id=household, said="第一次")
    world.clock.advance(hours=3)
    again = asks(world, household_id=household, said="怎么还没人打电话")
    assert again.already and not first.already
    assert (again.request_id, again.cadre_name, again.due_at) == (
        first.request_id, first.cadre_name, first.due_at)
    with session_scope() as s:
        assert len(s.scalars(select(CallbackRequest)).all()) == 1
    assert record(first.request_id).said == "第一次"
    other = asks(world, household_id=household, openid="o_spouse")  # another member: their own
    assert not other.already and other.request_id != first.request_id
    closes(world, first.request_id, world.cadre("village_cadre", "东沟村"))
    after = asks(world, household_id=household)  # once called back, a new request is new
    assert not after.already and after.request_id not in (first.request_id, other.request_id)


def test_what_the_farmer_said_is_bounded_and_not_in_the_audit(world: World) -> None:
    promise = asks(world, household_id=world.household("东沟村"), said="家里有事" * 200)
    assert len(record(promise.request_id).said) == callbacks.SAID_MAX
    with session_scope() as s:
        payloads = [e.payload for e in s.scalars(select(AuditEntry))]
    assert payloads and not any("家里有事" in str(p) for p in payloads)


def test_the_deadline_skips_the_weekend_and_a_holiday(world: World) -> None:
    world.clock.current = dt.datetime(2026, 11, 6, 16, 0, tzinfo=LOCAL)  # a Friday afternoon
    promise = asks(world, household_id=world.household("东沟村"))
    assert last_day(promise.due_at) == dt.date(2026, 11, 9)  # Monday
    assert promise.due_at == dt.datetime(2026, 11, 10, tzinfo=LOCAL)  # the end of that day
    holiday = WorkCalendar.of(holidays=[dt.date(2026, 11, 9)])
    later = asks(world, household_id=world.household("东沟村", 1), openid="o_other",
                 calendar=holiday, working_days=2)
    assert last_day(later.due_at) == dt.date(2026, 11, 11)  # Tue 10th, Wed 11th


def test_done_once_by_the_cadre_who_must_call(world: World) -> None:
    household = world.household("东沟村")
    pair(world, household, cadre_id("杨帮扶"))
    promise = asks(world, household_id=household)
    helper = world.cadre("helper", "东沟村")
    assert helper.name == "杨帮扶"
    world.clock.advance(hours=2)
    row = closes(world, promise.request_id, helper, note="  已电话说明低保申请流程  ")
    assert (row.status, row.done_by, row.done_by_name, row.done_at, row.note) == (
        CallbackStatus.DONE, helper.id, "杨帮扶", world.clock.now(), "已电话说明低保申请流程")
    with pytest.raises(AlreadyDecided, match="已由杨帮扶于11月2日11:00标记为已回电"):
        closes(world, promise.request_id, world.cadre("village_cadre", "东沟村"))
    assert record(promise.request_id).done_by == helper.id


def test_a_village_cadre_of_the_village_may_close_it_nobody_else(world: World) -> None:
    household = world.household("东沟村")
    pair(world, household, cadre_id("杨帮扶"))
    promise = asks(world, household_id=household)
    for outsider in (world.cadre("village_cadre", "西坡村"),  # another village
                     world.cadre("helper", "西坡村")):
        with pytest.raises(NotAllowed, match="不在您的管辖范围内"):
            closes(world, promise.request_id, outsider)
    with session_scope() as s:
        other_helper = Actor.load(s, cadre_id("黄联络"))  # same village, not the one asked
        auditor = Actor.load(s, cadre_id("王审核"))  # the township: not a caller
    for outsider in (other_helper, auditor):
        with pytest.raises(NotAllowed):
            closes(world, promise.request_id, outsider)
    with pytest.raises(Refused, match="备注请不超过200字"):
        closes(world, promise.request_id, world.cadre("village_cadre", "东沟村"), note="长" * 201)
    row = closes(world, promise.request_id, world.cadre("village_cadre", "东沟村"))
    assert row.done_by_name == "刘书记" and row.note is None


def test_two_messages_racing_make_one_request(world: World) -> None:
    """The second waits for the first's transaction and gets its promise: the open request's
    unique index, not a read before the write, keeps one."""
    household = world.household("东沟村")
    database = world.services.database
    with database.session_scope() as first:
        mine = callbacks.request(
            first, household_id=household, village_id=None, openid="o_farmer", said="一",
            now=world.clock.now(), calendar=world.services.calendar, working_days=1,
            role_labels=labels(world))
        with ThreadPoolExecutor(1) as pool:
            racing = pool.submit(asks, world, household_id=household, said="二")
            time.sleep(0.3)  # the second is waiting on the first's write
            assert not racing.done()
            first.commit()
            theirs = racing.result(timeout=30)
    assert theirs.already and theirs.request_id == mine.request_id
    with session_scope() as s:
        assert len(s.scalars(select(CallbackRequest)).all()) == 1


def test_the_village_cadre_holds_it_once_the_paired_cadre_leaves(world: World) -> None:
    household = world.household("东沟村")
    pair(world, household, cadre_id("杨帮扶"))
    promise = asks(world, household_id=household)
    liu = world.cadre("village_cadre", "东沟村")

    def cards(actor: Actor) -> list[int]:
        with session_scope() as s:
            return [c.id for c in callbacks.open_for(
                s, actor, world.clock.now(), world.services.calendar,
                personal_data_roles=world.config.workbench.personal_data_roles)]

    assert cards(liu) == [] and cards(world.cadre("helper", "东沟村")) == [promise.request_id]
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre_id("杨帮扶")).values(active=False))
    assert cards(liu) == [promise.request_id]
    assert cards(world.cadre("village_cadre", "西坡村")) == []
