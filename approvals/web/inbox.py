"""The inbox (我的待办) and the short task links of the reminders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from approvals.procedure import batch, inbox, queries, reexaminations
from approvals.procedure.permissions import Actor
from approvals.web.session import now, services, session_scope, signed_in

bp = Blueprint("inbox", __name__)


def _filters(stage_labels: dict[str, str]) -> inbox.Filters:
    stage = request.args.get("stage") or ""
    return inbox.Filters(village_id=request.args.get("village", type=int),
                         stage=stage if stage in stage_labels else None,
                         search=(request.args.get("q") or "")[:30])


@bp.get("/inbox")
@signed_in
def index(actor: Actor) -> Any:
    config = services().config
    labels = config.stage_labels()  # the tabs; each task is labelled by its case's definition
    filters = _filters(labels)
    with session_scope() as s:
        found = inbox.inbox(s, actor, now(), services().calendar, filters=filters,
                            due_soon_days=config.notifications.due_soon_working_days)
        villages = inbox.villages(s, actor)
        reviews = reexaminations.open_for(s, actor)  # 复核, beside the stage tasks
    items, counts = found.items, found.counts
    return render_template(
        "inbox.html", items=items, counts=counts, filters=filters, villages=villages,
        too_many=found.too_many, reviews=reviews, now=now(),
        stage_labels=labels, total=sum(counts.values()),
        role_label=config.roles[actor.role].label,
        may_batch=any(st in batch.BATCH_STAGES for st in counts),
        may_hand_over=actor.role in config.workbench.handover_roles)


@bp.get("/t/<int:task_id>")
@signed_in
def task_link(_actor: Actor, task_id: int) -> Any:
    """The link in a reminder: straight to the task's case, at the task."""
    with session_scope() as s:
        case_id = queries.case_of_task(s, task_id)
    return redirect(url_for("approvals.casefile.show", case_id=case_id) + "#task")
