"""The one place wechatpy is used. Nothing of wechatpy's leaves this module: callers get
`Inbound` values, XML strings and `WeChatApiError`.

Inbound: signature checks, safe-mode (AES) decryption and encryption, message parsing and
the passive reply. Outbound (`WeChatApi`): the access token kept in the database for every
process, a timeout on every call (the token fetch too, which wechatpy leaves without one),
and on an invalid or expired token one refresh and one retry, not wechatpy's endless loop.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from sqlalchemy import delete, select
from wechatpy import parse_message
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import (
    InvalidSignatureException,
    WeChatClientException,
    WeChatOAuthException,
)
from wechatpy.messages import ImageMessage, TextMessage, VoiceMessage
from wechatpy.oauth import WeChatOAuth
from wechatpy.replies import TextReply
from wechatpy.session import SessionStorage
from wechatpy.utils import check_signature
from wechatpy.work.client import WeChatClient as WorkClient

from approvals.db import session_scope
from bot.models import AccessToken

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
OUTSIDE_WINDOW = {45015, 45047}  # no customer-service message: 48 h passed, or too many


class BadSignature(Exception):
    """The request was not signed with our token: answer 403, change nothing."""


class Malformed(Exception):
    """The body is not a message we can read."""


class WeChatApiError(Exception):
    """A call to WeChat's API failed. `code` is WeChat's errcode, None for network trouble."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(f"{code}: {message}" if code is not None else message)
        self.code = code


@dataclass(frozen=True)
class Inbound:
    """One message or event from a user, in fangfan's terms."""

    kind: str  # text | voice | image | event | other
    openid: str
    account: str  # our account's id (ToUserName), for the reply
    created: int  # CreateTime, seconds
    msg_id: int | None = None
    text: str = ""  # the text, or WeChat's speech recognition of a voice message
    event: str = ""  # subscribe | unsubscribe | click | ...
    event_key: str = ""
    media_id: str = ""
    pic_url: str = ""

    @property
    def dedupe_key(self) -> str:
        """WeChat retries with the same MsgId; events have none: sender + CreateTime."""
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"evt:{self.openid}:{self.created}:{self.event}"


class Callback:
    """Verifying, decrypting and answering what WeChat posts to /wechat/mp."""

    def __init__(self, token: str, app_id: str, encoding_aes_key: str | None) -> None:
        self.token = token
        self.crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None

    def verify(self, signature: str, timestamp: str, nonce: str) -> None:
        try:
            check_signature(self.token, signature, timestamp, nonce)
        except InvalidSignatureException:
            raise BadSignature from None

    def decrypt(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> str:
        if self.crypto is None:
            raise Malformed("safe mode is not configured (wechat.mp.encoding_aes_key)")
        try:
            return self.crypto.decrypt_message(body, msg_signature, timestamp, nonce)
        except InvalidSignatureException:
            raise BadSignature from None
        except Exception as err:  # bad XML, bad base64, bad padding, wrong app id
            raise Malformed(str(err)) from None

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        assert self.crypto is not None
        return self.crypto.encrypt_message(xml, nonce, timestamp)

    @staticmethod
    def parse(xml: str | bytes) -> Inbound:
        try:
            return _inbound(parse_message(xml))
        except Exception as err:  # ExpatError, a missing or non-numeric field, ...
            raise Malformed(f"{type(err).__name__}: {err}") from None

    @staticmethod
    def reply(inbound: Inbound, text: str, now: int) -> str:
        return TextReply(source=inbound.account, target=inbound.openid, content=text,
                         time=now).render()


def _inbound(msg: Any) -> Inbound:
    if not msg.source:
        raise ValueError("no FromUserName")
    base: dict[str, Any] = {"openid": msg.source, "account": msg.target or "",
                            "created": int(msg.create_time.timestamp())}
    if msg.type == "event":
        return Inbound(kind="event", event=(msg.event or "").lower(),
                       event_key=str(getattr(msg, "key", "") or ""), **base)
    msg_id = int(msg.id) if getattr(msg, "id", None) else None
    if isinstance(msg, TextMessage):
        return Inbound(kind="text", msg_id=msg_id, text=msg.content or "", **base)
    if isinstance(msg, VoiceMessage):
        return Inbound(kind="voice", msg_id=msg_id, text=msg.recognition or "",
                       media_id=msg.media_id or "", **base)
    if isinstance(msg, ImageMessage):
        return Inbound(kind="image", msg_id=msg_id, media_id=msg.media_id or "",
                       pic_url=msg.image or "", **base)
    return Inbound(kind="other", msg_id=msg_id, **base)  # video, location, link, ...


class _DatabaseStorage(SessionStorage):
    """wechatpy's token store, as rows every process reads (see bot.models.AccessToken).

    wechatpy reads the token several times per call, so a process keeps what it read for up
    to `REMEMBER` seconds; a token WeChat rejects is forgotten first (`_Api._ensure_token`),
    so a refresh by another process is seen at the next rejection at the latest."""

    REMEMBER = 60.0

    def __init__(self) -> None:
        self._seen: dict[str, tuple[Any, float]] = {}  # key → (value, read until)

    def get(self, key: str, default: Any = None) -> Any:
        value, until = self._seen.get(key, (None, 0.0))
        if time.time() < until:
            return value
        with session_scope() as s:
            row = s.get(AccessToken, key)
            if row is None or (row.expires_at is not None and row.expires_at < time.time()):
                return default
            value = int(row.value) if key.endswith("_expires_at") else row.value
            self._seen[key] = (value, min(time.time() + self.REMEMBER,
                                          row.expires_at or float("inf")))
            return value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        with session_scope() as s:
            row = s.get(AccessToken, key) or AccessToken(key=key, value="")
            row.value = str(value)
            row.expires_at = time.time() + ttl if ttl else None
            s.add(row)
        self.forget(key)

    def delete(self, key: str) -> None:
        with session_scope() as s:
            s.execute(delete(AccessToken).where(AccessToken.key == key))
        self.forget(key)

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)

    def forget_all(self) -> None:
        self._seen.clear()


