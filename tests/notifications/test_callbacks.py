"""转人工 as the cadre hears it: a message at once, in the chat turn's transaction (who asked,
the village, the phone as their role may see it, the link; never what the farmer said), the
call-back in the daily digest while it is due soon or late, and what the farmer is told."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from approvals.assistance import handover
from approvals.procedure import callbacks
from approvals.procedure.callbacks import Promise
from approvals.procedure.permissions import Actor
from approvals.record.calendar import LOCAL
from approvals.record.models import Cadre, Member, Pairing, Place
from bot import wording
from bot.conversation import Context
from bot.handoff import ask
from notifications.models import Audience
from notifications.wording import render
from tests.db import session_scope
from tests.notifications.test_reminders import bind, sweep_at, to
from tests.support.web import cadre_id
from tests.support.world import World

SAID = "我家老伴住院了想找干部问问"


def asks(world: World, *, household_id: int | None = None, village_id: int | None = None,
         openid: str = "o_farmer", phone: str | None = None) -> Promise:
    """The chat's turn: one transaction, as the webhook runs a step."""
    services = world.services
    with Context(services.config, services.calendar, world.clock.now(),
                 services.database.transaction_scope) as ctx:
        return ask(ctx, household_id=household_id, village_id=village_id, openid=openid,
                   said=SAID, phone=phone)


def head(household_id: int) -> Member:
    with session_scope() as s:
        return s.scalars(select(Member).where(Member.household_id == household_id,
                                              Member.is_head)).one()


def pair(world: World, household_id: int, cadre: int) -> None:
    with session_scope() as s:
        s.add(Pairing(household_id=household_id, cadre_id=cadre,
                      started_on=world.clock.now().date() - dt.timedelta(days=30)))


def test_the_paired_cadre_is_told_at_once_with_the_phone_and_the_link(world: World) -> None:
    household = world.household("东沟村")
    helper = bind("helper", "东沟村", "o_helper")  # 杨帮扶, a personal-data role
    pair(world, household, helper)
    farmer = head(household)
    promise = asks(world, household_id=household)
    [message] = to(f"cadre:{helper}")
    assert message.event == "callback_new" and message.audience == Audience.CADRE
    assert SAID not in str(message.params)  # what the farmer said stays on the page
    shown = render(message.event, message.params, "https://ff.example.cn")
    assert shown.text == (
        f"杨帮扶，东沟村 {farmer.name}，电话 {farmer.phone}，在微信中请求干部回电话。"
        "请在11月3日前回电，回电后在待办里点「已回电」。\n"
        f"处理：https://ff.example.cn/cb/{promise.request_id}")
    assert shown.url == f"https://ff.example.cn/cb/{promise.request_id}"
    asks(world, household_id=household)  # asking again: no second message
    assert len(to(f"cadre:{helper}")) == 1


def test_a_cadre_outside_the_personal_data_roles_sees_the_phone_masked(world: World) -> None:
    household = world.household("东沟村")
    helper = bind("helper", "东沟村", "o_helper")
    with session_scope() as s:  # a township cadre paired with the household
        s.execute(update(Cadre).where(Cadre.id == helper).values(role="township_cadre"))
    pair(world, household, helper)
    phone = head(household).phone
    assert phone
    asks(world, household_id=household)
    [message] = to(f"cadre:{helper}")
    text = render(message.event, message.params).text
    assert phone not in text and f"{phone[:3]}****{phone[-4:]}" in text


def test_a_farmer_not_in_the_roster_and_a_cadre_not_on_wechat(world: World) -> None:
    with session_scope() as s:
        village = s.scalars(select(Place.id).where(Place.name == "西坡村")).one()
    asks(world, village_id=village, phone="13912345678")  # 陈书记, not bound: no message
    assert to(f"cadre:{cadre_id('陈书记')}") == []
    chen = bind("village_cadre", "西坡村", "o_chen")
    asks(world, village_id=village, openid="o_newcomer")
    [message] = to(f"cadre:{chen}")
    text = render(message.event, message.params).text
    assert text.startswith("陈书记，西坡村 未登记农户，未留电话，在微信中请求干部回电话。")


def test_the_digest_carries_it_due_soon_then_late_with_its_link(world: World) -> None:
    cadre = bind("village_cadre", "东沟村", "o_liu")
    promise = asks(world, household_id=world.household("东沟村"))  # Mon 9:00: by Tue
    farmer = head(world.household("东沟村"))
    sweep_at(world, dt.date(2026, 11, 2), 15)  # one working day before the last day
    sweep_at(world, dt.date(2026, 11, 4))  # late by one working day
    digests = to(f"cadre:{cadre}", "cadre_digest")
    assert [(i["kind"], i.get("urgency"), i["late"]) for d in digests
            for i in d.params["items"]] == [("callback", "due_soon", 0),
                                            ("callback", "overdue", 1)]
    soon, late = (render(d.event, d.params, "https://ff.example.cn").text for d in digests)
    link = f"https://ff.example.cn/cb/{promise.request_id}"
    assert f"【回电·即将到期】东沟村 {farmer.name} 请求回电话（11月3日前）" in soon
    assert f"【回电·已超期1个工作日】东沟村 {farmer.name}" in late
    assert link in soon and link in late and "回电1件" in late
    assert SAID not in str([d.params for d in digests])


def test_the_farmer_is_told_who_calls_and_by_when(world: World) -> None:
    household = world.household("东沟村")
    pair(world, household, cadre_id("杨帮扶"))
    world.clock.current = dt.datetime(2026, 11, 6, 10, 0, tzinfo=LOCAL)  # a Friday
    promise = asks(world, household_id=household)
    assert wording.callback_promised(promise, world.config) == (
        "已请您家的帮扶联系人杨帮扶给您回电话，最晚11月9日（周一）下班前。有急事请拨打12317。")
    again = asks(world, household_id=household)
    assert wording.callback_promised(again, world.config).startswith(
        "您之前的请求还在办理，已经请您家的帮扶联系人杨帮扶给您回电话，最晚11月9日（周一）")
    village = asks(world, household_id=world.household("西坡村"), openid="o_other")
    assert wording.callback_promised(village, world.config).startswith(
        "已请村干部/驻村工作队陈书记给您回电话，最晚11月9日（周一）下班前。")


def test_a_stand_in_hears_of_and_sees_the_call_backs_of_whom_they_stand_in_for(
        world: World) -> None:
    liu = bind("village_cadre", "东沟村", "o_liu")
    chen = bind("village_cadre", "西坡村", "o_chen")
    with session_scope() as s:
        handover.name_stand_in(s, Actor.load(s, liu), chen, starts_on=dt.date(2026, 11, 2),
                               ends_on=dt.date(2026, 11, 4), reason="外出学习",
                               now=world.clock.now())
    promise = asks(world, household_id=world.household("东沟村"))
    sweep_at(world, dt.date(2026, 11, 4))
    [digest] = to(f"cadre:{chen}", "cadre_digest")
    [item] = digest.params["items"]
    assert (item["callback_id"], item["place"]) == (promise.request_id, "东沟村（代刘书记）")
    with session_scope() as s:
        stand_in = Actor.signed_in(s, chen, dt.date(2026, 11, 4))
        [card] = callbacks.open_for(s, stand_in, world.clock.now(), world.services.calendar,
                                    personal_data_roles=["village_cadre"])
    assert (card.id, card.for_whom, card.urgency) == (promise.request_id, "刘书记", "overdue")
