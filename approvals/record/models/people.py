"""Cadres, their role and jurisdiction, and their pairings (结对帮扶) with households."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from approvals.record.db import Base
from approvals.record.models.places import Place


class Cadre(Base):
    __tablename__ = "cadres"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32), index=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)  # the Official Account
    wecom_userid: Mapped[str | None] = mapped_column(String(64), unique=True)  # 企业微信
    channel: Mapped[str] = mapped_column(String(8), default="wechat",
                                         server_default="wechat")  # preferred: wechat | wecom
    active: Mapped[bool] = mapped_column(default=True)
    # a one-time code from the county binds the cadre's WeChat (openid) on first sign-in
    # (approvals/record/bindings.py): its selector finds it, only its verifier's hash is kept, and
    # it dies after too many wrong verifiers
    bind_selector: Mapped[str | None] = mapped_column(String(8), unique=True)
    bind_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    bind_code_expires: Mapped[dt.datetime | None]
    bind_code_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    # every sign-in cookie carries the epoch it was issued in; 退出 moves it on, so copies of
    # the cookie (every device's) stop working
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    place: Mapped[Place] = relationship()


class Pairing(Base):
    """帮扶责任不脱钩: a pairing lasts until the household's risk is eliminated."""

    __tablename__ = "pairings"
    __table_args__ = (UniqueConstraint("household_id", "cadre_id", "started_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"), index=True)
    started_on: Mapped[dt.date]
    ended_on: Mapped[dt.date | None]

    cadre: Mapped[Cadre] = relationship()


class StandIn(Base):
    """代理: `stand_in_id` acts for `cadre_id` from `starts_on` to `ends_on` (both included)."""

    __tablename__ = "stand_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"), index=True)
    stand_in_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"), index=True)
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date]
    reason: Mapped[str] = mapped_column(String(200))
    named_by: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    named_at: Mapped[dt.datetime]


class BindThrottle(Base):
    """Wrong binding codes counted per key (a sign-in session, a WeChat account, a code),
    shared by every web process: too many in a row lock the key for a while. The key is a
    hash; no openid or code is stored in clear."""

    __tablename__ = "bind_throttles"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[dt.datetime | None]
    locked_until: Mapped[dt.datetime | None]
