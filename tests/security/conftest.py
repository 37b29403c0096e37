"""The web security tests' site: the real app on real HTTP on 127.0.0.1; the browsers that
visit it are in tests/support/web.py."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from fangfan.app import create_app
from fangfan.services import Services
from tests.support.web import serve_app


@pytest.fixture
def site(services: Services) -> Iterator[str]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line a request is noise here
    yield from serve_app(create_app(services))
