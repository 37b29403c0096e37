"""The one place wechatpy is used. Nothing of wechatpy's leaves this module: callers get
`Inbound` values, XML strings and `WeChatApiError`.

Inbound: signature and freshness checks, safe-mode (AES) decryption and encryption, strict
message parsing (defusedxml, then the shape WeChat sends: one <xml> of single-valued, bounded
text fields; the subscription-notification events' one nested list, bounded too) and the
passive reply. Outbound (`WeChatApi`): the access token kept in the
database for every process, a timeout on every call (the token fetch too, which wechatpy
leaves without one), and on an invalid or expired token one refresh and one retry, not
wechatpy's endless loop.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import requests
from defusedxml import ElementTree as SafeET
from sqlalchemy import delete, select
from wechatpy.client import WeChatClient
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import (
    InvalidSignatureException,
    WeChatClientException,
    WeChatOAuthException,
)
from wechatpy.oauth import WeChatOAuth
from wechatpy.replies import TextReply
from wechatpy.session import SessionStorage
from wechatpy.utils import check_signature
from wechatpy.work.client import WeChatClient as WorkClient

from approvals.record.db import Database
from bot.models import AccessToken

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}  # invalid credential, invalid token, token expired
OUTSIDE_WINDOW = {45015, 45047}  # no customer-service message: 48 h passed, or too many
# bizsend (发送订阅通知) answers 43101 "用户拒绝接受消息" when the user never subscribed or
# turned the subscription off; 47003 is a field value it refuses (empty, too long, wrong kind)
SUBSCRIBE_REFUSED = 43101
# the template id (40037), a field value (47003) or the page (41030) is wrong: config's, not
# the moment's, so sending the same again would fail again
SUBSCRIBE_MISCONFIGURED = {40037, 41030, 47003}


class BadSignature(Exception):
    """The request was not signed with our token, or not recently: answer 403, change nothing."""


class Malformed(Exception):
    """The body is not a message WeChat would send: answer 400, change nothing."""


class WeChatApiError(Exception):
    """A call to WeChat's API failed. `code` is WeChat's errcode, None for network trouble."""

    def __init__(self, code: int | None, message: str) -> None:
        super().__init__(f"{code}: {message}" if code is not None else message)
        self.code = code


@dataclass(frozen=True)
class Consent:
    """One template of a subscription-notification event (订阅通知的事件推送, service account
    guide "subscription_messages/push"): the user accepted or rejected it in a popup
    (subscribe_msg_popup_event), turned it off later (subscribe_msg_change_event, reject
    only), or a notification sent with it arrived or not (subscribe_msg_sent_event)."""

    template_id: str
    status: str  # accept | reject | sent | refused (43101: the user turned it off) | failed


@dataclass(frozen=True)
class Inbound:
    """One message or event from a user, in fangfan's terms."""

    kind: str  # text | voice | image | event | other
    openid: str
    account: str  # our account's id (ToUserName), for the reply
    created: int  # CreateTime, seconds
    msg_id: int | None = None
    text: str = ""  # the text, or WeChat's speech recognition of a voice message
    event: str = ""  # subscribe | unsubscribe | click | scan | ...
    event_key: str = ""  # a menu key, or qrscene_<scene> on a subscribe by QR code
    media_id: str = ""
    pic_url: str = ""
    consents: tuple[Consent, ...] = ()  # a subscription-notification event's list

    @property
    def dedupe_key(self) -> str:
        """WeChat retries a message with the same MsgId and an event with the same fields; a
        MsgId is unique per sender only, so the sender is part of the key. The event, its
        key and its list are hashed to keep the key within its column (128)."""
        if self.msg_id is not None:
            return f"msg:{self.openid}:{self.msg_id}"
        listed = "".join(f"\n{c.template_id}:{c.status}" for c in self.consents)
        what = hashlib.sha256(f"{self.event}\n{self.event_key}{listed}".encode()
                              ).hexdigest()[:20]
        return f"evt:{self.openid}:{self.created}:{what}"


# The longest value each field may have; a field not named here is kept to OTHER_MAX. An
# openid is 28 characters; MsgId a 64-bit number; a text is cut to 500 by the dialogue.
FIELD_MAX = {"ToUserName": 64, "FromUserName": 64, "CreateTime": 12, "MsgType": 32,
             "MsgId": 20, "Content": 10_000, "Recognition": 10_000, "MediaId": 128,
             "PicUrl": 1024, "Event": 32, "EventKey": 256, "Encrypt": 64 * 1024}
