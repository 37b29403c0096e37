"""The pages' stylesheet (WeUI, npm `weui`) and the dashboard's charts (ECharts, npm
`echarts`), vendored by `make assets` and served by the app itself: gzipped once per process
and cached by the phone for a year (the name carries the version), so a page on a weak
network costs only its own HTML after the first visit."""

from __future__ import annotations

import gzip
import hashlib
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, abort, request, url_for

bp = Blueprint("assets", __name__)
VENDOR = Path(__file__).parent / "static" / "vendor"
WEUI = "weui-2.6.26.min.css"
ECHARTS = "echarts-6.1.0.min.js"  # the supervisors' dashboard only
OWN = ("fangfan.css", "fangfan.js")  # the pages' own (a script file: no inline script)


@cache
def _compressed(name: str) -> tuple[bytes, bytes]:
    raw = (VENDOR.parent / name if name in OWN else VENDOR / name).read_bytes()
    return raw, gzip.compress(raw, 9, mtime=0)


@bp.get("/assets/<name>")
def asset(name: str) -> Response:
    if name not in (WEUI, ECHARTS, *OWN):
        abort(404)
    raw, packed = _compressed(name)
    gz = "gzip" in request.headers.get("Accept-Encoding", "")
    res = Response(packed if gz else raw,
                   mimetype="text/javascript" if name.endswith(".js") else "text/css")
    if gz:
        res.headers["Content-Encoding"] = "gzip"
    res.headers["Vary"] = "Accept-Encoding"
    res.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return res


@bp.app_template_global()
def asset_url(name: str) -> str:
    """The URL of an asset. The pages' own files, whose names carry no version, get their
    content's digest in the query: cached for a year like the vendored ones, yet a changed
    fangfan.js reaches every phone on its next page."""
    if name not in OWN:
        return url_for("approvals.assets.asset", name=name)
    return url_for("approvals.assets.asset", name=name, v=_digest(name))


@cache
def _digest(name: str) -> str:
    return hashlib.sha256(_compressed(name)[0]).hexdigest()[:12]
