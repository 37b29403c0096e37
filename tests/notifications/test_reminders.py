"""Reminders arrive once, on time, to the right person: new tasks, due soon, overdue once a
working day, escalation, one digest per cadre per day, quiet hours for farmers, and a
dispatcher killed mid-send never sends a message twice."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from approvals.assistance import handover
from approvals.procedure.permissions import Actor
from approvals.record.calendar import LOCAL, local_date
from approvals.record.models import Cadre, Household, IncomeRecord, Member, Place, Source
from fangfan.config import WeComConf
from fangfan.services import Services
from fangfan.settings import ROOT
from notifications import outbox, reminders
from notifications.dispatch import dispatch
from notifications.models import Audience, OutboxMessage, OutboxStatus
from notifications.wording import render
from tests.bot.fake_api import FakeWeChatApi
from tests.db import session_scope
from tests.support.world import World

RULES = reminders.Rules(due_soon_working_days=1, escalate_after_working_days=2)


def bind(role: str, place: str, openid: str) -> int:
    with session_scope() as s:
        cadre_id = s.scalar(select(Cadre.id).join(Place).where(Cadre.role == role,
                                                                  Place.name == place))
        s.execute(update(Cadre).where(Cadre.id == cadre_id).values(openid=openid))
        return cadre_id


def to(recipient: str, event: str | None = None) -> list[OutboxMessage]:
    with session_scope() as s:
        q = select(OutboxMessage).where(OutboxMessage.recipient == recipient)
        if event:
            q = q.where(OutboxMessage.event == event)
        return list(s.scalars(q.order_by(OutboxMessage.id)))


def sweep_at(world: World, day: dt.date, hour: int = 8, minute: int = 30) -> int:
    world.clock.current = dt.datetime.combine(day, dt.time(hour, minute), LOCAL)
    with session_scope() as s:
        return reminders.sweep(s, world.clock.now(), world.services.calendar, RULES)


def test_a_new_task_is_told_at_once_to_the_cadre_who_holds_it(world: World) -> None:
    cadre = bind("village_cadre", "东沟村", "o_cadre_dg")
    case_id = world.apply(world.household("东沟村"))
    world.apply(world.household("西坡村"))  # another village's task: not for this cadre
    [message] = to(f"cadre:{cadre}")
    assert message.audience == Audience.CADRE and message.event == "task_new"
    text = render(message.event, message.params, "https://ff.example.cn").text
    assert "入户核实" in text and "东沟村" in text
    assert f"https://ff.example.cn/t/{world.open_task(case_id).id}" in text
    world.advance(case_id)  # the pass again: nothing new
    assert len(to(f"cadre:{cadre}")) == 1


def test_due_soon_overdue_each_working_day_and_one_escalation(world: World) -> None:
    cadre = bind("village_cadre", "东沟村", "o_cadre_dg")
    supervisor = bind("supervisor", "示范县", "o_supervisor")
    world.apply(world.household("东沟村"))  # Monday 2 Nov: 入户核实, 3 working days, to Thu 5th
    day = dt.date(2026, 11, 2)
    while day <= dt.date(2026, 11, 10):
        sweep_at(world, day)
        sweep_at(world, day, 15)  # a second sweep the same day adds nothing
        day += dt.timedelta(days=1)
    got: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for who in (cadre, supervisor):
        for m in to(f"cadre:{who}", "cadre_digest"):
            sent_on = local_date(m.created_at).isoformat()
            got[who] += [(sent_on, i["kind"], i["late"]) for i in m.params["items"]]
    assert got[cadre] == [
        ("2026-11-04", "due_soon", 0),  # one working day before the last day
        ("2026-11-06", "overdue", 1),
        # Saturday and Sunday: nothing
        ("2026-11-09", "overdue", 2),
        ("2026-11-10", "overdue", 3),
    ]
    assert got[supervisor] == [("2026-11-09", "escalation", 2)]


def test_many_items_for_one_cadre_go_as_one_digest(world: World) -> None:
    cadre = bind("village_cadre", "东沟村", "o_cadre_dg")
    for index in range(3):
        world.apply(world.household("东沟村", index))
    assert sweep_at(world, dt.date(2026, 11, 4)) == 1
    [digest] = to(f"cadre:{cadre}", "cadre_digest")
    assert len(digest.params["items"]) == 3
    text = render(digest.event, digest.params, "https://ff.example.cn").text
    assert "今天有3件待办" in text and text.count("https://ff.example.cn/t/") == 3


def test_a_stand_in_hears_of_the_tasks_of_whom_they_stand_in_for(world: World) -> None:
    liu = bind("village_cadre", "东沟村", "o_cadre_dg")
    chen = bind("village_cadre", "西坡村", "o_cadre_xp")
    world.apply(world.household("东沟村"))  # due Thu 5 Nov: due soon on Wed 4th
    with session_scope() as s:
        handover.name_stand_in(s, Actor.load(s, liu), chen, starts_on=dt.date(2026, 11, 4),
                               ends_on=dt.date(2026, 11, 4), reason="外出学习",
                               now=world.clock.now())
    sweep_at(world, dt.date(2026, 11, 4))
    [digest] = to(f"cadre:{chen}", "cadre_digest")
    assert [i["place"] for i in digest.params["items"]] == ["东沟村（代刘书记）"]
    sweep_at(world, dt.date(2026, 11, 6))  # the stand-in is over: overdue goes to 刘书记 only
    assert len(to(f"cadre:{chen}", "cadre_digest")) == 1
    assert len(to(f"cadre:{liu}", "cadre_digest")) == 2


def test_no_digest_on_a_public_holiday(world: World) -> None:
    cadre = bind("village_cadre", "东沟村", "o_cadre_dg")
    world.apply(world.household("东沟村"))
    assert sweep_at(world, dt.date(2026, 11, 7)) == 0  # a Saturday
    assert to(f"cadre:{cadre}", "cadre_digest") == []


def test_quiet_hours_hold_farmers_until_morning_not_cadres(
        world: World, services: Services, fake_api: FakeWeChatApi) -> None:
    cadre = bind("village_cadre", "东沟村", "o_cadre")
    world.clock.current = dt.datetime(2026, 11, 3, 23, 0, tzinfo=LOCAL)
    with session_scope() as s:
        outbox.enqueue(s.connection(), [
            {"key": "f1", "recipient": "o_farmer", "event": "case_rejected",
             "params": {"number": "2026000001", "reason": "不符合条件"}},
            {"key": "c1", "recipient": f"cadre:{cadre}", "event": "cadre_digest",
             "audience": Audience.CADRE, "params": {"name": "王书记", "items": []}}],
            world.clock.now())
    quiet = services.quiet_hours()
    assert dispatch(services.database, services.channels(), world.clock, quiet=quiet).sent == 1
    assert [t["touser"] for t in fake_api.templates] == ["o_cadre"]
    world.clock.current = dt.datetime(2026, 11, 4, 6, 59, tzinfo=LOCAL)
    assert dispatch(services.database, services.channels(), world.clock, quiet=quiet).sent == 0
    world.clock.current = dt.datetime(2026, 11, 4, 7, 0, tzinfo=LOCAL)
    assert dispatch(services.database, services.channels(), world.clock, quiet=quiet).sent == 1
    assert [t["touser"] for t in fake_api.templates] == ["o_cadre", "o_farmer"]


DISPATCHER = """
from fangfan.services import build
from notifications.dispatch import dispatch
services = build()
print(dispatch(services.database, services.channels(), services.clock, parallel=1),
      flush=True)  # one in flight