OTHER_MAX = 1024
_USER = re.compile(r"[A-Za-z0-9_-]{1,64}")  # openids and account ids (gh_...)
_DIGITS = re.compile(r"[0-9]{1,20}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[\x21-\x7e]{1,64}")


# The subscription-notification events (订阅通知的事件推送) carry one nested list:
#   <SubscribeMsgPopupEvent><List><TemplateId/><SubscribeStatusString/><PopupScene/></List>…
#   <SubscribeMsgChangeEvent><List><TemplateId/><SubscribeStatusString/></List>…
#   <SubscribeMsgSentEvent><List><TemplateId/><MsgID/><ErrorCode/><ErrorStatus/></List>…
# The service account guide's own example of the change event wraps its list in
# <SubscribeMsgPopupEvent> (a known slip of the docs), so that wrapper is taken for it too.
# Nothing else may nest; a list holds at most LIST_MAX items of these fields, each once.
LISTS = {"subscribe_msg_popup_event": ("SubscribeMsgPopupEvent",),
         "subscribe_msg_change_event": ("SubscribeMsgChangeEvent", "SubscribeMsgPopupEvent"),
         "subscribe_msg_sent_event": ("SubscribeMsgSentEvent",)}
LIST_WRAPPERS = frozenset(w for ws in LISTS.values() for w in ws)
# (MsgID as the guide spells it; MsgId as WeChat's other events do, in case)
LIST_FIELD_MAX = {"TemplateId": 128, "SubscribeStatusString": 16, "PopupScene": 8,
                  "MsgID": 20, "MsgId": 20, "ErrorCode": 12, "ErrorStatus": 64}
LIST_MAX = 20  # a popup offers a few templates; 20 is far more than one page asks for
_TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_ERROR_CODE = re.compile(r"-?[0-9]{1,11}")


def _leaf(child: Any, found: dict[str, str], bounds: dict[str, int], other: int | None
          ) -> None:
    """A plain text element, once, within its bound (`other` for unnamed ones; None: only
    the names in `bounds`), into `found`; else Malformed."""
    name = child.tag if isinstance(child.tag, str) else ""
    shown = name[:32]
    if not name or name in found:
        raise Malformed(f"<{shown}> repeated or unnamed")
    if child.attrib or len(child):
        raise Malformed(f"<{shown}> has attributes or elements")
    if (child.tail or "").strip():
        raise Malformed(f"text after <{shown}>")
    limit = bounds.get(name, other)
    if limit is None:
        raise Malformed(f"<{shown}> not expected here")
    value = child.text or ""
    if len(value) > limit:
        raise Malformed(f"<{shown}> too long")
    found[name] = value


def _items(wrapper: Any) -> list[dict[str, str]]:
    """A subscription event's <List> items: nothing but <List> elements of known fields."""
    if wrapper.attrib or (wrapper.text or "").strip() or (wrapper.tail or "").strip():
        raise Malformed(f"<{wrapper.tag}> is not a plain list")
    if len(wrapper) > LIST_MAX:
        raise Malformed(f"<{wrapper.tag}> has too many items")
    items = []
    for item in wrapper:
        if (item.tag != "List" or item.attrib or (item.text or "").strip()
                or (item.tail or "").strip()):
            raise Malformed(f"<{wrapper.tag}> holds something other than plain <List>")
        found: dict[str, str] = {}
        for leaf in item:
            _leaf(leaf, found, LIST_FIELD_MAX, None)
        items.append(found)
    return items


def parsed(xml: str | bytes) -> tuple[dict[str, str], str | None, list[dict[str, str]]]:
    """A callback body's fields, and the name and items of its one nested list if it has
    one: `<xml>` holding elements of plain text only, each at most once and within its bound
    (FIELD_MAX), and at most one subscription event's list (LIST_WRAPPERS, `_items`). A DTD
    (entities, external references), an attribute, any other child element, a repeated
    element or text between elements is Malformed."""
    try:
        root = SafeET.fromstring(xml, forbid_dtd=True)
    except Exception as err:  # ParseError, DTDForbidden, an unknown encoding, ...
        raise Malformed(f"not readable XML ({type(err).__name__})") from None
    if root.tag != "xml" or root.attrib or (root.text or "").strip():
        raise Malformed("the root is not a plain <xml>")
    found: dict[str, str] = {}
    wrapper: str | None = None
    items: list[dict[str, str]] = []
    for child in root:
        if child.tag in LIST_WRAPPERS and len(child):
            if wrapper is not None:
                raise Malformed("more than one list")
            wrapper, items = child.tag, _items(child)
            continue
        _leaf(child, found, FIELD_MAX, OTHER_MAX)
    return found, wrapper, items


