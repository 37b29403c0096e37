"""A household's pages: its story (cases, measures, revisits, income against the line,
pairings), planning and recording measures, the revisit form, and the elimination proposal
with the evidence it rests on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from approvals.assistance import household as household_view
from approvals.assistance import measures, revisits
from approvals.procedure import elimination
from approvals.procedure.permissions import Actor
from approvals.record import photos
from approvals.record.calendar import local_date
from approvals.record.errors import NotFound, Refused
from approvals.record.models import CaseKind, Household
from approvals.screening import evidence as screening
from approvals.web.session import attempt, now, services, session_scope, signed_in

bp = Blueprint("household", __name__)


def _household(s: Session, household_id: int) -> Household:
    household = s.get(Household, household_id)
    if household is None:
        raise NotFound("没有找到这户。")
    return household


def _money(key: str) -> Decimal | None:
    raw = (request.form.get(key) or "").strip().replace(",", "").removesuffix("元")
    if not raw:
        return None
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise Refused("「金额」应填写数字。") from None


def _date(key: str, label: str) -> dt.date:
    try:
        return dt.date.fromisoformat(request.form.get(key, ""))
    except ValueError:
        raise Refused(f"「{label}」日期格式应为 2026-01-31") from None


def _page(actor: Actor, household_id: int, *, error: str | None = None, status: int = 200
          ) -> Any:
    config = services().config
    today = local_date(now())
    with session_scope() as s:
        view = household_view.load(s, household_id, actor,
                                   personal_data_roles=config.workbench.personal_data_roles)
        rules = config.elimination_rules()
        page = render_template(
            "household.html", v=view, categories=config.categories, error=error,
            form=request.form if error else {}, today=today,
            proposals=measures.propose(s, view.household, config.assistance_rules(),
                                       config.risk_types),
            measure_types=config.measure_types, subtypes=config.assistance.subtypes,
            evidence=elimination.evidence(s, view.household, rules, today),
            listed=screening.listed(s, household_id),
            unmet=elimination.unmet_criteria(s, view.household, rules, today),
            lines={r.recorded_on.year: rules.line_for(r.recorded_on.year).amount
                   for r in view.incomes})
    return page, status


@bp.get("/me/households")
@signed_in
def mine(actor: Actor) -> Any:
    """我的结对户: the households paired with the cadre, the longest unvisited first."""
    with session_scope() as s:
        rows = household_view.paired_with(s, actor)
    return render_template("paired.html", rows=rows)


@bp.get("/h/<int:household_id>")
@signed_in
def show(actor: Actor, household_id: int) -> Any:
    """The household's page: where a revisit reminder leads."""
    return _page(actor, household_id)


def _attempt(actor: Actor, household_id: int, action: Callable[[Session], Any], done: str
             ) -> Any:
    attempt(action, refused=lambda text: _page(actor, household_id, error=text, status=400))
    flash(done, "info")
    return redirect(url_for("approvals.household.show", household_id=household_id))


@bp.post("/h/<int:household_id>/measures")
@signed_in
def plan_measure(actor: Actor, household_id: int) -> Any:
    def act(s: Session) -> None:
        measures.plan(s, _household(s, household_id), actor,
                      kind=request.form.get("kind_other") or request.form.get("kind", ""),
                      subtype=request.form.get("subtype", "").strip(),
                      description=request.form.get("description", ""),
                      unit=request.form.get("unit", ""),
                      planned_on=_date("planned_on", "计划日期"), amount=_money("amount"),
                      measure_types=services().config.measure_types, now=now())
    return _attempt(actor, household_id, act, "已登记帮扶措施。")


@bp.post("/h/<int:household_id>/measures/<int:measure_id>/done")
@signed_in
def measure_done(actor: Actor, household_id: int, measure_id: int) -> Any:
    def act(s: Session) -> None:
        measures.carry_out(s, measure_id, actor, done_on=_date("done_on", "落实日期"),
                           result=request.form.get("result", ""), amount=_money("amount"),
                           now=now())
    return _attempt(actor, household_id, act, "已登记落实。")


