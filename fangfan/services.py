"""Everything built once per process from settings and config: the database, clock, calendar.

`Services` is the pages' `approvals.context.Context` (fangfan.app hands it to them)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from approvals.record.calendar import Clock, SystemClock, WorkCalendar
from approvals.record.db import Database
from approvals.record.definitions import CaseKind
from approvals.record.models.screening import RunStatus
from approvals.screening import runs
from bot import wording as bot_wording
from bot.inbound_log import InboundLog
from bot.push import CadrePush, WeChatPush, WeComPush
from bot.wechat_adapter import OAuth, WeChatApi, WeComApi
from fangfan import config as config_module
from fangfan import production
from fangfan.config import Config
from fangfan.database import make_engine
from fangfan.dev_clock import ShiftedClock, parse_step
from fangfan.settings import Settings
from notifications import announcements
from notifications.announcements import News
from notifications.channels import Channel
from notifications.models import Audience
from notifications.wording import Local
from workflows.advance import mark_stalled
from workflows.runtime import Runtime
from workflows.screening import Setup as ScreeningSetup

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    config: Config
    engine: Engine
    clock: Clock
    calendar: WorkCalendar
    database: Database = field(init=False)  # the engine's scopes (approvals.record.db)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.database = Database(self.engine)

    @property
    def runtime(self) -> Runtime:
        """What the flows are given: this process's clock, calendar and database."""
        return Runtime(self.clock, self.calendar, self.database)

    def screening_setup(self) -> ScreeningSetup:
        """What a screening run needs (workflows.screening.Setup), from this process."""
        conf = self.config.screening
        return ScreeningSetup(self.runtime, self.settings.screening_dir, conf.rules,
                              conf.columns, conf.max_rows, conf.max_file_mb * 1024 * 1024,
                              self.config.definition(CaseKind.IDENTIFICATION))

    def start_screening(self, run_id: int, folder: Path, as_of: dt.date, scope: str) -> None:
        """The desk's run: through the deployment the worker serves when Prefect's API is
        configured (the run is Prefect's, seen in its UI), else in a thread here (tests, a
        single process without Prefect)."""
        from workflows import screening

        params: dict[str, Any] = {"folder": str(folder), "as_of": as_of.isoformat(), "scope": scope,
                  "run_id": run_id}
        if self.settings.prefect_api_url:
            from prefect.deployments import run_deployment

            try:
                # _sync: a page's thread may have an event loop of its own (Prefect would then
                # hand back a coroutine, never run)
                run_deployment(screening.DEPLOYMENT, parameters=params, timeout=0,
                               as_subflow=False, _sync=True)  # type: ignore[call-arg]
            except Exception as err:  # no deployment yet (the worker not started), API down
                log.warning("部门筛查第%s次运行未能开始（%s）：Prefect 或后台没有运行。",
                            run_id, type(err).__name__)
                runs.mark(self.database, run_id, status=RunStatus.FAILED,
                          finished_at=self.clock.now(),
                          error="部门筛查服务（fangfan worker 和 Prefect）没有运行，本次未开始；"
                                "请稍后重新上传，或联系系统管理员。")
            return
        setup = self.screening_setup()

        def in_thread() -> None:
            with screening.given(setup):
                try:
                    screening.screening.fn(**params)
                except screening.Refused:
                    pass  # recorded on the run's row, which the desk shows

        threading.Thread(target=in_thread, name=f"screening-{run_id}", daemon=True).start()

    @property
    def media_dir(self) -> Path:
        """Where photos are kept: the farmers' from the chat, the cadres' from the pages."""
        return self.settings.media_dir

    @property
    def screening_dir(self) -> Path:
        """部门筛查预警's folder: the departments' inbox, the desk's uploads, each run's kept
        frames (approvals.screening.store)."""
        return self.settings.screening_dir

    def wechat_api(self) -> WeChatApi:
        """The Official Account's API client (bot.wechat_adapter.WeChatApi), built once."""
        if "wechat_api" not in self._cache:
            conf = self.config.wechat
            self._cache["wechat_api"] = WeChatApi(self.database, conf.api_base_url,
                                                  conf.mp.app_id, conf.mp.app_secret,
                                                  conf.timeout_seconds)
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
        conf = self.config.wechat
        templates, work = conf.templates, conf.work
        db = self.database
        wecom = (WeComPush(WeComApi(db, work.api_base_url, work.corp_id, work.agent_id,
                                    work.secret, conf.timeout_seconds))
                 if work else None)
        return {Audience.FARMER: WeChatPush(db, self.wechat_api(), templates.get("case_update"),
                                            self.clock, conf.subscriptions.get("case_update"),
                                            conf.farmer_channels),
                Audience.CADRE: CadrePush(db, WeChatPush(db, self.wechat_api(),
                                                         templates.get("task_reminder"),
                                                         self.clock), wecom)}

    def tell_household(self, conn: Connection, household_id: int, key: str, event: str,
                       params: Mapping[str, Any], now: dt.datetime) -> None:
        """The household hears of something done outside a case's pass (a 回退): its
        members bound to WeChat, in the caller's transaction (notifications.announcements)."""
        announcements.to_households(conn, [News(key, household_id, event, dict(params))], now)

    def move_clock(self, step: str) -> dt.datetime:
        """The demo's clock moved (`+5d`, `+2h`, `+30m`) or put back (`reset`) for every
        process; refused (ValueError, in words for the user) without dev_mode. What fell due
        meanwhile (a notice period over) is marked at once, so the worker's next pass, a few
        seconds later, moves it on instead of reconcile's, minutes later."""
        if not self.config.dev_mode or not isinstance(self.clock, ShiftedClock):
            raise ValueError("只有开发模式（dev_mode）下可以调整时间。")
        if step.strip() == "reset":
            return self.clock.reset()
        delta = parse_step(step)
        if delta is None:
            raise ValueError("时间格式应为 +5d（天）、+2h（小时）、+30m（分钟）或 reset。")
        moved = self.clock.move(delta)
        mark_stalled(self.database, moved)
        return moved

    def quiet_hours(self) -> tuple[dt.time, dt.time]:
        conf = self.config.notifications
        return conf.quiet_start, conf.quiet_end

    def local(self) -> Local:
        """What messages call the township level and the hotline (config.yaml)."""
        return bot_wording.local(self.config)


def build(settings: Settings | None = None, clock: Clock | None = None,
          engine: Engine | None = None) -> Services:
    settings = settings or Settings.from_env()
    config = config_module.load(settings.config_path, settings.config_overrides)
    config = config_module.follow_port(config, settings.port, settings.config_overrides)
    production.check(settings, config)  # before anything opens: no process runs on demo secrets
    engine = engine or make_engine(settings.database_url)
    clock = clock or SystemClock()
    if config.dev_mode:  # the demo's time can be moved forward (fangfan.dev_clock)
        clock = ShiftedClock(clock, settings.dev_clock_path)
    return Services(settings, config, engine, clock, config.work_calendar())
