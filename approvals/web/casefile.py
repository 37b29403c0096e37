"""The case page and what a cadre does on it: decide the open task (two taps: choose,
confirm), post the notice, record and handle objections, hand the task to a colleague."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from approvals.assistance import handover, measures
from approvals.procedure import (
    applications,
    casefile,
    elimination,
    fast_track,
    notices,
    objections,
    queries,
    reexaminations,
    stages,
)
from approvals.procedure.decisions import (
    VERDICT_LABELS,
    Decided,
    TaskRef,
    decide,
    verdict_label,
)
from approvals.procedure.permissions import Actor
from approvals.record import photos
from approvals.record.calendar import local_date, shown_due
from approvals.record.definitions import Level, Stage
from approvals.record.errors import NotAllowed, NotFound, Refused
from approvals.record.models import (
    Cadre,
    Case,
    CaseKind,
    Objection,
    Place,
    Reexamination,
    ReexaminationResult,
    Task,
    Verdict,
)
from approvals.record.wording import REJECTION
from approvals.screening import comparison
from approvals.screening import evidence as screening_evidence
from approvals.web.download import file_name, named
from approvals.web.session import (
    acting_on,
    attempt,
    connection_scope,
    now,
    services,
    session_scope,
    signed_in,
    signed_in_lazily,
    statement_scope,
)

bp = Blueprint("casefile", __name__)
T = TypeVar("T")


def _page(actor: Actor, case_id: int, *, error: str | None = None, form: Any = None,
          status: int = 200) -> Any:
    config = services().config
    with session_scope() as s:
        file = casefile.load(s, case_id, actor, now(), services().calendar,
                             personal_data_roles=config.workbench.personal_data_roles)
        colleagues = handover.colleagues(s, actor) if file.may_act else []
        evidence = (elimination.evidence(s, file.case.household, config.elimination_rules(),
                                         local_date(now()))
                    if file.case.kind == CaseKind.RISK_ELIMINATION else [])
        reviews = reexaminations.of_case(s, case_id)
        department = (_department(s.connection(), case_id)
                      if file.task is not None and file.task.stage == Stage.COUNTY_APPROVAL
                      else None)
        page = render_template(
            "case.html", f=file, error=error, form=form or {}, today=local_date(now()),
            reviews=reviews, results=reexaminations.RESULTS, now=now(),
            deciding={r.id for r in reviews if reexaminations.may_decide(s, actor, r)},
            may_request=reexaminations.may_request(s, file.case, reviews),
            categories=file.definition.categories, measure_types=file.definition.measure_types,
            risk_labels=config.risk_types, reject_reasons=config.workbench.reject_reasons,
            colleagues=colleagues, verdicts=VERDICT_LABELS, evidence=evidence,
            income_line=config.elimination_rules().line_for(local_date(now()).year),
            proposals=_proposals(s, file, config),
            fast_track_causes=fast_track.causes(config.fast_track_risks, config.risk_types),
            all_measure_types=config.measure_types, department=department,
            hits=screening_evidence.of_case(s, case_id))
    return page, status


def _department(conn: Connection, case_id: int) -> comparison.DepartmentData:
    """The household's department records the county compares the case with at 比对审定
    (what its form's references are checked against)."""
    return comparison.case_records(conn, services().screening_dir, case_id)


def _proposals(s: Session, file: casefile.CaseFile, config: Any) -> list[measures.Proposal]:
    """The measures a county enrolment is proposed (approvals/assistance/measures.py): the
    form starts with them, the county changes them."""
    task = file.task
    if task is None or task.stage != Stage.COUNTY_APPROVAL or \
            file.case.kind != CaseKind.IDENTIFICATION:
        return []
    return measures.proposals(file.case.risk_types, file.case.household.labour,
                              config.assistance_rules(), config.risk_types)


@bp.get("/c/<int:case_id>")
@signed_in
def show(actor: Actor, case_id: int) -> Any:
    return _page(actor, case_id)


def _case_of(task_id: int) -> int:
    with statement_scope() as s:
        return queries.case_of_task(s, task_id)


def _done(case_id: int, message: str) -> Any:
    flash(message, "info")
    return redirect(url_for("approvals.casefile.show", case_id=case_id))


def _attempt(actor: Actor, case_id: int, action: Callable[[Session], T]) -> T:
    """Refused: the case page again with the reason and the answers kept; decided by
    another cadre first: the case page saying who did."""
    return attempt(action, already=lambda text: _done(case_id, text),
                   refused=lambda text: _page(actor, case_id, error=text, form=request.form,
                                              status=400))


@bp.post("/t/<int:task_id>/decide")
@signed_in_lazily  # the cadre is read on the decision's connection
def decide_task(task_id: int) -> Any:
    verdict = request.form.get("verdict", "")
    return_to = request.form.get("return_to")
    reason = (request.form.get("reason_typed", "").strip()
              or request.form.get("reason", "").strip())
    actor: Actor | None = None  # read once, with the task, by the decision itself
    task: TaskRef | None = None
    data: dict[str, Any] = {}

    def act(conn: Connection) -> Decided:
        nonlocal actor, task, data
        actor, task = acting_on(conn, task_id)
        if verdict not in Verdict.__members__.values():
            raise Refused(f"请先选择“通过”“退回”或“{REJECTION[task.case_kind]}”。")
        data = stages.of(task.stage).parse(request.form, task.case_kind)
        if task.stage == Stage.COUNTY_APPROVAL and verdict == Verdict.APPROVED:
            # what the county was shown, read again: the stage checks the ticked ones are
            # among them (a run finished meanwhile names other records)
            data = _department(conn, task.case_id).into(data)
        # kept with a rejection too: a stage's record (the vote's minutes) decides either way
        upload = photos.Upload.of(_uploads() if verdict != Verdict.RETURNED else [])
        if verdict != Verdict.RETURNED:
            data["photos"] = upload.names
        with upload.stored(services().media_dir, task.case_id):
            return decide(conn, task, actor, Verdict(verdict), now=now(), data=data,
                          reason=reason, return_to=return_to or None)

    def refused(text: str) -> Any:
        # a refusal comes after acting_on has read both (anything before it raises)
        assert actor is not None and task is not None
        return _page(actor, task.case_id, error=text, form=request.form, status=400)

    def already(text: str) -> Any:
        assert task is not None
        return _done(task.case_id, text)

    # a Core connection, the decision's own (approvals/procedure/decisions.py)
    decided = attempt(act, scope=connection_scope, already=already, refused=refused)
    flash(f"已提交：{decided.case_number} {decided.stage_label}"
          f"{verdict_label(decided.verdict, decided.case_kind)}。" + _what_follows(decided, data),
          "info")
    return redirect(url_for("approvals.inbox.index"))


def _what_follows(decided: Decided, data: dict[str, Any]) -> str:
    """After an approval: the next stage opens, or, after the last, the case is closed
    with what the approval decided (the pass enrols the household a moment later)."""
    if decided.verdict != Verdict.APPROVED:
        return ""
    definition = services().config.definition(decided.case_kind)
    if decided.stage != definition.order[-1]:
        return "下一环节几秒后自动开启。"
    if decided.case_kind == CaseKind.RISK_ELIMINATION:
        return "案件办结：已标注风险消除。"
    with statement_scope() as s:
        cadre = s.get(Cadre, data.get("paired_cadre_id") or 0)
    measures = "、".join(m.get("kind", "") for m in data.get("measures", []))
    category = definition.categories.get(data.get("category", ""), "")
    return (f"案件办结：纳入监测，监测类别为{category}，结对帮扶干部为"
            f"{cadre.name if cadre else '—'}，帮扶措施：{measures or '—'}。")


def _uploads(field: str = "photos") -> list[bytes]:
    return [f.read() for f in request.files.getlist(field) if f and f.filename]


@bp.post("/t/<int:task_id>/notice")
@signed_in
def post_notice(actor: Actor, task_id: int) -> Any:
    case_id = _case_of(task_id)
    days: dict[str, dt.date | None] = {}
    for key, label in (("posted_on", "张贴日期"), ("starts_on", "公示开始日期")):
        typed = request.form.get(key, "").strip()
        try:
            days[key] = dt.date.fromisoformat(typed) if typed else None
        except ValueError:
            return _page(actor, case_id, error=f"「{label}」日期格式应为 2026-01-31",
                         form=request.form, status=400)
    posted_on = days["posted_on"]
    if posted_on is None:
        return _page(actor, case_id, error="「张贴日期」必须填写", form=request.form, status=400)

    def post(s: Session) -> dt.datetime:
        upload = photos.Upload.of(_uploads())
        with upload.stored(services().media_dir, case_id):
            return notices.post_notice(
                s, task_id, actor, posted_on=posted_on, starts_on=days["starts_on"],
                where=request.form.get("where", ""), photos=upload.names, now=now(),
                calendar=services().calendar)

    ends = _attempt(actor, case_id, post)
    return _done(case_id, f"已登记公示，公示期至{shown_due(ends)}。")


@bp.post("/c/<int:case_id>/objections")
@signed_in
def raise_objection(actor: Actor, case_id: int) -> Any:
    _attempt(actor, case_id, lambda s: objections.raise_objection(
        s, case_id, actor, now=now(), raised_by=request.form.get("raised_by", ""),
        content=request.form.get("content", "")))
    return _done(case_id, "已登记异议。异议处理完之前，案件不会进入下一环节。")


@bp.post("/objections/<int:objection_id>")
@signed_in
def handle_objection(actor: Actor, objection_id: int) -> Any:
    with session_scope() as s:
        case_id = s.scalar(select(Objection.case_id).where(Objection.id == objection_id))
    if case_id is None:
        raise NotFound("没有找到这条异议。")
    substantiated = request.form.get("result") == "substantiated"
    _attempt(actor, case_id, lambda s: objections.handle_objection(
        s, objection_id, actor, now=now(), substantiated=substantiated,
        handling=request.form.get("handling", "")))
    return _done(case_id, "异议属实，案件已退回入户核实。" if substantiated
                 else "已记录：异议不成立。公示期满后自动进入下一环节。")


@bp.post("/c/<int:case_id>/fast-track")
@signed_in
def fast_track_case(actor: Actor, case_id: int) -> Any:
    """先帮扶后认定: the assistance given at once; the procedure runs after."""
    config = services().config
    _attempt(actor, case_id, lambda s: fast_track.mark(
        s, case_id, actor, cause=request.form.get("cause", ""),
        facts=request.form.get("facts", ""),
        public_agrees=request.form.get("public_agrees") == "yes",
        measure_kind=request.form.get("measure_kind", ""),
        measure_description=request.form.get("measure_description", ""),
        fast_track_risks=config.fast_track_risks, risk_labels=config.risk_types,
        measure_types=config.measure_types, now=now()))
    township = config.levels[Level.TOWNSHIP]
    return _done(case_id, f"已按先帮扶后认定登记，帮扶已落实；已告知农户和{township}，"
                          "认定程序照常进行。")


@bp.post("/c/<int:case_id>/consent")
@signed_in
def consent_photo(actor: Actor, case_id: int) -> Any:
    """The signed 承诺授权书 photographed, when the household has not confirmed in the chat."""
    def act(s: Session) -> None:
        upload = photos.Upload.of(_uploads("consent_photos"))
        applications.consent_by_photo(s, case_id, actor, upload.names, now=now())
        upload.store(services().media_dir, case_id)
    _attempt(actor, case_id, act)
    return _done(case_id, "已保存签字的承诺授权书，申请可以继续审核。")


@bp.post("/c/<int:case_id>/reexaminations")
@signed_in
def request_reexamination(actor: Actor, case_id: int) -> Any:
    _attempt(actor, case_id, lambda s: reexaminations.request_by_cadre(
        s, case_id, actor, request.form.get("grounds", ""), now=now(),
        calendar=services().calendar, rules=services().config.reexamination))
    return _done(case_id, "已提交复核申请，申请人会收到通知。")


@bp.post("/reexaminations/<int:reexamination_id>")
@signed_in
def decide_reexamination(actor: Actor, reexamination_id: int) -> Any:
    with session_scope() as s:
        case_id = s.scalar(select(Reexamination.case_id)
                           .where(Reexamination.id == reexamination_id))
    if case_id is None:
        raise NotFound("没有找到这项复核。")
    try:
        result = ReexaminationResult(request.form.get("result", ""))
    except ValueError:
        return _page(actor, case_id, error="请选择“维持原结论”或“撤销原结论并重新办理”。",
                     form=request.form, status=400)
    config = services().config
    _attempt(actor, case_id, lambda s: reexaminations.decide(
        s, reexamination_id, actor, result, request.form.get("review_reason", ""), now=now(),
        calendar=services().calendar,
        role_label=config.roles[config.reexamination.role].label))
    return _done(case_id, f"复核结果已提交：{reexaminations.RESULTS[result]}。申请人会收到通知。")


@bp.post("/t/<int:task_id>/transfer")
@signed_in
def transfer(actor: Actor, task_id: int) -> Any:
    case_id = _case_of(task_id)
    to = _attempt(actor, case_id, lambda s: handover.transfer_task(
        s, task_id, actor, request.form.get("to", type=int) or 0, now=now(),
        reason=request.form.get("transfer_reason", "")))
    flash(f"已转交给{to.name}。", "info")
    return redirect(url_for("approvals.inbox.index"))


@bp.get("/c/<int:case_id>/photos/<kind>/<int:ref>/<int:index>")
@signed_in
def photo(actor: Actor, case_id: int, kind: str, ref: int, index: int) -> Any:
    with session_scope() as s:
        found_case = s.execute(select(Place.path, Case).join(Case, Case.village_id == Place.id)
                               .where(Case.id == case_id)).one_or_none()
        if found_case is None:
            abort(404)
        path, number = found_case[0], found_case[1].number
        if not actor.sees(path):
            raise NotAllowed("这户不在您的管辖范围内，您无权查看。")
        if kind == "farmer":
            found = dict(photos.farmer_photos(s, case_id)).get(ref)
        elif kind == "consent":  # the signed 承诺授权书, kept under the case
            consent = (s.get_one(Case, case_id).answers or {}).get("consent") or {}
            names = consent.get("photos", []) if ref == case_id else []
            found = str(photos.task_photo(services().media_dir, case_id, names[index])) \
                if index < len(names) else None
        else:
            task = s.get(Task, ref)
            names = (task.data or {}).get("photos", []) if task and task.case_id == case_id \
                else []
            found = str(photos.task_photo(services().media_dir, case_id, names[index])) \
                if index < len(names) else None
    image = photos.image_kind(found) if found else None
    if found is None or image is None:  # missing, or not a picture: never served as another
        abort(404)
    res = send_file(found, mimetype=image[1], max_age=86400)
    res.headers["X-Content-Type-Options"] = "nosniff"
    # saved from the phone as 照片_2026000033_17-1.jpg: the case, then what the URL names
    shot = f"{number}_{ref}-{index + 1}"
    return named(res, file_name("照片", shot, suffix=f".{image[0]}"),
                 f"photo-{shot}.{image[0]}", inline=True)
