"""The supervisors' dashboard (督导): figures with ECharts and, under every figure, the list
of cases it counts, each stuck case saying why."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, render_template, request

from approvals.desk import dashboard
from approvals.procedure.permissions import Actor
from approvals.record.definitions import Level
from approvals.record.errors import NotAllowed
from approvals.record.models import Source
from approvals.web.session import now, services, session_scope, signed_in

bp = Blueprint("dashboard", __name__)


def _supervisor(actor: Actor) -> Actor:
    if actor.level not in ("township", "county"):
        levels = services().config.levels
        raise NotAllowed(f"督导看板供{levels[Level.TOWNSHIP]}和{levels[Level.COUNTY]}级人员使用。")
    return actor


def _labels() -> dict[str, str]:
    """The stages of all procedures, for the figures and the filter (each case in the list is
    labelled by its own definition)."""
    return services().config.stage_labels()


@bp.get("/dashboard")
@signed_in
def index(actor: Actor) -> Any:
    _supervisor(actor)
    place = request.args.get("place", type=int)
    with session_scope() as s:
        figures = dashboard.figures(s, actor, now(), place_id=place)
        places = dashboard.places(s, actor)
    labels = _labels()
    charts = {"stage": [list(labels.values()), [figures["by_stage"].get(k, 0) for k in labels]],
              "place": [[name for _, name, _ in figures["by_place"]],
                        [n for _, _, n in figures["by_place"]]],
              "age": [[label for _, _, label in dashboard.AGES], figures["ages"]],
              "week": [[f"{d.month}/{d.day}" for d, *_ in figures["weekly"]],
                       *([w[i] for w in figures["weekly"]] for i in (1, 2, 3))]}
    return render_template("dashboard.html", f=figures, labels=labels, ages=dashboard.AGES,
                           places=places, place=place, charts=charts, week=dt.timedelta(days=6))


def _date(key: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(key, ""))
    except ValueError:
        return None


@bp.get("/dashboard/cases")
@signed_in
def cases(actor: Actor) -> Any:
    _supervisor(actor)
    config = services().config
    args = request.args
    stage = args.get("stage")
    filters = dashboard.Filters(
        place_id=args.get("place", type=int), cadre_id=args.get("cadre", type=int),
        stage=stage if stage in _labels() else None,
        overdue=args.get("overdue") == "1", age=args.get("age", type=int),
        category=args.get("category") or None,
        risk=args.get("risk") if args.get("risk") in config.risk_types else None,
        source=args.get("source") or None, opened_from=_date("from"), opened_to=_date("to"),
        sort=args.get("sort", "due"), page=max(1, args.get("page", 1, type=int)))
    with session_scope() as s:
        rows, total = dashboard.cases(s, actor, now(), services().calendar, filters,
                                      {k: r.label for k, r in config.roles.items()})
        places = dashboard.places(s, actor)
    return render_template(
        "dashboard_cases.html", rows=rows, total=total, filters=filters, places=places,
        labels=_labels(), categories=config.categories, risks=config.risk_types,
        sources={Source.WECHAT.value: "农户自主申报", Source.CADRE_VISIT.value: "干部走访排查",
                 Source.SCREENING.value: "部门筛查预警", Source.VILLAGE_LIST.value:
                 f"{config.levels[Level.VILLAGE]}提出名单"},
        ages=dashboard.AGES, pages=(min(total, dashboard.COUNT_CAP) + dashboard.PAGE - 1)
        // dashboard.PAGE, capped=total > dashboard.COUNT_CAP,
        args={k: v for k, v in args.items() if k != "page" and v})
