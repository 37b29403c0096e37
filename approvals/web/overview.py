"""`/`: a signed-in cadre's start page (the dashboard for supervisors, the inbox for everyone
else: both scoped to the cadre's jurisdiction and paged); anyone else goes to sign in. And the
health check."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect

from approvals.procedure.permissions import Actor
from approvals.web.session import safe_next, signed_in

bp = Blueprint("overview", __name__)


@bp.get("/")
@signed_in
def overview(_actor: Actor) -> Any:
    return redirect(safe_next(None))


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
