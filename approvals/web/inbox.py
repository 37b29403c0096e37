"""The inbox (我的待办), the short task links of the reminders, and batch approval."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from approvals import batch, inbox, queries
from approvals.db import session_scope
from approvals.definitions import Stage
from approvals.errors import Refused
from approvals.web.session import current_actor, now, services, signed_in

bp = Blueprint("inbox", __name__)


def _filters() -> inbox.Filters:
    stage = request.args.get("stage")
    return inbox.Filters(village_id=request.args.get("village", type=int),
                         stage=Stage(stage) if stage in Stage.__members__.values() else None,
                         search=(request.args.get("q") or "")[:30])


@bp.get("/inbox")
@signed_in
def index() -> Any:
    actor = current_actor()
    config = services().config
    filters = _filters()
    with session_scope() as s:
        found = inbox.inbox(s, actor, now(), services().calendar, filters=filters,
                            due_soon_days=config.notifications.due_soon_working_days)
        villages = inbox.villages(s, actor)
    stages = config.procedures["identification"].stages
    items, counts = found.items, found.counts
    return render_template(
        "inbox.html", items=items, counts=counts, filters=filters, villages=villages,
        too_many=found.too_many,
        stage_labels={k: v.label for k, v in stages.items()}, total=sum(counts.values()),
        role_label=config.roles[actor.role].label,
        may_batch=any(st in batch.BATCH_STAGES for st in counts),
        may_hand_over=actor.role in config.workbench.handover_roles)


@bp.get("/t/<int:task_id>")
@signed_in
def task_link(task_id: int) -> Any:
    """The link in a reminder: straight to the task's case, at the task."""
    with session_scope() as s:
        case_id = queries.case_of_task(s, task_id)
    return redirect(url_for("approvals.cases.show", case_id=case_id) + "#task")


@bp.route("/batch", methods=["GET", "POST"])
@signed_in
def batch_approve() -> Any:
    """Approve several township audits or county approvals at once; each case is still
    decided, checked and audited on its own."""
    actor = current_actor()
    config = services().config
    stage = request.values.get("stage", Stage.TOWNSHIP_AUDIT)
    stage = Stage(stage) if stage in batch.BATCH_STAGES else Stage.TOWNSHIP_AUDIT
    if request.method == "POST":
        ids = request.form.getlist("task", type=int)  # bounded ints (fangfan.inputs)
        if not ids:
            flash("请至少勾选一件。", "error")
        else:
            done, failed = 0, []
            for task_id in ids:
                try:
                    with session_scope() as s:
                        batch.approve_one(s, task_id, actor, now=now(),
                                          opinion=request.form.get("opinion", ""),
                                          by_risk=config.assistance.by_risk)
                    done += 1
                except Refused as err:
                    failed.append(str(err))
            if done:
                flash(f"已通过 {done} 件。", "info")
            for reason, n in Counter(failed).items():
                flash(f"{n} 件未通过：{reason}", "error")
            return redirect(url_for("approvals.inbox.batch_approve", stage=stage))
    with session_scope() as s:
        items = inbox.inbox(s, actor, now(), services().calendar,
                            filters=inbox.Filters(stage=stage), limit=200,
                            due_soon_days=config.notifications.due_soon_working_days).items
    labels = {k: v.label for k, v in config.procedures["identification"].stages.items()}
    return render_template("batch.html", items=items, stage=stage, stage_labels=labels,
                           stages=batch.BATCH_STAGES)
