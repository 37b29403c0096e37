"""转人工, 找干部: a farmer asks in the chat to speak to a person, and a cadre calls them back.

Who calls: the household's paired cadre (帮扶联系人, an active pairing) while active; else a
village cadre of the household's village, or of the village a farmer not in the roster named
(the one with the fewest open call-backs, so a village's cadres share them). Nobody there:
refused, and the chat gives the hotline instead.

By when: `working_days` working days from the request (config.yaml chat.callback_working_days),
to the end of that working day: a deadline like a task's (calendar.due), said the same way.

One open request per WeChat user: asking again returns the first one's promise (`already`).
The cadre who must call, whom they stand in for, or a village cadre of the village closes it
once with 已回电 and an optional note (`done`); a second close is refused, saying who did it.

The caller's edge tells the cadre at once, in the same transaction (notifications/callbacks.py);
the daily digest and the inbox list the open ones (`open_for`), the dashboard counts the late
ones (`counts`). What the farmer said is for the cadre's page only: never in a log, a URL, a
message's parameters or the audit payload.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from approvals.procedure.permissions import Actor
from approvals.record import audit
from approvals.record.calendar import LOCAL, WorkCalendar, last_day
from approvals.record.db import rowcount
from approvals.record.definitions import Deadline, Level
from approvals.record.errors import AlreadyDecided, NotAllowed, NotFound, Refused
from approvals.record.identity import mask_phone
from approvals.record.models import (
    Cadre,
    CallbackRequest,
    CallbackStatus,
    Household,
    Member,
    Pairing,
    Place,
)

VILLAGE_CADRE = "village_cadre"  # who calls when the household has no paired cadre
SAID_MAX = 300  # characters of the farmer's last words kept for the cadre
NOTE_MAX = 200  # characters of the cadre's note
UNREGISTERED = "未登记农户"  # how the pages name a farmer not in the roster
_PHONE = re.compile(r"\+?\d[\d\- ]{5,18}\d")
REQUESTS = CallbackRequest.__table__
Assigned = aliased(Cadre)


@dataclass(frozen=True)
class Promise:
    """What the farmer is told: who calls and by when (bot.wording.callback_promised)."""

    request_id: int
    cadre_name: str
    role_label: str  # the cadre's role as config.yaml `roles` labels it
    paired: bool  # the household's own 帮扶联系人, not a village cadre standing in
    due_at: dt.datetime  # the local midnight after the last day (calendar.last_day)
    already: bool  # the user had an open request: this is its promise, no second one


def request(s: Session, *, household_id: int | None, village_id: int | None, openid: str,
            said: str, now: dt.datetime, calendar: WorkCalendar, working_days: int,
            role_labels: Mapping[str, str], phone: str | None = None) -> Promise:
    """Record a farmer's request for a call-back and say who calls by when. `household_id`:
    the sender's household in the roster, else None and `village_id` the village they named;
    `phone`: the number they gave, when the roster has none. Refused when there is nobody
    to call them."""
    openid = openid.strip()
    if not openid or len(openid) > 64:
        raise Refused("无法识别您的微信账号，请稍后再试。")
    earlier = _open_of(s, openid)
    if earlier is not None:
        return _promise(s, earlier, role_labels, already=True)
    number = _phone(phone)
    village = _village(s, household_id, village_id)
    cadre_id, paired = _caller(s, household_id, village)
    values = {"household_id": household_id, "village_id": village, "openid": openid,
              "phone": number, "cadre_id": cadre_id, "said": said.strip()[:SAID_MAX],
              "requested_at": now,
              "due_at": calendar.due(now, Deadline(days=working_days, unit="working")),
              "status": CallbackStatus.OPEN}
    conn = s.connection()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    # a second message racing the first: the open one's unique index keeps one row
    new_id = conn.execute(dialect.insert(REQUESTS).values(values).on_conflict_do_nothing(
        index_elements=["openid"], index_where=REQUESTS.c.status == CallbackStatus.OPEN)
        .returning(REQUESTS.c.id)).scalar()
    if new_id is None:
        earlier = _open_of(s, openid)
        assert earlier is not None
        return _promise(s, earlier, role_labels, already=True)
    audit.append(s, actor=f"farmer:{openid}", action="callback.requested", now=now,
                 payload={"callback": new_id, "cadre": cadre_id, "paired": paired})
    row = s.get_one(CallbackRequest, new_id)
    return _promise(s, row, role_labels, already=False, paired=paired)


def _open_of(s: Session, openid: str) -> CallbackRequest | None:
    return s.scalar(select(CallbackRequest).where(CallbackRequest.openid == openid,
                                                  CallbackRequest.status == CallbackStatus.OPEN))


def _phone(phone: str | None) -> str | None:
    if phone is None or not phone.strip():
        return None
    if len(phone) > 40 or not _PHONE.fullmatch(phone.strip()):
        raise Refused("电话号码不正确，请核对后重新输入。")
    return re.sub(r"[\s\-]", "", phone.strip())[:20]


def _village(s: Session, household_id: int | None, village_id: int | None) -> int:
    if household_id is not None:
        found = s.scalar(select(Household.village_id).where(Household.id == household_id))
        if found is None:
            raise NotFound("没有找到您家的登记信息。")
        return found
    if village_id is None or s.scalar(select(Place.level).where(
            Place.id == village_id)) != Level.VILLAGE:
        raise Refused("请先告诉我们您家住在哪里，好安排干部给您回电话。")
    return village_id


def _caller(s: Session, household_id: int | None, village_id: int) -> tuple[int, bool]:
    """The cadre who calls and whether they are the household's paired cadre."""
    if household_id is not None:
        paired = s.scalar(select(Cadre.id).join(Pairing, Pairing.cadre_id == Cadre.id).where(
            Pairing.household_id == household_id, Pairing.ended_on.is_(None), Cadre.active)
            .order_by(Pairing.started_on.desc(), Pairing.id.desc()).limit(1))
        if paired is not None:
            return paired, True
    waiting = (select(func.count()).where(CallbackRequest.cadre_id == Cadre.id,
                                          CallbackRequest.status == CallbackStatus.OPEN)
               .correlate(Cadre).scalar_subquery())
    village_cadre = s.scalar(select(Cadre.id).where(
        Cadre.place_id == village_id, Cadre.role == VILLAGE_CADRE, Cadre.active)
        .order_by(waiting, Cadre.id).limit(1))
    if village_cadre is None:
        raise Refused("暂时没有找到可以给您回电话的干部。")
    return village_cadre, False


