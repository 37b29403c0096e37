"""The phone pages' fixtures: the real app on real HTTP on 127.0.0.1 (in dev mode, or in
production with the fake WeChat's sign-in), Debian's Chromium driven by Playwright in a phone
viewport, and a Flask client for the authorisation matrix (tests/support/web.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from fangfan.app import create_app
from fangfan.services import Services
from tests.bot.fake_api import FakeWeChatApi
from tests.support.web import Desk, serve_app


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


@pytest.fixture
def desk(app: Flask) -> Desk:
    return Desk(app.test_client())
