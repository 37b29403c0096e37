"""The dispatcher: delivers due outbox rows, retries with backoff, gives up into `dead`.

A row is claimed (pending → sending) in its own short transaction before the call and
marked sent after it, so two dispatchers never send the same row.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update

from approvals.calendar import Clock
from approvals.db import session_scope
from notifications.channels import Channel, DeliveryFailed
from notifications.models import OutboxMessage, OutboxStatus
from notifications.wording import render

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
BACKOFF = dt.timedelta(seconds=30)  # 30 s, 1 min, 2 min, 4 min, 8 min


@dataclass
class Dispatched:
    sent: int = 0
    retried: int = 0
    dead: int = 0


def dispatch(channel: Channel, clock: Clock, limit: int = 100) -> Dispatched:
    result = Dispatched()
    with session_scope() as s:
        due = list(s.scalars(select(OutboxMessage.id).where(
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.next_attempt_at <= clock.now()).order_by(OutboxMessage.id)
            .limit(limit)))
    for message_id in due:
        with session_scope() as s:
            claimed = s.execute(update(OutboxMessage).where(
                OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING)).rowcount
            message = s.get(OutboxMessage, message_id) if claimed else None
            if message is not None:
                s.expunge(message)
        if message is None:
            continue  # another dispatcher has it
        changes: dict[str, object]
        try:
            how = channel.deliver(message.openid, render(message.event, message.params))
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