"""


@pytest.mark.slow
def test_a_dispatcher_killed_mid_send_never_sends_twice_and_loses_nothing_else(
        world: World, services: Services, fake_api: FakeWeChatApi, database_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    with session_scope() as s:
        outbox.enqueue(s.connection(), [
            {"key": f"k{i}", "recipient": f"o_farmer_{i}", "event": "case_rejected",
             "params": {"number": f"202600000{i}", "reason": "不符合条件"}}
            for i in range(4)], now - dt.timedelta(minutes=1))
    fake_api.hold_from = 2  # the second message reaches WeChat, its answer never returns
    env = dict(os.environ, FANGFAN_DATABASE_URL=database_url,
               FANGFAN_WECHAT_API_BASE_URL=services.config.wechat.api_base_url)
    proc = subprocess.Popen([sys.executable, "-c", DISPATCHER], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(fake_api.templates) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fake_api.templates) == 2, proc.stderr.read() if proc.poll() is not None else ""
    os.kill(proc.pid, signal.SIGKILL)  # kill -9, waiting for WeChat's answer
    proc.wait(10)
    fake_api.release.set()
    fake_api.hold_from = None

    world.clock.current = now + dt.timedelta(minutes=5)  # the restarted dispatcher, later
    result = dispatch(services.database, services.channels(), world.clock)
    assert result.sent == 2  # the two never tried
    sent_to = [t["touser"] for t in fake_api.templates]
    assert sorted(sent_to) == ["o_farmer_0", "o_farmer_1", "o_farmer_2", "o_farmer_3"]  # once
    with session_scope() as s:
        states = dict(s.execute(select(OutboxMessage.recipient, OutboxMessage.status)).all())
    assert states["o_farmer_1"] == OutboxStatus.UNCERTAIN  # shown, not resent
    assert [states[f"o_farmer_{i}"] for i in (0, 2, 3)] == [OutboxStatus.SENT] * 3
    assert dispatch(services.database, services.channels(), world.clock).sent == 0


def test_a_household_on_wechat_hears_of_a_case_a_cadre_filed_for_it(world: World) -> None:
    filed_for, applied = world.household("东沟村", 0), world.household("东沟村", 1)
    with session_scope() as s:
        for household_id, openid in ((filed_for, "o_hh_filed"), (applied, "o_hh_applied")):
            s.execute(update(Member).where(Member.household_id == household_id,
                                           Member.is_head).values(openid=openid))
    world.apply(filed_for, source=Source.CADRE_VISIT, filed_by="王书记")
    world.apply(applied, source=Source.WECHAT)  # the bot's reply told them already
    [received] = to("o_hh_filed")
    assert received.event == "case_received"
    assert "已为您家登记" in render(received.event, received.params).text
    assert to("o_hh_applied") == []


def with_wecom(services: Services, fake_api: FakeWeChatApi) -> None:
    work = WeComConf(corp_id=fake_api.corp_id, agent_id=1000002, secret=fake_api.corp_secret,
                     api_base_url=services.config.wechat.api_base_url)
    wechat = services.config.wechat.model_copy(update={"work": work})
    services.config = services.config.model_copy(update={"wechat": wechat})


def test_cadres_on_wecom_get_a_card_and_fall_back_to_wechat(
        world: World, services: Services, fake_api: FakeWeChatApi) -> None:
    with_wecom(services, fake_api)
    cadre = bind("village_cadre", "东沟村", "o_cadre_dg")
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre).values(
            wecom_userid="wangshuji", channel="wecom"))
    case_id = world.apply(world.household("东沟村"))
    base = "https://ff.example.cn"
    assert dispatch(services.database, services.channels(), world.clock, base_url=base).sent == 1
    [card] = fake_api.cards
    assert card["touser"] == "wangshuji" and card["agentid"] == 1000002
    assert card["textcard"]["url"] == f"{base}/t/{world.open_task(case_id).id}"
    assert "入户核实" in card["textcard"]["description"] and fake_api.templates == []

    fake_api.wecom_down = True  # WeCom fails: the same cadre gets it on WeChat instead
    world.apply(world.household("东沟村", 1))
    assert dispatch(services.database, services.channels(), world.clock, base_url=base).sent == 1
    assert len(fake_api.cards) == 1 and fake_api.templates[0]["touser"] == "o_cadre_dg"
    assert to(f"cadre:{cadre}")[-1].channel == "template"


def test_a_cadre_with_no_way_to_reach_is_a_visible_failure(
        world: World, services: Services, fake_api: FakeWeChatApi) -> None:
    with session_scope() as s:
        cadre = s.scalar(select(Cadre.id).where(Cadre.role == "village_cadre"))
        outbox.enqueue(s.connection(), [{"key": "x", "recipient": f"cadre:{cadre}",
                                         "event": "cadre_digest", "audience": Audience.CADRE,
                                         "params": {"name": "某", "items": []}}],
                       world.clock.now())
    assert dispatch(services.database, services.channels(), world.clock).retried == 1
    [message] = to(f"cadre:{cadre}")
    assert "没有绑定微信或企业微信" in message.last_error


def revisits_for(cadre: int) -> list[tuple[str, str]]:
    return [(local_date(m.created_at).isoformat(), i["head"])
            for m in to(f"cadre:{cadre}", "cadre_digest")
            for i in m.params["items"] if i["kind"] == "revisit"]


def test_revisits_of_paired_households_on_their_cadence(world: World) -> None:
    household = world.household("东沟村")
    case_id = world.apply(household)  # 突发严重困难户: a key household, revisited monthly
    world.approve_through(case_id, None)
    helper = world.cadre("helper").id  # the county paired this cadre with the household
    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == helper).values(openid="o_helper"))
        since = s.get(Household, household).monitored_since
        head = s.scalar(select(Member.name).where(Member.household_id == household,
                                                  Member.is_head))
    day = since + dt.timedelta(days=1)
    while day <= since + dt.timedelta(days=45):
        sweep_at(world, day)
        if day == since + dt.timedelta(days=37):  # the cadre visits and records it
            with session_scope() as s:
                s.add(IncomeRecord(household_id=household, recorded_on=day,
                                   per_capita_net=Decimal("9100")))
        day += dt.timedelta(days=1)
    due = since + dt.timedelta(days=30)
    while not world.services.calendar.is_workday(due):
        due += dt.timedelta(days=1)
    reminded = [d for d, who in revisits_for(helper) if who == head]
    assert reminded[0] == due.isoformat()  # on the day it is due...
    assert len(reminded) == 2  # ...and once more 5 working days later, then it was done
    assert reminded[1] > due.isoformat()
    text = render("cadre_digest", to(f"cadre:{helper}", "cadre_digest")[0].params,
                  "https://ff.example.cn").text
    assert "定期回访" in text and f"https://ff.example.cn/h/{household}" in text


def test_the_total_clock_reminds_and_escalates_like_a_stage(world: World) -> None:
    cadre = bind("village_cadre", "东沟村", "o_cadre_dg")
    supervisor = bind("supervisor", "示范县", "o_supervisor")
    case_id = world.apply(world.household("东沟村"))  # Monday 2 Nov; 15 days: to Tue 17th
    world.clock.advance(days=3)
    world.decides(case_id, world.approver(case_id))  # on time: 村民主评议 is open now...
    day = dt.date(2026, 11, 2)
    while day <= dt.date(2026, 11, 20):  # ...and stays open past the total clock
        sweep_at(world, day)
        day += dt.timedelta(days=1)
    total: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for who in (cadre, supervisor):
        for m in to(f"cadre:{who}", "cadre_digest"):
            total[who] += [(local_date(m.created_at).isoformat(), i["kind"], i["late"])
                           for i in m.params["items"] if i["stage"] == "识别纳入总期限"]
    assert total[cadre] == [
        ("2026-11-16", "due_soon", 0),  # one working day before the 17th
        ("2026-11-18", "overdue", 1),
        ("2026-11-19", "overdue", 2),
        ("2026-11-20", "overdue", 3),
    ]
    assert total[supervisor] == [("2026-11-19", "escalation", 2)]
    [late] = [m for m in to(f"cadre:{supervisor}", "cadre_digest")
              if local_date(m.created_at) == dt.date(2026, 11, 19)]
    text = render(late.event, late.params, "https://ff.example.cn").text
    assert (f"【督办2个工作日】东沟村 {late.params['items'][-1]['head']} 识别纳入总期限"
            f"（申请{world.case(case_id).number}，11月17日到期）") in text
