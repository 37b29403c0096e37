"""`/wechat/mp`: the Official Account's callback, in safe (AES), compatible or plain mode.

Every request is signed with our token and recent (`wechat.mp.timestamp_window_seconds`,
read against the injected clock); its body is read to at most MAX_BODY bytes, however it
is sent. In safe mode (`wechat.mp.mode`, the default with an EncodingAESKey) only encrypted
callbacks are taken, their msg_signature covering the body. A plaintext callback's signature
covers only the timestamp and nonce, so in plain and compatible mode each (timestamp, nonce)
is recorded with its body's hash (bot.models.PlainNonce) and carries that body only. The
body is parsed strictly (bot.wechat_adapter.parsed): anything WeChat would not send is a 400.
A subscription notification's events (consent given or ended, a notification's result) are
recorded before the dialogue sees anything (bot/subscriptions.py) and get no reply.

A step of the conversation is taken in one transaction that also records the message's retry
key (the sender and MsgId; for events the sender, CreateTime, Event and EventKey): a retry
of a message already answered gets the first answer again, from any web process, and acts
on nothing twice. A question (帮助, 政策, 进度) changes nothing, so a retry is simply
answered again, and its record is written behind. Slow work (downloading photos) runs after
the answer.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from bot import dialogue, media, subscriptions
from bot.conversation import Chat, Context
from bot.models import Conversation, InboundMessage, PlainNonce
from bot.wechat_adapter import BadSignature, Callback, Inbound, Malformed

if TYPE_CHECKING:  # the wiring passes these in; bot never imports it at run time
    from fangfan.config import WeChatMpConf
    from fangfan.services import Services

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__, url_prefix="/wechat")
MAX_BODY = 64 * 1024  # a WeChat message is a few KB; anything larger is not from WeChat
PRUNE_EVERY_S = 60  # how often a process deletes plain-mode nonces past the window


def _services() -> Services:
    services: Services = current_app.extensions["fangfan"]
    return services


def _callback() -> Callback:
    """Built once per configuration (the AES key is decoded once, not per message)."""
    mp = _services().config.wechat.mp
    cache: dict[WeChatMpConf, Callback] = current_app.extensions.setdefault(
        "wechat_callbacks", {})
    if mp not in cache:
        cache[mp] = Callback(mp.token, mp.app_id, mp.encoding_aes_key,
                             mp.timestamp_window_seconds)
    return cache[mp]


def _refuse(status: int, text: str) -> None:
    abort(Response(text, status=status, mimetype="text/plain"))


def _signed(callback: Callback) -> None:
    args = request.args
    try:
        callback.verify(args.get("signature", ""), args.get("timestamp", ""),
                        args.get("nonce", ""), _services().clock.now().timestamp())
    except BadSignature as err:
        log.warning("拒绝了来自%s的微信回调：签名无效或过期（%s）", request.remote_addr, err)
        _refuse(403, "签名无效或已过期")


def _body() -> bytes:
    """The body, read to at most MAX_BODY + 1 bytes whether it has a Content-Length or is
    chunked: a larger one is a 413 without being read whole."""
    if (request.content_length or 0) > MAX_BODY:
        _refuse(413, "消息太大")
    chunks, size = [], 0
    while size <= MAX_BODY:
        chunk = request.stream.read(MAX_BODY + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_BODY:
        _refuse(413, "消息太大")
    return b"".join(chunks)


@bp.get("/mp")
def verify_url() -> Response:
    """WeChat's URL check when the callback is configured: echo `echostr` if signed by us."""
    _signed(_callback())
    return Response(request.args.get("echostr", "")[:128], mimetype="text/plain")


@bp.post("/mp")
def receive() -> Response:
    services, callback = _services(), _callback()
    _signed(callback)
    body = _body()
    mode = services.config.wechat.mp.mode
    args = request.args
    timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
    encrypted = args.get("encrypt_type") == "aes"
    if encrypted and mode == "plain":
        _refuse(403, "未启用安全模式")
    if not encrypted and mode == "safe":
        log.warning("安全模式下拒绝了来自%s的明文回调", request.remote_addr)
        _refuse(403, "只接收加密消息")
    try:
        if encrypted:
            xml: str | bytes = callback.decrypt(body, args.get("msg_signature", ""),
                                                timestamp, nonce)
        else:
            xml = body
            if not _first_body(services, int(timestamp), nonce, body):
                log.warning("拒绝了来自%s的明文回调：同一签名换了消息内容",
                            request.remote_addr)
                _refuse(403, "签名已用于另一条消息")
        inbound = callback.parse(xml)
    except BadSignature:
        _refuse(403, "签名无效")
    except Malformed as err:
        log.info("收到无法解析的微信消息：%s", err)
        _refuse(400, "消息格式不正确")
    text = answer(services, inbound)
    if not text:
        return _success()
    reply = callback.reply(inbound, text, int(services.clock.now().timestamp()))
    if encrypted:
        reply = callback.encrypt(reply, nonce, timestamp)
    _after_answer(inbound)
    return Response(reply, mimetype="application/xml")


def _success() -> Response:
    """WeChat's "received, no reply": the user sees nothing, WeChat does not retry."""
    return Response("success", mimetype="text/plain")


NONCES = PlainNonce.__table__
_NONCE_NEW = {d.dialect().name: d.insert(NONCES).on_conflict_do_nothing()
              for d in (postgresql, sqlite)}