@bp.post("/h/<int:household_id>/screening")
@signed_in
def screening_visited(actor: Actor, household_id: int) -> Any:
    """部门数据提示 looked at: the cadre says what the visit found (a monitored household's
    定期回访 does it too)."""
    return _attempt(actor, household_id, lambda s: revisits.looked_at(
        s, _household(s, household_id), actor, request.form.get("note", ""), now()),
        "已记录走访情况，部门数据提示已处理。")


@bp.route("/h/<int:household_id>/revisit", methods=["GET", "POST"])
@signed_in
def revisit(actor: Actor, household_id: int) -> Any:
    def page(error: str | None = None) -> Any:
        with session_scope() as s:
            household = _household(s, household_id)
            view = household_view.load(s, household_id, actor,
                                       personal_data_roles=[])  # checks the jurisdiction
            today = local_date(now())
            return render_template(
                "revisit.html", h=household, v=view, last=revisits.prefill(s, household),
                annual=revisits.ANNUAL, security=revisits.SECURITY, today=today, error=error,
                annual_due=revisits.annual_due(s, household_id, today.year),
                form=request.form if error else {}), 400 if error else 200

    if request.method == "GET":
        return page()
    data: dict[str, Any] = {k: (request.form.get(k) or "").strip()
                            for k in ("visited_on", "members", *revisits.MONEY, "notes")}
    data = {k: v.replace(",", "").removesuffix("元") for k, v in data.items() if v}
    data["risk_remains"] = {"yes": True, "no": False}.get(request.form.get("risk", ""))
    data["weak_motivation"] = request.form.get("weak_motivation") == "yes"
    data["annual"] = {k: request.form.get(f"annual_{k}", "") for k in revisits.ANNUAL}
    data["secure"] = {k: answer == "yes" for k in revisits.SECURITY
                      if (answer := request.form.get(f"secure_{k}")) in ("yes", "no")}

    def act(s: Session) -> Any:
        upload = photos.Upload.of([f.read() for f in request.files.getlist("photos")
                                   if f and f.filename])
        config = services().config
        done = revisits.record(
            s, _household(s, household_id), actor, data, photos=upload.names, now=now(),
            reopen=revisits.Reopening(config.definition(CaseKind.IDENTIFICATION),
                                      services().calendar, config.elimination_rules()))
        upload.store(services().media_dir, household_id, kind="households")
        return done.revisit.per_capita_net, done.reopened_number

    net, reopened = attempt(act, refused=page)
    flash(f"已保存回访记录：家庭人均纯收入 {net:.0f} 元。", "info")
    if reopened:
        flash(f"回访发现这户风险回升，已按干部走访排查发起识别纳入（编号 {reopened}），"
              "进入入户核实。", "info")
    return redirect(url_for("approvals.household.show", household_id=household_id,
                            saved="revisit"))


@bp.post("/h/<int:household_id>/eliminate")
@signed_in
def propose_elimination(actor: Actor, household_id: int) -> Any:
    """村提出名单: refused, with every unmet criterion, unless the evidence holds."""
    config = services().config

    def act(s: Session) -> None:
        elimination.propose(s, _household(s, household_id), actor,
                            rules=config.elimination_rules(),
                            definition=config.definition(CaseKind.RISK_ELIMINATION),
                            calendar=services().calendar, now=now())
    return _attempt(actor, household_id, act, "已提出风险消除，进入入户核实。")


@bp.post("/h/<int:household_id>/revert")
@signed_in
def revert(actor: Actor, household_id: int) -> Any:
    """风险消除回退: the county puts an eliminated household back under monitoring."""
    def act(s: Session) -> None:
        at, reason = now(), request.form.get("reason", "").strip()
        elimination.revert(s, _household(s, household_id), actor, reason=reason, now=at)
        services().tell_household(s.connection(), household_id,
                                  f"household:{household_id}:reverted:{at.isoformat()}",
                                  "elimination_reverted", {"reason": reason}, at)
    return _attempt(actor, household_id, act, "已回退为监测对象，原有记录全部保留。")
