"""The county's imports: the roster, cadres and pairings, all or nothing, every bad row told;
and the example files in the layout the import expects."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from approvals.desk import examples, imports
from approvals.procedure.permissions import Actor
from approvals.record.errors import NotFound
from approvals.web.download import EXAMPLE_NAMES, send
from approvals.web.session import now, services, session_scope, signed_in

bp = Blueprint("imports", __name__)

IMPORT_KINDS = {"roster": "花名册（户和成员）", "cadres": "干部名单", "pairings": "结对帮扶"}


@bp.route("/import", methods=["GET", "POST"])
@signed_in
def import_page(actor: Actor) -> Any:
    """County admins upload a roster, cadres or pairings: all or nothing, every bad row told."""
    imports.ensure_may_import(actor)
    result, error, kind = None, None, request.form.get("kind", "roster")
    named = imports.headers(services().config.levels)  # 乡镇/村 as this place names them
    if request.method == "POST":
        upload = request.files.get("file")
        if kind not in IMPORT_KINDS or upload is None or not upload.filename:
            error = "请选择名单类型和文件。"
        else:
            try:
                rows = imports.read_upload(upload.stream, upload.filename,
                                           imports.COLUMNS[kind],
                                           services().config.import_limits(), named)
            except imports.BadFile as err:
                error = str(err)
            else:
                with session_scope() as s:
                    result = imports.run(s, kind, rows, actor, now=now(),
                                         roles=services().config.roles)
                    if not result.ok:
                        s.rollback()
    status = 400 if error or (result and not result.ok) else 200
    return render_template("import.html", kinds=IMPORT_KINDS, kind=kind, result=result,
                           error=error, named=named), status


@bp.get("/import/examples/<name>")
@signed_in
def example(_actor: Actor, name: str) -> Any:
    """The example files shipped with the package, in the layout the import expects."""
    if name not in examples.NAMES:
        raise NotFound("没有这个样例文件。")
    named = imports.headers(services().config.levels)
    return send(examples.read(name, named), EXAMPLE_NAMES[name], name, "text/csv")
