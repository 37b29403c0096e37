"""Binding a cadre's WeChat (openid) to their record, once, with a one-time code.

The county issues the code (`fangfan cadre code CADRE_ID`) and tells it to the cadre by
phone or in person; the first sign-in through WeChat asks for it. Only the code's hash is
stored, it expires, and it is used up by the binding.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from approvals import audit
from approvals.errors import Refused
from approvals.models import Cadre


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


def issue_code(s: Session, cadre_id: int, *, now: dt.datetime, valid_days: int) -> str:
    """A new 8-digit code for this cadre (any earlier one stops working)."""
    cadre = s.get(Cadre, cadre_id)
    if cadre is None or not cadre.active:
        raise Refused("没有找到这位在岗的工作人员。")
    code = f"{secrets.randbelow(10**8):08d}"
    cadre.bind_code_hash = _hash(code)
    cadre.bind_code_expires = now + dt.timedelta(days=valid_days)
    audit.append(s, actor="county", action="cadre.bind_code", now=now,
                 payload={"cadre": cadre_id})
    return code


def bind(s: Session, code: str, openid: str, *, now: dt.datetime) -> int:
    """Bind `openid` to the cadre whose code this is; returns the cadre's id."""
    if not code.strip().isdigit():
        raise Refused("绑定码是8位数字，请核对后重新输入。")
    cadre = s.scalar(select(Cadre).where(Cadre.bind_code_hash == _hash(code)).with_for_update())
    if cadre is None or not cadre.active:
        raise Refused("绑定码不正确，请核对后重新输入，或联系县里重新获取。")
    if cadre.bind_code_expires is None or cadre.bind_code_expires < now:
        raise Refused("绑定码已过期，请联系县里重新获取。")
    # the WeChat account may have been bound to another record before (a cadre who moved)
    s.execute(update(Cadre).where(Cadre.openid == openid, Cadre.id != cadre.id)
              .values(openid=None))
    s.flush()
    cadre.openid, cadre.bind_code_hash, cadre.bind_code_expires = openid, None, None
    audit.append(s, actor=f"cadre:{cadre.id}", action="cadre.bound", now=now,
                 payload={"cadre": cadre.id})
    return cadre.id
