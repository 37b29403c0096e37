"""Sessions end, from outside over real HTTP: a cookie copied before 退出 signs nobody in
afterwards (pages, and the decision POST that reads the cadre lazily), and a cookie idle
longer than `workbench.session_idle_hours` is refused by the server."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from itsdangerous import URLSafeTimedSerializer

from tests.support.web import cadre_id
from tests.support.world import World

pytestmark = pytest.mark.slow
COOKIE = "session"


def token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def signed_in(site: str, name: str) -> requests.Session:
    http = requests.Session()
    page = http.get(f"{site}/login", timeout=10).text
    res = http.post(f"{site}/login/dev", data={"csrf_token": token(page),
                                               "cadre_id": cadre_id(name)}, timeout=10)
    assert urlsplit(res.url).path == "/inbox"
    return http


def replaying(site: str, cookie: str) -> requests.Session:
    http = requests.Session()
    http.cookies.set(COOKIE, cookie, domain=urlsplit(site).hostname)
    return http


def sent_to_sign_in(res: requests.Response) -> bool:
    return res.status_code == 302 and urlsplit(res.headers["Location"]).path == "/login"


def test_a_copied_cookie_stops_working_after_logout(world: World, site: str) -> None:
    case_id = world.apply(world.household("东沟村"))
    task_id = world.open_task(case_id).id
    cadre = signed_in(site, "刘书记")
    inbox = cadre.get(f"{site}/inbox", timeout=10)
    copied, form_token = cadre.cookies[COOKIE], token(inbox.text)
    thief = replaying(site, copied)
    assert thief.get(f"{site}/inbox", allow_redirects=False, timeout=10).status_code == 200

    out = cadre.post(f"{site}/logout", data={"csrf_token": form_token}, timeout=10)
    assert urlsplit(out.url).path == "/login"
    for url in ("/inbox", f"/c/{case_id}"):  # each time the copied cookie as it was
        res = replaying(site, copied).get(f"{site}{url}", allow_redirects=False, timeout=10)
        assert sent_to_sign_in(res)
    decided = replaying(site, copied).post(f"{site}/t/{task_id}/decide",
                         data={"csrf_token": form_token, "verdict": "rejected",
                               "reason": "冒用会话"}, allow_redirects=False, timeout=10)
    assert sent_to_sign_in(decided)
    assert world.open_task(case_id).id == task_id  # nothing decided

    # signing in again works, and the old cookie stays dead
    again = signed_in(site, "刘书记")
    assert again.get(f"{site}/inbox", allow_redirects=False, timeout=10).status_code == 200
    assert sent_to_sign_in(replaying(site, copied).get(f"{site}/inbox", allow_redirects=False,
                                                       timeout=10))


def cookie_from(app: Flask, data: dict[str, Any], age_seconds: float) -> str:
    """A session cookie the app itself signed `age_seconds` ago (itsdangerous' timestamp)."""
    signing = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert signing is not None

    class Then(signing.signer):  # type: ignore[name-defined, misc]
        def get_timestamp(self) -> int:
            return int(time.time() - age_seconds)

    then = URLSafeTimedSerializer(app.secret_key, salt=signing.salt,  # type: ignore[arg-type]
                                  serializer=signing.serializer, signer=Then,
                                  signer_kwargs=signing.signer_kwargs)
    return then.dumps(data)


def test_an_idle_cookie_signs_nobody_in(world: World, app: Flask, site: str) -> None:
    assert app.permanent_session_lifetime.total_seconds() == 12 * 3600  # the default
    data = {"cadre_id": cadre_id("刘书记"), "epoch": 0, "_permanent": True}  # as sign_in writes

    fresh = replaying(site, cookie_from(app, data, 11.5 * 3600))  # idle, but not for long
    res = fresh.get(f"{site}/inbox", allow_redirects=False, timeout=10)
    assert res.status_code == 200
    renewed = res.cookies[COOKIE]  # every request renews the timestamp: idle starts again
    signing = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert signing.loads(renewed, max_age=60)["cadre_id"] == data["cadre_id"]

    idle = replaying(site, cookie_from(app, data, 12 * 3600 + 60))
    assert sent_to_sign_in(idle.get(f"{site}/inbox", allow_redirects=False, timeout=10))