def _promise(s: Session, row: CallbackRequest, role_labels: Mapping[str, str], *,
             already: bool, paired: bool | None = None) -> Promise:
    name, role = s.execute(select(Cadre.name, Cadre.role)
                           .where(Cadre.id == row.cadre_id)).tuples().one()
    if paired is None:
        paired = row.household_id is not None and s.scalar(select(Pairing.id).where(
            Pairing.household_id == row.household_id, Pairing.cadre_id == row.cadre_id,
            Pairing.ended_on.is_(None)).limit(1)) is not None
    return Promise(row.id, name, role_labels.get(role, role), paired, row.due_at, already)


def done(s: Session, request_id: int, *, by: Actor, note: str, now: dt.datetime
         ) -> CallbackRequest:
    """已回电: the cadre called back, once. `note`: what the call settled (optional)."""
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise Refused(f"备注请不超过{NOTE_MAX}字。")
    row = s.get(CallbackRequest, request_id)
    if row is None:
        raise NotFound("没有找到这条回电请求。")
    path = s.scalar(select(Place.path).where(Place.id == row.village_id))
    assert path is not None
    ensure_may_close(by, row.cadre_id, path)
    changed = rowcount(s.execute(update(CallbackRequest).where(
        CallbackRequest.id == request_id, CallbackRequest.status == CallbackStatus.OPEN,
    ).values(status=CallbackStatus.DONE, done_at=now, done_by=by.id, done_by_name=by.name,
             note=note or None)))
    if changed != 1:
        s.refresh(row)
        when = row.done_at.astimezone(LOCAL) if row.done_at else None
        at = f"于{when.month}月{when.day}日{when:%H:%M}" if when else ""
        raise AlreadyDecided(f"这条回电请求已由{row.done_by_name or '其他人员'}{at}"
                             "标记为已回电，无需重复操作。")
    audit.append(s, actor=f"cadre:{by.id}", action="callback.done", now=now,
                 payload={"callback": request_id})  # the note may name people: not here
    s.refresh(row)
    return row


