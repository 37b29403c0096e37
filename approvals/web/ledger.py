"""The ledger (台账) as Excel, for the township's and county's desk."""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select

from approvals.desk import ledger
from approvals.procedure.permissions import Actor
from approvals.record import audit
from approvals.record.calendar import local_date
from approvals.record.models import Place
from approvals.web.download import XLSX, file_name, send
from approvals.web.session import at_desk, now, services, session_scope, signed_in

bp = Blueprint("ledger", __name__)


@bp.get("/ledger")
@signed_in
def ledger_page(actor: Actor) -> Any:
    at_desk(actor)
    config = services().config
    with session_scope() as s:
        places = s.execute(select(Place.id, Place.name, Place.level).where(
            Place.path.startswith(actor.place_path)).order_by(Place.path)).all()
        own = s.scalar(select(Place.id).where(Place.path == actor.place_path))
    chosen = request.args.get("place", type=int)  # the dashboard's scope, when it has one
    return render_template("ledger.html", places=places,
                           own=chosen if chosen in {p.id for p in places} else own,
                           stages=config.stage_labels())


@bp.get("/ledger.xlsx")
@signed_in
def ledger_xlsx(actor: Actor) -> Any:
    at_desk(actor)
    config = services().config
    stage = request.args.get("stage") or ""
    scope = ledger.Scope(place_id=request.args.get("place", type=int) or 0,
                         stage=stage if stage in config.stage_labels() else None,
                         overdue=request.args.get("overdue") == "1",
                         monitored_only=request.args.get("monitored") == "1")
    labels = ledger.Labels(config.categories, config.risk_types)
    out = io.BytesIO()
    with session_scope() as s:
        place = s.get(Place, scope.place_id)
        count = ledger.write(out, f"{place.name if place else ''}防返贫监测台账", ledger.rows(
            s, actor, scope, labels, now(),
            full_ids=actor.role in config.workbench.personal_data_roles), chain=audit.head(s),
            levels=config.levels)
    day = local_date(now())
    return send(out.getvalue(), file_name("台账", place.name if place else "", day=day,
                                          suffix=".xlsx"),
                f"ledger-{scope.place_id}-{day}.xlsx", XLSX, headers={"X-Rows": str(count)})
