"""One due date everywhere: the chat, the inbox, the case page and the reminder say the same
day for the same task (the deadline's last day; its `due_at` is the midnight after it)."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select, update

from approvals.record.calendar import LOCAL
from approvals.record.models import Cadre, Case
from fangfan.app import create_app
from fangfan.services import Services
from notifications import reminders
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.bot.sender import WeChatSender
from tests.db import session_scope
from tests.support.web import Desk, cadre_id
from tests.support.world import World, roster_head


def test_the_chat_the_inbox_the_case_page_and_the_reminder_say_the_same_day(
        farmer: WeChatSender, world: World, services: Services) -> None:
    name, id_number, household_id = roster_head(index=3)
    for said in ("申请", f"{name} {id_number}", "孩子上大学学费交不起", "两万", "同意"):
        farmer.say(said)
    with session_scope() as s:
        case_id = s.scalars(select(Case.id).where(Case.household_id == household_id)).one()
    world.advance(case_id)
    task = world.open_task(case_id)
    # applied Monday 2 Nov: 入户核实 has 3 working days, to the end of Thursday 5 Nov
    assert task.due_at.astimezone(LOCAL) == dt.datetime(2026, 11, 6, tzinfo=LOCAL)
    day = "11月5日"

    chat = farmer.say("进度")
    assert f"预计{day}前完成" in chat
    assert "全部办完预计在11月17日前" in chat  # the total clock: 15 calendar days

    desk = Desk(create_app(services).test_client()).signs_in(cadre_id("刘书记"))
    inbox = desk.get("/inbox").text
    assert re.search(rf'data-task="{task.id}">.*?<span class="ok">{day}前</span>', inbox,
                     re.S)
    page = desk.get(f"/c/{case_id}").text
    assert f"{day}前 · 剩3个工作日" in page

    with session_scope() as s:
        s.execute(update(Cadre).where(Cadre.id == cadre_id("刘书记")).values(openid="o_liu"))
    world.clock.current = dt.datetime(2026, 11, 4, 8, 30, tzinfo=LOCAL)  # one working day before
    with session_scope() as s:
        reminders.sweep(s, world.clock.now(), services.calendar,
                        reminders.Rules(due_soon_working_days=1, escalate_after_working_days=2))
        digest = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == f"cadre:{cadre_id('刘书记')}",
            OutboxMessage.event == "cadre_digest")).one()
    text = render(digest.event, digest.params, "https://ff.example.cn").text
    assert f"入户核实（申请{world.case(case_id).number}，{day}到期）" in text
    world.clock.current = dt.datetime(2026, 11, 4, 9, 0, tzinfo=LOCAL)
    assert f"{day}前 · 剩1个工作日" in desk.get("/inbox").text  # the same day, nearer
    assert f"{day}前 · 剩1个工作日" in desk.get(f"/c/{case_id}").text
    assert f"预计{day}前完成" in farmer.say("进度")
