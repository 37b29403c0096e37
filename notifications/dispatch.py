"""The dispatcher: delivers due outbox rows, retries with backoff, gives up into `dead`.

A row is claimed (pending → sending, with the time) in its own short transaction before
the call and marked sent after it, so two dispatchers never send the same row. A dispatcher
killed during a send leaves its row `sending`; the next run finds the stale claim and marks
it `uncertain` rather than sending it again: a message never arrives twice, and the few
that may not have arrived are listed for a person to check. Farmers' messages wait through
the quiet hours; cadres' do not.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import select, update

from approvals.record.calendar import LOCAL, Clock
from approvals.record.db import Database
from notifications.channels import Channel, DeliveryFailed
from notifications.models import Audience, OutboxMessage, OutboxStatus
from notifications.wording import UNSAID, Local, render

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
BACKOFF = dt.timedelta(seconds=30)  # 30 s, 1 min, 2 min, 4 min, 8 min


@dataclass
class Dispatched:
    sent: int = 0
    retried: int = 0
    dead: int = 0


STALE = dt.timedelta(minutes=2)  # a send takes seconds; a claim this old died with its process


def in_quiet_hours(moment: dt.datetime, quiet: tuple[dt.time, dt.time] | None) -> bool:
    if quiet is None:
        return False
    start, end = quiet
    local = moment.astimezone(LOCAL).time()
    return (start <= local or local < end) if start > end else start <= local < end


def held_until(moment: dt.datetime, quiet: tuple[dt.time, dt.time] | None
               ) -> dt.datetime | None:
    """When a farmer's message due at `moment` may go if the quiet hours hold it: the end
    of those quiet hours (Beijing time, the next morning for an evening), else None. What
    the simulator and `fangfan outbox` tell people, so that a held message says why it
    waits and until when."""
    if quiet is None or not in_quiet_hours(moment, quiet):
        return None
    local = moment.astimezone(LOCAL)
    until = dt.datetime.combine(local.date(), quiet[1], tzinfo=LOCAL)
    # before midnight in quiet hours that span it, the end is tomorrow's
    return until if until > local else until + dt.timedelta(days=1)


def dispatch(database: Database, channels: Mapping[Audience, Channel], clock: Clock, *,
             quiet: tuple[dt.time, dt.time] | None = None, base_url: str = "",
             local: Local = UNSAID, limit: int = 100, parallel: int = 8) -> Dispatched:
    """Deliver what is due: `parallel` recipients at a time, each one's messages in order.
    Each send claims its row just before it goes, so a crash leaves at most the messages in
    flight uncertain. Farmers' messages wait through the quiet hours."""
    now = clock.now()
    with database.session_scope() as s:
        # claimed by a dispatcher that died mid-send: it may have gone out, so it never
        # goes again; it is shown to supervisors as uncertain instead
        s.execute(update(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - STALE)
            .values(status=OutboxStatus.UNCERTAIN,
                    last_error="发送过程中服务中断，无法确认是否送达"))
        query = select(OutboxMessage.id, OutboxMessage.recipient).where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now).order_by(OutboxMessage.id).limit(limit)
        if in_quiet_hours(now, quiet):
            query = query.where(OutboxMessage.audience != Audience.FARMER)
        by_recipient: dict[str, list[int]] = defaultdict(list)
        for message_id, recipient in s.execute(query):
            by_recipient[recipient].append(message_id)
    result = Dispatched()

    def in_order(ids: list[int]) -> list[str | None]:
        """One person's messages go one after another, in the order they were written."""
        outcomes = []
        for message_id in ids:
            outcomes.append(_send(database, message_id, channels, clock, base_url, local))
            if outcomes[-1] in ("retried", "dead"):
                break  # the rest wait, so that they do not overtake it
        return outcomes

    with ThreadPoolExecutor(max(1, parallel)) as pool:
        for outcomes in pool.map(in_order, by_recipient.values()):
            for outcome in filter(None, outcomes):
                setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _send(database: Database, message_id: int, channels: Mapping[Audience, Channel],
          clock: Clock, base_url: str, local: Local) -> str | None:
    """Claim one row, deliver it, record how it went: "sent", "retried", "dead" or None."""
    with database.session_scope() as s:  # claim and read in one statement
        message = s.execute(update(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.SENDING, claimed_at=clock.now())
            .returning(OutboxMessage.key, OutboxMessage.event, OutboxMessage.params,
                       OutboxMessage.audience, OutboxMessage.recipient,
                       OutboxMessage.attempts)).one_or_none()
    if message is None:
        return None  # another dispatcher has it
    changes: dict[str, object]
    try:
        rendered = render(message.event, message.params, base_url, local)
        how = channels[Audience(message.audience)].deliver(message.recipient, rendered)
        changes, outcome = {"status": OutboxStatus.SENT, "channel": how,
                            "sent_at": clock.now()}, "sent"
    except DeliveryFailed as err:
        attempts = message.attempts + 1
        dead = attempts >= MAX_ATTEMPTS
        changes = {"status": OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
                   "attempts": attempts, "last_error": str(err)[:500],
                   "next_attempt_at": clock.now() + BACKOFF * 2 ** (attempts - 1)}
        outcome = "dead" if dead else "retried"
        # the row's id, not its key: a key ends with the recipient's openid
        log.warning("消息（编号%s）第%s次发送失败%s：%s", message_id, attempts,
                    "，不再发送" if dead else "，稍后重试", err)
    except Exception as err:  # a bug, not the network: keep it visible, do not retry
        log.exception("消息（编号%s）发送时程序出错，不再发送。", message_id)
        changes = {"status": OutboxStatus.DEAD, "attempts": message.attempts + 1,
                   "last_error": f"{type(err).__name__}: {err}"[:500]}
        outcome = "dead"
    with database.session_scope() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(**changes))
    return outcome