def fields(xml: str | bytes) -> dict[str, str]:
    """The fields of a callback body with no nested list (a safe-mode envelope); else
    Malformed (see `parsed`)."""
    found, wrapper, _ = parsed(xml)
    if wrapper is not None:
        raise Malformed(f"<{wrapper}> not expected here")
    return found


def _consents(event: str, wrapper: str | None, items: list[dict[str, str]]
              ) -> tuple[Consent, ...]:
    """A subscription event's list as Consents; a list under another event, a wrapper that
    is not its event's, a template id or status WeChat would not send is Malformed."""
    if wrapper is None:
        return ()
    if wrapper not in LISTS.get(event, ()):
        raise Malformed(f"<{wrapper}> in a {event[:32] or 'non-'} event")
    consents = []
    for item in items:
        template_id = item.get("TemplateId", "")
        if not _TEMPLATE_ID.fullmatch(template_id):
            raise Malformed("no valid TemplateId")
        if event == "subscribe_msg_sent_event":
            code = item.get("ErrorCode", "").strip()
            if not _ERROR_CODE.fullmatch(code):
                raise Malformed("no valid ErrorCode")
            status = ("sent" if int(code) == 0 else
                      "refused" if int(code) == SUBSCRIBE_REFUSED else "failed")
        else:
            status = item.get("SubscribeStatusString", "").strip().lower()
            if status not in ("accept", "reject"):
                raise Malformed("no valid SubscribeStatusString")
        consents.append(Consent(template_id, status))
    return tuple(consents)


class Callback:
    """Verifying, decrypting and answering what WeChat posts to /wechat/mp."""

    def __init__(self, token: str, app_id: str, encoding_aes_key: str | None,
                 window_s: int = 300) -> None:
        self.token, self.window_s = token, window_s
        self.crypto = WeChatCrypto(token, encoding_aes_key, app_id) if encoding_aes_key else None

    def verify(self, signature: str, timestamp: str, nonce: str, now: float) -> None:
        """Signed with our token, `timestamp` within `window_s` of `now` (either way)."""
        if not _TIMESTAMP.fullmatch(timestamp) or not _NONCE.fullmatch(nonce):
            raise BadSignature("no timestamp or nonce")
        try:
            check_signature(self.token, signature, timestamp, nonce)
        except InvalidSignatureException:
            raise BadSignature("signature") from None
        if abs(now - int(timestamp)) > self.window_s:
            raise BadSignature("timestamp outside the window")

    def decrypt(self, body: bytes, msg_signature: str, timestamp: str, nonce: str) -> str:
        """The message inside a safe-mode envelope (`<xml>` with `<Encrypt>`), its
        msg_signature checked."""
        if self.crypto is None:
            raise Malformed("safe mode is not configured (wechat.mp.encoding_aes_key)")
        encrypted = fields(body).get("Encrypt")
        if not encrypted:
            raise Malformed("no <Encrypt>")
        try:
            return self.crypto.decrypt_message({"Encrypt": encrypted}, msg_signature,
                                               timestamp, nonce)
        except InvalidSignatureException:
            raise BadSignature("msg_signature") from None
        except Exception as err:  # bad base64, bad padding, wrong app id
            raise Malformed(f"not decryptable ({type(err).__name__})") from None

    def encrypt(self, xml: str, nonce: str, timestamp: str) -> str:
        assert self.crypto is not None
        return self.crypto.encrypt_message(xml, nonce, timestamp)

    @staticmethod
    def parse(xml: str | bytes) -> Inbound:
        """A message or event, from a body that has the shape `fields` checks and the fields
        fangfan reads well-formed; else Malformed."""
        f, wrapper, items = parsed(xml)
        openid, account = f.get("FromUserName", ""), f.get("ToUserName", "")
        if not _USER.fullmatch(openid) or (account and not _USER.fullmatch(account)):
            raise Malformed("no valid FromUserName or ToUserName")
        if not _TIMESTAMP.fullmatch(f.get("CreateTime", "")):
            raise Malformed("no valid CreateTime")
        msg_id = f.get("MsgId")
        if msg_id is not None and not _DIGITS.fullmatch(msg_id):
            raise Malformed("MsgId is not a number")
        kind = f.get("MsgType", "").strip().lower()
        base: dict[str, Any] = {"openid": openid, "account": account,
                                "created": int(f["CreateTime"])}
        if kind == "event":
            event = f.get("Event", "").strip().lower()
            return Inbound(kind="event", event=event, event_key=f.get("EventKey", ""),
                           consents=_consents(event, wrapper, items), **base)
        if wrapper is not None:
            raise Malformed(f"<{wrapper}> in a message")
        base["msg_id"] = int(msg_id) if msg_id else None
        if kind == "text":
            return Inbound(kind="text", text=f.get("Content", ""), **base)
        if kind == "voice":
            return Inbound(kind="voice", text=f.get("Recognition", ""),
                           media_id=f.get("MediaId", ""), **base)
        if kind == "image":
            return Inbound(kind="image", media_id=f.get("MediaId", ""),
                           pic_url=f.get("PicUrl", ""), **base)
        return Inbound(kind="other", **base)  # video, location, link, ...

    @staticmethod
    def reply(inbound: Inbound, text: str, now: int) -> str:
        return TextReply(source=inbound.account, target=inbound.openid, content=text,
                         time=now).render()


