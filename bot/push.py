"""The WeChat channel for farmers: a customer-service message while the 48-hour window
since their last message is open, a template message otherwise (or when WeChat answers
45015: the window has closed)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from approvals.calendar import Clock
from approvals.db import session_scope
from bot.models import InboundMessage
from bot.wechat_adapter import OUTSIDE_WINDOW, WeChatApi, WeChatApiError
from notifications.channels import DeliveryFailed
from notifications.wording import Rendered

if TYPE_CHECKING:  # the wiring passes these in; bot never imports it at run time
    from fangfan.config import TemplateConf

WINDOW = dt.timedelta(hours=48)


class WeChatPush:
    def __init__(self, api: WeChatApi, template: TemplateConf | None, clock: Clock) -> None:
        self.api, self.template, self.clock = api, template, clock

    def _in_window(self, openid: str) -> bool:
        with session_scope() as s:
            seen = s.scalar(select(func.max(InboundMessage.received_at))
                            .where(InboundMessage.openid == openid))
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
