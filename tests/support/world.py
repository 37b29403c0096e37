"""The demo county's people and what they do, as tests say it: apply, decide, pass a stage,
object; and the Monday the tests start on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from approvals.procedure import cases, decisions, notices, objections, stages
from approvals.procedure.permissions import Actor
from approvals.record import photos
from approvals.record.calendar import LOCAL, FixedClock
from approvals.record.definitions import Stage
from approvals.record.models import (
    Cadre,
    Case,
    CaseKind,
    Household,
    Member,
    Place,
    Source,
    Task,
    TaskStatus,
    Verdict,
)
from fangfan.config import Config
from fangfan.services import Services
from tests.db import session_scope
from workflows.advance import advance_case
from workflows.passes import Outcome
from workflows.runtime import Runtime

START = dt.datetime(2026, 11, 2, 9, 0, tzinfo=LOCAL)  # a Monday


@dataclass
class World:
    """The demo county's people, and what they do, as tests say it."""

    services: Services
    clock: FixedClock

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def runtime(self) -> Runtime:
        """What the flows are given: the test's clock, the calendar and the database."""
        return Runtime(self.clock, self.services.calendar, self.services.database)

    def cadre(self, role: str, place: str | None = None) -> Actor:
        with session_scope() as s:
            q = select(Cadre.id).join(Place).where(Cadre.role == role)
            if place:
                q = q.where(Place.name == place)
            return Actor.load(s, s.scalars(q.order_by(Cadre.id)).first())

    def household(self, village: str = "东沟村", index: int = 0) -> int:
        with session_scope() as s:
            return s.scalars(select(Household.id).join(Place).where(Place.name == village)
                             .order_by(Household.id)).all()[index]

    def apply(self, household_id: int, **kw: Any) -> int:
        fields: dict[str, Any] = {"risk_types": ["illness"], "category": "sudden",
                                  "source": Source.WECHAT, "filed_by": "farmer:test"} | kw
        with session_scope() as s:
            case = cases.open_identification(
                s, s.get_one(Household, household_id), now=self.clock.now(),
                definition=self.config.definition(CaseKind.IDENTIFICATION),
                calendar=self.services.calendar,
                fast_track_risks=frozenset(self.config.fast_track_risks), **fields)
            case_id = case.id
        self.advance(case_id)
        return case_id

    def advance(self, case_id: int) -> Outcome:
        with session_scope() as s:
            kind = s.get_one(Case, case_id).kind
        return advance_case.fn(case_id, CaseKind(kind), self.runtime)

    def open_task(self, case_id: int) -> Task:
        with session_scope() as s:
            return s.scalars(select(Task).where(Task.case_id == case_id,
                                                Task.status == TaskStatus.OPEN)).one()

    def open_task_count(self, case_id: int) -> int:
        with session_scope() as s:
            return len(s.scalars(select(Task.id).where(Task.case_id == case_id,
                                                       Task.status == TaskStatus.OPEN)).all())

    def form(self, case_id: int, stage: str) -> dict[str, Any]:
        """The stage's form as the demo fills it in (its module's `demo_form`)."""
        with session_scope() as s:
            form = stages.of(stage).demo_form(s, s.get_one(Case, case_id),
                                              self.clock.now().astimezone(LOCAL).date())
        assert form is not None, f"{stage} is not approved by hand"
        return form

    def decides(self, case_id: int, actor: Actor, verdict: Verdict = Verdict.APPROVED,
                advance: bool = True, **kw: Any) -> decisions.Decided:
        task = self.open_task(case_id)
        if verdict == Verdict.APPROVED and "data" not in kw:
            kw["data"] = self.form(case_id, task.stage)
        with session_scope() as s:
            decided = decisions.decide(s, task.id, actor, verdict, now=self.clock.now(), **kw)
        if advance:
            self.advance(case_id)
        return decided

    def approver(self, case_id: int) -> Actor:
        task = self.open_task(case_id)
        with session_scope() as s:
            return Actor.load(s, s.scalars(select(Cadre.id).where(
                Cadre.role == task.role, Cadre.place_id == task.place_id)).first())

    def approve_through(self, case_id: int, until: str | None) -> None:
        """Approve stage after stage until `until` is open; the notice runs out its period."""
        while (stage := self.stage(case_id)) != until and stage is not None:
            self.passes(case_id)

    def passes(self, case_id: int) -> None:
        """The current stage is approved: by its cadre, or for 公示 by its period running out
        after the village records the posting (today)."""
        if self.stage(case_id) == Stage.PUBLIC_NOTICE:
            if not notices.posted(self.open_task(case_id).data):
                self.posts_notice(case_id)
            self.clock.advance(days=6)
            self.advance(case_id)
        else:
            self.decides(case_id, self.approver(case_id))

    def posts_notice(self, case_id: int, posted_on: dt.date | None = None,
                     starts_on: dt.date | None = None) -> dt.datetime:
        """The village records the notice's posting, with a photo of the board (a JPEG by
        its bytes, stored as the page stores one)."""
        task = self.open_task(case_id)
        upload = photos.Upload.of([b"\xff\xd8\xff\xe0" + b"board" * 100 + b"\xff\xd9"])
        upload.store(self.services.media_dir, case_id)
        with session_scope() as s:
            return notices.post_notice(
                s, task.id, self.approver(case_id), where="村委会公示栏",
                posted_on=posted_on or self.clock.now().astimezone(LOCAL).date(),
                starts_on=starts_on, photos=upload.names, now=self.clock.now(),
                calendar=self.services.calendar)

    def stage(self, case_id: int) -> str | None:
        with session_scope() as s:
            return s.get_one(Case, case_id).stage

    def case(self, case_id: int) -> Case:
        with session_scope() as s:
            return s.get_one(Case, case_id)

    def object(self, case_id: int, content: str = "该户收入情况与实际不符") -> int:
        actor = self.approver(case_id)
        with session_scope() as s:
            return objections.raise_objection(s, case_id, actor, raised_by="村民甲",
                                              content=content, now=self.clock.now()).id


def roster_head(village: str = "东沟村", index: int = 0) -> tuple[str, str, int]:
    """The name, ID number and household of a household head of the demo roster."""
    with session_scope() as s:
        member = s.scalars(select(Member).join(Household).join(Place).where(
            Place.name == village, Member.is_head).order_by(Member.id)).all()[index]
        return member.name, member.id_number, member.household_id
