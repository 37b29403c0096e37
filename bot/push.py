"""The channels the outbox delivers through (notifications.channels.Channel).

Farmers: the channels of `wechat.farmer_channels`, in order, the first that can deliver:
custom (a customer-service message, while the 48 hours since their last message are open;
WeChat's 45015/45047 fall through), subscribe (a subscription notification, 订阅通知, while a
consent to its template lasts; a one-time consent is spent by it, WeChat's 43101 ends the
consent and falls through) and template (a template message, when one is configured).
Cadres: their preferred channel, WeChat (a customer-service message in the window, else a
template message) or WeCom (a text card), the other as fallback.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from approvals.record.calendar import Clock
from approvals.record.db import Database
from approvals.record.models import Cadre
from bot import subscriptions
from bot.models import InboundMessage
from bot.wechat_adapter import (
    OUTSIDE_WINDOW,
    SUBSCRIBE_MISCONFIGURED,
    SUBSCRIBE_REFUSED,
    WeChatApi,
    WeChatApiError,
    WeComApi,
)
from notifications.channels import DeliveryFailed
from notifications.wording import Rendered

if TYPE_CHECKING:  # the wiring passes these in; bot never imports it at run time
    from fangfan.config import SubscriptionConf, TemplateConf

log = logging.getLogger(__name__)
WINDOW = dt.timedelta(hours=48)

# The longest value of a subscription notification's field, by its kind (the key's prefix:
# thing1, character_string2, ...), as 发送订阅通知 (cgi-bin/message/subscribe/bizsend) lists
# them; WeChat refuses a longer one (47003). time, date and amount have formats, not lengths,
# and are sent as worded. A template message's field (keyword1 ...) has been shown to 20
# characters since May 2023 (WeChat cuts the rest silently): it is cut here the same way, so
# that what fangfan records as sent is what the farmer sees.
LIMITS = {"thing": 20, "character_string": 32, "number": 32, "letter": 32, "symbol": 5,
          "phrase": 5, "name": 10, "phone_number": 17, "car_number": 8}
TEMPLATE_LIMIT = 20
_KIND = re.compile(r"([a-z_]+?)[0-9]*")
_SPACE = re.compile(r"\s+")
# A blank value is refused (47003); a field with nothing to say says so
BLANK = {"thing": "无", "phrase": "无", "name": "无"}


def fitted(key: str, value: str, template: bool = False) -> str:
    """`value` made fit for field `key`: on one line (WeChat shows no line breaks), cut to its
    kind's limit with "…" where it says words, and never blank in a subscription."""
    value = _SPACE.sub(" ", value).strip()
    match = _KIND.fullmatch(key)
    kind = match.group(1) if match else key
    if template:  # first and remark are not shown at all: left as worded
        limit = None if key in ("first", "remark") else min(LIMITS.get(kind, TEMPLATE_LIMIT),
                                                            TEMPLATE_LIMIT)
    else:
        limit = LIMITS.get(kind)
    if not value and not template:
        return BLANK.get(kind, "-")
    if limit is None or len(value) <= limit:
        return value
    if kind in ("thing", "name") or template:
        return value[:limit - 1] + "…"
    return value[:limit]


def _worded(fields: dict[str, str], message: Rendered, template: bool) -> dict[str, str]:
    values = message.fields()
    return {key: fitted(key, wording.format(**values), template)
            for key, wording in fields.items()}


