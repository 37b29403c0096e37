"""申请: an application for a household, by the farmer in the chat or by a cadre filing for
them (干部代为申请), and the photos sent with it.

`apply` does what an application does to the record, whoever the edge: the household of the
roster is found (or a new one recorded with its head), a filing cadre's jurisdiction is
checked through their `Actor`, the case is opened, the sender's photos not yet attached are
attached, and a farmer applying for themselves is bound to their WeChat so that 进度 and the
decision find them. Every refusal comes before the first write, so a refused application
writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.orm import Session

from approvals.procedure import cases
from approvals.procedure.permissions import Actor
from approvals.record.calendar import WorkCalendar
from approvals.record.db import connection_of
from approvals.record.definitions import Definition
from approvals.record.errors import NotAllowed, NotFound
from approvals.record.models import (
    Case,
    Household,
    MediaFile,
    MediaStatus,
    Member,
    Place,
    Source,
)


@dataclass(frozen=True)
class Applicant:
    """The person applying (or applied for): a member of a household of the roster, or the
    head of a new household in `village_id`."""

    name: str
    id_number: str
    phone: str | None
    household_id: int | None  # the roster's household; None: a new one
    village_id: int | None = None  # where a new household lives


def ensure_may_file(cadre: Actor, village_path: str) -> None:
    """A cadre files only for households of their own jurisdiction, while active."""
    if not cadre.active:
        raise NotAllowed("您的账号已停用，不能代为申请。")
    if not cadre.covers(village_path):
        raise NotAllowed("这户不在您负责的范围内，不能代为申请。")


def apply(s: Session, applicant: Applicant, *, openid: str, filed_by: Actor | None,
          definition: Definition, calendar: WorkCalendar, now: dt.datetime,
          risk_types: list[str], income_12m: Decimal | None,
          answers: dict[str, Any]) -> Case:
    """Record the application sent from `openid` (the farmer's WeChat, or the filing cadre's);
    refused (`Refused`, `NotAllowed` outside the cadre's jurisdiction) before anything is
    written."""
    household = member = None
    if applicant.household_id is not None:  # the roster's, unless it changed since
        household = s.get(Household, applicant.household_id)
        member = next((m for m in household.members
                       if m.id_number == applicant.id_number), None) if household else None
        if member is None:
            raise NotFound("没有找到这户的登记信息，可能刚有变动，请重新申请。")
    village = household.village if household else s.get(Place, applicant.village_id)
    if village is None:
        raise NotFound("没有找到所选的地方，请重新申请。")
    if filed_by is not None:
        ensure_may_file(filed_by, village.path)
    cases.ensure_may_identify(s, household, risk_types=risk_types)

    if household is None or member is None:
        member = Member(name=applicant.name, id_number=applicant.id_number, relation="户主",
                        is_head=True, phone=applicant.phone)
        household = Household(village_id=village.id, members=[member])
        s.add(household)
        s.flush()
    elif applicant.phone and not member.phone:
        member.phone = applicant.phone
    photos = list(s.scalars(select(MediaFile.media_id).where(
        MediaFile.openid == openid, MediaFile.case_id.is_(None)).order_by(MediaFile.id)))
    case = cases.open_identification(
        s, household, definition=definition, calendar=calendar, now=now,
        source=Source.CADRE_VISIT if filed_by else Source.WECHAT,
        filed_by=filed_by.name if filed_by else f"{applicant.name}（微信申请）",
        risk_types=risk_types, income_12m=income_12m,
        answers={**answers, "filed_by_cadre_id": filed_by.id if filed_by else None},
        attachments=photos)
    if photos:
        s.execute(update(MediaFile).where(MediaFile.media_id.in_(photos))
                  .values(case_id=case.id))
    if filed_by is None and member.openid is None and not s.scalar(
            select(func.count()).select_from(Member).where(Member.openid == openid)):
        member.openid = openid  # so that 进度 and the decision find this person
    return case


def receive_photo(s: Session, *, openid: str, media_id: str, pic_url: str | None,
                  now: dt.datetime, case: Case | None) -> bool:
    """Record a photo sent in the chat, to be fetched after the answer: added at once to the
    open application `case`, or else kept for the application being written. False when
    this photo was received before (WeChat sends the same one again under a new MsgId)."""
    if s.scalar(select(MediaFile.id).where(MediaFile.media_id == media_id)):
        return False
    s.add(MediaFile(openid=openid, media_id=media_id, pic_url=pic_url,
                    status=MediaStatus.PENDING, received_at=now,
                    case_id=case.id if case else None))
    if case is not None:
        case.attachments = [*case.attachments, media_id]
    return True


def discard_photos(s: Session | Connection, openid: str) -> None:
    """The photos of an application given up before it was sent."""
    connection_of(s).execute(delete(MediaFile).where(MediaFile.openid == openid,
                                                     MediaFile.case_id.is_(None)))
