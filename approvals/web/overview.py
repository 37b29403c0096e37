"""The overview page: open cases by stage and the overdue ones (the supervisors' dashboard
replaces it); the health check."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, current_app, render_template

from approvals.db import session_scope
from approvals.models import CaseStatus
from approvals.queries import list_cases

bp = Blueprint("overview", __name__)


@bp.get("/")
def overview() -> str:
    services = current_app.extensions["fangfan"]
    config = services.config
    with session_scope() as s:
        cases = list_cases(s, services.clock.now(), status=CaseStatus.OPEN, limit=100_000)
    labels = config.procedures["identification"].stages
    by_stage = Counter(c["stage"] for c in cases)
    stages = [(labels[stage].label, by_stage.get(stage, 0)) for stage in labels]
    overdue = [c for c in cases if c["overdue"]]
    return render_template("overview.html", county=config.places.name, stages=stages,
                           total=len(cases), overdue=overdue[:50], overdue_count=len(overdue),
                           stage_labels={k: v.label for k, v in labels.items()})


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
