"""Binding a cadre's WeChat (openid) to their record, once, with a one-time code.

The county issues the code (`fangfan cadre code CADRE_ID`) and tells it to the cadre by
phone or in person; the first sign-in through WeChat asks for it. A code is 16 characters of
Crockford's base32 in groups of four (`7K2M-Q9XD-4HTR-B8NW`, 80 bits): easy to say and to
type on a phone (case, dashes and spaces do not matter; O reads as 0, I and L as 1), and
impossible to guess. Its first group is the selector, which finds the code; the other twelve
are the verifier, of which only a hash is kept and compared in constant time.

Guessing is bounded on top of that: wrong codes are counted per sign-in session, per WeChat
account and per code in the database (so every web process shares the count); too many in a
row lock that key for a while, and a code dies after too many wrong tries. Every failed try
is in the audit log, with hash prefixes instead of the openid or the code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from approvals.record import audit
from approvals.record.calendar import LOCAL
from approvals.record.errors import Refused
from approvals.record.models import BindThrottle, Cadre

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
SELECTOR, VERIFIER = 4, 12  # characters: 20 bits to find the code, 60 bits to prove it
MAX_INPUT = 64  # what a form may post as a code before it is not looked at


@dataclass(frozen=True)
class Limits:
    """How many wrong codes in a row lock a key, for how long; when a code dies."""

    max_failures: int = 5
    lockout: dt.timedelta = dt.timedelta(minutes=15)
    code_max_failures: int = 10


class Bound(NamedTuple):
    """The outcome of one try: the cadre bound (and their session epoch, to sign in with), or
    the Chinese sentence saying why not and, if locked, until when."""

    cadre_id: int | None
    refusal: str | None = None
    locked_until: dt.datetime | None = None
    session_epoch: int = 0


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _tag(kind: str, value: str) -> str:
    """A short, one-way name for the audit log (never the openid or the code itself)."""
    return _hash(f"{kind}:{value}")[:12]


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def split(code: str) -> tuple[str, str] | None:
    """The selector and verifier of a code as typed, or None if it cannot be one."""
    if len(code) > MAX_INPUT:
        return None
    text = code.strip().upper().translate(_READ_AS)
    if len(text) != SELECTOR + VERIFIER or any(c not in ALPHABET for c in text):
        return None
    return text[:SELECTOR], text[SELECTOR:]


def issue_code(s: Session, cadre_id: int, *, now: dt.datetime, valid_days: int) -> str:
    """A new code for this cadre, as it is read out (any earlier one stops working)."""
    cadre = s.get(Cadre, cadre_id, with_for_update=True)
    if cadre is None or not cadre.active:
        raise Refused("没有找到这位在岗的工作人员。")
    while True:  # the selector finds one code: draw again in the rare case it is taken
        selector = _random(SELECTOR)
        if s.scalar(select(Cadre.id).where(Cadre.bind_selector == selector)) is None:
            break
    verifier = _random(VERIFIER)
    cadre.bind_selector, cadre.bind_code_hash = selector, _hash(verifier)
    cadre.bind_code_expires = now + dt.timedelta(days=valid_days)
    cadre.bind_code_failures = 0
    audit.append(s, actor="county", action="cadre.bind_code", now=now,
                 payload={"cadre": cadre_id})
    code = selector + verifier
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def bind(s: Session, code: str, openid: str, *, session_key: str, now: dt.datetime,
         limits: Limits = Limits()) -> Bound:
    """Bind `openid` to the cadre whose code this is, unless a key of this try is locked.

    A refusal is returned, not raised: the caller commits the counts and the audit rows it
    wrote. Concurrent tries on one key wait for each other (the throttle rows are locked)."""
    parts = split(code)
    keys = {"session": session_key, "openid": openid}
    if parts is not None:
        keys["code"] = parts[0]
    throttles = _throttles(s, {_hash(f"{k}:{v}"): k for k, v in keys.items()}, now, limits)
    seen = {"who": _tag("openid", openid), "session": _tag("session", session_key),
            "code": _tag("code", parts[0]) if parts else None}
    actor = f"wechat:{seen['who']}"
    locked = max((t.locked_until for t in throttles
                  if t.locked_until is not None and t.locked_until > now), default=None)
    if locked is not None:
        audit.append(s, actor=actor, action="cadre.bind_failed", now=now,
                     payload={**seen, "reason": "locked"})
        return Bound(None, try_later(locked, now), locked)
    if parts is None:  # no code was tried: nothing to count
        return Bound(None, "绑定码是16位字母和数字（如 7K2M-Q9XD-4HTR-B8NW），请核对后重新输入。")
    selector, verifier = parts
    cadre = s.scalar(select(Cadre).where(Cadre.bind_selector == selector).with_for_update())
    right = cadre is not None and cadre.active and hmac.compare_digest(
        cadre.bind_code_hash or "", _hash(verifier))
    if right and cadre is not None:
        if cadre.bind_code_expires is None or cadre.bind_code_expires < now:
            audit.append(s, actor=actor, action="cadre.bind_failed", now=now,
                         payload={**seen, "cadre": cadre.id, "reason": "expired"})
            return Bound(None, "绑定码已过期，请联系发放绑定码的管理人员重新获取。")
        return Bound(_bound(s, cadre, openid, throttles, now), session_epoch=cadre.session_epoch)
    return _wrong(s, cadre, throttles, actor, seen, now, limits)


def try_later(locked_until: dt.datetime, now: dt.datetime) -> str:
    minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
    at = locked_until.astimezone(LOCAL).strftime("%H:%M")
    return f"尝试次数过多，请{minutes}分钟后再试（{at}以后）。"


def _throttles(s: Session, keys: dict[str, str], now: dt.datetime, limits: Limits
               ) -> list[BindThrottle]:
    """This try's throttle rows, created if new and locked until the try commits. Counts
    older than a lockout are forgotten first."""
    s.execute(delete(BindThrottle).where(
        or_(BindThrottle.locked_until.is_(None), BindThrottle.locked_until <= now),
        or_(BindThrottle.last_failed_at.is_(None),
            BindThrottle.last_failed_at <= now - limits.lockout)))
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    s.execute(dialect.insert(BindThrottle)
              .values([{"key": k, "failures": 0} for k in sorted(keys)])
              .on_conflict_do_nothing())
    return list(s.scalars(select(BindThrottle).where(BindThrottle.key.in_(keys))
                          .order_by(BindThrottle.key).with_for_update()))


def _wrong(s: Session, cadre: Cadre | None, throttles: Iterable[BindThrottle], actor: str,
           seen: dict[str, str | None], now: dt.datetime, limits: Limits) -> Bound:
    """Count a wrong code on every key of the try (and on the code it names); the refusal
    says how many tries are left, or until when the key is locked."""
    locked_until, left = None, limits.max_failures
    for t in throttles:
        t.failures, t.last_failed_at = t.failures + 1, now
        if t.failures >= limits.max_failures:
            t.failures, t.locked_until = 0, now + limits.lockout
            locked_until = t.locked_until
        left = min(left, limits.max_failures - t.failures)
    payload = {**seen, "cadre": cadre.id if cadre else None, "reason": "wrong"}
    audit.append(s, actor=actor, action="cadre.bind_failed", now=now, payload=payload)
    if cadre is not None and cadre.bind_code_hash is not None:
        cadre.bind_code_failures += 1
        if cadre.bind_code_failures >= limits.code_max_failures:  # the code dies
            cadre.bind_selector = cadre.bind_code_hash = cadre.bind_code_expires = None
            audit.append(s, actor=actor, action="cadre.bind_code_dead", now=now,
                         payload={"cadre": cadre.id, "failures": cadre.bind_code_failures})
    if locked_until is not None:
        return Bound(None, try_later(locked_until, now), locked_until)
    return Bound(None, f"绑定码不正确，请核对后重新输入（还可尝试{left}次），"
                       "或联系发放绑定码的管理人员重新获取。")


def _bound(s: Session, cadre: Cadre, openid: str, throttles: Iterable[BindThrottle],
           now: dt.datetime) -> int:
    # the WeChat account may have been bound to another record before (a cadre who moved)
    s.execute(update(Cadre).where(Cadre.openid == openid, Cadre.id != cadre.id)
              .values(openid=None))
    s.flush()
    cadre.openid = openid
    cadre.bind_selector = cadre.bind_code_hash = cadre.bind_code_expires = None
    cadre.bind_code_failures = 0
    s.execute(delete(BindThrottle).where(and_(BindThrottle.key.in_([t.key for t in throttles]),
                                              BindThrottle.locked_until.is_(None))))
    audit.append(s, actor=f"cadre:{cadre.id}", action="cadre.bound", now=now,
                 payload={"cadre": cadre.id})
    return cadre.id