def ensure_may_close(actor: Actor, cadre_id: int, village_path: str) -> None:
    """The cadre who must call (or whom they stand in for today), or a village cadre whose
    jurisdiction holds the village, may close it; nobody else."""
    if not actor.active:
        raise NotAllowed("您的账号已停用，无法办理。")
    if not any(p.active and _may_close(p, cadre_id, village_path) for p in actor.principals):
        raise NotAllowed("这条回电请求不在您的管辖范围内，您无权操作。")


def _may_close(who: Actor, cadre_id: int, village_path: str) -> bool:
    return who.id == cadre_id or (who.role == VILLAGE_CADRE and who.covers(village_path))


@dataclass(frozen=True)
class Waiting:
    """An open call-back as a cadre's inbox lists it."""

    id: int
    name: str  # who asked (the roster's name), or UNREGISTERED
    village: str
    phone: str  # in full for the personal-data roles, masked for the others; "" unknown
    said: str
    requested_at: dt.datetime
    due_at: dt.datetime
    last_day: dt.date
    urgency: str  # "overdue" | "soon" | "ok"
    working_days_left: int  # negative: working days late
    for_whom: str | None  # the colleague a stand-in acts for
    phone_in_full: bool  # the viewer's role sees personal data: the page offers to dial it


Asker = aliased(Member)
Head = aliased(Member)


def _held(actor: Actor) -> list[ColumnElement[bool]]:
    """The open requests the actor holds: those they (or whom they stand in for) must call,
    and, for a village cadre, those of their villages whose cadre is no longer active (the
    rule of approvals.procedure.holders)."""
    ids = [p.id for p in actor.principals if p.active]
    held: list[ColumnElement[bool]] = [CallbackRequest.cadre_id.in_(ids)]
    for p in actor.principals:
        if p.active and p.role == VILLAGE_CADRE:
            held.append(and_(
                CallbackRequest.village_id.in_(select(Place.id).where(
                    Place.path.startswith(p.place_path))),
                ~exists().where(Assigned.id == CallbackRequest.cadre_id, Assigned.active)))
    return held


def open_for(s: Session, actor: Actor, now: dt.datetime, calendar: WorkCalendar, *,
             personal_data_roles: Sequence[str], due_soon_days: int = 1) -> list[Waiting]:
    """The open call-backs this cadre holds, most urgent first."""
    rows = s.execute(
        select(CallbackRequest.id, CallbackRequest.cadre_id, CallbackRequest.phone,
               CallbackRequest.said, CallbackRequest.requested_at, CallbackRequest.due_at,
               Place.name.label("village"), Asker.name.label("asker"),
               Asker.phone.label("asker_phone"), Head.name.label("head"),
               Head.phone.label("head_phone"))
        .join(Place, Place.id == CallbackRequest.village_id)
        .outerjoin(Asker, and_(Asker.openid == CallbackRequest.openid,
                               Asker.household_id == CallbackRequest.household_id))
        .outerjoin(Head, and_(Head.household_id == CallbackRequest.household_id, Head.is_head))
        .where(CallbackRequest.status == CallbackStatus.OPEN, or_(*_held(actor)))
        .order_by(CallbackRequest.due_at, CallbackRequest.id)).all()
    full = actor.role in personal_data_roles
    names = {p.id: p.name for p in actor.stands_for}
    found = []
    for r in rows:
        phone = r.phone or r.asker_phone or r.head_phone
        left = calendar.working_days_left(r.due_at, now)
        urgency = "overdue" if r.due_at <= now else "soon" if left <= due_soon_days else "ok"
        found.append(Waiting(
            r.id, r.asker or r.head or UNREGISTERED, r.village,
            (phone or "") if full else mask_phone(phone), r.said, r.requested_at, r.due_at,
            last_day(r.due_at), urgency, left, names.get(r.cadre_id), full and bool(phone)))
    return found


@dataclass(frozen=True)
class Counts:
    """Open call-backs in a jurisdiction, and how many of them are late (the dashboard)."""

    open: int
    overdue: int


def counts(s: Session, place_path: str, now: dt.datetime) -> Counts:
    row = s.execute(select(func.count(), func.count().filter(CallbackRequest.due_at <= now))
                    .join(Place, Place.id == CallbackRequest.village_id)
                    .where(CallbackRequest.status == CallbackStatus.OPEN,
                           Place.path.startswith(place_path))).one()
    return Counts(row[0], row[1])
