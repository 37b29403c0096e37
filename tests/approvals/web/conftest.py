"""The phone pages' rig: the real app on real HTTP on 127.0.0.1, Debian's Chromium driven by
Playwright in a phone viewport, and a Flask client for the authorisation matrix."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.serving import make_server

from approvals.record.db import session_scope
from approvals.record.models import Cadre
from fangfan.app import create_app
from fangfan.services import Services
from tests.bot.fake_api import FakeWeChatApi

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def app(services: Services) -> Flask:
    return create_app(services)


@pytest.fixture
def site(app: Flask) -> Iterator[str]:
    yield from serve_app(app)


@pytest.fixture
def wechat(services: Services, fake_api: FakeWeChatApi) -> FakeWeChatApi:
    """Production settings: WeChat's sign-in pages and API are the fake's."""
    url = services.config.wechat.api_base_url
    wechat = services.config.wechat.model_copy(update={"oauth_base_url": url})
    services.config = services.config.model_copy(update={"wechat": wechat, "dev_mode": False})
    return fake_api


def serve_app(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def production_site(services: Services, wechat: FakeWeChatApi) -> Iterator[str]:
    yield from serve_app(create_app(services))


@pytest.fixture
def phone(browser: object, site: str) -> Iterator[object]:
    """A phone (390 × 844, Chinese) with the site open."""
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 390, "height": 844}, locale="zh-CN", timezone_id="Asia/Shanghai",
        base_url=site, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def shot(page: object, name: str) -> None:
    """Kept as a test artifact (tests/artifacts/), for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def cadre_id(name: str) -> int:
    with session_scope() as s:
        return s.scalars(select(Cadre.id).where(Cadre.name == name)).one()


@dataclass
class Desk:
    """A cadre's browser session without a browser (Flask's client), for the matrix."""

    client: FlaskClient
    token: str = ""

    def signs_in(self, cadre: int) -> Desk:
        page = self.client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        res = self.client.post("/login/dev", data={"csrf_token": token, "cadre_id": cadre})
        assert res.status_code == 302
        inbox = self.client.get("/inbox").text
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', inbox).group(1)  # type: ignore[union-attr]
        return self

    def post(self, url: str, **data: object) -> object:
        return self.client.post(url, data={"csrf_token": self.token, **data})

    def get(self, url: str) -> object:
        return self.client.get(url)


@pytest.fixture
def desk(app: Flask) -> Desk:
    return Desk(app.test_client())