class WeChatPush:
    """Built for one dispatcher run (`Services.channels()`): what it reads of a person is read
    once per run, not once per message."""

    def __init__(self, database: Database, api: WeChatApi, template: TemplateConf | None,
                 clock: Clock, subscription: SubscriptionConf | None = None,
                 channels: Sequence[str] = ("custom", "template")) -> None:
        self.database, self.api, self.template, self.clock = database, api, template, clock
        self.subscription, self.channels = subscription, tuple(channels)
        self._last_seen: dict[str, dt.datetime | None] = {}

    def _in_window(self, openid: str) -> bool:
        if openid not in self._last_seen:
            with self.database.session_scope() as s:
                self._last_seen[openid] = s.scalar(select(func.max(InboundMessage.received_at))
                                                   .where(InboundMessage.openid == openid))
        seen = self._last_seen[openid]
        return seen is not None and self.clock.now() - seen < WINDOW

    def deliver(self, openid: str, message: Rendered) -> str:
        """The first channel that delivers, by name; DeliveryFailed saying why none did."""
        passed = []
        try:
            for channel in self.channels:
                why = getattr(self, f"_{channel}")(openid, message)
                if why is None:
                    return channel
                passed.append(why)
        except WeChatApiError as err:
            raise DeliveryFailed(str(err)) from None
        raise DeliveryFailed("；".join(passed) or "没有可用的发送渠道 (wechat.farmer_channels)")

    # Each channel: None when it delivered, the reason it passed the message on, or
    # WeChatApiError for a failure the dispatcher retries later.

    def _custom(self, openid: str, message: Rendered) -> str | None:
        if not self._in_window(openid):
            return "客服消息：48小时内没有收到对方消息"
        try:
            self.api.send_text(openid, message.text)
        except WeChatApiError as err:
            if err.code not in OUTSIDE_WINDOW:
                raise
            return f"客服消息：{err}"
        return None

    def _subscribe(self, openid: str, message: Rendered) -> str | None:
        conf = self.subscription
        if conf is None:
            return "订阅通知：未配置 (wechat.subscriptions.case_update)"
        now = self.clock.now()
        held = subscriptions.reserve(self.database, openid, conf.id, now)
        if held is None:
            return "订阅通知：对方没有订阅或次数已用完"
        try:
            self.api.send_subscribe(openid, conf.id, _worded(conf.fields, message, False),
                                    conf.page)
        except WeChatApiError as err:
            if err.code == SUBSCRIBE_REFUSED:
                subscriptions.gone(self.database, openid, conf.id, now)
                return f"订阅通知：{err}"
            if held == "one_time":  # not delivered: the consent is still theirs
                subscriptions.restore(self.database, openid, conf.id, now)
            if err.code in SUBSCRIBE_MISCONFIGURED:  # sending again would not help
                log.warning("订阅通知被微信拒收：%s", err)
                return f"订阅通知：{err}"
            raise
        return None

    def _template(self, openid: str, message: Rendered) -> str | None:
        if self.template is None:
            return "未配置模板消息 (wechat.templates.case_update)"
        self.api.send_template(openid, self.template.id,
                               _worded(self.template.fields, message, True))
        return None


class WeComPush:
    """A WeCom text card whose button opens the task (or the inbox)."""

    def __init__(self, api: WeComApi) -> None:
        self.api = api

    def deliver(self, user_id: str, message: Rendered) -> str:
        try:
            self.api.send_card(user_id, message.title, message.detail, message.url)
        except WeChatApiError as err:
            raise DeliveryFailed(f"企业微信：{err}") from None
        return "wecom"


class CadrePush:
    """To a cadre: their preferred channel first, the other if it fails or is not set up."""

    def __init__(self, database: Database, wechat: WeChatPush, wecom: WeComPush | None
                 ) -> None:
        self.database, self.wechat, self.wecom = database, wechat, wecom
        self._cadres: dict[int, tuple[str | None, str | None, str] | None] = {}  # one run

    def _cadre(self, cadre_id: int) -> tuple[str | None, str | None, str] | None:
        """(openid, WeCom user id, preferred channel), read once per dispatcher run."""
        if cadre_id not in self._cadres:
            with self.database.session_scope() as s:
                cadre = s.get(Cadre, cadre_id)
                self._cadres[cadre_id] = ((cadre.openid, cadre.wecom_userid, cadre.channel)
                                          if cadre else None)
        return self._cadres[cadre_id]

    def deliver(self, recipient: str, message: Rendered) -> str:
        cadre = self._cadre(int(recipient.removeprefix("cadre:")))
        routes = {"wechat": (self.wechat, cadre[0]) if cadre else None,
                  "wecom": (self.wecom, cadre[1]) if cadre and self.wecom else None}
        preferred = cadre[2] if cadre else "wechat"
        failures = []
        for name in (preferred, *(n for n in routes if n != preferred)):
            channel, address = routes.get(name) or (None, None)
            if channel is None or not address:
                continue
            try:
                return channel.deliver(address, message)
            except DeliveryFailed as err:
                failures.append(str(err))
        raise DeliveryFailed("；".join(failures) or "这位干部没有绑定微信或企业微信")
