"""The bot's test rig: the fake WeChat API and the webhook on real HTTP on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from werkzeug.serving import make_server

from fangfan.app import create_app
from fangfan.services import Services
from tests.bot.fake_api import FakeWeChatApi
from tests.bot.sender import WeChatSender
from tests.conftest import World

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here


@pytest.fixture
def webhook_url(services: Services, fake_api: FakeWeChatApi) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, create_app(services), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/wechat/mp"
    server.shutdown()


@pytest.fixture
def farmer(services: Services, webhook_url: str, world: World) -> WeChatSender:
    """A farmer's phone, talking to the account in safe mode (as production is set up)."""
    mp = services.config.wechat.mp
    return WeChatSender(webhook_url, mp.token, mp.app_id, mp.encoding_aes_key)


@pytest.fixture
def plain_farmer(farmer: WeChatSender) -> WeChatSender:
    return replace(farmer, aes_key=None, openid="o_farmer_plain")
