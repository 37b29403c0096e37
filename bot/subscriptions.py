"""Users' consents to subscription notifications (订阅通知 of service accounts): recorded from
WeChat's events at the callback, spent and ended by the channel that sends them (bot/push.py).

WeChat's events (the service account guide, "订阅通知的事件推送"):
- subscribe_msg_popup_event: the user answered a popup in an article or page, accept or
  reject for each template offered;
- subscribe_msg_change_event: the user turned a template off in the notification settings
  (only reject is pushed);
- subscribe_msg_sent_event: the result of a notification sent (ErrorCode 0, or 43101 when
  the user refuses it).

A one-time template (一次性订阅) allows one notification per acceptance; a long-term one
(长期订阅, opened by WeChat to public services such as this) many, until turned off. Which
kind a template is comes from config (wechat.subscriptions.*.long_term): the event does not
say. Only the templates config names are kept, so a stranger's events fill no table.

These events are not the user writing to the account: they are not recorded as inbound
messages (which open the 48 hours of customer-service messages, bot/push.py) and have no
reply. A retry (the same CreateTime) or an event older than the one last applied changes
nothing (WeChatSubscription.event_at), so an acceptance is never counted twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import ColumnElement, Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from approvals.record.db import Database
from bot.models import WeChatSubscription
from bot.wechat_adapter import Consent

EVENTS = frozenset({"subscribe_msg_popup_event", "subscribe_msg_change_event",
                    "subscribe_msg_sent_event"})
MAX_REMAINING = 50  # one-time acceptances kept; more than any case sends

TABLE = WeChatSubscription.__table__
_NEW = {d.dialect().name: d.insert(TABLE).on_conflict_do_nothing() for d in (postgresql, sqlite)}


def _of(openid: str, template_id: str) -> ColumnElement[bool]:
    return (TABLE.c.openid == openid) & (TABLE.c.template_id == template_id)


def record(database: Database, openid: str, created: int, consents: tuple[Consent, ...],
           long_term: Mapping[str, bool], now: dt.datetime) -> int:
    """Apply an event's consents to the templates config knows (`long_term`: template id →
    whether it is long-term); how many rows changed."""
    changed = 0
    with database.transaction_scope() as conn:
        for consent in consents:
            if consent.template_id in long_term:
                changed += _apply(conn, openid, created, consent,
                                  long_term[consent.template_id], now)
    return changed


def _apply(conn: Connection, openid: str, created: int, consent: Consent, long_term: bool,
           now: dt.datetime) -> int:
    if consent.status in ("sent", "failed"):
        return 0  # spent when it was sent (`reserve`); a failure on WeChat's side ends nothing
    conn.execute(_NEW[conn.dialect.name], {"openid": openid, "template_id": consent.template_id,
                                           "remaining": 0, "long_term": False, "event_at": 0,
                                           "updated_at": now})
    where = _of(openid, consent.template_id)
    row = conn.execute(select(TABLE.c.remaining, TABLE.c.event_at).where(where)
                       .with_for_update()).one()  # locked: two processes take turns
    if created <= row.event_at:
        return 0  # a retry, or older than the consent last recorded
    if consent.status == "accept":
        values = ({"long_term": True} if long_term
                  else {"remaining": min(row.remaining + 1, MAX_REMAINING)})
    else:  # reject, or refused (43101): nothing until the user accepts again
        values = {"remaining": 0, "long_term": False}
    conn.execute(update(TABLE).where(where).values(**values, event_at=created, updated_at=now))
    return 1


def reserve(database: Database, openid: str, template_id: str, now: dt.datetime
            ) -> str | None:
    """Take the right to send one notification: "long_term", "one_time" (one consent spent
    now, given back by `restore` if the send fails for another reason) or None."""
    where = _of(openid, template_id)
    with database.transaction_scope() as conn:
        if conn.execute(select(TABLE.c.long_term).where(where)).scalar():
            return "long_term"
        spent = conn.execute(update(TABLE).where(where, TABLE.c.remaining > 0)
                             .values(remaining=TABLE.c.remaining - 1, updated_at=now))
        return "one_time" if spent.rowcount else None


def restore(database: Database, openid: str, template_id: str, now: dt.datetime) -> None:
    """Give back a one-time consent whose notification did not go (the network, 47003)."""
    with database.transaction_scope() as conn:
        conn.execute(update(TABLE).where(_of(openid, template_id)).values(
            remaining=TABLE.c.remaining + 1, updated_at=now))


def gone(database: Database, openid: str, template_id: str, now: dt.datetime) -> None:
    """WeChat answered 43101: the user refuses this template; nothing is left of the consent."""
    with database.transaction_scope() as conn:
        conn.execute(update(TABLE).where(_of(openid, template_id))
                     .values(remaining=0, long_term=False, updated_at=now))
