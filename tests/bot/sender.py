"""What WeChat's servers do to reach /wechat/mp, written from the protocol (not wechatpy),
so that the tests check the adapter rather than wechatpy against itself.

Plain mode: signature = sha1(sorted(token, timestamp, nonce)), XML in the clear.
Safe mode: the XML is AES-256-CBC encrypted (key = base64(EncodingAESKey + "="), IV = the
key's first 16 bytes, PKCS#7 padding to 32 bytes) over random(16) + len(4, big-endian) +
xml + app_id, base64-encoded; msg_signature = sha1(sorted(token, timestamp, nonce, encrypt)).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count

import requests
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_ids = count(int(time.time() * 1000))


def sha1_signature(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def _aes(key: bytes) -> Cipher:
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(xml: str, aes_key: str, app_id: str) -> str:
    key = base64.b64decode(aes_key + "=")
    body = xml.encode()
    plain = os.urandom(16) + struct.pack(">I", len(body)) + body + app_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = _aes(key).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()


def decrypt(encrypted: str, aes_key: str, app_id: str) -> str:
    key = base64.b64decode(aes_key + "=")
    decryptor = _aes(key).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    plain = plain[:-plain[-1]]
    (length,) = struct.unpack(">I", plain[16:20])
    assert plain[20 + length:].decode() == app_id, "reply encrypted for another app"
    return plain[20:20 + length].decode()


def tag(xml: str, name: str) -> str:
    found = re.search(rf"<{name}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</{name}>", xml, re.S)
    assert found, f"no <{name}> in {xml!r}"
    return found.group(1)


def _chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


@dataclass
class Sent:
    status: int
    body: str
    reply_xml: str | None  # the decrypted reply, when there is one

    @property
    def text(self) -> str:
        return tag(self.reply_xml, "Content") if self.reply_xml else ""


@dataclass
class WeChatSender:
    """Posts messages to the webhook as WeChat does, as one user (`openid`)."""

    url: str
    token: str
    app_id: str
    aes_key: str | None = None  # safe mode when set
    openid: str = "o_farmer_0001"
    account: str = "gh_fangfan"
    log: list[tuple[str, str]] = field(default_factory=list)  # (sent text, reply text)
    now: Callable[[], float] = time.time  # WeChat's clock: the timestamps it signs

    def xml(self, kind: str, inner: str, created: int | None = None,
            msg_id: int | None = None) -> str:
        created = created or int(self.now())
        msg_id_xml = "" if kind == "event" else f"<MsgId>{msg_id or next(_ids)}</MsgId>"
        return (f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>"
                f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
                f"{inner}{msg_id_xml}</xml>")

    def text_xml(self, content: str, msg_id: int | None = None) -> str:
        return self.xml("text", f"<Content><![CDATA[{content}]]></Content>", msg_id=msg_id)

    def post(self, xml: str, *, bad_signature: bool = False, safe: bool | None = None,
             timestamp: int | None = None, nonce: str | None = None,
             chunked: bool = False) -> Sent:
        """Sign (at `timestamp`, by default now) and send `xml`, encrypted in safe mode;
        `chunked` sends the body without a Content-Length."""
        safe = self.aes_key is not None if safe is None else safe
        ts = str(int(self.now()) if timestamp is None else timestamp)
        nonce = str(next(_ids)) if nonce is None else nonce
        params = {"timestamp": ts, "nonce": nonce,
                  "signature": sha1_signature(self.token, ts, nonce),
                  "openid": self.openid}
        body = xml
        if safe:
            assert self.aes_key
            encrypted = encrypt(xml, self.aes_key, self.app_id)
            params |= {"encrypt_type": "aes",
                       "msg_signature": sha1_signature(self.token, ts, nonce, encrypted)}
            body = (f"<xml><ToUserName><![CDATA[{self.account}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        if bad_signature:
            params["signature"] = params.get("signature", "")[::-1]
            params["msg_signature"] = params.get("msg_signature", "0" * 40)[::-1]
        data: bytes | Iterator[bytes] = body.encode()
        if chunked:
            data = _chunks(body.encode())
        res = requests.post(self.url, params=params, data=data, timeout=10,
                            headers={"Content-Type": "text/xml"})
        reply = None
        if res.status_code == 200 and res.text.startswith("<xml>"):
            reply = res.text
            if safe:
                encrypted = tag(res.text, "Encrypt")
                assert tag(res.text, "MsgSignature") == sha1_signature(
                    self.token, tag(res.text, "TimeStamp"), tag(res.text, "Nonce"), encrypted)
                reply = decrypt(encrypted, self.aes_key, self.app_id)
        return Sent(res.status_code, res.text, reply)

    def say(self, content: str) -> str:
        """Send a text as the farmer; the reply's text."""
        sent = self.post(self.text_xml(content))
        assert sent.status == 200, sent.body
        self.log.append((content, sent.text))
        return sent.text

    def event(self, event: str, key: str = "", created: int | None = None) -> Sent:
        inner = f"<Event><![CDATA[{event}]]></Event>" + (
            f"<EventKey><![CDATA[{key}]]></EventKey>" if key else "")
        return self.post(self.xml("event", inner, created=created))

    def consent_xml(self, event: str, items: list[dict[str, str]],
                    wrapper: str | None = None, created: int | None = None) -> str:
        """A subscription notification's event (订阅通知的事件推送) as the service account
        guide shows it: its list of templates under the event's own element."""
        wrapper = wrapper or {"subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
                              "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
                              "subscribe_msg_sent_event": "SubscribeMsgSentEvent"}[event]
        listed = "".join("<List>" + "".join(
            f"<{k}>{v}</{k}>" if k in ("PopupScene", "ErrorCode") else
            f"<{k}><![CDATA[{v}]]></{k}>" for k, v in item.items()) + "</List>"
            for item in items)
        return self.xml("event", f"<Event><![CDATA[{event}]]></Event>"
                                 f"<{wrapper}>{listed}</{wrapper}>", created=created)

    def subscribes(self, template_id: str, status: str = "accept",
                   created: int | None = None) -> Sent:
        """The user answers a subscription popup in an article (PopupScene 2)."""
        return self.post(self.consent_xml("subscribe_msg_popup_event", [
            {"TemplateId": template_id, "SubscribeStatusString": status, "PopupScene": "2"}],
            created=created))

    def voice(self, recognition: str | None) -> str:
        inner = "<MediaId><![CDATA[voice-media-1]]></MediaId><Format><![CDATA[amr]]></Format>"
        if recognition is not None:
            inner += f"<Recognition><![CDATA[{recognition}]]></Recognition>"
        return self.post(self.xml("voice", inner)).text

    def photo(self, media_id: str) -> str:
        inner = (f"<PicUrl><![CDATA[http://mmbiz.example/{media_id}.jpg]]></PicUrl>"
                 f"<MediaId><![CDATA[{media_id}]]></MediaId>")
        return self.post(self.xml("image", inner)).text
