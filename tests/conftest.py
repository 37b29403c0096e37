"""The fixtures every test may use: a real database (SQLite file, or FANGFAN_TEST_DATABASE_URL),
migrated with Alembic once per run and emptied after each test; a clock tests move; the demo
county (`world`, tests/support/world.py); Prefect, the fake WeChat API, Chromium."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from approvals.record.calendar import FixedClock
from approvals.record.db import Base, Database
from fangfan import config as config_module
from fangfan.config import Config
from fangfan.database import make_engine, upgrade
from fangfan.demo import roster
from fangfan.services import Services
from fangfan.settings import ROOT, Settings
from tests import db as test_db
from tests.bot.fake_api import FakeWeChatApi, serve
from tests.db import session_scope
from tests.support.world import START, World


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("FANGFAN_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    if make_url(database_url).get_backend_name() == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    test_db.install(Database(engine))
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START.astimezone(dt.UTC))


@pytest.fixture
def config() -> Config:
    return config_module.load(ROOT / "config.yaml")


@pytest.fixture
def services(engine: Engine, clock: FixedClock, config: Config, database_url: str,
             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    anchors = tmp_path / "audit-anchors.log"  # this test's, for the commands it runs too
    monkeypatch.setenv("FANGFAN_AUDIT_ANCHORS", str(anchors))
    settings = Settings(database_url=database_url, config_path=ROOT / "config.yaml", port=0,
                        prefect_api_url=None, config_overrides={}, media_dir=tmp_path / "media",
                        anchor_path=anchors, screening_dir=tmp_path / "screening")
    services = Services(settings, config, engine, clock, config.work_calendar())
    yield services
    services.close()
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def world(services: Services, clock: FixedClock) -> World:
    with session_scope() as s:
        roster(s, services)
    return World(services, clock)


@pytest.fixture(scope="session")
def prefect() -> Iterator[None]:
    """A real Prefect API (temporary server) for the tests that run flows as flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def fake_api(services: Services) -> Iterator[FakeWeChatApi]:
    """The fake WeChat API on 127.0.0.1, and the services pointed at it."""
    mp = services.config.wechat.mp
    api = FakeWeChatApi(mp.app_id, mp.app_secret)
    server, url = serve(api)
    wechat = services.config.wechat.model_copy(update={"api_base_url": url})
    services.config = services.config.model_copy(update={"wechat": wechat})
    services._cache.clear()
    yield api
    server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (`make test` installs it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=shutil.which("chromium")
                                     or "/usr/bin/chromium")
        yield chromium
        chromium.close()

