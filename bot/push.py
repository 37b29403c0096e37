"""The channels the outbox delivers through (notifications.channels.Channel).

Farmers: a WeChat customer-service message while the 48-hour window since their last
message is open, a template message otherwise (or when WeChat answers 45015). Cadres: their
preferred channel, WeChat (template message) or WeCom (a text card), the other as fallback.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from approvals.record.calendar import Clock
from approvals.record.db import Database
from approvals.record.models import Cadre
from bot.models import InboundMessage
from bot.wechat_adapter import OUTSIDE_WINDOW, WeChatApi, WeChatApiError, WeComApi
from notifications.channels import DeliveryFailed
from notifications.wording import Rendered

if TYPE_CHECKING:  # the wiring passes these in; bot never imports it at run time
    from fangfan.config import TemplateConf

WINDOW = dt.timedelta(hours=48)


class WeChatPush:
    """Built for one dispatcher run (`Services.channels()`): what it reads of a person is read
    once per run, not once per message."""

    def __init__(self, database: Database, api: WeChatApi, template: TemplateConf | None,
                 clock: Clock) -> None:
        self.database, self.api, self.template, self.clock = database, api, template, clock
        self._last_seen: dict[str, dt.datetime | None] = {}

    def _in_window(self, openid: str) -> bool:
        if openid not in self._last_seen:
            with self.database.session_scope() as s:
                self._last_seen[openid] = s.scalar(select(func.max(InboundMessage.received_at))
                                                   .where(InboundMessage.openid == openid))
        seen = self._last_seen[openid]
        return seen is not None and self.clock.now() - seen < WINDOW

    def deliver(self, openid: str, message: Rendered) -> str:
        try:
            if self._in_window(openid):
                try:
                    self.api.send_text(openid, message.text)
                    return "custom"
                except WeChatApiError as err:
                    if err.code not in OUTSIDE_WINDOW:
                        raise
            if self.template is None:
                raise DeliveryFailed("48小时外且未配置模板消息 (wechat.templates.case_update)")
            values = {"title": message.title, "number": message.number,
                      "result": message.result, "detail": message.detail}
            self.api.send_template(openid, self.template.id, {
                field: wording.format(**values) for field, wording in self.template.fields.items()})
            return "template"
        except WeChatApiError as err:
            raise DeliveryFailed(str(err)) from None


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
