"""A stand-in for api.weixin.qq.com on 127.0.0.1: real HTTP, WeChat's JSON and error codes.

It issues access tokens, checks them on every call, and records what was sent. Tests steer
it: `expire_token()` (the next call gets 42001), `outside_window` (openids whose customer-
service messages get 45015), `down` (every call fails with HTTP 503), `media` (what a
media id downloads as: a JPEG unless named here), `consent()` (what a user agreed to in a
subscription popup, as WeChat keeps it: bizsend answers 43101 without it, spends a
one-time one, and answers 47003 for a value its field's kind refuses)."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

JPEG = b"\xff\xd8\xff\xe0" + b"fangfan-test-photo" * 20 + b"\xff\xd9"


@dataclass
class FakeWeChatApi:
    app_id: str
    app_secret: str
    token_fetches: int = 0
    current_token: str | None = None
    outside_window: set[str] = field(default_factory=set)
    down: bool = False
    custom: list[dict[str, Any]] = field(default_factory=list)  # customer-service messages
    templates: list[dict[str, Any]] = field(default_factory=list)
    subscribed: list[dict[str, Any]] = field(default_factory=list)  # subscription notifications
    refused: list[dict[str, Any]] = field(default_factory=list)  # ...answered 43101 or 47003
    # (openid, template id) → one-time notifications left, or LONG_TERM
    consents: dict[tuple[str, str], int] = field(default_factory=dict)
    menus: list[dict[str, Any]] = field(default_factory=list)
    media_downloads: list[str] = field(default_factory=list)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # id → (content, type)
    lock: threading.Lock = field(default_factory=threading.Lock)
    corp_id: str = "ww_demo_corp"  # WeCom (qyapi) on the same server
    corp_secret: str = "wecom-secret"
    work_token: str | None = None
    wecom_down: bool = False
    cards: list[dict[str, Any]] = field(default_factory=list)  # WeCom text cards
    hold_from: int | None = None  # the Nth template message is recorded, then not answered...
    release: threading.Event = field(default_factory=threading.Event)  # ...until this is set
    browser_openid: str = "o_browser_user"  # who the browser is signed in to WeChat as (OAuth)
    oauth_codes: dict[str, str] = field(default_factory=dict)  # one-time code → openid

    def consent(self, openid: str, template_id: str, times: int = 1) -> None:
        """The user accepted `template_id` in a popup `times` times (LONG_TERM: a long-term
        subscription); 0: they turned it off."""
        key = (openid, template_id)
        if times in (0, LONG_TERM):
            self.consents[key] = times
        else:
            self.consents[key] = self.consents.get(key, 0) + times

    def expire_token(self) -> None:
        self.current_token = f"expired-{self.current_token}"

    def texts_to(self, openid: str) -> list[str]:
        return [m["text"]["content"] for m in self.custom if m["touser"] == openid]

    # -- the HTTP side ----------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], body: bytes
               ) -> tuple[int, bytes, str]:
        answer = self._handle(path, query, body)
        if (path.endswith("template/send") and self.hold_from is not None
                and len(self.templates) >= self.hold_from):
            self.release.wait(30)  # a slow WeChat: the sender may die waiting
        return answer

    def _handle(self, path: str, query: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        if self.down or (self.wecom_down and path in ("/cgi-bin/gettoken",
                                                       "/cgi-bin/message/send")):
            return 503, b"service unavailable", "text/plain"
        with self.lock:
            if path == "/connect/oauth2/authorize":  # WeChat's sign-in page: asks nothing
                code = f"code-{len(self.oauth_codes) + 1}"
                self.oauth_codes[code] = self.browser_openid
                back = f"{query['redirect_uri']}?code={code}&state={query.get('state', '')}"
                return 302, back.encode(), "location"
            if path == "/sns/oauth2/access_token":
                if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
                    return _json({"errcode": 40125, "errmsg": "invalid appsecret"})
                openid = self.oauth_codes.pop(query.get("code", ""), None)
                if openid is None:
                    return _json({"errcode": 40029, "errmsg": "invalid code"})
                return _json({"access_token": "web-token", "expires_in": 7200,
                              "refresh_token": "web-refresh", "openid": openid,
                              "scope": "snsapi_base"})
            if path == "/cgi-bin/gettoken":
                if (query.get("corpid"), query.get("corpsecret")) != (self.corp_id,
                                                                       self.corp_secret):
                    return _json({"errcode": 40001, "errmsg": "invalid secret"})
                self.work_token = f"work-token-{self.token_fetches}"
                return _json({"errcode": 0, "access_token": self.work_token, "expires_in": 7200})
            if path == "/cgi-bin/message/send":
                if query.get("access_token") != self.work_token:
                    return _json({"errcode": 42001, "errmsg": "access_token expired"})
                self.cards.append(json.loads(body))
                return _json({"errcode": 0, "errmsg": "ok"})
            if path == "/cgi-bin/token":
                if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
                    return _json({"errcode": 40125, "errmsg": "invalid appsecret"})
                self.token_fetches += 1
                self.current_token = f"token-{self.token_fetches}"
                return _json({"access_token": self.current_token, "expires_in": 7200})
            if query.get("access_token") != self.current_token:
                if self.current_token and query.get("access_token", "") in self.current_token:
                    return _json({"errcode": 42001, "errmsg": "access_token expired"})
                return _json({"errcode": 40001, "errmsg": "invalid credential"})
            data = json.loads(body) if body else {}
            if path == "/cgi-bin/message/custom/send":
                if data["touser"] in self.outside_window:
                    return _json({"errcode": 45015, "errmsg": "response out of time limit"})
                self.custom.append(data)
            elif path == "/cgi-bin/message/subscribe/bizsend":
                return self._bizsend(data)
            elif path == "/cgi-bin/message/template/send":
                self.templates.append(data)
                return _json({"errcode": 0, "errmsg": "ok", "msgid": len(self.templates)})
            elif path == "/cgi-bin/menu/create":
                self.menus.append(data)
            elif path == "/cgi-bin/media/get":
                self.media_downloads.append(query["media_id"])
                return (200, *self.media.get(query["media_id"], (JPEG, "image/jpeg")))
            else:
                return _json({"errcode": 404, "errmsg": f"no such api {path}"})
            return _json({"errcode": 0, "errmsg": "ok"})


    def _bizsend(self, data: dict[str, Any]) -> tuple[int, bytes, str]:
        """发送订阅通知 as WeChat answers it: the user's consent first, then every value."""
        key = (data.get("touser", ""), data.get("template_id", ""))
        if not self.consents.get(key):
            self.refused.append(data)
            return _json({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        for name, value in (data.get("data") or {}).items():
            if not _valid(name, str((value or {}).get("value", ""))):
                self.refused.append(data)
                return _json({"errcode": 47003,
                              "errmsg": f"argument invalid! data.{name}.value invalid"})
        if self.consents[key] != LONG_TERM:
            self.consents[key] -= 1
        self.subscribed.append(data)
        return _json({"errcode": 0, "errmsg": "ok"})


LONG_TERM = -1
# A subscription field's value, by the kind its key starts with (发送订阅通知's data)
_KINDS = {"thing": re.compile(r".{1,20}"), "character_string": re.compile(r"[\x21-\x7e]{1,32}"),
          "number": re.compile(r"[0-9.]{1,32}"), "letter": re.compile(r"[A-Za-z]{1,32}"),
          "phrase": re.compile(r"[\u4e00-\u9fff]{1,5}"), "name": re.compile(r".{1,10}")}


def _valid(key: str, value: str) -> bool:
    kind = re.sub(r"[0-9]+$", "", key)
    pattern = _KINDS.get(kind)
    if "\n" in value:
        return False
    return bool(value) if pattern is None else bool(pattern.fullmatch(value))


def _json(data: dict[str, Any]) -> tuple[int, bytes, str]:
    return 200, json.dumps(data, ensure_ascii=False).encode(), "application/json"


def serve(api: FakeWeChatApi) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            url = urlparse(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            status, body, ctype = api.handle(method, url.path, query, self.rfile.read(length))
            self.send_response(status)
            if ctype == "location":
                self.send_header("Location", body.decode())
                body, ctype = b"", "text/plain"
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


if __name__ == "__main__":  # its own process, for benchmarks: serves until stdin closes
    import sys

    api = FakeWeChatApi(sys.argv[1], sys.argv[2])
    server, url = serve(api)
    print(url, flush=True)
    sys.stdin.read()
    print(len(api.templates) + len(api.custom), flush=True)
