"""The bot's test rig: the fake WeChat API and the webhook on real HTTP on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator

import pytest
from werkzeug.serving import make_server

from approvals.record.calendar import FixedClock
from fangfan.app import create_app
from fangfan.services import Services
from tests.bot.fake_api import FakeWeChatApi
from tests.bot.sender import WeChatSender
from tests.support.bot import sender_clock, with_mp
from tests.support.world import World

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request is noise here


@pytest.fixture
def serve_webhook(services: Services, fake_api: FakeWeChatApi
                  ) -> Iterator[Callable[[Services], str]]:
    """Starts the app of `services` (or of a copy with another config) on a free port; the
    webhook's URL. Servers are shut down after the test."""
    servers = []

    def serve(of: Services) -> str:
        server = make_server("127.0.0.1", 0, create_app(of), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/wechat/mp"

    yield serve
    for server in servers:
        server.shutdown()


@pytest.fixture
def webhook_url(services: Services, serve_webhook: Callable[[Services], str]) -> str:
    return serve_webhook(services)


@pytest.fixture
def farmer(services: Services, webhook_url: str, world: World, clock: FixedClock
           ) -> WeChatSender:
    """A farmer's phone, talking to the account in safe mode (as production is set up)."""
    mp = services.config.wechat.mp
    return WeChatSender(webhook_url, mp.token, mp.app_id, mp.encoding_aes_key,
                        now=sender_clock(clock))


@pytest.fixture
def plain_services(services: Services, fake_api: FakeWeChatApi) -> Services:
    """The same process's services with the account in plain mode (明文模式: no AES key)."""
    return dataclasses.replace(services, config=with_mp(services.config, encoding_aes_key=None,
                                                        mode="plain"))


@pytest.fixture
def plain_farmer(farmer: WeChatSender, plain_services: Services,
                 serve_webhook: Callable[[Services], str]) -> WeChatSender:
    """Another farmer, talking to an account in plain mode."""
    return dataclasses.replace(farmer, url=serve_webhook(plain_services), aes_key=None,
                               openid="o_farmer_plain")