class _DatabaseStorage(SessionStorage):
    """wechatpy's token store, as rows every process reads (see bot.models.AccessToken).

    wechatpy reads the token several times per call, so a process keeps what it read for up
    to `REMEMBER` seconds; a token WeChat rejects is forgotten first (`_Api._ensure_token`),
    so a refresh by another process is seen at the next rejection at the latest."""

    REMEMBER = 60.0

    def __init__(self, database: Database) -> None:
        self.database = database
        self._seen: dict[str, tuple[Any, float]] = {}  # key → (value, read until)

    def get(self, key: str, default: Any = None) -> Any:
        value, until = self._seen.get(key, (None, 0.0))
        if time.time() < until:
            return value
        with self.database.session_scope() as s:
            row = s.get(AccessToken, key)
            if row is None or (row.expires_at is not None and row.expires_at < time.time()):
                return default
            value = int(row.value) if key.endswith("_expires_at") else row.value
            self._seen[key] = (value, min(time.time() + self.REMEMBER,
                                          row.expires_at or float("inf")))
            return value

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        with self.database.session_scope() as s:
            row = s.get(AccessToken, key) or AccessToken(key=key, value="")
            row.value = str(value)
            row.expires_at = time.time() + ttl if ttl else None
            s.add(row)
        self.forget(key)

    def delete(self, key: str) -> None:
        with self.database.session_scope() as s:
            s.execute(delete(AccessToken).where(AccessToken.key == key))
        self.forget(key)

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)

    def forget_all(self) -> None:
        self._seen.clear()


class _Client(WeChatClient):
    """WeChatClient against a configurable base URL, with a timeout on the token fetch."""

    session: _DatabaseStorage

    def __init__(self, database: Database, base_url: str, appid: str, secret: str,
                 timeout: float) -> None:
        super().__init__(appid, secret, session=_DatabaseStorage(database), timeout=timeout,
                         auto_retry=False)
        self.base_url = base_url.rstrip("/")
        self.API_BASE_URL = f"{self.base_url}/cgi-bin/"

    def fetch_access_token(self) -> dict[str, Any]:
        res = self._http.get(f"{self.base_url}/cgi-bin/token", timeout=self.timeout, params={
            "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
        res.raise_for_status()
        result: dict[str, Any] = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""))
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result


class _WorkClient(WorkClient):
    """WeCom's client against a configurable base URL, with a timeout on the token fetch."""

    session: _DatabaseStorage

    def __init__(self, database: Database, base_url: str, corp_id: str, secret: str,
                 timeout: float) -> None:
        super().__init__(corp_id, secret, session=_DatabaseStorage(database), timeout=timeout,
                         auto_retry=False)
        self.base_url = base_url.rstrip("/")
        self.API_BASE_URL = f"{self.base_url}/cgi-bin/"

    def fetch_access_token(self) -> dict[str, Any]:
        res = self._http.get(f"{self.base_url}/cgi-bin/gettoken", timeout=self.timeout,
                             params={"corpid": self.corp_id, "corpsecret": self.secret})
        res.raise_for_status()
        result: dict[str, Any] = res.json()
        if result.get("errcode"):
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""))
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result


