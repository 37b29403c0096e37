"""Everything built once per process from settings and config: engine, clock, calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from approvals.record.calendar import Clock, SystemClock, WorkCalendar
from approvals.record.db import bind
from bot.inbound_log import InboundLog
from bot.push import CadrePush, WeChatPush, WeComPush
from bot.wechat_adapter import OAuth, WeChatApi, WeComApi
from fangfan import config as config_module
from fangfan import production
from fangfan.config import Config
from fangfan.database import make_engine
from fangfan.settings import Settings
from notifications.channels import Channel
from notifications.models import Audience


@dataclass
class Services:
    settings: Settings
    config: Config
    engine: Engine
    clock: Clock
    calendar: WorkCalendar
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def wechat_api(self) -> WeChatApi:
        """The Official Account's API client (bot.wechat_adapter.WeChatApi), built once."""
        if "wechat_api" not in self._cache:
            conf = self.config.wechat
            self._cache["wechat_api"] = WeChatApi(conf.api_base_url, conf.mp.app_id,
                                                  conf.mp.app_secret, conf.timeout_seconds)
        return self._cache["wechat_api"]

    def inbound_log(self) -> InboundLog:
        """This process's records of questions answered, written behind (bot.inbound_log)."""
        if "inbound_log" not in self._cache:
            self._cache["inbound_log"] = InboundLog(self.engine)
        return self._cache["inbound_log"]

    def close(self) -> None:
        """Write what this process keeps behind now (tests; at exit it happens by itself)."""
        if "inbound_log" in self._cache:
            self._cache.pop("inbound_log").close()

    def oauth(self) -> OAuth:
        """The cadres' sign-in through WeChat (网页授权)."""
        conf = self.config.wechat
        return OAuth(conf.oauth_base_url, conf.api_base_url, conf.mp.app_id, conf.mp.app_secret,
                     conf.timeout_seconds)

    def channels(self) -> dict[Audience, Channel]:
        """Where the outbox delivers (notifications.channels.Channel), by audience."""
        templates, work = self.config.wechat.templates, self.config.wechat.work
        wecom = (WeComPush(WeComApi(work.api_base_url, work.corp_id, work.agent_id, work.secret,
                                    self.config.wechat.timeout_seconds)) if work else None)
        return {Audience.FARMER: WeChatPush(self.wechat_api(), templates.get("case_update"),
                                            self.clock),
                Audience.CADRE: CadrePush(WeChatPush(self.wechat_api(),
                                                     templates.get("task_reminder"), self.clock),
                                          wecom)}

    def quiet_hours(self) -> tuple[dt.time, dt.time]:
        conf = self.config.notifications
        return conf.quiet_start, conf.quiet_end


def build(settings: Settings | None = None, clock: Clock | None = None,
          engine: Engine | None = None) -> Services:
    settings = settings or Settings.from_env()
    config = config_module.load(settings.config_path, settings.config_overrides)
    production.check(settings, config)  # before anything opens: no process runs on demo secrets
    engine = engine or make_engine(settings.database_url)
    bind(engine)
    return Services(settings, config, engine, clock or SystemClock(), config.work_calendar())
