"""How a file leaves the pages: under a Chinese name (RFC 5987 `filename*`, which every
current browser reads), with an ASCII `filename` for the few clients that do not. Every
download of approvals/web goes through `send`, so no page can forget either name."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

from flask import Response

# The example files of the imports (approvals/desk/examples), by the name a cadre saves them as
EXAMPLE_NAMES = {"roster.csv": "户籍名单导入样例.csv", "cadres.csv": "干部名单导入样例.csv",
                 "pairings.csv": "结对帮扶导入样例.csv"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# what may stand in the quoted ASCII name: no quote, backslash, control or non-ASCII character
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def file_name(*parts: str, day: dt.date | None = None, suffix: str) -> str:
    """A saved file's name as the pages give it: its parts and the day, joined by "_"
    (台账_示范县_2026-12-03.xlsx), so a folder of downloads sorts by kind, place and day."""
    named = [p for p in parts if p] + ([day.isoformat()] if day else [])
    return "_".join(named) + suffix


def disposition(name: str, fallback: str, *, inline: bool = False) -> str:
    """The Content-Disposition header for a file named `name` (Chinese); `fallback` is the
    ASCII name for clients without RFC 5987 (anything else in it becomes "_")."""
    kind = "inline" if inline else "attachment"
    return (f"{kind}; filename=\"{_UNSAFE.sub('_', fallback)}\"; "
            f"filename*=UTF-8''{quote(name, safe='')}")


def send(data: bytes, name: str, fallback: str, mimetype: str, *, inline: bool = False,
         headers: dict[str, str] | None = None) -> Response:
    """A file for the browser to save (or, `inline`, to show) as `name` (the app marks it
    no-store, as every page: a second tap on 下载 fetches it afresh)."""
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": disposition(name, fallback, inline=inline), **(headers or {})})


def named(response: Response, name: str, fallback: str, *, inline: bool = False) -> Response:
    """`response` (a file Flask's send_file streams, say) saved as `name`, as `send` names."""
    response.headers["Content-Disposition"] = disposition(name, fallback, inline=inline)
    return response