class _Client(WeChatClient):
    """WeChatClient against a configurable base URL, with a timeout on the token fetch."""

    def __init__(self, base_url: str, appid: str, secret: str, timeout: float) -> None:
        super().__init__(appid, secret, session=_DatabaseStorage(), timeout=timeout,
                         auto_retry=False)
        self.base_url = base_url.rstrip("/")
        self.API_BASE_URL = f"{self.base_url}/cgi-bin/"

    def fetch_access_token(self) -> dict[str, Any]:
        res = self._http.get(f"{self.base_url}/cgi-bin/token", timeout=self.timeout, params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
        res.raise_for_status()
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""))
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result


class _WorkClient(WorkClient):
    """WeCom's client against a configurable base URL, with a timeout on the token fetch."""

    def __init__(self, base_url: str, corp_id: str, secret: str, timeout: float) -> None:
        super().__init__(corp_id, secret, session=_DatabaseStorage(), timeout=timeout,
                         auto_retry=False)
        self.base_url = base_url.rstrip("/")
        self.API_BASE_URL = f"{self.base_url}/cgi-bin/"

    def fetch_access_token(self) -> dict[str, Any]:
        res = self._http.get(f"{self.base_url}/cgi-bin/gettoken", timeout=self.timeout,
                             params={"corpid": self.corp_id, "corpsecret": self.secret})
        res.raise_for_status()
        result = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""))
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result


class _Api:
    """A wechatpy client's calls, each with a timeout and one token refresh and retry."""

    _client: Any
    _fetching = threading.Lock()  # threads of a process fetch a token one at a time

    def _token(self) -> str | None:
        return self._client.session.get(self._client.access_token_key)

    def _ensure_token(self, rejected: str | None = None) -> None:
        """Fetch a token when there is none, or when `rejected` is still the one we have;
        threads that waited for another's fetch use its token instead of fetching again."""
        with self._fetching:
            if rejected is not None:
                self._client.session.forget(self._client.access_token_key)
            current = self._token()
            if current is None or current == rejected:
                self._client.fetch_access_token()

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            if self._token() is None:
                self._ensure_token()
            used = self._token()
            try:
                return fn(*args)
            except WeChatClientException as err:
                if err.errcode not in TOKEN_ERRORS:
                    raise
                log.info("access token rejected (%s): refreshing once", err.errcode)
                self._ensure_token(rejected=used)
                return fn(*args)
        except WeChatClientException as err:
            if err.errcode is None:  # wechatpy's wrapper of an HTTP error status
                raise WeChatApiError(None, f"HTTP {getattr(err.response, 'status_code', '?')}"
                                     ) from None
            raise WeChatApiError(int(err.errcode), str(err.errmsg)) from None
        except requests.RequestException as err:
            raise WeChatApiError(None, f"{type(err).__name__}: {err}") from None