class _Api:
    """A wechatpy client's calls, each with a timeout and one token refresh and retry."""

    _client: _Client | _WorkClient
    _fetching = threading.Lock()  # threads of a process fetch a token one at a time

    def _token(self) -> str | None:
        token: str | None = self._client.session.get(self._client.access_token_key)
        return token

    def _ensure_token(self, rejected: str | None = None) -> None:
        """Fetch a token when there is none, or when `rejected` is still the one we have;
        threads that waited for another's fetch use its token instead of fetching again."""
        with self._fetching:
            if rejected is not None:
                self._client.session.forget(self._client.access_token_key)
            current = self._token()
            if current is None or current == rejected:
                self._client.fetch_access_token()

    def _call(self, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            if self._token() is None:
                self._ensure_token()
            used = self._token()
            try:
                return fn(*args, **kwargs)
            except WeChatClientException as err:
                if err.errcode not in TOKEN_ERRORS:
                    raise
                log.info("微信接口令牌失效（%s），刷新一次后重试", err.errcode)
                self._ensure_token(rejected=used)
                return fn(*args, **kwargs)
        except WeChatClientException as err:
            if err.errcode is None:  # wechatpy's wrapper of an HTTP error status
                raise WeChatApiError(None, f"HTTP {getattr(err.response, 'status_code', '?')}"
                                     ) from None
            raise WeChatApiError(int(err.errcode), str(err.errmsg)) from None
        except requests.RequestException as err:
            raise WeChatApiError(None, f"{type(err).__name__}: {err}") from None


class WeChatApi(_Api):
    """Outbound calls to the Official Account API."""

    _client: _Client

    def __init__(self, database: Database, base_url: str, app_id: str, app_secret: str,
                 timeout: float) -> None:
        self._database = database  # where the shared access token is kept
        self._client = _Client(database, base_url, app_id, app_secret, timeout)

    def send_text(self, openid: str, text: str) -> None:
        """A customer-service message: allowed within 48 h of the user's last message."""
        self._call(self._client.message.send_text, openid, text)

    def send_template(self, openid: str, template_id: str, data: dict[str, str],
                      url: str | None = None) -> None:
        fields = {key: {"value": value} for key, value in data.items()}
        self._call(self._client.message.send_template, openid, template_id, fields, url)

    def send_subscribe(self, openid: str, template_id: str, data: dict[str, str],
                       page: str | None = None) -> None:
        """A subscription notification (订阅通知, POST cgi-bin/message/subscribe/bizsend with
        touser, template_id, page and data {key: {value}}): only while the user's consent to
        `template_id` lasts; WeChat answers 43101 when it does not, 47003 for a value it
        refuses. `page` is the web page the card opens (none: the card does not open)."""
        fields = {key: {"value": value} for key, value in data.items()}
        self._call(self._client.message.send_subscribe_message, openid, template_id, fields,
                   None, page)

    def download_media(self, media_id: str, max_bytes: int) -> bytes:
        """A file the user sent (临时素材), read to at most `max_bytes` + 1 bytes: the caller
        refuses a longer one without it having been read whole."""
        return self._call(self._download, media_id, max_bytes)

    def _download(self, media_id: str, max_bytes: int) -> bytes:
        client = self._client
        with client._http.get(f"{client.API_BASE_URL}media/get", timeout=client.timeout,
                              stream=True, params={"access_token": client.access_token,
                                                   "media_id": media_id}) as res:
            if res.status_code >= 400:
                raise WeChatApiError(None, f"HTTP {res.status_code}")
            content = bytearray()
            for chunk in res.iter_content(64 * 1024):
                content += chunk
                if len(content) > max_bytes:
                    break
            ctype = res.headers.get("Content-Type", "")
        if ("json" in ctype or ctype.startswith("text/")) and len(content) < 4096:
            try:  # WeChat answers an error as JSON where the file was expected
                error = json.loads(content)
            except ValueError:
                error = None
            if isinstance(error, dict) and error.get("errcode"):
                raise WeChatClientException(error["errcode"], str(error.get("errmsg", "")),
                                            client=client)
        return bytes(content)

    def create_menu(self, menu: dict[str, Any]) -> None:
        self._call(self._client.menu.create, menu)

    def forget_token(self) -> None:
        """Drop the shared token (tests, or after the app secret was reset)."""
        with self._database.session_scope() as s:
            s.execute(delete(AccessToken).where(AccessToken.key.like(f"{self._client.appid}_%")))
        self._client.session.forget_all()

    def cached_token(self) -> str | None:
        with self._database.session_scope() as s:
            return s.scalar(select(AccessToken.value).where(
                AccessToken.key == self._client.access_token_key))


class WeComApi(_Api):
    """WeCom (企业微信) application messages, for cadres who work in WeCom."""

    _client: _WorkClient

    def __init__(self, database: Database, base_url: str, corp_id: str, agent_id: int,
                 secret: str, timeout: float) -> None:
        self._client = _WorkClient(database, base_url, corp_id, secret, timeout)
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
            log.warning("网页授权码被微信拒绝：%s %s", err.errcode, err.errmsg)
            return None
        except requests.RequestException as err:
            log.warning("网页授权时连不上微信：%s", type(err).__name__)
            return None
        return str(res["openid"]) if res.get("openid") else None
