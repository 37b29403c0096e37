"""The case as a cadre's phone shows it: household, application, photos, the timeline of
every step, and the open task with what its stage asks. Personal data is masked for the
roles that do not need it; a cadre sees only cases in their jurisdiction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from approvals.procedure import stages
from approvals.procedure.permissions import Actor, may_act
from approvals.procedure.stages import StageModule
from approvals.record import photos
from approvals.record.calendar import LOCAL, WorkCalendar
from approvals.record.definitions import Definition, Stage
from approvals.record.errors import NotAllowed, NotFound
from approvals.record.identity import mask_id, mask_phone
from approvals.record.models import (
    AuditEntry,
    Cadre,
    Case,
    CaseStatus,
    Household,
    Measure,
    Pairing,
    Place,
    Source,
    Task,
    TaskStatus,
    Verdict,
)
from approvals.record.models.households import LABOUR_LABELS
from approvals.record.wording import REJECTION

ACTIONS = {
    "task.open": "进入「{stage}」", "decide.approved": "「{stage}」通过",
    "decide.rejected": "「{stage}」{rejection}",
    "decide.returned": "「{stage}」退回到「{return_to}」",
    "objection.raise": "登记公示异议", "objection.substantiated": "异议属实",
    "objection.dismissed": "异议不成立", "notice.posted": "张贴公示（{where}）",
    "task.transfer": "转交给{to_name}", "case.fast_track": "先帮扶后认定，已落实临时帮扶",
    "case.withdrawn": "申请人撤回申请", "case.consent": "确认承诺授权", "case.enrolled": "纳入监测",
    "case.rejected": "办结：不予纳入", "case.eliminated": "风险消除",
    "reexamination.requested": "申请复核", "reexamination.upheld": "复核：维持原结论",
    "reexamination.revoked": "复核：撤销原结论并重新办理", "case.reopened": "重新办理",
    "screening.added": "部门数据比对发现新情况，已补充到本案",
}


@dataclass
class Event:
    at: dt.datetime
    who: str
    what: str
    detail: str = ""


@dataclass(frozen=True)
class Photo:
    kind: str  # "farmer": sent in the chat; "task": taken by a cadre for a stage
    ref: int  # the chat photo's id, or the task's id
    index: int  # which of the task's photos
    label: str


@dataclass
class CaseFile:
    case: Case
    definition: Definition
    members: list[dict[str, Any]]
    photos: list[Photo]  # the farmer's and the cadres' photos
    events: list[Event]
    task: Task | None  # the open task, if any
    may_act: bool  # the viewer may decide it
    stage: StageModule | None = None  # the open task's: its guidance and partial
    returnable: list[tuple[str, str]] = field(default_factory=list)  # earlier stages passed
    helpers: list[tuple[int, str]] = field(default_factory=list)  # cadres a household may pair
    working_days_left: int | None = None
    sees_personal_data: bool = False
    returned: dict[str, str] | None = None  # the open task was reopened by a return: why
    # 纳入监测: what the last approval decided (category, paired cadre, measures)
    enrolled: dict[str, Any] | None = None

    @property
    def number(self) -> str:
        return self.case.number


def _label(definition: Definition, stage: str | None) -> str:
    return definition.stage(stage).label if stage else ""


def load(s: Session, case_id: int, actor: Actor, now: dt.datetime, calendar: WorkCalendar, *,
         personal_data_roles: Sequence[str]) -> CaseFile:
    case = s.scalars(select(Case).where(Case.id == case_id).options(
        joinedload(Case.household).selectinload(Household.members), joinedload(Case.village),
        selectinload(Case.tasks).joinedload(Task.place), selectinload(Case.objections),
        joinedload(Case.definition))).one_or_none()
    if case is None:
        raise NotFound("没有找到这个案件。")
    if not actor.sees(case.village.path):
        raise NotAllowed("这户不在您的管辖范围内，您无权查看。")
    definition = case.definition.parsed()
    full = actor.role in personal_data_roles
    members = [{"name": m.name, "relation": m.relation, "is_head": m.is_head,
                "id_number": m.id_number if full else mask_id(m.id_number),
                "phone": (m.phone or "") if full else mask_phone(m.phone),
                "able_to_work": m.able_to_work, "labour": LABOUR_LABELS[m.labour],
                "left_on": m.left_on} for m in case.household.members]
    task = next((t for t in case.tasks if t.status == TaskStatus.OPEN), None)
    file = CaseFile(case, definition, members, _photos(s, case, definition),
                    _events(s, case, definition),
                    task, False, sees_personal_data=full)
    if case.status == CaseStatus.ENROLLED:
        file.enrolled = _enrolled(s, case, definition)
    if task is not None:
        seat = _Seat(task.stage, task.role, task.place.path, task.assignee_id)
        file.may_act = may_act(actor, seat)
        file.stage = stages.of(task.stage)
        file.working_days_left = calendar.working_days_left(task.due_at, now)
        if back := (task.data or {}).get("returned"):  # written by the pass that reopened it
            file.returned = {"stage": _label(definition, back.get("from")),
                             "by": back.get("by") or "", "reason": back.get("reason") or ""}
        passed = {t.stage for t in case.tasks if t.verdict == Verdict.APPROVED
                  and t.status == TaskStatus.DECIDED}
        file.returnable = [(st, _label(definition, st)) for st in definition.order
                           if st in passed and definition.earlier(st, task.stage)]
        if task.stage == Stage.COUNTY_APPROVAL:
            file.helpers = pairing_candidates(s, case)
    return file


def _enrolled(s: Session, case: Case, definition: Definition) -> dict[str, Any]:
    paired = s.scalars(select(Cadre.name).join(Pairing, Pairing.cadre_id == Cadre.id).where(
        Pairing.household_id == case.household_id, Pairing.ended_on.is_(None))).all()
    measures = s.scalars(select(Measure.kind).where(Measure.case_id == case.id)
                         .order_by(Measure.id)).all()
    return {"category": definition.categories.get(case.category or "", case.category or ""),
            "paired": "、".join(paired), "measures": "、".join(measures)}


@dataclass(frozen=True)
class _Seat:
    stage: str
    role: str
    place_path: str
    assignee_id: int | None


def pairing_candidates(s: Session, case: Case) -> list[tuple[int, str]]:
    """Whom the county may pair the household with (帮扶联系人; the single approval's list,
    and the batch page's): its current pairing first,
    then every active cadre of a role that may be paired (config.yaml `pairable`: county and
    township cadres, the resident work team, the village's helpers) placed at its village, its
    township or its county, the nearest first; the rule the decision itself checks."""
    definition = case.definition.parsed()
    paired = s.scalars(select(Pairing.cadre_id).where(
        Pairing.household_id == case.household_id, Pairing.ended_on.is_(None))).all()
    village = s.get_one(Place, case.village_id)
    ids = [int(x) for x in village.path.strip("/").split("/")]  # county, township, village
    pairable = [key for key, role in definition.roles.items() if role.may_be_paired]
    rows = sorted(s.execute(select(Cadre.id, Cadre.name, Cadre.unit, Cadre.role, Cadre.place_id)
                            .where(Cadre.active, (Cadre.id.in_(paired)) | (
                                Cadre.role.in_(pairable) & Cadre.place_id.in_(ids)))),
                  key=lambda r: (r.id not in paired, -ids.index(r.place_id)
                                 if r.place_id in ids else 0, r.id))
    labels = {key: role.label for key, role in definition.roles.items()}
    return [(r.id, f"{r.name}（{r.unit or labels.get(r.role, r.role)}）") for r in rows]


def _photos(s: Session, case: Case, definition: Definition) -> list[Photo]:
    farmer = photos.farmer_photos(s, case.id)
    found = [Photo("farmer", i, 0, f"农户上传 {n}") for n, (i, _path) in enumerate(farmer, 1)]
    signed = (case.answers or {}).get("consent")
    for n, _name in enumerate(signed.get("photos", []) if isinstance(signed, dict) else []):
        found.append(Photo("consent", case.id, n, f"承诺授权书 {n + 1}"))
    for t in case.tasks:
        for n, _name in enumerate((t.data or {}).get("photos", [])):
            found.append(Photo("task", t.id, n, f"{_label(definition, t.stage)} {n + 1}"))
    return found


def _events(s: Session, case: Case, definition: Definition) -> list[Event]:
    rows = s.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                     .order_by(AuditEntry.id)).all()
    ids = {int(r.actor.split(":")[1]) for r in rows if r.actor.startswith("cadre:")
           and r.actor.split(":")[1].isdigit()}
    names = dict(s.execute(select(Cadre.id, Cadre.name).where(Cadre.id.in_(ids))).tuples().all()
                 ) if ids else {}
    tasks = {t.id: t for t in case.tasks}
    events = []
    for r in rows:
        p = r.payload or {}
        task = tasks.get(p.get("task", 0))  # ids start at 1
        stage = p.get("stage") or (task.stage if task else None)
        if r.action.startswith("case.open"):
            what = ("部门筛查预警立案" if p.get("source") == Source.SCREENING else "提交申请"
                    ) if r.action.endswith("identification") else "提出风险消除名单"
        elif r.action in ACTIONS:
            what = ACTIONS[r.action].format(
                stage=_label(definition, stage), return_to=_label(definition, p.get("return_to")),
                where=p.get("where", ""), to_name=p.get("to_name", ""),
                rejection=REJECTION.get(definition.kind, ""))
        else:
            continue
        who = r.actor
        if who.startswith("cadre:"):
            who = names.get(int(who.split(":")[1]) if who.split(":")[1].isdigit() else 0, "干部")
        elif who.startswith("farmer:"):
            who = "农户"
        detail = p.get("reason") or p.get("facts") or ""
        if r.action == "decide.approved" and stage == Stage.PUBLIC_NOTICE and \
                r.actor == "系统":
            what, detail = "公示期满无异议", ""
        elif r.action == "decide.approved" and task is not None and task.data:
            detail = stages.of(task.stage).summary(task.data)
        events.append(Event(r.at.astimezone(LOCAL), who, what, detail))
    return events
