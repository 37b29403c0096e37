"""The supervisors' dashboard (督导): figures with ECharts and, under every figure, the list
of cases it counts, each stuck case saying why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from approvals.desk import dashboard, imports
from approvals.procedure.permissions import Actor
from approvals.record.definitions import Level
from approvals.record.errors import NotAllowed
from approvals.record.models import Cadre, Source
from approvals.web.session import at_desk, now, services, session_scope, signed_in

bp = Blueprint("dashboard", __name__)


def _supervisor(actor: Actor) -> Actor:
    if actor.level not in ("township", "county"):
        levels = services().config.levels
        raise NotAllowed(f"督导看板供{levels[Level.TOWNSHIP]}和{levels[Level.COUNTY]}级人员使用。")
    return actor


def _may(check: Callable[[Actor], object], actor: Actor) -> bool:
    """Whether the page behind a link would let the actor in: the link asks the page's own
    check, so the dashboard never offers what it would refuse."""
    try:
        check(actor)
    except NotAllowed:
        return False
    return True


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
    may = {"ledger": _may(at_desk, actor), "import": _may(imports.ensure_may_import, actor)}
    return render_template("dashboard.html", f=figures, labels=labels, ages=dashboard.AGES,
                           places=places, place=place, charts=charts, week=dt.timedelta(days=6),
                           may=may)


def _date(key: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(request.args.get(key, "")[:10])
    except ValueError:
        return None


SORTS = {"due": "期限最早在前", "opened": "申请最早在前", "age": "在本环节最久在前"}


def _sources() -> dict[str, str]:
    levels = services().config.levels
    return {Source.WECHAT.value: "农户自主申报", Source.CADRE_VISIT.value: "干部走访排查",
            Source.SCREENING.value: "部门筛查预警",
            Source.VILLAGE_LIST.value: f"{levels[Level.VILLAGE]}提出名单"}


def _filters(places: list[tuple[int, str, str]]) -> dashboard.Filters:
    """The list's filters from the query, each checked against what it may be: a value the
    form could not show (a place outside the jurisdiction, an unknown stage) is dropped rather
    than silently filtering."""
    config, args = services().config, request.args

    def one_of(key: str, allowed: Any) -> str | None:
        value = args.get(key) or None
        return value if value in allowed else None

    place, age = args.get("place", type=int), args.get("age", type=int)  # bounded (inputs)
    return dashboard.Filters(
        place_id=place if place in {p for p, _, _ in places} else None,
        cadre_id=args.get("cadre", type=int), stage=one_of("stage", _labels()),
        overdue=args.get("overdue") == "1",
        age=age if age is not None and 0 <= age < len(dashboard.AGES) else None,
        category=one_of("category", config.categories), risk=one_of("risk", config.risk_types),
        source=one_of("source", _sources()), opened_from=_date("from"), opened_to=_date("to"),
        sort=one_of("sort", SORTS) or "due",
        page=max(1, args.get("page", 1, type=int)))


def _kept(f: dashboard.Filters) -> dict[str, Any]:
    """The filters as the query says them: what the pager, the chips and the form carry."""
    kept = {"place": f.place_id, "stage": f.stage, "overdue": 1 if f.overdue else None,
            "cadre": f.cadre_id, "age": f.age, "category": f.category, "risk": f.risk,
            "source": f.source, "from": f.opened_from and f.opened_from.isoformat(),
            "to": f.opened_to and f.opened_to.isoformat(),
            "sort": f.sort if f.sort != "due" else None}
    return {k: v for k, v in kept.items() if v is not None}


def _chips(f: dashboard.Filters, kept: dict[str, Any], places: list[tuple[int, str, str]],
           cadre: str | None) -> list[tuple[str, str, str]]:
    """(key, what it says, the list without it) for every filter set, however it was set: a
    drill-down from a figure shows what it chose, and one tap takes it away."""
    config = services().config
    said = {"place": dict((p, n) for p, n, _ in places).get(f.place_id or 0),
            "stage": f.stage and f"环节：{_labels()[f.stage]}",
            "overdue": f.overdue and "只看超期",
            "cadre": f.cadre_id and f"经办人：{cadre or '不在册'}",
            "age": f.age is not None and f"在本环节{dashboard.AGES[f.age][2]}",
            "category": f.category and f"类别：{config.categories[f.category]}",
            "risk": f.risk and f"风险类型：{config.risk_types[f.risk]}",
            "source": f.source and f"来源：{_sources()[f.source]}",
            "from": (f.opened_from or f.opened_to) and
            f"申请日期：{f.opened_from or ''}至{f.opened_to or ''}"}
    chips = []
    for key, text in said.items():
        if text:
            gone = {"from", "to"} if key == "from" else {key}
            rest = {k: v for k, v in kept.items() if k not in gone}
            chips.append((key, str(text), url_for("approvals.dashboard.cases", **rest)))
    return chips


@bp.get("/dashboard/cases")
@signed_in
def cases(actor: Actor) -> Any:
    _supervisor(actor)
    config = services().config
    with session_scope() as s:
        places = dashboard.places(s, actor)
        filters = _filters(places)
        rows, total = dashboard.cases(s, actor, now(), services().calendar, filters,
                                      {k: r.label for k, r in config.roles.items()})
        cadre = s.scalar(select(Cadre.name).where(Cadre.id == filters.cadre_id)) \
            if filters.cadre_id else None
    pages = (min(total, dashboard.COUNT_CAP) + dashboard.PAGE - 1) // dashboard.PAGE
    kept = _kept(filters)
    if not rows and total and filters.page > max(1, pages):  # past the end: the last page
        return redirect(url_for("approvals.dashboard.cases", **kept, page=max(1, pages)))
    return render_template(
        "dashboard_cases.html", rows=rows, total=total, filters=filters, places=places,
        labels=_labels(), categories=config.categories, risks=config.risk_types,
        sources=_sources(), sorts=SORTS, pages=pages,
        ages_options=[(i, label) for i, (_, _, label) in enumerate(dashboard.AGES)],
        capped=total > dashboard.COUNT_CAP, args=kept,
        chips=_chips(filters, kept, places, cadre))
