"""How a message reaches a person. The bot (bot/push.py) provides the WeChat channel; the
reminders of cadres add WeCom behind the same interface."""

from __future__ import annotations

from typing import Protocol

from notifications.wording import Rendered


class DeliveryFailed(Exception):
    """The channel could not deliver now; the dispatcher retries later, then gives up."""


class Channel(Protocol):
    def deliver(self, recipient: str, message: Rendered) -> str:
        """Deliver to a farmer's openid or "cadre:<id>", or raise DeliveryFailed; returns
        how it went out ("custom", "template", "wecom")."""
        ...
