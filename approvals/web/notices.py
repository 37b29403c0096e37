"""The village's public notice (公示) for the board: as a page to print and as a PDF."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from approvals.procedure import notices
from approvals.procedure.permissions import Actor
from approvals.record.calendar import local_date
from approvals.web import fonts
from approvals.web.download import file_name, send
from approvals.web.session import now, services, session_scope, signed_in

bp = Blueprint("notices", __name__)


def _notice_page(actor: Actor, village_id: int) -> tuple[str, str]:
    """The notice as a page, and its village's name (the PDF is saved under it)."""
    config = services().config
    with session_scope() as s:
        notice = notices.village_notice(s, village_id, actor,
                                        categories=config.categories,
                                        public_reasons=config.notice.public_reasons)
    kinds = sorted({line.kind for line in notice.lines}, key=["识别纳入", "风险消除"].index)
    return render_template("notice.html", n=notice, village_id=village_id,
                           kinds=["识别" if k == "识别纳入" else k for k in kinds],
                           objection_to=config.notice.objection_to,
                           hotline=config.notice.hotline, today=local_date(now())
                           ), notice.village


@bp.get("/notices")
@signed_in
def index(actor: Actor) -> Any:
    """The villages with households in 公示 now, by name, each opening its notice."""
    with session_scope() as s:
        villages = notices.on_notice(s, actor)
    return render_template("notices.html", villages=villages)


@bp.get("/notices/<int:village_id>")
@signed_in
def notice(actor: Actor, village_id: int) -> Any:
    return _notice_page(actor, village_id)[0]


@bp.get("/notices/<int:village_id>.pdf")
@signed_in
def notice_pdf(actor: Actor, village_id: int) -> Any:
    page, village = _notice_page(actor, village_id)
    if not fonts.chinese_font():  # a PDF of boxes is worse than none
        return render_template("message.html", title="暂时无法生成PDF", text=fonts.MISSING), 503
    try:
        from weasyprint import HTML  # needs pango from the system (Debian's libpango)
    except OSError:
        return render_template("message.html", title="暂时无法生成PDF",
                               text="服务器缺少排版组件，请使用本页的“打印”功能。"), 503
    pdf = HTML(string=page).write_pdf()
    day = local_date(now())
    return send(pdf, file_name("公示", village, day=day, suffix=".pdf"),
                f"notice-{village_id}-{day}.pdf", "application/pdf", inline=True)
