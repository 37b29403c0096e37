"""The case page and what a cadre does on it: decide the open task (two taps: choose,
confirm), post the notice, record and handle objections, hand the task to a colleague."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from approvals.assistance import handover
from approvals.procedure import casefile, elimination, notices, objections, queries, stages
from approvals.procedure.decisions import (
    VERDICT_LABELS,
    Decided,
    TaskRef,
    decide,
    verdict_label,
)
from approvals.procedure.permissions import Actor
from approvals.record import photos
from approvals.record.calendar import local_date
from approvals.record.errors import NotAllowed, NotFound, Refused
from approvals.record.models import Case, CaseKind, Objection, Place, Task, Verdict
from approvals.record.wording import REJECTION
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
        page = render_template(
            "case.html", f=file, error=error, form=form or {}, today=local_date(now()),
            categories=file.definition.categories, measure_types=file.definition.measure_types,
            risk_labels=config.risk_types, reject_reasons=config.workbench.reject_reasons,
            colleagues=colleagues, verdicts=VERDICT_LABELS, evidence=evidence)
    return page, status


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

    def act(conn: Connection) -> Decided:
        nonlocal actor, task
        actor, task = acting_on(conn, task_id)
        if verdict not in Verdict.__members__.values():
            raise Refused(f"请先选择“通过”“退回”或“{REJECTION[task.case_kind]}”。")
        data = stages.of(task.stage).parse(request.form, task.case_kind)
        upload = photos.Upload.of(_uploads() if verdict == Verdict.APPROVED else [])
        if verdict == Verdict.APPROVED:
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
          f"{verdict_label(decided.verdict, decided.case_kind)}。"
          + ("下一环节几秒后自动开启。" if decided.verdict == Verdict.APPROVED else ""), "info")
    return redirect(url_for("approvals.inbox.index"))


def _uploads() -> list[bytes]:
    return [f.read() for f in request.files.getlist("photos") if f and f.filename]


@bp.post("/t/<int:task_id>/notice")
@signed_in
def post_notice(actor: Actor, task_id: int) -> Any:
    case_id = _case_of(task_id)
    try:
        posted_on = dt.date.fromisoformat(request.form.get("posted_on", ""))
    except ValueError:
        return _page(actor, case_id, error="「张贴日期」日期格式应为 2026-01-31",
                     form=request.form, status=400)
    ends = _attempt(actor, case_id, lambda s: notices.post_notice(
        s, task_id, actor, posted_on=posted_on, where=request.form.get("where", ""),
        now=now(), calendar=services().calendar))
    last = local_date(ends - dt.timedelta(microseconds=1))
    return _done(case_id, f"已登记公示，公示期至{last.month}月{last.day}日。")


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
        path = s.scalar(select(Place.path).join(Case, Case.village_id == Place.id)
                        .where(Case.id == case_id))
        if path is None:
            abort(404)
        if not actor.sees(path):
            raise NotAllowed("这户不在您的管辖范围内，您无权查看。")
        if kind == "farmer":
            found = dict(photos.farmer_photos(s, case_id)).get(ref)
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
    return res
