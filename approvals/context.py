"""What the pages need from the process around them, as typed interfaces: the database, the
clock, the working-day calendar, where photos and the screening runs' records are kept,
WeChat's sign-in and the parts of config.yaml they read.

The wiring satisfies `Context` (fangfan/services.py's `Services`, built once per process) and
hands it to the app (`approvals.web.install`); a page asks `approvals.web.session.context()`.
They are Protocols, not the wiring's own classes, because approvals/ imports none of the
edges: `fangfan.config.Config` is a `PagesConfig` by its shape, and the bot's adapter
(`bot.wechat_adapter.OAuth`) an `OAuth`. Members are read-only properties, so a frozen model's
field or a plain attribute satisfies them alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection

from approvals.assistance.measures import Rules as MeasureRules
from approvals.desk.imports import Limits as ImportLimits
from approvals.procedure.elimination import EliminationRules
from approvals.procedure.reexaminations import ReexaminationRules
from approvals.record.calendar import Clock, WorkCalendar
from approvals.record.db import Database
from approvals.record.definitions import CaseKind, Definition, Level, ProcedureDef, RoleDef
from approvals.screening.rules import Rule


class OAuth(Protocol):
    """WeChat's 网页授权 (snsapi_base): where to send a cadre's browser, and whom the code
    that comes back stands for (None when WeChat would not say)."""

    def authorize_url(self, redirect_uri: str, state: str) -> str: ...

    def openid(self, code: str) -> str | None: ...


class WorkbenchConfig(Protocol):
    """config.yaml's `workbench`: who sees personal data, who hands work over, binding codes."""

    @property
    def personal_data_roles(self) -> Sequence[str]: ...
    @property
    def handover_roles(self) -> Sequence[str]: ...
    @property
    def reject_reasons(self) -> Sequence[str]: ...
    @property
    def bind_max_failures(self) -> int: ...
    @property
    def bind_lockout_minutes(self) -> int: ...
    @property
    def bind_code_max_failures(self) -> int: ...
    @property
    def bind_rate_limit(self) -> str: ...
    @property
    def rate_limit_storage(self) -> str: ...


class NotificationsConfig(Protocol):
    @property
    def due_soon_working_days(self) -> int: ...


class AssistanceConfig(Protocol):
    @property
    def by_risk(self) -> Mapping[str, Sequence[str]]: ...
    @property
    def subtypes(self) -> Mapping[str, Sequence[str]]: ...


class NoticeConfig(Protocol):
    @property
    def public_reasons(self) -> Mapping[str, str]: ...
    @property
    def objection_to(self) -> str: ...
    @property
    def hotline(self) -> str: ...


class ScreeningConfig(Protocol):
    """config.yaml's `screening`: the rules (for the desk's filters), the upload's bound,
    the headers each feed has in this county (checked as a file is uploaded)."""

    @property
    def rules(self) -> Mapping[str, Rule]: ...
    @property
    def max_file_mb(self) -> int: ...
    @property
    def columns(self) -> Mapping[str, Mapping[str, str]]: ...


class PagesConfig(Protocol):
    """The parts of config.yaml the pages read."""

    @property
    def dev_mode(self) -> bool: ...
    @property
    def levels(self) -> Mapping[Level, str]:
        """What this place calls its county, township and village (县/乡镇/村, 旗/苏木/嘎查)."""
        ...
    @property
    def roles(self) -> Mapping[str, RoleDef]: ...
    @property
    def categories(self) -> Mapping[str, str]: ...
    @property
    def risk_types(self) -> Mapping[str, str]: ...
    @property
    def fast_track_risks(self) -> Sequence[str]:
        """The causes of 先帮扶后认定 named by default (a cadre may write another)."""
        ...
    @property
    def measure_types(self) -> Sequence[str]: ...
    @property
    def procedures(self) -> Mapping[CaseKind, ProcedureDef]: ...
    @property
    def workbench(self) -> WorkbenchConfig: ...
    @property
    def notifications(self) -> NotificationsConfig: ...
    @property
    def assistance(self) -> AssistanceConfig: ...
    @property
    def notice(self) -> NoticeConfig: ...
    @property
    def reexamination(self) -> ReexaminationRules: ...
    @property
    def screening(self) -> ScreeningConfig: ...

    def definition(self, kind: CaseKind) -> Definition: ...

    def stage_labels(self) -> dict[str, str]:
        """Every stage of the procedures, in order, with its label (for filters)."""
        ...

    def elimination_rules(self) -> EliminationRules: ...

    def assistance_rules(self) -> MeasureRules: ...

    def import_limits(self) -> ImportLimits: ...


class Context(Protocol):
    """What the pages are given: built once per process by the wiring."""

    @property
    def database(self) -> Database: ...
    @property
    def config(self) -> PagesConfig: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def calendar(self) -> WorkCalendar: ...
    @property
    def media_dir(self) -> Path:
        """The media store: photos are kept under it (approvals.record.photos)."""
        ...
    @property
    def screening_dir(self) -> Path:
        """部门筛查预警's folder: what each run read is kept under it (approvals.screening.store),
        for the county's 比对审定."""
        ...

    def oauth(self) -> OAuth: ...

    def start_screening(self, run_id: int, folder: Path, as_of: dt.date, scope: str) -> None:
        """Start the queued screening run `run_id` over the feeds in `folder` and return at
        once: on the worker through Prefect's deployment when a Prefect API is configured,
        else in a thread of this process (workflows/screening.py)."""
        ...

    def tell_household(self, conn: Connection, household_id: int, key: str, event: str,
                       params: Mapping[str, Any], now: dt.datetime) -> None:
        """Tell the household's members bound to WeChat (an event of notifications.wording,
        `key` unique per event), in the caller's transaction: for what happens outside a
        case's pass, such as a 回退."""
        ...
