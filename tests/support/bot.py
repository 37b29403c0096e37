"""The bot's settings in tests: the Official Account's config changed, and the clock a
farmer's messages are signed at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from approvals.record.calendar import FixedClock
from fangfan.config import Config


def with_mp(config: Config, **changes: Any) -> Config:
    """config.yaml with `wechat.mp` changed (validated, as a deployment's would be)."""
    raw = config.model_dump()
    raw["wechat"]["mp"] |= changes
    return Config.model_validate(raw)


def sender_clock(clock: FixedClock) -> Callable[[], float]:
    """WeChat's servers and ours agree on the time: the sender signs at the test's clock."""
    return lambda: clock.now().timestamp()