class WeChatApi(_Api):
    """Outbound calls to the Official Account API."""

    def __init__(self, base_url: str, app_id: str, app_secret: str, timeout: float) -> None:
        self._client = _Client(base_url, app_id, app_secret, timeout)

    def send_text(self, openid: str, text: str) -> None:
        """A customer-service message: allowed within 48 h of the user's last message."""
        self._call(self._client.message.send_text, openid, text)

    def send_template(self, openid: str, template_id: str, data: dict[str, str],
                      url: str | None = None) -> None:
        fields = {key: {"value": value} for key, value in data.items()}
        self._call(self._client.message.send_template, openid, template_id, fields, url)

    def download_media(self, media_id: str) -> bytes:
        res = self._call(self._client.media.download, media_id)
        if isinstance(res, dict):  # JSON where bytes were expected
            raise WeChatApiError(res.get("errcode"), str(res.get("errmsg", "不是文件")))
        return res.content

    def create_menu(self, menu: dict[str, Any]) -> None:
        self._call(self._client.menu.create, menu)

    def forget_token(self) -> None:
        """Drop the shared token (tests, or after the app secret was reset)."""
        with session_scope() as s:
            s.execute(delete(AccessToken).where(AccessToken.key.like(f"{self._client.appid}_%")))
        self._client.session.forget_all()

    def cached_token(self) -> str | None:
        with session_scope() as s:
            return s.scalar(select(AccessToken.value).where(
                AccessToken.key == self._client.access_token_key))


class WeComApi(_Api):
    """WeCom (企业微信) application messages, for cadres who work in WeCom."""

    def __init__(self, base_url: str, corp_id: str, agent_id: int, secret: str,
                 timeout: float) -> None:
        self._client = _WorkClient(base_url, corp_id, secret, timeout)
        self.agent_id = agent_id

    def send_card(self, user_id: str, title: str, description: str, url: str) -> None:
        """A text card: the title, a few lines, and a button that opens `url`."""
        self._call(self._client.message.send_text_card, self.agent_id, user_id, title,
                   description, url, "去办理")


class OAuth:
    """网页授权 with scope snsapi_base: where to send a cadre's browser so WeChat tells us
    who they are, and the openid that the code WeChat sends back stands for."""

    def __init__(self, oauth_base_url: str, api_base_url: str, app_id: str, secret: str,
                 timeout: float) -> None:
        self.oauth_base_url, self.api_base_url = oauth_base_url, api_base_url
        self.app_id, self.secret, self.timeout = app_id, secret, timeout

    def _client(self, redirect_uri: str = "", state: str = "") -> WeChatOAuth:
        client = WeChatOAuth(self.app_id, self.secret, redirect_uri, "snsapi_base", state)
        client.OAUTH_BASE_URL = f"{self.oauth_base_url.rstrip('/')}/connect/"
        client.API_BASE_URL = f"{self.api_base_url.rstrip('/')}/"
        return client

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        return self._client(redirect_uri, state).authorize_url

    def openid(self, code: str) -> str | None:
        """Who the code stands for; None (and a log line) when WeChat would not say."""
        try:
            res = self._client()._get("sns/oauth2/access_token", timeout=self.timeout, params={
                "appid": self.app_id, "secret": self.secret, "code": code,
                "grant_type": "authorization_code"})
        except WeChatOAuthException as err:
            log.warning("oauth code refused: %s %s", err.errcode, err.errmsg)
            return None
        except requests.RequestException as err:
            log.warning("oauth unreachable: %s", type(err).__name__)
            return None
        return str(res["openid"]) if res.get("openid") else None
