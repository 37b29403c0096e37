"""The web pages of approvals/: the cadres' phone workbench and its start page.

One blueprint for the package, with a child per area; refusals of the domain become Chinese
pages: outside one's jurisdiction or role is a 403 page, an unknown case a 404 page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, render_template, request
from jinja2 import ChoiceLoader, FileSystemLoader, FunctionLoader

from approvals.context import Context
from approvals.procedure import stages
from approvals.record import wording
from approvals.record.calendar import LOCAL, local_date, shown_due
from approvals.record.errors import NotAllowed, NotFound
from approvals.web import (
    assets,
    batch,
    casefile,
    dashboard,
    filing,
    handover,
    household,
    imports,
    inbox,
    ledger,
    notices,
    overview,
    screening,
    signin,
)
from approvals.web.session import (
    EXTENSION,
    Answered,
    SignedOut,
    current_actor,
    services,
    to_sign_in,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _stage_partial(name: str) -> tuple[str, str, Callable[[], bool]] | None:
    """`stages/<key>.html`: the partial the stage's module names, wherever it keeps it."""
    key = name.removeprefix("stages/").removesuffix(".html")
    if not name.startswith("stages/") or "/" in key or key.startswith("_"):
        return None
    try:
        path = stages.of(key).partial
    except KeyError:
        return None
    mtime = path.stat().st_mtime
    return path.read_text(encoding="utf-8"), str(path), lambda: path.stat().st_mtime == mtime


bp = Blueprint("approvals", __name__, template_folder="templates")
bp.jinja_loader = ChoiceLoader([FunctionLoader(_stage_partial), FileSystemLoader(TEMPLATES)])
for child in (assets.bp, signin.bp, inbox.bp, batch.bp, casefile.bp, household.bp, filing.bp,
              handover.bp, notices.bp, ledger.bp, imports.bp, dashboard.bp, overview.bp,
              screening.bp):
    bp.register_blueprint(child)


def install(app: Flask, context: Context) -> None:
    """Give the app's pages their Context; before `bp` is registered, whose sign-in pages
    set up their rate limiter from it."""
    app.extensions[EXTENSION] = context
    app.before_request(_upload_bounds)  # before the CSRF check, which parses the form


def _upload_bounds() -> None:
    """The screening upload's six department files may be far larger than the app's bound
    for photos (config.yaml screening.max_file_mb each; each file is checked on its own)."""
    if request.endpoint == screening.UPLOAD_ENDPOINT:
        request.max_content_length = screening.upload_limit()


@bp.app_template_filter("localdate")
def _localdate(moment: dt.datetime) -> str:
    return local_date(moment).isoformat()


@bp.app_template_filter("due")
def _due(moment: dt.datetime) -> str:
    """A deadline as every page and message says it (calendar.shown_due): 12月7日."""
    return shown_due(moment)


@bp.app_template_filter("moment")
def _moment(moment: dt.datetime) -> str:
    """A moment in Beijing time as the pages say it: 12月3日 10:05."""
    local = moment.astimezone(LOCAL)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


@bp.app_template_filter("weekday")
def _weekday(day: dt.date) -> str:
    """周一 … 周日."""
    return "周" + "一二三四五六日"[day.weekday()]


@bp.app_template_filter("monthday")
def _monthday(day: dt.date | str) -> str:
    """A day as the pages say it beside a deadline (12月3日), from a date or its ISO text."""
    day = dt.date.fromisoformat(day) if isinstance(day, str) else day
    return f"{day.month}月{day.day}日"


@bp.app_template_filter("labels")
def _labels(keys: list[str], names: dict[str, str]) -> str:
    return "、".join(names.get(k, k) for k in keys)


@bp.app_context_processor
def _globals() -> dict[str, Any]:
    return {"me": current_actor, "levels": services().config.levels,
            "MONITORING": wording.MONITORING, "CASE_STATUS": wording.CASE_STATUS,
            "CASE_KIND": wording.CASE_KIND, "REJECTION": wording.REJECTION,
            "case_status": wording.case_status}


@bp.app_errorhandler(Answered)
def _answered(err: Answered) -> Any:
    return err.response


@bp.app_errorhandler(SignedOut)
def _signed_out(_err: SignedOut) -> Any:
    return to_sign_in()


@bp.app_errorhandler(NotAllowed)
def _not_allowed(err: NotAllowed) -> Any:
    return render_template("message.html", title="无权操作", text=str(err)), 403


@bp.app_errorhandler(NotFound)
def _not_found(err: NotFound) -> Any:
    return render_template("message.html", title="没有找到", text=str(err)), 404


# Flask's own errors, each a Chinese page: (title, sentence)
HTTP_ERRORS = {
    404: ("没有找到", "您要找的页面不存在，可能链接有误。"),
    405: ("无法打开", "请从页面上的按钮或链接进入。"),
    413: ("文件太大", "上传的照片或文件太大（合计不超过40MB），请压缩或分几次上传。"),
    500: ("系统出错", "系统暂时出错，您刚才的操作可能没有保存，请稍后再试；"
                      "如一再出现，请联系系统管理员。"),
}


def _http_error(code: int) -> Any:
    title, text = HTTP_ERRORS[code]

    def page(_err: Any) -> Any:
        said = text
        if code == 413 and request.endpoint == screening.UPLOAD_ENDPOINT:  # its own bound
            each = services().config.screening.max_file_mb
            said = f"上传的部门数据文件太大（每个不超过{each}MB），请分批导出或联系系统管理员。"
        return render_template("message.html", title=title, text=said), code
    return page


for _code in HTTP_ERRORS:
    bp.app_errorhandler(_code)(_http_error(_code))


@bp.app_errorhandler(400)
def _bad_request(err: Any) -> Any:
    text = getattr(err, "description", "") or ""
    if "CSRF" in text:  # Flask-WTF: a form from an old page, or not from our page at all
        text = "页面已过期，请返回刷新后重新提交。"
    else:
        text = "提交的内容有误，请返回检查后重新提交。"
    return render_template("message.html", title="无法提交", text=text), 400
