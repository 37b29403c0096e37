"""The pages as tests reach them: the real app served on 127.0.0.1, a cadre's session through
Flask's client (`Desk`) or over real HTTP (`Browser`), cadres looked up by name or post, and
screenshots kept for people to look at."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.serving import make_server

from approvals.record.models import Cadre, Place
from tests.db import session_scope

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def serve_app(app: Flask) -> Iterator[str]:
    """Serves `app` on a free port of 127.0.0.1 until the generator is closed; its URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def cadre_id(name: str) -> int:
    with session_scope() as s:
        return s.scalars(select(Cadre.id).where(Cadre.name == name)).one()


def cadre(role: str, place: str | None = None) -> int:
    """The first cadre of `role` (at `place`, if named)."""
    with session_scope() as s:
        q = select(Cadre.id).join(Place).where(Cadre.role == role)
        return s.scalars((q.where(Place.name == place) if place else q).order_by(Cadre.id)).first()


def shot(page: object, name: str) -> None:
    """Kept as a test artifact (tests/artifacts/), for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def board() -> tuple[io.BytesIO, str]:
    """A photo of the notice on the board, as a form's file field (a JPEG by its bytes)."""
    return io.BytesIO(b"\xff\xd8\xff\xe0" + b"board" * 100 + b"\xff\xd9"), "board.jpg"


@dataclass
class Desk:
    """A cadre's browser session without a browser (Flask's client), for the matrix."""

    client: FlaskClient
    token: str = ""

    def signs_in(self, cadre: int) -> Desk:
        page = self.client.get("/login").text
        token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
        res = self.client.post("/login/dev", data={"csrf_token": token, "cadre_id": cadre})
        assert res.status_code == 302
        inbox = self.client.get("/inbox").text
        self.token = TOKEN.search(inbox).group(1)  # type: ignore[union-attr]
        return self

    def post(self, url: str, **data: object) -> object:
        return self.client.post(url, data={"csrf_token": self.token, **data})

    def get(self, url: str) -> object:
        return self.client.get(url)


@dataclass
class Browser:
    """A cadre's (or nobody's) browser against a served site, over real HTTP (requests)."""

    site: str
    http: requests.Session
    token: str = ""

    def get(self, path: str, **kw: object) -> requests.Response:
        return self.http.get(self.site + path, allow_redirects=False, timeout=30, **kw)

    def post(self, path: str, data: dict[str, object] | None = None,
             **kw: object) -> requests.Response:
        return self.http.post(self.site + path, data={"csrf_token": self.token, **(data or {})},
                              allow_redirects=False, timeout=30, **kw)


def anonymous(site: str) -> Browser:
    return Browser(site, requests.Session())


def signed_in(site: str, cadre_id: int) -> Browser:
    """A browser signed in as `cadre_id` through the demo sign-in, with a page's CSRF token."""
    browser = anonymous(site)
    token = TOKEN.search(browser.get("/login").text).group(1)  # type: ignore[union-attr]
    res = browser.http.post(f"{site}/login/dev", data={"csrf_token": token, "cadre_id": cadre_id},
                            allow_redirects=False, timeout=30)
    assert res.status_code == 302, res.text
    browser.token = TOKEN.search(browser.get("/inbox").text).group(1)  # type: ignore[union-attr]
    return browser
