"""What the bot keeps: conversations (drafts that survive restarts), inbound messages seen
(the retry guard), plain-mode callbacks' nonces and the shared access-token cache. The photos
received belong to the record (approvals.record.models.MediaFile)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from approvals.record.db import Base


class Conversation(Base):
    """One WeChat user's dialogue: the step it is at and the draft so far."""

    __tablename__ = "wechat_conversations"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    step: Mapped[str] = mapped_column(String(32), default="idle")
    draft: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime]


class InboundMessage(Base):
    """A message or event already answered. WeChat retries a slow answer three times; the
    unique key makes the retry find the first answer instead of acting twice."""

    __tablename__ = "wechat_inbound"
    __table_args__ = (Index("ix_wechat_inbound_openid_received", "openid", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    openid: Mapped[str] = mapped_column(String(64))
    # the user's last message opens 48 hours for customer-service messages (bot/push.py)
    received_at: Mapped[dt.datetime]
    reply: Mapped[str | None] = mapped_column(Text)


class PlainNonce(Base):
    """A plaintext callback's (timestamp, nonce) and its body's hash. Its signature covers the
    timestamp and nonce but not the body, so a signed URL, once seen, carries that body only;
    rows older than the freshness window are pruned (bot/webhook.py)."""

    __tablename__ = "wechat_plain_nonces"

    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_sha256: Mapped[str] = mapped_column(String(64))


class AccessToken(Base):
    """wechatpy's session storage, in the database so that every process shares one token."""

    __tablename__ = "wechat_tokens"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[float | None] = mapped_column(Float)


class WeChatSubscription(Base):
    """A user's consent to one subscription-notification template (订阅通知): a one-time
    consent is one notification (`remaining`, added up per acceptance, spent on each one
    sent); a long-term one (长期订阅, open to public services such as this) lasts until the
    user turns it off. A reject, a turn-off or WeChat's 43101 ends both.

    `event_at` is the CreateTime of the last consent event applied: WeChat retries an event
    with the same CreateTime and may deliver events out of order, so one not newer is not
    applied again (the popup's acceptance would otherwise be counted twice)."""

    __tablename__ = "wechat_subscriptions"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    template_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    remaining: Mapped[int] = mapped_column(default=0)
    long_term: Mapped[bool] = mapped_column(default=False)
    event_at: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime]
