"""`/dev/wechat`: chat as a farmer without a WeChat account (dev_mode only).

The page posts what you type here; this sends it to the real webhook as WeChat would (signed
XML, encrypted in safe mode) and shows the reply. Messages pushed later (decisions) come
from the outbox. `/dev/wechat/api` stands in for api.weixin.qq.com, so the worker's sends
succeed on a laptop: config.yaml's demo `wechat.api_base_url` points at it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time
from typing import TYPE_CHECKING, Any

import requests
from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from sqlalchemy import select

from approvals.record.calendar import LOCAL
from approvals.record.models import (
    Cadre,
    Case,
    CaseStatus,
    Household,
    Member,
    MonitoringStatus,
    Place,
)
from bot.wechat_adapter import Callback
from bot.wording import local
from notifications.models import Audience, OutboxMessage, OutboxStatus
from notifications.wording import render

if TYPE_CHECKING:  # the wiring passes these in; bot never imports it at run time
    from fangfan.services import Services

bp = Blueprint("simulator", __name__, url_prefix="/dev/wechat", template_folder="templates")
ACCOUNT = "gh_fangfan_demo"


def _services() -> Services:
    services: Services = current_app.extensions["fangfan"]
    return services


@bp.get("")
def page() -> str:
    """The chat, with a few demo household heads who may apply (dev data, shown in full):
    those whose household never had a case first, so that a newcomer's 「进度」 shows only
    the case they file (not a rejection from the demo's history)."""
    with _services().database.session_scope() as s:
        busy = select(Case.household_id).where(Case.status == CaseStatus.OPEN)
        filed_before = Household.id.in_(select(Case.household_id))
        heads = s.execute(select(Member.name, Member.id_number, Place.name.label("village"))
                          .join(Household, Household.id == Member.household_id)
                          .join(Place, Place.id == Household.village_id)
                          .where(Member.is_head, Member.openid.is_(None),
                                 Household.monitoring == MonitoringStatus.NONE,
                                 Household.id.not_in(busy))
                          .order_by(filed_before, Member.id).limit(5)).all()
    return render_template("simulator.html", heads=heads, now=_shown(_services().clock.now()))


def _shown(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


@bp.post("/clock")
def clock() -> Any:
    """快进: the demo's time moved forward for every process (fangfan.dev_clock); the
    notices and deadlines that fell due move on at the worker's next pass."""
    step = str((request.get_json(silent=True) or {}).get("step") or "")
    try:
        moved = _services().move_clock(step)
    except ValueError as err:
        return jsonify(error=str(err)), 400
    return jsonify(now=_shown(moved))


def _message_xml(openid: str, kind: str, inner: str, now: int) -> str:
    msg_id = "" if kind == "event" else f"<MsgId>{time.time_ns() // 1000}</MsgId>"
    return (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{now}</CreateTime><MsgType><![CDATA[{kind}]]></MsgType>"
            f"{inner}{msg_id}</xml>")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@bp.post("/say")
def say() -> Any:
    data = request.get_json(silent=True) or {}
    openid = str(data.get("openid") or "")[:64]
    if not re.fullmatch(r"[A-Za-z0-9_-]{6,64}", openid):
        return jsonify(error="缺少用户标识，请刷新页面。"), 400
    now = int(_services().clock.now().timestamp())  # the webhook checks it against the same
    if data.get("event"):
        inner = f"<Event>{_cdata(str(data['event']))}</Event>" + (
            f"<EventKey>{_cdata(str(data['key']))}</EventKey>" if data.get("key") else "")
        xml = _message_xml(openid, "event", inner, now)
    else:
        content = _cdata(str(data.get("text", "")))
        xml = _message_xml(openid, "text", f"<Content>{content}</Content>", now)
    mp = _services().config.wechat.mp
    callback = Callback(mp.token, mp.app_id, mp.encoding_aes_key)
    timestamp, nonce = str(now), secrets.token_hex(8)
    params = {"timestamp": timestamp, "nonce": nonce, "openid": openid,
              "signature": _sha1(mp.token, timestamp, nonce)}
    body = xml
    if mp.encoding_aes_key:
        body = callback.encrypt(xml, nonce, timestamp)
        encrypted = _tag(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", body)
        params |= {"encrypt_type": "aes",
                   "msg_signature": _sha1(mp.token, timestamp, nonce, encrypted)}
    res = requests.post(url_for("wechat.receive", _external=True), params=params,
                        data=body.encode(), timeout=10)
    reply = res.text
    if reply.startswith("<xml>") and mp.encoding_aes_key:
        signature = _tag(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", reply)
        reply = callback.decrypt(reply.encode(), signature,
                                 _tag(r"<TimeStamp>(\d+)</TimeStamp>", reply),
                                 _tag(r"<Nonce><!\[CDATA\[(.*?)\]\]>", reply))
    answer = re.search(r"<Content><!\[CDATA\[(.*?)\]\]></Content>", reply, re.S)
    return jsonify(status=res.status_code, reply=answer.group(1) if answer else "")


def _tag(pattern: str, xml: str) -> str:
    """A field of what the webhook encrypted or answered: always there."""
    found = re.search(pattern, xml)
    if found is None:
        raise ValueError(f"no {pattern} in the webhook's XML")
    return found.group(1)


def _sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


@bp.get("/pushed")
def pushed() -> Any:
    """Messages fangfan sent to this user after the chat (decisions, photos saved)."""
    openid, after = request.args.get("openid", ""), request.args.get("after", 0, type=int)
    said = local(_services().config)
    with _services().database.session_scope() as s:
        rows = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == openid, OutboxMessage.id > after,
            OutboxMessage.status == OutboxStatus.SENT).order_by(OutboxMessage.id)).all()
        return jsonify(messages=[{"id": m.id, "channel": m.channel,
                                  "text": render(m.event, m.params, local=said).text}
                                 for m in rows])


@bp.get("/messages")
def messages() -> str:
    """What each cadre was sent (new tasks, digests), newest first: the cadres' side of the demo."""
    base = _services().config.notifications.base_url
    with _services().database.session_scope() as s:
        cadres = s.execute(select(Cadre, Place.name).join(Place, Place.id == Cadre.place_id)
                           .order_by(Cadre.id)).all()
        sent = s.scalars(select(OutboxMessage).where(
            OutboxMessage.audience == Audience.CADRE).order_by(OutboxMessage.id.desc())
            .limit(500)).all()
        by_cadre: dict[str, list[dict[str, str]]] = {}
        for m in sent:
            by_cadre.setdefault(m.recipient, []).append({
                "at": m.created_at.astimezone(LOCAL).strftime("%m-%d %H:%M"),
                "status": m.status, "channel": m.channel or "",
                "text": render(m.event, m.params, base).text})  # to cadres: no 复核
        roles = _services().config.roles
        rows = [{"name": c.name, "role": roles[c.role].label if c.role in roles else c.role,
                 "place": place, "messages": by_cadre.get(f"cadre:{c.id}", [])}
                for c, place in cadres]
    return render_template("messages.html", cadres=rows)


# -- the stand-in for api.weixin.qq.com ------------------------------------------------------

@bp.get("/api/cgi-bin/token")
def api_token() -> Any:
    return jsonify(access_token=f"dev-{secrets.token_hex(8)}", expires_in=7200)


@bp.post("/api/cgi-bin/message/custom/send")
@bp.post("/api/cgi-bin/message/template/send")
@bp.post("/api/cgi-bin/menu/create")
def api_ok() -> Any:
    return jsonify(errcode=0, errmsg="ok")


@bp.get("/api/cgi-bin/media/get")
def api_media() -> Any:
    # a 1×1 JPEG: the simulator cannot send real photos
    return current_app.response_class(bytes.fromhex(
        "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d"
        "0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d3833"
        "3c2e333432ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102"
        "030405060708090a0bffda0008010100003f00d2cf20ffd9"), mimetype="image/jpeg")
