"""The real app on real HTTP on 127.0.0.1 for the web security tests, and a cadre's browser
session there (requests, with the CSRF token of the pages)."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from approvals.record.db import session_scope
from approvals.record.models import Cadre, Place
from fangfan.app import create_app
from fangfan.services import Services

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def site(services: Services) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line a request is noise here
    server = make_server("127.0.0.1", 0, create_app(services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@dataclass
class Browser:
    """A cadre's (or nobody's) browser against the site."""

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
    browser = anonymous(site)
    token = TOKEN.search(browser.get("/login").text).group(1)  # type: ignore[union-attr]
    res = browser.http.post(f"{site}/login/dev", data={"csrf_token": token, "cadre_id": cadre_id},
                            allow_redirects=False, timeout=30)
    assert res.status_code == 302, res.text
    browser.token = TOKEN.search(browser.get("/inbox").text).group(1)  # type: ignore[union-attr]
    return browser


def cadre(role: str, place: str | None = None) -> int:
    with session_scope() as s:
        q = select(Cadre.id).join(Place).where(Cadre.role == role)
        return s.scalars((q.where(Place.name == place) if place else q).order_by(Cadre.id)).first()
