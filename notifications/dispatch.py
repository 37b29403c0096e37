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
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select, update

from approvals.calendar import LOCAL, Clock
from approvals.db import session_scope
from notifications.channels import Channel, DeliveryFailed
from notifications.models import Audience, OutboxMessage, OutboxStatus
from notifications.wording import render

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


def dispatch(channels: Mapping[Audience, Channel], clock: Clock, *,
             quiet: tuple[dt.time, dt.time] | None = None, base_url: str = "",
             limit: int = 100) -> Dispatched:
    """Deliver what is due. Farmers' messages wait through the quiet hours."""
    result = Dispatched()
    now = clock.now()
    with session_scope() as s:
        # claimed by a dispatcher that died mid-send: it may have gone out, so it never
        # goes again; it is shown to supervisors as uncertain instead
        s.execute(update(OutboxMessage).where(
            OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_at < now - STALE)
            .values(status=OutboxStatus.UNCERTAIN,
                    last_error="发送过程中服务中断，无法确认是否送达"))
        query = select(OutboxMessage.id).where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= now).order_by(OutboxMessage.id).limit(limit)
        if in_quiet_hours(now, quiet):
            query = query.where(OutboxMessage.audience != Audience.FARMER)
        due = list(s.scalars(query))
    for message_id in due:
        with session_scope() as s:
            claimed = s.execute(update(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING, claimed_at=clock.now())).rowcount
            message = s.get(OutboxMessage, message_id) if claimed else None
            if message is not None:
                s.expunge(message)
        if message is None:
            continue  # another dispatcher has it
        changes: dict[str, object]
        try:
            channel = channels[Audience(message.audience)]
            rendered = render(message.event, message.params, base_url)
            how = channel.deliver(message.recipient, rendered)
            changes = {"status": OutboxStatus.SENT, "channel": how, "sent_at": clock.now()}
            result.sent += 1
        except DeliveryFailed as err:
            attempts = message.attempts + 1
            dead = attempts >= MAX_ATTEMPTS
            changes = {"status": OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
                       "attempts": attempts, "last_error": str(err)[:500],
                       "next_attempt_at": clock.now() + BACKOFF * 2 ** (attempts - 1)}
            log.warning("outbox %s: %s (attempt %s)", message.key, err, attempts)
            if dead:
                result.dead += 1
            else:
                result.retried += 1
        except Exception as err:  # a bug, not the network: keep it visible, do not retry
            log.exception("outbox %s failed", message.key)
            changes = {"status": OutboxStatus.DEAD, "attempts": message.attempts + 1,
                       "last_error": f"{type(err).__name__}: {err}"[:500]}
            result.dead += 1
        with session_scope() as s:
            s.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                      .values(**changes))
    return result
