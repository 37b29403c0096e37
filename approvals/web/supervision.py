"""The county's and township's desk: the village notice for print and as a PDF, the ledger
(台账) as Excel, and the roster import."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, render_template, request, send_file
from sqlalchemy import select

from approvals import audit, imports, ledger, notices
from approvals.calendar import local_date
from approvals.db import session_scope
from approvals.definitions import Stage
from approvals.errors import NotAllowed, NotFound
from approvals.models import Place
from approvals.web.session import current_actor, now, services, signed_in

bp = Blueprint("supervision", __name__)
EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def _notice_page(village_id: int) -> str:
    config = services().config
    with session_scope() as s:
        notice = notices.village_notice(s, village_id, current_actor(),
                                        categories=config.categories,
                                        public_reasons=config.notice.public_reasons)
    kinds = sorted({line.kind for line in notice.lines}, key=["识别纳入", "风险消除"].index)
    return render_template("notice.html", n=notice, village_id=village_id,
                           kinds=["识别" if k == "识别纳入" else k for k in kinds],
                           objection_to=config.notice.objection_to,
                           hotline=config.notice.hotline, today=local_date(now()))


@bp.get("/notices/<int:village_id>")
@signed_in
def notice(village_id: int) -> Any:
    return _notice_page(village_id)


@bp.get("/notices/<int:village_id>.pdf")
@signed_in
def notice_pdf(village_id: int) -> Any:
    page = _notice_page(village_id)
    try:
        from weasyprint import HTML  # needs pango from the system (Debian's libpango)
    except OSError:
        return render_template("message.html", title="暂时无法生成PDF",
                               text="服务器缺少排版组件，请使用本页的“打印”功能。"), 503
    pdf = HTML(string=page).write_pdf()
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f"inline; filename=notice-{village_id}.pdf"})


DESK_LEVELS = ("township", "county")


def _desk_actor() -> Any:
    actor = current_actor()
    if actor.level not in DESK_LEVELS:
        raise NotAllowed("台账导出和名单导入由乡镇和县级人员办理。")
    return actor


@bp.get("/ledger")
@signed_in
def ledger_page() -> Any:
    actor = _desk_actor()
    config = services().config
    with session_scope() as s:
        places = s.execute(select(Place.id, Place.name, Place.level).where(
            Place.path.startswith(actor.place_path)).order_by(Place.path)).all()
        own = s.scalar(select(Place.id).where(Place.path == actor.place_path))
    stages = config.procedures["identification"].stages
    return render_template("ledger.html", places=places, own=own,
                           stages={k.value: v.label for k, v in stages.items()})


@bp.get("/ledger.xlsx")
@signed_in
def ledger_xlsx() -> Any:
    actor = _desk_actor()
    config = services().config
    stage = request.args.get("stage")
    scope = ledger.Scope(place_id=request.args.get("place", type=int) or 0,
                         stage=Stage(stage) if stage in Stage.__members__.values() else None,
                         overdue=request.args.get("overdue") == "1",
                         monitored_only=request.args.get("monitored") == "1")
    labels = ledger.Labels(config.categories, config.risk_types, {
        k.value: v.label for k, v in config.procedures["identification"].stages.items()})
    out = io.BytesIO()
    with session_scope() as s:
        place = s.get(Place, scope.place_id)
        count = ledger.write(out, f"{place.name if place else ''}防返贫监测台账", ledger.rows(
            s, actor, scope, labels, now(),
            full_ids=actor.role in config.workbench.personal_data_roles), chain=audit.head(s))
    name = f"ledger-{scope.place_id}-{local_date(now()):%Y%m%d}.xlsx"
    return Response(out.getvalue(), headers={
        "Content-Disposition": f"attachment; filename={name}", "X-Rows": str(count)},
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


IMPORT_KINDS = {"roster": "花名册（户和成员）", "cadres": "干部名单", "pairings": "结对帮扶"}


@bp.route("/import", methods=["GET", "POST"])
@signed_in
def import_page() -> Any:
    """County admins upload a roster, cadres or pairings: all or nothing, every bad row told."""
    actor = current_actor()
    imports.ensure_may_import(actor)
    result, error, kind = None, None, request.form.get("kind", "roster")
    if request.method == "POST":
        upload = request.files.get("file")
        if kind not in IMPORT_KINDS or upload is None or not upload.filename:
            error = "请选择名单类型和文件。"
        else:
            try:
                rows = imports.read_upload(upload.stream, upload.filename,
                                           imports.COLUMNS[kind],
                                           services().config.import_limits())
            except imports.BadFile as err:
                error = str(err)
            else:
                with session_scope() as s:
                    result = imports.run(s, kind, rows, actor, now=now(), role_labels={
                        k: r.label for k, r in services().config.roles.items()})
                    if not result.ok:
                        s.rollback()
    status = 400 if error or (result and not result.ok) else 200
    return render_template("import.html", kinds=IMPORT_KINDS, kind=kind, result=result,
                           error=error), status


@bp.get("/import/examples/<name>")
@signed_in
def example(name: str) -> Any:
    """The example files shipped in docs/examples/, in the layout the import expects."""
    if name not in ("roster.csv", "cadres.csv", "pairings.csv"):
        raise NotFound("没有这个样例文件。")
    return send_file(EXAMPLES / name, mimetype="text/csv", as_attachment=True)
