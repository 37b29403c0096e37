"""Cover: name a stand-in (代理) for a date range, and hand a leaving cadre's pairings and
tasks to a successor (工作交接)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from approvals.assistance import handover
from approvals.procedure.permissions import Actor
from approvals.record.calendar import local_date
from approvals.record.definitions import Level
from approvals.record.errors import NotAllowed
from approvals.record.models import Cadre, Place
from approvals.web.session import attempt, now, services, session_scope, signed_in

bp = Blueprint("handover", __name__)


def _date(key: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.form.get(key, ""))
    except ValueError:
        return None


@bp.route("/me/stand-in", methods=["GET", "POST"])
@signed_in
def stand_in(actor: Actor) -> Any:

    def page(error: str | None = None) -> Any:
        with session_scope() as s:
            colleagues = handover.colleagues(s, actor, nearby=True)
            current = handover.stand_ins(s, actor, local_date(now()))
        return render_template("stand_in.html", colleagues=colleagues, current=current,
                               error=error, today=local_date(now()),
                               form=request.form), 400 if error else 200

    if request.method == "GET":
        return page()
    starts, ends = _date("starts_on"), _date("ends_on")
    if starts is None or ends is None:
        return page("请选择代理的开始和结束日期。")
    attempt(lambda s: handover.name_stand_in(
        s, actor, request.form.get("stand_in", type=int) or 0, starts_on=starts, ends_on=ends,
        now=now(), reason=request.form.get("reason", "")), refused=page)
    flash("已指定代理人。代理期内，您的待办对方也能看到并办理。", "info")
    return redirect(url_for("approvals.handover.stand_in"))


@bp.route("/handover", methods=["GET", "POST"])
@signed_in
def hand_over(actor: Actor) -> Any:
    roles = services().config.workbench.handover_roles
    if actor.role not in roles:
        levels = services().config.levels
        raise NotAllowed(f"只有{levels[Level.TOWNSHIP]}或{levels[Level.COUNTY]}级管理人员"
                         "可以办理工作交接。")

    def page(error: str | None = None) -> Any:
        with session_scope() as s:
            # who holds pairings or village tasks: every pairable role (county and township
            # cadres too, config.yaml `pairable`) and the village's posts
            pairable = [k for k, r in services().config.roles.items() if r.may_be_paired]
            cadres = s.execute(select(Cadre.id, Cadre.name, Cadre.role,
                                      Place.name.label("place")).join(Place).where(
                Cadre.active, Place.path.startswith(actor.place_path),
                (Place.level == "village") | Cadre.role.in_(pairable))
                .order_by(Place.path, Cadre.id)).all()
        labels = {k: v.label for k, v in services().config.roles.items()}
        return render_template("handover.html", cadres=cadres, roles=labels, error=error,
                               form=request.form), 400 if error else 200

    if request.method == "GET":
        return page()
    pairings, tasks = attempt(lambda s: handover.hand_over(
        s, actor, request.form.get("from", type=int) or 0, request.form.get("to", type=int) or 0,
        handover_roles=roles, now=now(), reason=request.form.get("reason", "")), refused=page)
    flash(f"交接完成：结对帮扶 {pairings} 户、待办 {tasks} 件已转给接任人员。", "info")
    return redirect(url_for("approvals.handover.hand_over"))
