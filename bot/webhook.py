"""`/wechat/mp`: the Official Account's callback, in plain and safe (AES) mode.

Every POST is verified, parsed and answered within one transaction that also records the
message's retry key: a retry of a message already answered (same MsgId; for events the
sender and CreateTime) gets the first answer again, from any web process, and acts on
nothing twice. Slow work (downloading photos) runs after the answer.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from approvals.db import session_scope
from bot import dialogue, media
from bot.conversation import Context
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
    mp = _services().config.wechat.mp
    return Callback(mp.token, mp.app_id, mp.encoding_aes_key)


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


def answer(services: Services, inbound: Inbound) -> str:
    """The reply text for one inbound message, recorded with it; a retry gets the same."""
    try:
        with session_scope() as s:
            s.add(InboundMessage(key=inbound.dedupe_key, openid=inbound.openid,
                                 received_at=services.clock.now()))
            s.flush()  # a retry stops here (unique key), also while the first is in flight
            conv = s.scalar(select(Conversation).where(Conversation.openid == inbound.openid)
                            .with_for_update())
            now = services.clock.now()
            if conv is None:
                conv = Conversation(openid=inbound.openid, step="idle", draft={},
                                    last_seen_at=now, updated_at=now)
                s.add(conv)
            ctx = Context(s, services.config, services.calendar, now)
            text = dialogue.respond(ctx, conv, inbound)
            s.execute(InboundMessage.__table__.update()
                      .where(InboundMessage.key == inbound.dedupe_key).values(reply=text))
            return text
    except IntegrityError:
        with session_scope() as s:
            first = s.scalar(select(InboundMessage.reply)
                             .where(InboundMessage.key == inbound.dedupe_key))
        log.info("retry of %s answered again", inbound.dedupe_key)
        return first or ""


def _after_answer(inbound: Inbound) -> None:
    """Photos are fetched from WeChat after the answer has gone out."""
    if inbound.kind != "image":
        return
    services = _services()
    threading.Thread(target=media.save_pending, args=(services,),
                     kwargs={"openid": inbound.openid}, daemon=True, name="wechat-media").start()
