"""Everything built once per process from settings and config: engine, clock, calendar."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from approvals.calendar import Clock, SystemClock, WorkCalendar
from approvals.db import bind
from fangfan import config as config_module
from fangfan.config import Config
from fangfan.database import make_engine
from fangfan.settings import Settings
from workflows import runtime


@dataclass
class Services:
    settings: Settings
    config: Config
    engine: Engine
    clock: Clock
    calendar: WorkCalendar


def build(settings: Settings | None = None, clock: Clock | None = None,
          engine: Engine | None = None) -> Services:
    settings = settings or Settings.from_env()
    config = config_module.load(settings.config_path)
    engine = engine or make_engine(settings.database_url)
    bind(engine)
    services = Services(settings, config, engine, clock or SystemClock(), config.work_calendar())
    runtime.install(runtime.Runtime(services.clock, services.calendar))
    return services
