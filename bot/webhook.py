"""`/wechat/mp`: the Official Account's callback, in plain and safe (AES) mode.

Every POST is verified, parsed and answered. A step of the conversation is taken in one
transaction that also records the message's retry key: a retry of a message already
answered (same MsgId; for events the sender and CreateTime) gets the first answer again,
from any web process, and acts on nothing twice. A question (帮助, 政策, 进度) changes
nothing, so a retry is simply answered again, and its record is written behind. Slow work
(downloading photos) runs after the answer.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from approvals.db import connection_scope, transaction_scope
from bot import dialogue, media
from bot.conversation import Chat, Context
from bot.models import Conversation, InboundMessage
from bot.wechat_adapter import BadSignature, Callback, Inbound, Malformed

if TYPE_CHECKING:  # the wiring passes these in; bot never imports it at run time
    from fangfan.services import Services

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__, url_prefix="/wechat")
MAX_BODY = 64 * 1024  # a WeChat message is a few KB; anything larger is not from WeChat


def _services() -> Services:
    return current_app.extensions["fangfan"]


def _callback() -> Callback:
    """Built once per configuration (the AES key is decoded once, not per message)."""
    mp = _services().config.wechat.mp
    cache = current_app.extensions.setdefault("wechat_callbacks", {})
    if mp not in cache:
        cache[mp] = Callback(mp.token, mp.app_id, mp.encoding_aes_key)
    return cache[mp]


def _signed(callback: Callback) -> None:
    args = request.args
    try:
        callback.verify(args.get("signature", ""), args.get("timestamp", ""),
                        args.get("nonce", ""))
    except BadSignature:
        log.warning("wechat callback with a bad signature from %s", request.remote_addr)
        abort(403)


@bp.get("/mp")
def verify_url() -> Response:
    """WeChat's URL check when the callback is configured: echo `echostr` if signed by us."""
    _signed(_callback())
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@bp.post("/mp")
def receive() -> Response:
    callback = _callback()
    _signed(callback)
    if (request.content_length or 0) > MAX_BODY:
        abort(413)
    body = request.get_data(cache=False)
    safe = request.args.get("encrypt_type") == "aes"
    try:
        xml = (callback.decrypt(body, request.args.get("msg_signature", ""),
                                request.args.get("timestamp", ""), request.args.get("nonce", ""))
               if safe else body)
        inbound = callback.parse(xml)
    except BadSignature:
        abort(403)
    except Malformed as err:
        log.info("unreadable wechat message: %s", err)
        return _success()
    text = answer(_services(), inbound)
    if not text:
        return _success()
    reply = callback.reply(inbound, text, int(time.time()))
    if safe:
        reply = callback.encrypt(reply, request.args.get("nonce", ""),
                                 request.args.get("timestamp", ""))
    _after_answer(inbound)
    return Response(reply, mimetype="application/xml")


def _success() -> Response:
    """WeChat's "received, no reply": the user sees nothing, WeChat does not retry."""
    return Response("success", mimetype="text/plain")


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
    with Context(services.config, services.calendar, now, connection_scope) as ctx:
        text = dialogue.respond_at_once(ctx, inbound)
    if text is not None:
        services.inbound_log().add(inbound.dedupe_key, inbound.openid, now, text)
        return text
    try:
        with Context(services.config, services.calendar, now, transaction_scope) as ctx:
            text = _step(ctx, inbound)
            ctx.conn.execute(_ANSWERED, {"key": inbound.dedupe_key, "openid": inbound.openid,
                                         "received_at": now, "reply": text})
            return text
    except IntegrityError:
        with connection_scope() as conn:
            first = conn.execute(_REPLY, {"key": inbound.dedupe_key}).scalar()
        log.info("retry of %s answered again", inbound.dedupe_key)
        return first or ""


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
