"""转人工: the cadre who must call a farmer back is told at once, in the transaction that
recorded the request (approvals/procedure/callbacks.py), on their own channel.

The message names who asked, their village, their phone (in full for the personal-data
roles, config.yaml workbench.personal_data_roles; masked for the others, as the pages show
it) and the deadline, with the link to the inbox's card. What the farmer said stays on that
page: it is never a message's parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, and_, select
from sqlalchemy.orm import aliased

from approvals.procedure.callbacks import UNREGISTERED
from approvals.record.calendar import shown_due
from approvals.record.identity import mask_phone
from approvals.record.models import Cadre, CallbackRequest, Member, Place
from notifications import outbox
from notifications.models import Audience
from notifications.reminders import reachable

Asker, Head = aliased(Member), aliased(Member)


def announce(conn: Connection, request_id: int, now: dt.datetime, *,
             personal_data_roles: Sequence[str]) -> None:
    """The cadre of request `request_id` told of it, if WeChat or WeCom reaches them (once:
    the key is the request's)."""
    r = conn.execute(
        select(CallbackRequest.id, CallbackRequest.phone, CallbackRequest.due_at,
               Cadre.id.label("cadre_id"), Cadre.name.label("cadre"), Cadre.role,
               Cadre.openid, Cadre.wecom_userid, Place.name.label("village"),
               Asker.name.label("asker"), Asker.phone.label("asker_phone"),
               Head.name.label("head"), Head.phone.label("head_phone"))
        .join(Cadre, Cadre.id == CallbackRequest.cadre_id)
        .join(Place, Place.id == CallbackRequest.village_id)
        .outerjoin(Asker, and_(Asker.openid == CallbackRequest.openid,
                               Asker.household_id == CallbackRequest.household_id))
        .outerjoin(Head, and_(Head.household_id == CallbackRequest.household_id, Head.is_head))
        .where(CallbackRequest.id == request_id)).one_or_none()
    if r is None or not reachable(r):
        return
    phone = r.phone or r.asker_phone or r.head_phone
    item = {"callback_id": r.id, "kind": "callback", "late": 0,
            "head": r.asker or r.head or UNREGISTERED, "place": r.village,
            "phone": (phone or "") if r.role in personal_data_roles else mask_phone(phone),
            "due": shown_due(r.due_at)}
    outbox.enqueue(conn, [{"key": f"callback:{r.id}:new", "recipient": f"cadre:{r.cadre_id}",
                           "event": "callback_new", "audience": Audience.CADRE,
                           "params": {"name": r.cadre, "item": item}}], now)
