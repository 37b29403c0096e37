"""`/dev/wechat`: chat as a farmer without a WeChat account (dev_mode only).

The page posts what you type, a photo or a voice message (with the text WeChat's speech
recognition would give) here; this sends it to the real webhook as WeChat would (signed
XML, encrypted in safe mode) and shows the reply. Messages pushed later (decisions) come
from the outbox, and those still waiting (held by the quiet hours) are shown with the time
they will go. `/dev/wechat/api` stands in for api.weixin.qq.com, so the worker's sends and
the photo downloads succeed on a laptop: config.yaml's demo `wechat.api_base_url` points at
it. A photo is kept under media_dir/dev-wechat/ by a random media id, as WeChat keeps a
临时素材, and the stand-in's media/get serves those bytes for that id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
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
from approvals.record.photos import MAX_BYTES, image_kind
from bot.wechat_adapter import Callback
from bot.wording import local
from notifications.dispatch import held_until
from notifications.models import Audience, OutboxMessage, OutboxStatus
from notifications.wording import CHANNEL_NAMES, render

if TYPE_CHECKING:  # the wiring passes these in; bot never imports it at run time
    from fangfan.services import Services

bp = Blueprint("simulator", __name__, url_prefix="/dev/wechat", template_folder="templates")
ACCOUNT = "gh_fangfan_demo"
OPENID = re.compile(r"[A-Za-z0-9_-]{6,64}")
# a media id as the simulator makes them (WeChat's are 64 characters of the same alphabet):
# checked before it names a file
MEDIA_ID = re.compile(r"sim_[A-Za-z0-9_-]{32,64}")
MAX_RECOGNITION = 600  # a minute of speech, as WeChat's voice messages are at most
WAITING = 20  # the pending pushes shown at once


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
    return render_template("simulator.html", heads=heads, now=_shown(_services().clock.now()),
                           max_bytes=MAX_BYTES)


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


def _openid(value: object) -> str | None:
    openid = str(value or "")[:64]
    return openid if OPENID.fullmatch(openid) else None


NO_OPENID = "缺少用户标识，请刷新页面。"


@bp.post("/say")
def say() -> Any:
    """A text, a menu click, or a voice message (`voice`: the recognition text, maybe empty)."""
    data = request.get_json(silent=True) or {}
    openid = _openid(data.get("openid"))
    if openid is None:
        return jsonify(error=NO_OPENID), 400
    if data.get("event"):
        inner = f"<Event>{_cdata(str(data['event'])[:32])}</Event>" + (
            f"<EventKey>{_cdata(str(data['key'])[:256])}</EventKey>" if data.get("key") else "")
        return jsonify(**_to_webhook(openid, "event", inner))
    if "voice" in data:  # a voice message: WeChat sends the file's id and what it heard
        heard = str(data.get("voice") or "")[:MAX_RECOGNITION]
        inner = (f"<MediaId>{_cdata(_media_id())}</MediaId><Format>{_cdata('amr')}</Format>"
                 f"<Recognition>{_cdata(heard)}</Recognition>")
        return jsonify(**_to_webhook(openid, "voice", inner))
    content = _cdata(str(data.get("text", ""))[:10_000])
    return jsonify(**_to_webhook(openid, "text", f"<Content>{content}</Content>"))


@bp.post("/photo")
def photo() -> Any:
    """A photo picked on the page: kept under a new media id (as WeChat keeps a 临时素材),
    then sent to the webhook as an image message; the bot downloads it from the stand-in."""
    openid = _openid(request.form.get("openid"))
    if openid is None:
        return jsonify(error=NO_OPENID), 400
    upload = request.files.get("photo")
    content = upload.stream.read(MAX_BYTES + 1) if upload else b""
    if len(content) > MAX_BYTES:
        return jsonify(error="照片太大（超过10MB），请换一张。"), 400
    if image_kind(content) is None:
        return jsonify(error="只能发送照片（JPG、PNG 格式）。"), 400
    media_id = _media_id()
    folder = _media_folder()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / media_id).write_bytes(content)
    pic_url = url_for("simulator.picture", media_id=media_id, _external=True)
    inner = (f"<PicUrl>{_cdata(pic_url)}</PicUrl>"
             f"<MediaId>{_cdata(media_id)}</MediaId>")
    return jsonify(**_to_webhook(openid, "image", inner), media_id=media_id)


def _media_id() -> str:
    return "sim_" + secrets.token_urlsafe(36)


def _media_folder() -> Path:
    return _services().settings.media_dir / "dev-wechat"


def _uploaded(media_id: str) -> bytes | None:
    """The bytes of a photo sent from the simulator, None for an id it never gave."""
    if not MEDIA_ID.fullmatch(media_id):
        return None
    path = _media_folder() / media_id
    return path.read_bytes() if path.is_file() else None


@bp.get("/pic/<media_id>")
def picture(media_id: str) -> Any:
    """The photo as WeChat's PicUrl serves it: shown in the page's bubble too."""
    content = _uploaded(media_id)
    kind = image_kind(content) if content else None
    if content is None or kind is None:
        abort(404)
    return current_app.response_class(content, mimetype=kind[1])


def _to_webhook(openid: str, kind: str, inner: str) -> dict[str, Any]:
    """The message signed (and encrypted in safe mode) as WeChat sends it, posted to the real
    webhook; the HTTP status and the reply's text, decrypted."""
    now = int(_services().clock.now().timestamp())  # the webhook checks it against the same
    xml = _message_xml(openid, kind, inner, now)
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
    return {"status": res.status_code, "reply": answer.group(1) if answer else ""}


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
    """Messages fangfan sent to this user after the chat (decisions, photos saved), those
    after `after` (the page remembers the last it showed), and those still waiting: a
    farmer's message held by the quiet hours says so and when it will go."""
    openid, after = request.args.get("openid", "")[:64], request.args.get("after", 0, type=int)
    services = _services()
    said, now, quiet = local(services.config), services.clock.now(), services.quiet_hours()
    with services.database.session_scope() as s:
        sent = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == openid, OutboxMessage.id > after,
            OutboxMessage.status == OutboxStatus.SENT).order_by(OutboxMessage.id)
            .limit(100)).all()
        waiting = s.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == openid,
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
            .order_by(OutboxMessage.id).limit(WAITING)).all()
        return jsonify(
            now=_shown(now),  # the demo's time, moved by another page or `fangfan dev clock`
            messages=[{"id": m.id, "channel": CHANNEL_NAMES.get(m.channel or "", "消息"),
                       "text": render(m.event, m.params, local=said).text} for m in sent],
            waiting=[{"id": m.id, "text": "待发送：" + render(m.event, m.params, local=said).text
                      + _why_waiting(m, now, quiet)} for m in waiting])


