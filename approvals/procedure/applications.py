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
from approvals.record import audit
from approvals.record.calendar import WorkCalendar
from approvals.record.db import connection_of
from approvals.record.definitions import Definition
from approvals.record.errors import NotAllowed, NotFound, Refused
from approvals.record.models import (
    Case,
    CaseStatus,
    Household,
    MediaFile,
    MediaStatus,
    Member,
    MonitoringStatus,
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


@dataclass(frozen=True)
class Consent:
    """The household's 《监测对象申请及承诺授权查询书》 when a cadre files for it (干部走访排查):
    the signed form photographed (`photos`, stored by the page under the case), or a tick
    the household confirms in the chat (`in_chat`): asked on its bound WeChat by the first
    pass, and until confirmed the case says so and no stage is approved."""

    photos: tuple[str, ...] = ()
    in_chat: bool = False
    # a cadre filing in the chat for a household with no WeChat bound: the signed form is
    # photographed on the case page afterwards (`consent_by_photo`), and until then it waits
    photo_to_come: bool = False

    @property
    def pending(self) -> bool:
        return self.in_chat or self.photo_to_come


def ensure_may_file(cadre: Actor, village_path: str) -> None:
    """A cadre files only for households of their own jurisdiction, while active."""
    if not cadre.active:
        raise NotAllowed("您的账号已停用，不能代为申请。")
    if not cadre.covers(village_path):
        raise NotAllowed("这户不在您负责的范围内，不能代为申请。")


def apply(s: Session, applicant: Applicant, *, openid: str | None, filed_by: Actor | None,
          definition: Definition, calendar: WorkCalendar, now: dt.datetime,
          risk_types: list[str], income_12m: Decimal | None,
          answers: dict[str, Any], consent: Consent | None = None) -> Case:
    """Record the application sent from `openid` (the farmer's WeChat, or the filing cadre's;
    None: from the phone pages, with the household's `consent`); refused (`Refused`,
    `NotAllowed` outside the cadre's jurisdiction) before anything is written."""
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
    if consent is not None:
        answers = {**answers, "consent": _consent_record(household, consent, now)}

    if household is None or member is None:
        member = Member(name=applicant.name, id_number=applicant.id_number, relation="户主",
                        is_head=True, phone=applicant.phone)
        household = Household(village_id=village.id, members=[member])
        s.add(household)
        s.flush()
    elif applicant.phone and not member.phone:
        member.phone = applicant.phone
    if len(household.members) <= 1 and (size := _size(answers.get("household_size"))):
        household.declared_size = size  # the only count there is until 入户核实 records them
    photos = list(s.scalars(select(MediaFile.media_id).where(
        MediaFile.openid == openid, MediaFile.case_id.is_(None)).order_by(MediaFile.id))
    ) if openid else []
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
    case.consent_pending = bool(consent and consent.pending)
    if openid and filed_by is None and member.openid is None and not s.scalar(
            select(func.count()).select_from(Member).where(Member.openid == openid)):
        member.openid = openid  # so that 进度 and the decision find this person
    return case


def _consent_record(household: Household | None, consent: Consent,
                    now: dt.datetime) -> dict[str, Any]:
    if consent.photo_to_come:
        return {"how": "photo", "status": "pending", "asked_at": now.isoformat()}
    if consent.in_chat:
        if household is None or not any(m.openid for m in household.members):
            raise Refused("这户还没有人绑定微信，无法在微信中确认，请拍照上传签字的承诺授权书。")
        return {"how": "chat", "status": "pending", "asked_at": now.isoformat()}
    if not consent.photos:
        raise Refused("请拍照上传农户签字的《监测对象申请及承诺授权查询书》，"
                      "或请农户在微信中确认。")
    return {"how": "photo", "status": "given", "photos": list(consent.photos),
            "at": now.isoformat()}


def confirm_in_chat(s: Session, openid: str, now: dt.datetime) -> Case | None:
    """The household confirms its 承诺授权 from its bound WeChat: the open case waiting for
    it goes on (None: nothing of this household waits for a confirmation; a screening case
    before its visit is not one the household knows of, cases.heard_of)."""
    household_id = s.scalar(select(Member.household_id).where(Member.openid == openid))
    case = s.scalar(select(Case).where(
        Case.household_id == household_id, Case.status == CaseStatus.OPEN,
        Case.consent_pending, cases.heard_of_sql()).with_for_update()) if household_id else None
    if case is None:
        return None
    case.consent_pending = False
    case.answers = {**case.answers, "consent": {
        **case.answers.get("consent", {}), "status": "given", "confirmed_at": now.isoformat()}}
    audit.append(s, actor=f"farmer:{openid}", action="case.consent", now=now,
                 case_id=case.id, payload={"how": "chat"})
    return case


def household_on_wechat(s: Session, household_id: int | None) -> bool:
    """Someone of the household is bound to WeChat (and can confirm there)."""
    return household_id is not None and bool(s.scalar(select(Member.id).where(
        Member.household_id == household_id, Member.openid.is_not(None)).limit(1)))


def consent_by_photo(s: Session, case_id: int, actor: Actor, photos: list[str],
                     now: dt.datetime) -> Case:
    """The signed form photographed after all (the farmer has no WeChat, or did not answer):
    the case waiting for it goes on."""
    case = s.scalar(select(Case).where(Case.id == case_id).with_for_update())
    if case is None:
        raise NotFound("没有找到这个案件。")
    ensure_may_file(actor, s.get_one(Place, case.village_id).path)
    if not case.consent_pending:
        raise Refused("这个案件的承诺授权已经确认，无需再上传。")
    if not photos:
        raise Refused("请拍照上传农户签字的《监测对象申请及承诺授权查询书》。")
    case.consent_pending = False
    case.answers = {**case.answers, "consent": {
        "how": "photo", "status": "given", "photos": photos, "at": now.isoformat()}}
    audit.append(s, actor=f"cadre:{actor.id}", action="case.consent", now=now,
                 case_id=case.id, payload={"how": "photo"})
    return case


def households_to_file_for(s: Session, cadre: Actor, term: str, limit: int = 30
                           ) -> list[tuple[int, str, str]]:
    """干部走访排查: the households of the cadre's jurisdiction whose head's name starts with
    `term`, with no open case and not monitored (id, head, village)."""
    busy = select(Case.household_id).where(Case.status == CaseStatus.OPEN)
    rows = s.execute(
        select(Household.id, Member.name, Place.name)
        .join(Member, (Member.household_id == Household.id) & Member.is_head)
        .join(Place, Place.id == Household.village_id)
        .where(Place.path.startswith(cadre.place_path), Member.name.startswith(term.strip()),
               Household.monitoring != MonitoringStatus.MONITORED,
               Household.id.not_in(busy))
        .order_by(Place.id, Household.id).limit(limit)).tuples().all()
    return list(rows)


def household_to_file_for(s: Session, cadre: Actor, household_id: int) -> Household:
    """The household a cadre files for, within their jurisdiction."""
    household = s.get(Household, household_id)
    if household is None:
        raise NotFound("没有找到这户。")
    ensure_may_file(cadre, household.village.path)
    return household


def _size(given: Any) -> int | None:
    """The household size the applicant gave (a whole number of people), else None."""
    return given if isinstance(given, int) and not isinstance(given, bool) and given > 0 \
        else None


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
