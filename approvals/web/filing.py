"""干部走访排查: a cadre files an application for a household of their jurisdiction from the
phone (the same `applications.apply` as the chat), with the household's 承诺授权: the signed
form photographed, or confirmed by the household in the chat."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from approvals.procedure import applications
from approvals.procedure.permissions import Actor
from approvals.record import photos
from approvals.record.definitions import CaseKind
from approvals.record.errors import Refused
from approvals.web.session import attempt, now, services, session_scope, signed_in

bp = Blueprint("filing", __name__)


@bp.get("/apply")
@signed_in
def find(actor: Actor) -> Any:
    """The households a cadre may file for, found by the start of the head's name."""
    term = (request.args.get("q") or "").strip()[:30]
    with session_scope() as s:
        rows = applications.households_to_file_for(s, actor, term) if term else []
    return render_template("filing_find.html", rows=rows, term=term)


def _page(actor: Actor, household_id: int, *, error: str | None = None) -> Any:
    config = services().config
    with session_scope() as s:
        household = applications.household_to_file_for(s, actor, household_id)
        page = render_template(
            "filing.html", h=household, error=error, form=request.form if error else {},
            risk_labels=config.risk_types,
            chosen=request.form.getlist("risk") if error else [],
            bound=any(m.openid for m in household.members))
    return page, 400 if error else 200


@bp.get("/h/<int:household_id>/apply")
@signed_in
def form(actor: Actor, household_id: int) -> Any:
    return _page(actor, household_id)


@bp.post("/h/<int:household_id>/apply")
@signed_in
def file(actor: Actor, household_id: int) -> Any:
    config = services().config

    def act(s: Session) -> tuple[int, str, bool]:
        household = applications.household_to_file_for(s, actor, household_id)
        chosen = request.form.get("member", "")
        member = next((m for m in household.members if m.id_number == chosen), household.head)
        how = request.form.get("consent", "")
        upload = photos.Upload.of([f.read() for f in request.files.getlist("consent_photos")
                                   if f and f.filename] if how == "photo" else [])
        if how not in ("photo", "chat"):
            raise Refused("请选择承诺授权方式：上传签字的授权书照片，或请农户在微信中确认。")
        phone = (request.form.get("phone") or "").strip() or None
        case = applications.apply(
            s, applications.Applicant(member.name, member.id_number, phone, household.id),
            openid=None, filed_by=actor, definition=config.definition(CaseKind.IDENTIFICATION),
            calendar=services().calendar, now=now(),
            risk_types=[r for r in request.form.getlist("risk") if r in config.risk_types],
            income_12m=_money("income_12m"),
            answers={"description": (request.form.get("description") or "").strip(),
                     "household_size": _count("household_size"), "phone": phone,
                     "channel": "phone"},
            consent=applications.Consent(photos=tuple(upload.names), in_chat=how == "chat"))
        upload.store(services().media_dir, case.id)  # committed with the case just after
        return case.id, case.number, case.consent_pending

    case_id, number, waiting = attempt(
        act, refused=lambda text: _page(actor, household_id, error=text))
    flash(f"已代为申请，编号 {number}。" + ("已请农户在微信中确认承诺授权，确认前不能通过审核。"
                                        if waiting else "承诺授权书照片已保存。"), "info")
    return redirect(url_for("approvals.casefile.show", case_id=case_id))


def _money(key: str) -> Decimal | None:
    raw = (request.form.get(key) or "").strip().replace(",", "").removesuffix("元")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise Refused("「近12个月家庭总收入」应填写数字（元）。") from None
    if value < 0:
        raise Refused("「近12个月家庭总收入」不能为负数。")
    return value


def _count(key: str) -> int | None:
    raw = (request.form.get(key) or "").strip().removesuffix("人")
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 30:
        raise Refused("「家庭人口」应填写1到30之间的整数。")
    return int(raw)