_NONCE_BODY = select(NONCES.c.body_sha256).where(NONCES.c.timestamp == bindparam("ts"),
                                                 NONCES.c.nonce == bindparam("nonce"))


def _first_body(services: Services, timestamp: int, nonce: str, body: bytes) -> bool:
    """Whether `body` is the one this plaintext callback's (timestamp, nonce) carries: the
    first seen with it, in any process, or the same again (a retry). Nonces past the window
    are pruned here, by each process about once a minute."""
    digest = hashlib.sha256(body).hexdigest()
    now = int(services.clock.now().timestamp())
    window = services.config.wechat.mp.timestamp_window_seconds
    prune = current_app.extensions.setdefault("wechat_nonce_prune", {"at": 0})
    with services.database.transaction_scope() as conn:
        if now >= prune["at"]:
            prune["at"] = now + PRUNE_EVERY_S
            conn.execute(delete(NONCES).where(NONCES.c.timestamp < now - window - PRUNE_EVERY_S))
        conn.execute(_NONCE_NEW[conn.dialect.name],
                     {"timestamp": timestamp, "nonce": nonce, "body_sha256": digest})
        return conn.execute(_NONCE_BODY, {"ts": timestamp, "nonce": nonce}).scalar() == digest


CONVERSATIONS, INBOUND = Conversation.__table__, InboundMessage.__table__
_LOAD = (select(CONVERSATIONS.c.step, CONVERSATIONS.c.draft)
         .where(CONVERSATIONS.c.openid == bindparam("openid")).with_for_update())
_SAVE = (update(CONVERSATIONS).where(CONVERSATIONS.c.openid == bindparam("key"))
         .values(step=bindparam("step"), draft=bindparam("draft"), updated_at=bindparam("now")))
_NEW = insert(CONVERSATIONS)
_ANSWERED = insert(INBOUND)
_REPLY = select(INBOUND.c.reply).where(INBOUND.c.key == bindparam("key"))


def answer(services: Services, inbound: Inbound) -> str:
    """The reply text for one inbound message; a retry gets the same and acts on nothing twice.

    A question (帮助, 政策, 进度, a welcome: `dialogue.respond_at_once`) is answered from
    reads alone, on a connection opened only if the answer reads, and its record is written
    behind (bot/inbound_log.py). Any other message is a step of the conversation, in one
    transaction: the conversation's row read and locked, the step, the row saved, and the
    message's retry key inserted with the reply. A retry of a step already taken, or taken at
    the same moment in another process, fails on that key: its transaction rolls back whole
    and it returns the first answer. The turn runs on a Core connection, the ORM joining it
    only for the steps that need it (bot/conversation.py): this is the path every farmer's
    message takes."""
    now = services.clock.now()
    db = services.database
    if inbound.kind == "event" and inbound.event in subscriptions.EVENTS:
        _consents(services, inbound)
        return ""
    with Context(services.config, services.calendar, now, db.connection_scope) as ctx:
        text = dialogue.respond_at_once(ctx, inbound)
    if text is not None:
        services.inbound_log().add(inbound.dedupe_key, inbound.openid, now, text)
        return text
    try:
        with Context(services.config, services.calendar, now, db.transaction_scope) as ctx:
            text = _step(ctx, inbound)
            ctx.conn.execute(_ANSWERED, {"key": inbound.dedupe_key, "openid": inbound.openid,
                                         "received_at": now, "reply": text})
            return text
    except IntegrityError:
        with db.connection_scope() as conn:
            first = conn.execute(_REPLY, {"key": inbound.dedupe_key}).scalar()
        log.info("微信重试的消息按第一次的回复作答")
        return first or ""


def _consents(services: Services, inbound: Inbound) -> None:
    """A subscription notification's consent given, ended or used (bot/subscriptions.py):
    not the user writing, so no reply and no record that would open the 48 hours; a retry
    changes nothing (the event's CreateTime)."""
    long_term = {conf.id: conf.long_term
                 for conf in services.config.wechat.subscriptions.values()}
    changed = subscriptions.record(services.database, inbound.openid, inbound.created,
                                   inbound.consents, long_term, services.clock.now())
    log.info("订阅通知事件%s：记录了%d项，共%d项", inbound.event, changed,
             len(inbound.consents))


def _step(ctx: Context, inbound: Inbound) -> str:
    """A step of the conversation: its row locked (a farmer's messages in quick succession
    take turns), the reply, the row saved if it changed."""
    row = ctx.conn.execute(_LOAD, {"openid": inbound.openid}).first()
    conv = Chat(inbound.openid, *row) if row else Chat(inbound.openid)
    before = (conv.step, conv.draft)
    text = dialogue.respond(ctx, conv, inbound)
    if row and (conv.step, conv.draft) != before:  # an answer not understood changes nothing
        ctx.conn.execute(_SAVE, {"key": inbound.openid, "step": conv.step, "draft": conv.draft,
                                 "now": ctx.now})
    elif not row:
        ctx.conn.execute(_NEW, {"openid": inbound.openid, "step": conv.step,
                                "draft": conv.draft, "updated_at": ctx.now})
    return text


def _after_answer(inbound: Inbound) -> None:
    """Photos are fetched from WeChat after the answer has gone out."""
    if inbound.kind != "image":
        return
    services = _services()
    threading.Thread(target=media.save_pending, args=(services,),
                     kwargs={"openid": inbound.openid}, daemon=True, name="wechat-media").start()
