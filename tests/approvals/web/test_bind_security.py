"""Guessing binding codes, from outside: over real HTTP, through the fake WeChat sign-in, against
two web processes sharing the database. Wrong codes lock the session and the WeChat account,
the right code then waits too, a code dies after ten wrong tries, every failure is audited
without the openid or the code, and POST /bind is rate-limited per address."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from sqlalchemy import select

from approvals.record import bindings
from approvals.record.models import AuditEntry, Cadre
from fangfan.app import create_app
from fangfan.services import Services
from tests.bot.fake_api import FakeWeChatApi
from tests.db import session_scope
from tests.support.cli import fangfan
from tests.support.web import cadre_id, serve_app
from tests.support.world import World

pytestmark = pytest.mark.slow


@pytest.fixture
def second_site(services: Services, wechat: FakeWeChatApi) -> Iterator[str]:
    """Another web process on the same database (its own app, limiter and memory)."""
    yield from serve_app(create_app(services))


@dataclass
class Visitor:
    """A phone's browser without a browser: cookies, and WeChat signing it in as `openid`."""

    wechat: FakeWeChatApi
    openid: str
    http: requests.Session

    @classmethod
    def arriving(cls, wechat: FakeWeChatApi, site: str, openid: str) -> Visitor:
        visitor = cls(wechat, openid, requests.Session())
        wechat.browser_openid = openid
        page = visitor.http.get(f"{site}/inbox", timeout=10)  # WeChat OAuth, then /bind
        assert page.url.startswith(f"{site}/bind"), page.url
        return visitor

    def binds(self, site: str, code: str) -> requests.Response:
        page = self.http.get(f"{site}/bind", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        return self.http.post(f"{site}/bind", data={"csrf_token": token, "code": code},
                              allow_redirects=False, timeout=10)


def issue(world: World, name: str) -> str:
    with session_scope() as s:
        return bindings.issue_code(s, cadre_id(name), now=world.clock.now(), valid_days=7)


def failures() -> list[AuditEntry]:
    with session_scope() as s:
        return list(s.scalars(select(AuditEntry).where(
            AuditEntry.action.in_(["cadre.bind_failed", "cadre.bind_code_dead"]))
            .order_by(AuditEntry.id)))


def openid_of(name: str) -> str | None:
    with session_scope() as s:
        return s.scalar(select(Cadre.openid).where(Cadre.id == cadre_id(name)))


def other(code: str, n: int) -> str:
    """The code with the same selector and a wrong verifier."""
    selector = code[:4]
    wrong = f"{n:012d}".replace("1", "Z")
    assert wrong != code.replace("-", "")[4:]
    return selector + wrong


def test_guessing_is_locked_out_and_the_right_code_then_waits(
        world: World, wechat: FakeWeChatApi, production_site: str, second_site: str) -> None:
    code = issue(world, "刘书记")
    guesser = Visitor.arriving(wechat, production_site, "o_guesser_0000000000000000001")
    sites = [production_site, second_site]  # tries alternate between two processes
    for n in range(1, 5):
        res = guesser.binds(sites[n % 2], f"{n:04d}-0000-0000-0000")
        assert res.status_code == 400 and f"还可尝试{5 - n}次" in res.text
    locked = guesser.binds(sites[1], "0005-0000-0000-0000")
    assert locked.status_code == 429
    assert "尝试次数过多，请15分钟后再试（09:15以后）" in locked.text  # 09:00 + 15 min

    # the right code, from this session or from this WeChat account in a new one, waits too
    right = guesser.binds(sites[0], code)
    assert right.status_code == 429 and "尝试次数过多" in right.text
    again = Visitor.arriving(wechat, second_site, guesser.openid)
    assert again.binds(second_site, code).status_code == 429
    assert openid_of("刘书记") is None

    world.clock.advance(minutes=14)
    assert "请1分钟后再试" in guesser.binds(sites[0], code).text
    world.clock.advance(minutes=1)
    bound = guesser.binds(sites[1], code.lower().replace("-", " "))
    assert bound.status_code == 302 and openid_of("刘书记") == guesser.openid
    assert guesser.http.get(f"{second_site}/inbox", timeout=10).url.endswith("/inbox")

    rows = failures()
    assert [r.payload["reason"] for r in rows] == ["wrong"] * 5 + ["locked"] * 3
    for r in rows:  # no openid, no code, in clear; the same WeChat account tagged alike
        text = json.dumps(r.payload) + r.actor
        assert guesser.openid not in text and code.replace("-", "")[4:] not in text.upper()
        assert r.actor == rows[0].actor and len(r.payload["who"]) == 12


def test_a_code_dies_after_ten_wrong_tries_whoever_makes_them(
        world: World, wechat: FakeWeChatApi, production_site: str) -> None:
    """Someone who heard the first group tries verifiers from ever new WeChat accounts and
    sessions: the code itself locks after five, and dies at ten."""
    code = issue(world, "王审核")
    for n in range(1, 11):
        visitor = Visitor.arriving(wechat, production_site, f"o_guesser_{n:018d}")
        res = visitor.binds(production_site, other(code, n))
        if n in (5, 10):
            assert res.status_code == 429 and "尝试次数过多" in res.text
            world.clock.advance(minutes=15)
        else:
            assert res.status_code == 400 and "绑定码不正确" in res.text
    late = Visitor.arriving(wechat, production_site, "o_wang_00000000000000000000")
    res = late.binds(production_site, code)  # the cadre's own, right code: dead
    assert res.status_code == 400 and "绑定码不正确" in res.text
    assert openid_of("王审核") is None
    with session_scope() as s:
        cadre = s.get_one(Cadre, cadre_id("王审核"))
        assert cadre.bind_selector is None and cadre.bind_code_hash is None
    rows = failures()
    assert [r.action for r in rows].count("cadre.bind_code_dead") == 1
    assert sum(r.payload.get("cadre") == cadre_id("王审核") for r in rows
               if r.action == "cadre.bind_failed") == 10
    # a new code from the county works
    assert late.binds(production_site, issue(world, "王审核")).status_code == 302
    assert openid_of("王审核") == late.openid


def test_posts_to_bind_are_rate_limited_per_address(
        world: World, services: Services, wechat: FakeWeChatApi) -> None:
    workbench = services.config.workbench.model_copy(update={"bind_rate_limit": "3 per minute"})
    services.config = services.config.model_copy(update={"workbench": workbench})
    server = serve_app(create_app(services))
    site = next(server)
    visitor = Visitor.arriving(wechat, site, "o_fast_000000000000000000001")
    answers = [visitor.binds(site, "not a code").status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]
    assert "提交过于频繁" in visitor.binds(site, issue(world, "刘书记")).text
    assert openid_of("刘书记") is None
    next(server, None)  # shut down


def test_behind_a_proxy_the_rate_counts_each_client(
        world: World, services: Services, wechat: FakeWeChatApi) -> None:
    """With `proxy_hops: 1` the proxy's X-Forwarded-For names the client, so one farmer's
    guesses do not lock everyone out; without it a forged header counts for nothing."""
    for hops, second_answer in ((1, 400), (0, 429)):
        workbench = services.config.workbench.model_copy(
            update={"bind_rate_limit": "2 per minute", "proxy_hops": hops})
        services.config = services.config.model_copy(update={"workbench": workbench})
        server = serve_app(create_app(services))
        site = next(server)
        visitor = Visitor.arriving(wechat, site, f"o_proxy_{hops}000000000000000000001")
        visitor.http.headers["X-Forwarded-For"] = "10.0.0.1"
        assert [visitor.binds(site, "not a code").status_code for _ in range(3)] == [
            400, 400, 429]
        visitor.http.headers["X-Forwarded-For"] = "10.0.0.2"
        assert visitor.binds(site, "not a code").status_code == second_answer
        next(server, None)  # shut down


def test_guesses_sent_at_once_to_two_processes_are_counted_one_by_one(
        world: World, wechat: FakeWeChatApi, production_site: str, second_site: str) -> None:
    """Twelve wrong codes from one session at the same moment, half to each process: five are
    tried, the rest find the session locked (the throttle rows are locked per try)."""
    guesser = Visitor.arriving(wechat, production_site, "o_burst_00000000000000000001")
    page = guesser.http.get(f"{production_site}/bind", timeout=10).text
    form = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    cookie = guesser.http.cookies["session"]
    barrier = threading.Barrier(12)

    def guess(n: int) -> int:
        http = requests.Session()
        http.cookies.set("session", cookie, domain="127.0.0.1")
        site = (production_site, second_site)[n % 2]
        barrier.wait()
        return http.post(f"{site}/bind", data={"csrf_token": form,
                                               "code": f"{n:04d}-0000-0000-0000"},
                         allow_redirects=False, timeout=30).status_code

    with ThreadPoolExecutor(12) as pool:
        answers = sorted(pool.map(guess, range(12)))
    assert answers == [400] * 4 + [429] * 8
    reasons = [r.payload["reason"] for r in failures()]
    assert reasons.count("wrong") == 5 and reasons.count("locked") == 7


def test_the_county_reads_out_a_code_from_the_command_line_and_it_binds(
        world: World, wechat: FakeWeChatApi, production_site: str, database_url: str) -> None:
    issued = fangfan("cadre", "code", str(cadre_id("赵审定")), database_url=database_url)
    assert issued.returncode == 0, issued.stderr
    found = re.search(r"绑定码：([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})", issued.stdout)
    assert found and "输错10次即作废" in issued.stdout
    visitor = Visitor.arriving(wechat, production_site, "o_zhao_00000000000000000001")
    assert visitor.binds(production_site, found.group(1)).status_code == 302
    assert openid_of("赵审定") == visitor.openid
