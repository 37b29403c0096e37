"""Questions (帮助, 政策, 进度) are answered from reads alone; their records, which open the
48 hours for customer-service messages, are written behind (bot/inbound_log.py)."""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import create_engine, select

from bot.inbound_log import InboundLog
from bot.models import InboundMessage
from fangfan.services import Services
from tests.bot.sender import WeChatSender
from tests.db import session_scope


def records(openid: str) -> list[tuple[str, str | None]]:
    with session_scope() as s:
        return list(s.execute(select(InboundMessage.key, InboundMessage.reply)
                              .where(InboundMessage.openid == openid)).tuples())


def test_a_question_is_recorded_within_seconds_without_anyone_flushing(
        farmer: WeChatSender) -> None:
    assert "申请" in farmer.say("帮助")
    deadline = time.monotonic() + 10
    while not records(farmer.openid) and time.monotonic() < deadline:
        time.sleep(0.1)
    [(key, reply)] = records(farmer.openid)
    assert key.startswith("msg:") and "申请" in (reply or "")


def test_a_retried_question_is_answered_again_and_recorded_once(
        farmer: WeChatSender, services: Services) -> None:
    question = farmer.text_xml("进度", msg_id=770001)
    first = farmer.post(question)
    services.inbound_log().flush()
    again = farmer.post(question)  # WeChat did not get the answer in time and retries
    assert "还没有查到" in first.text and again.text == first.text
    services.inbound_log().flush()
    assert len(records(farmer.openid)) == 1


def test_records_wait_while_the_database_is_unreachable(services: Services,
                                                        tmp_path: Path) -> None:
    folder = tmp_path / "later"
    engine = create_engine(f"sqlite:///{folder / 'fangfan.db'}")  # no such folder yet
    log = InboundLog(engine, every_s=3600)
    log.add("msg:1", "o_waiting", services.clock.now(), "好的")
    assert log.flush() == 0  # logged, and kept
    folder.mkdir()
    InboundMessage.__table__.create(engine)  # the database is back
    assert log.flush() == 1
    log.close()
    with engine.connect() as conn:
        assert conn.execute(select(InboundMessage.key, InboundMessage.openid)).all() == [
            ("msg:1", "o_waiting")]
    engine.dispose()
