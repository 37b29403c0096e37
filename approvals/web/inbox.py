"""The inbox (我的待办) and the short task links of the reminders; the farmers' call-back
requests (回电请求) are cards of it, closed here with 已回电."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from approvals.procedure import batch, callbacks, inbox, queries, reexaminations
from approvals.procedure.permissions import Actor
from approvals.web.session import attempt, now, services, session_scope, signed_in

bp = Blueprint("inbox", __name__)


def _filters(stage_labels: dict[str, str]) -> inbox.Filters:
    stage = request.args.get("stage") or ""
    return inbox.Filters(village_id=request.args.get("village", type=int),
                         stage=stage if stage in stage_labels else None,
                         search=(request.args.get("q") or "")[:30])


@bp.get("/inbox")
@signed_in
def index(actor: Actor) -> Any:
    return _inbox(actor)


def _inbox(actor: Actor, error: str | None = None, status: int = 200) -> Any:
    config = services().config
    labels = config.stage_labels()  # the tabs; each task is labelled by its case's definition
    filters = _filters(labels)
    with session_scope() as s:
        found = inbox.inbox(s, actor, now(), services().calendar, filters=filters,
                            due_soon_days=config.notifications.due_soon_working_days)
        villages = inbox.villages(s, actor)
        reviews = reexaminations.open_for(s, actor)  # 复核, beside the stage tasks
        calls = callbacks.open_for(  # 回电请求, first: a farmer is waiting
            s, actor, now(), services().calendar,
            personal_data_roles=config.workbench.personal_data_roles,
            due_soon_days=config.notifications.due_soon_working_days)
    items, counts = found.items, found.counts
    return render_template(
        "inbox.html", items=items, counts=counts, filters=filters, villages=villages,
        too_many=found.too_many, reviews=reviews, calls=calls, note_max=callbacks.NOTE_MAX,
        error=error, now=now(),
        stage_labels=labels, total=sum(counts.values()),
        role_label=config.roles[actor.role].label,
        may_batch=any(st in batch.BATCH_STAGES for st in counts),
        may_hand_over=actor.role in config.workbench.handover_roles), status


@bp.get("/t/<int:task_id>")
@signed_in
def task_link(_actor: Actor, task_id: int) -> Any:
    """The link in a reminder: straight to the task's case, at the task."""
    with session_scope() as s:
        case_id = queries.case_of_task(s, task_id)
    return redirect(url_for("approvals.casefile.show", case_id=case_id) + "#task")


@bp.get("/cb/<int:callback_id>")
@signed_in
def callback_link(_actor: Actor, callback_id: int) -> Any:
    """The link in a call-back's message: the inbox, at its card."""
    return redirect(url_for("approvals.inbox.index") + f"#callback-{callback_id}")


@bp.post("/callbacks/<int:callback_id>/done")
@signed_in
def callback_done(actor: Actor, callback_id: int) -> Any:
    """已回电, with an optional note; refused (a note too long): the inbox with the reason;
    closed by someone else first: the inbox saying who did."""
    def already(text: str) -> Any:
        flash(text, "info")
        return redirect(url_for("approvals.inbox.index"))

    attempt(lambda s: callbacks.done(s, callback_id, by=actor,
                                     note=(request.form.get("note") or "")[:1000], now=now()),
            refused=lambda text: _inbox(actor, error=text, status=400), already=already)
    flash("已记录回电。", "info")
    return redirect(url_for("approvals.inbox.index"))
