"""Batch approval (批量审批): several township audits or county approvals at once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from approvals.assistance import measures
from approvals.procedure import batch, inbox
from approvals.procedure.permissions import Actor
from approvals.record.calendar import local_date
from approvals.record.definitions import CaseKind, Stage
from approvals.record.errors import Refused
from approvals.screening import comparison
from approvals.web.session import now, services, session_scope, signed_in

bp = Blueprint("batch", __name__)


def _department_records(s: Session, case_id: int) -> list[str]:
    """The references of the household's department records, for a county approval (none
    ticked in a batch: the stage refuses a case that has some)."""
    return comparison.case_records(s.connection(), services().screening_dir, case_id).refs


@bp.route("/batch", methods=["GET", "POST"])
@signed_in
def batch_approve(actor: Actor) -> Any:
    """Approve several township audits or county approvals at once; each case is still
    decided, checked and audited on its own."""
    config = services().config
    # without a choice, the stage the cadre's own role decides (a county approver's list
    # is the county's, not the township's)
    definition = config.definition(CaseKind.IDENTIFICATION)
    own = next((st for st in batch.BATCH_STAGES if st in definition.procedure.stages
                and definition.stage(st).role in {p.role for p in actor.principals}),
               Stage.TOWNSHIP_AUDIT)
    stage = request.values.get("stage", own)
    stage = stage if stage in batch.BATCH_STAGES else own
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
                                          posted=request.form,
                                          records=lambda case_id: _department_records(
                                              s, case_id))
                    done += 1
                except Refused as err:
                    failed.append(str(err))
            if done:
                flash(f"已通过 {done} 件。", "info")
            for reason, n in Counter(failed).items():
                flash(f"{n} 件没有办成：{reason}", "error")
            return redirect(url_for("approvals.batch.batch_approve", stage=stage))
    with session_scope() as s:
        items = inbox.inbox(s, actor, now(), services().calendar,
                            filters=inbox.Filters(stage=stage), limit=200,
                            due_soon_days=config.notifications.due_soon_working_days).items
        asks = ({it.task_id: batch.enrolment_asks(s, it.case_id) for it in items}
                if stage == Stage.COUNTY_APPROVAL else {})
        rules = config.assistance_rules()
        proposals = {task_id: measures.proposals(a.risk_types, a.labour, rules,
                                                 config.risk_types)
                     for task_id, a in asks.items() if a is not None}
        return render_template("batch.html", items=items, stage=stage, asks=asks,
                               proposals=proposals, stage_labels=config.stage_labels(),
                               stages=batch.BATCH_STAGES, categories=config.categories,
                               measure_types=config.measure_types, today=local_date(now()))