def _why_waiting(message: OutboxMessage, now: dt.datetime,
                 quiet: tuple[dt.time, dt.time]) -> str:
    """（夜间免打扰，将于明早7:00后发送） for a farmer's message the quiet hours hold, else ""."""
    due = max(message.next_attempt_at, now)
    until = held_until(due, quiet) if message.audience == Audience.FARMER else None
    return f"（夜间免打扰，将于{said_when(until, now)}后发送）" if until else ""


def said_when(moment: dt.datetime, now: dt.datetime) -> str:
    """A time as a farmer says it, from `now` (Beijing time): 今晚23:30, 明早7:00, 明天14:00,
    明天凌晨0:30, else 12月5日 7:00."""
    at, today = moment.astimezone(LOCAL), now.astimezone(LOCAL).date()
    clock = f"{at.hour}:{at.minute:02d}"
    days = (at.date() - today).days
    if days not in (0, 1):
        return f"{at.month}月{at.day}日 {clock}"
    part = "天凌晨" if at.hour < 5 else "早" if at.hour < 12 else "天" if at.hour < 18 else "晚"
    return "今明"[days] + part + clock


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
                "status": m.status, "channel": CHANNEL_NAMES.get(m.channel or "", ""),
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


@bp.post("/api/cgi-bin/message/subscribe/bizsend")
def api_subscribe() -> Any:
    """订阅通知 (a service account's subscription message): accepted, as WeChat answers."""
    return jsonify(errcode=0, errmsg="ok")


@bp.get("/api/cgi-bin/media/get")
def api_media() -> Any:
    """The photo sent from the simulator under this media id; an id it never gave is
    answered as WeChat answers one (errcode 40007), so bot/media.py's error path is the
    real one."""
    content = _uploaded(request.args.get("media_id", ""))
    if content is None:
        return jsonify(errcode=40007, errmsg="invalid media_id")
    kind = image_kind(content)
    return current_app.response_class(content, mimetype=kind[1] if kind else "image/jpeg")
