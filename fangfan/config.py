"""config.yaml as one typed, validated model. A bad file fails with one line naming the key."""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import limits
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from approvals.assistance.measures import Rules as MeasureRules
from approvals.desk.imports import Limits as ImportLimits
from approvals.procedure import stages
from approvals.procedure.elimination import EliminationRules, IncomeLine
from approvals.procedure.reexaminations import ReexaminationRules
from approvals.record.calendar import WorkCalendar
from approvals.record.definitions import (
    Definition,
    Level,
    ProcedureDef,
    RoleDef,
    VoteRules,
    calendar_days,
    stage_labels,
)
from approvals.record.models import CaseKind
from approvals.screening.feeds import FEEDS
from approvals.screening.rules import Rule


class ConfigError(Exception):
    """One line for the operator: which key, what is wrong."""


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CalendarConf(Strict):
    extra_holidays: list[dt.date] = []
    extra_workdays: list[dt.date] = []


class EliminationConf(Strict):
    """风险消除's criteria (approvals.procedure.elimination): local rules, with defaults."""

    min_months_monitored: int = Field(6, ge=0)
    min_measures_done: int = Field(1, ge=0)  # carried out in this monitoring period
    # every income record of the revisits spanning at least this many months (back from the
    # latest) is at or above its year's line
    stable_income_months: int = Field(6, ge=1, le=60)
    # a household with no one able to work is never eliminated (it stays under 兜底保障)
    never_without_labour: bool = True


class TownshipConf(Strict):
    name: str
    villages: list[str] = Field(min_length=1)


class PlacesConf(Strict):
    name: str
    townships: list[TownshipConf] = Field(min_length=1)


class WeChatMpConf(Strict):
    """The Official Account (公众号): its callback token, app credentials and AES key.

    `mode` is the callback's 消息加解密方式: safe (安全模式, only encrypted callbacks), compatible
    (兼容模式, encrypted and plaintext) or plain (明文模式). It defaults to safe when an
    EncodingAESKey is set, else plain. A signature older or newer than `timestamp_window_seconds`
    is refused (WeChat's three retries of a message come within about 15 s)."""

    token: str = Field(min_length=3, max_length=32)
    app_id: str
    app_secret: str
    encoding_aes_key: str | None = Field(None, min_length=43, max_length=43)
    mode: Literal["safe", "compatible", "plain"] = "safe"
    timestamp_window_seconds: int = Field(300, ge=30, le=3600)

    @model_validator(mode="before")
    @classmethod
    def _default_mode(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("mode"):
            data = {**data, "mode": "safe" if data.get("encoding_aes_key") else "plain"}
        return data

    @model_validator(mode="after")
    def _key_for_mode(self) -> WeChatMpConf:
        if self.mode != "plain" and not self.encoding_aes_key:
            raise ValueError(f"mode {self.mode} 需要 encoding_aes_key（消息加解密密钥）")
        return self


# What a template's or subscription's wording may name (notifications.wording.Rendered)
MESSAGE_FIELDS = ("title", "number", "result", "detail", "reason", "next", "review")
# A subscription notification's keys are its field's kind and a number (thing1,
# character_string2, ...): 发送订阅通知's data, as the service account API lists them
SUBSCRIPTION_KINDS = ("thing", "number", "letter", "symbol", "character_string", "time",
                      "date", "amount", "phone_number", "car_number", "name", "phrase")
_SUBSCRIPTION_KEY = re.compile(rf"(?:{'|'.join(SUBSCRIPTION_KINDS)})[0-9]{{1,2}}")


def _wording(fields: dict[str, str]) -> dict[str, str]:
    """Each wording names only what a message has ({result}, ...; see MESSAGE_FIELDS)."""
    for key, wording in fields.items():
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(wording) if name}
        except ValueError:
            raise ValueError(f"{key}：花括号不成对") from None
        unknown = sorted(names - set(MESSAGE_FIELDS))
        if unknown:
            raise ValueError(f"{key}：没有这些字段 {'、'.join(unknown)}"
                             f"（可用 {'、'.join(MESSAGE_FIELDS)}）")
    return fields


class TemplateConf(Strict):
    """A template message (模板消息) used outside the 48-hour customer-service window. Since
    May 2023 WeChat shows neither `first` nor `remark` and cuts every other field after 20
    characters: what the farmer must read goes in the keyword fields (bot/push.py trims)."""

    id: str
    # template field → wording with {title} {number} {result} {detail} {reason} {next} {review}
    fields: dict[str, str]

    @field_validator("fields")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        return _wording(v)


class SubscriptionConf(Strict):
    """A subscription notification (订阅通知) the user agreed to receive: its template, whether
    it is a long-term one (长期订阅) or one-time (each acceptance allows one notification),
    the page its card opens, and its keys (thing1, character_string2, ...) → wording, each
    value cut to its kind's limit (bot/push.py)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,128}$")
    long_term: bool = False
    page: str | None = None
    fields: dict[str, str] = Field(min_length=1, max_length=20)

    @field_validator("fields")
    @classmethod
    def _keys(cls, v: dict[str, str]) -> dict[str, str]:
        wrong = sorted(k for k in v if not _SUBSCRIPTION_KEY.fullmatch(k))
        if wrong:
            raise ValueError(f"没有这些类型的字段 {'、'.join(wrong)}"
                             f"（应为 {'、'.join(SUBSCRIPTION_KINDS)} 加序号，如 thing1）")
        return _wording(v)


FarmerChannel = Literal["custom", "subscribe", "template"]


class WeComConf(Strict):
    """A WeCom (企业微信) application through which cadres who use WeCom get their tasks."""

    corp_id: str
    agent_id: int
    secret: str
    api_base_url: str = "https://qyapi.weixin.qq.com"


class WeChatConf(Strict):
    api_base_url: str = "https://api.weixin.qq.com"
    # where the phone pages send a cadre to sign in (OAuth, snsapi_base)
    oauth_base_url: str = "https://open.weixin.qq.com"
    timeout_seconds: float = Field(3.0, gt=0, le=30)
    mp: WeChatMpConf
    templates: dict[str, TemplateConf] = {}
    subscriptions: dict[str, SubscriptionConf] = {}  # 订阅通知, by the same names as templates
    # how a farmer is told, in the order tried: custom (客服消息, within 48 hours of their
    # last message), subscribe (订阅通知, while a consent lasts), template (模板消息)
    farmer_channels: list[FarmerChannel] = Field(["custom", "subscribe", "template"],
                                                 min_length=1)
    work: WeComConf | None = None

    @field_validator("farmer_channels")
    @classmethod
    def _once_each(cls, v: list[str]) -> list[str]:
        repeated = sorted({c for c in v if v.count(c) > 1})
        if repeated:
            raise ValueError(f"重复的渠道 {'、'.join(repeated)}")
        return v


class NotificationsConf(Strict):
    """Reminders to cadres and notices to farmers (notifications/)."""

    base_url: str = "http://127.0.0.1:8000"  # where the task links in reminders point
    reminder_time: dt.time = dt.time(8, 30)  # the daily digest, on working days
    due_soon_working_days: int = Field(1, ge=0, le=10)
    escalate_after_working_days: int = Field(2, ge=1, le=60)
    quiet_start: dt.time = dt.time(22, 0)  # no pushes to farmers from here...
    quiet_end: dt.time = dt.time(7, 0)  # ...until here; held until morning
    revisit_key_days: int = Field(30, ge=1, le=366)  # 重点户: these categories, or no labour
    revisit_all_days: int = Field(90, ge=1, le=366)  # every monitored household
    revisit_key_categories: list[str] = ["sudden"]


class WorkbenchConf(Strict):
    """The cadres' phone pages (approvals/web)."""

    # signs the session cookie; several web processes must share it (FANGFAN_SECRET_KEY)
    secret_key: str = Field(min_length=16)
    # roles that see full ID numbers and phones; everyone else sees them masked
    personal_data_roles: list[str] = ["village_cadre", "helper", "county_approver"]
    # roles that hand a leaving cadre's pairings and tasks to another, within their jurisdiction
    handover_roles: list[str] = ["township_auditor", "supervisor"]
    # reasons a reviewer picks from when rejecting (or types another)
    reject_reasons: list[str] = []
    bind_code_days: int = Field(7, ge=1, le=60)  # how long a one-time binding code stays valid
    # wrong binding codes in a row from one sign-in session, WeChat account or code before
    # it is locked for bind_lockout_minutes; a code dies after bind_code_max_failures
    bind_max_failures: int = Field(5, ge=1, le=50)
    bind_lockout_minutes: int = Field(15, ge=1, le=24 * 60)
    bind_code_max_failures: int = Field(10, ge=1, le=100)
    # POSTs to /bind per client address (the `limits` notation), on top of those counters;
    # each web process counts its own unless rate_limit_storage names a shared store
    bind_rate_limit: str = "20 per minute"
    rate_limit_storage: str = "memory://"  # e.g. redis://127.0.0.1:6379 (limits' URIs)
    # a sign-in ends after this long without a request (the signed cookie's timestamp)
    session_idle_hours: float = Field(12, gt=0, le=24 * 30)
    # reverse proxies in front of the web processes, whose X-Forwarded-For / -Proto are
    # trusted: the per-address limits then count the client, not the proxy
    proxy_hops: int = Field(0, ge=0, le=5)


    @field_validator("bind_rate_limit")
    @classmethod
    def _a_rate(cls, v: str) -> str:
        try:
            limits.parse(v)
        except ValueError:
            raise ValueError("应为频率，如 '20 per minute'") from None
        return v


class AssistanceConf(Strict):
    """帮扶: which measure types fit which risk and capacity, local sub-types, the alert."""

    by_risk: dict[str, list[str]] = {}  # risk type → measure types (单一风险单一措施)
    able_to_work: list[str] = []  # development measures: 产业, 就业, 消费 ...
    unable_to_work: list[str] = []  # 兜底: 综合保障 (低保, 特困)
    weak_motivation: list[str] = []  # 扶志扶智
    subtypes: dict[str, list[str]] = {}  # measure type → local sub-types
    # a monitored household with no measure carried out this many days after it entered
    # monitoring is an alert for its paired cadre
    no_measure_alert_days: int = Field(30, ge=1, le=365)


class NoticeConf(Strict):
    """The printed public notice (公示): never an ID number, phone, bank account or illness."""

    # the one-line reason, by risk type, in words fit for the village board
    public_reasons: dict[str, str] = {}
    objection_to: str = "村民委员会"  # where to object (config.yaml names the township too)
    hotline: str = "12317"


class FaqConf(Strict):
    """A policy question the chat answers: ways people ask it and the answer said back."""

    key: str = Field(pattern=r"^[a-z_]{2,32}$")
    questions: list[str] = Field(min_length=1)
    answer: str = Field(min_length=2, max_length=600)


class ChatConf(Strict):
    """The farmer's conversation (bot/): the questions it answers from config and how soon a
    cadre calls back a farmer who asks for a person (转人工)."""

    faq: list[FaqConf] = []
    callback_working_days: int = Field(1, ge=1, le=10)


class ImportsConf(Strict):
    """Roster, cadre and pairing imports (approvals.desk.imports): how much of a file is read."""

    max_rows: int = Field(200_000, ge=1, le=2_000_000)  # data rows of one file
    max_unpacked_mb: int = Field(100, ge=1, le=2048)  # what an .xlsx unpacks to, in all
    max_file_mb: int = Field(30, ge=1, le=1024)  # the file as uploaded


class RoundConf(Strict):
    """A scheduled round of screening (集中排查), run by the worker from the inbox folder."""

    name: str = Field(min_length=2, max_length=30)  # 一季度重点人群排查
    cron: str  # when, in the county's time (Asia/Shanghai), e.g. "0 2 5 3,6,9 *"
    scope: Literal["key", "all"] = "all"  # key: monitored households and 脱贫户

    @field_validator("cron")
    @classmethod
    def _a_cron(cls, v: str) -> str:
        from prefect.client.schemas.schedules import CronSchedule  # Prefect's own check

        try:
            CronSchedule(cron=v, timezone="Asia/Shanghai")
        except ValueError:
            raise ValueError("应为 cron 表达式，如 '0 2 5 3,6,9 *'（分 时 日 月 星期）") from None
        return v


class ScreeningConf(Strict):
    """部门筛查预警 (approvals/screening): the feeds' headers, the rules, the rounds."""

    # feed → field → the header this county's department uses instead of the default
    columns: dict[str, dict[str, str]] = {}
    rules: dict[str, Rule] = {}  # config.yaml holds them (none: nothing is flagged)
    rounds: list[RoundConf] = []
    max_file_mb: int = Field(1024, ge=1, le=8192)  # one feed's file as uploaded or dropped
    max_rows: int = Field(10_000_000, ge=1, le=50_000_000)  # data rows of one file

    @model_validator(mode="after")
    def _known_columns(self) -> ScreeningConf:
        for feed, renamed in self.columns.items():
            if feed not in FEEDS:
                raise ValueError(f"screening.columns：没有这个数据源 {feed}"
                                 f"（应为 {'、'.join(FEEDS)}）")
            known = {f.key for f in FEEDS[feed].fields}
            unknown = sorted(set(renamed) - known)
            if unknown:
                raise ValueError(f"screening.columns.{feed}：没有这些字段 {'、'.join(unknown)}"
                                 f"（应为 {'、'.join(sorted(known))}）")
        return self


class Config(Strict):
    levels: dict[Level, str]
    roles: dict[str, RoleDef]
    categories: dict[str, str]
    risk_types: dict[str, str]
    fast_track_risks: list[str] = []
    measure_types: list[str] = Field(min_length=1)
    region: str
    income_lines: list[IncomeLine] = Field(min_length=1)
    calendar: CalendarConf = CalendarConf()
    procedures: dict[CaseKind, ProcedureDef]
    village_review: VoteRules = VoteRules()
    reexamination: ReexaminationRules = ReexaminationRules()  # 复核
    elimination: EliminationConf = EliminationConf()
    places: PlacesConf
    wechat: WeChatConf
    notifications: NotificationsConf = NotificationsConf()
    workbench: WorkbenchConf
    assistance: AssistanceConf = AssistanceConf()
    notice: NoticeConf = NoticeConf()
    imports: ImportsConf = ImportsConf()
    screening: ScreeningConf = ScreeningConf()
    chat: ChatConf = ChatConf()
    dev_mode: bool = False  # the demo cadre sign-in and the chat simulator (/dev/wechat)

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        for kind, proc in self.procedures.items():
            for stage, spec in proc.stages.items():
                if spec.role not in self.roles:
                    raise ValueError(
                        f"procedures.{kind}.stages.{stage}.role：没有这个岗位 {spec.role}")
            _within_total(kind, proc)
        if self.reexamination.role not in self.roles:
            raise ValueError(f"reexamination.role：没有这个岗位 {self.reexamination.role}")
        unknown = set(self.fast_track_risks) - set(self.risk_types)
        if unknown:
            raise ValueError(f"fast_track_risks：没有这些困难类型 {'、'.join(sorted(unknown))}")
        a = self.assistance
        named = [m for ms in (*a.by_risk.values(), a.able_to_work, a.unable_to_work,
                              a.weak_motivation, list(a.subtypes)) for m in ms]
        unknown_types = sorted(set(named) - set(self.measure_types))
        if unknown_types:
            raise ValueError(f"assistance：measure_types 里没有这些措施类型 "
                             f"{'、'.join(unknown_types)}")
        if set(a.by_risk) - set(self.risk_types):
            raise ValueError(f"assistance.by_risk：没有这些困难类型 "
                             f"{'、'.join(sorted(set(a.by_risk) - set(self.risk_types)))}")
        for key in ("personal_data_roles", "handover_roles"):
            unknown = set(getattr(self.workbench, key)) - set(self.roles)
            if unknown:
                raise ValueError(f"workbench.{key}：没有这些岗位 {'、'.join(sorted(unknown))}")
        for key, rule in self.screening.rules.items():
            if rule.risk not in self.risk_types:
                raise ValueError(f"screening.rules.{key}.risk：没有这个困难类型 {rule.risk}")
        missing = [k.value for k in CaseKind if k not in self.procedures]
        if missing:
            raise ValueError(f"procedures：缺少 {'、'.join(missing)}")
        return self

    def definition(self, kind: CaseKind) -> Definition:
        return Definition(kind=kind, procedure=self.procedures[kind], roles=self.roles,
                          categories=self.categories, measure_types=self.measure_types,
                          village_review=self.village_review, risk_types=self.risk_types)

    def stage_labels(self) -> dict[str, str]:
        """Every stage of the procedures, in order, with its label (for filters over the
        tasks of all procedures; a task itself is labelled by its case's definition)."""
        return stage_labels(self.definition(kind) for kind in self.procedures)

    def work_calendar(self) -> WorkCalendar:
        return WorkCalendar.of(self.calendar.extra_holidays, self.calendar.extra_workdays)

    def import_limits(self) -> ImportLimits:
        i = self.imports
        return ImportLimits(i.max_rows, i.max_unpacked_mb * 2**20, i.max_file_mb * 2**20)

    def assistance_rules(self) -> MeasureRules:
        a = self.assistance
        return MeasureRules(a.by_risk, a.able_to_work, a.unable_to_work, a.weak_motivation,
                            a.subtypes)

    def elimination_rules(self) -> EliminationRules:
        return EliminationRules(**self.elimination.model_dump(), region=self.region,
                                income_lines=tuple(self.income_lines))


def _within_total(kind: CaseKind, proc: ProcedureDef) -> None:
    """The stages' allowances must fit in the procedure's total clock, compared in calendar
    days with a working day counted as 7/5 of one (five working days to a week): a case whose
    every stage used its allowance would otherwise be late in total while on time at each."""
    stages_sum = sum((calendar_days(s.deadline) for s in proc.stages.values()), Fraction(0))
    total = calendar_days(proc.total)
    if stages_sum > total:
        raise ValueError(
            f"procedures.{kind}：「{proc.label}」各环节期限合计约{_days(stages_sum)}天，"
            f"超过总期限{_days(total)}天（工作日按每7天5个工作日折算）")


def _days(days: Fraction) -> str:
    return f"{float(days):.1f}".removesuffix(".0")


# pydantic's messages are English; the operator reads one Chinese line naming the key
_MESSAGES = {
    "missing": "缺少这一项",
    "extra_forbidden": "不认识的配置项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "dict_type": "应为键值对",
    "model_type": "应为键值对",
    "date_from_datetime_parsing": "应为日期，如 2027-01-01",
    "date_parsing": "应为日期，如 2027-01-01",
    "date_type": "应为日期，如 2027-01-01",
    "time_parsing": "应为时刻，如 08:30",
    "time_type": "应为时刻，如 08:30",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "too_short": "至少要有 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "string_too_short": "至少 {min_length} 个字符",
    "string_too_long": "最多 {max_length} 个字符",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
}


def _message(error: Any) -> str:
    """One pydantic error in Chinese: our own checks' text, else the kind of error."""
    if error["type"] == "value_error":
        return str(error["ctx"]["error"])
    template = _MESSAGES.get(error["type"])
    if template is None:
        return "取值不符合要求"
    ctx = {k: str(v).replace("'", "") for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**ctx)
    except KeyError:
        return template.split("{")[0].rstrip("：，: ")


def load(path: Path, overrides: dict[str, str] | None = None) -> Config:
    """Read and validate config.yaml; `overrides` ("wechat.mp.token": value) come from the
    environment (fangfan.settings) and win over the file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}：找不到配置文件") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" 第{mark.line + 1}行" if mark else ""
        raise ConfigError(f"{path}{where}：YAML 格式错误") from None
    raw = raw or {}
    for dotted, value in (overrides or {}).items():
        *parents, last = dotted.split(".")
        node = raw
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    try:
        config = Config.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        text = _message(first)
        # our checks over the whole file name their key in the text already
        where = f"{key}：" if key and not text.startswith(key) else ""
        raise ConfigError(f"{path}：{where}{text}") from None
    try:  # a stage only runs with its module (approvals/procedure/stages/)
        stages.check(config.procedures)
    except stages.MissingStage as err:
        raise ConfigError(f"{path}：{err}") from None
    return config


LOOPBACK = ("127.0.0.1", "localhost", "::1")
STAND_IN = "/dev/wechat/api"  # the simulator's stand-in for api.weixin.qq.com (bot.simulator)


def follow_port(config: Config, port: int, explicit: Iterable[str] = ()) -> Config:
    """In dev_mode, the URLs that point back at this machine's web app follow its port
    (FANGFAN_PORT): the stand-in WeChat API the worker pushes to, and the base of the links in
    cadres' reminders. config.yaml's demo values say 8000; a `make run` on another port must
    still deliver the chat's pushes to its own simulator. Keys set from the environment
    (`explicit`, dotted) are kept as given; nothing changes outside dev_mode."""
    if not config.dev_mode or not port:
        return config

    def moved(url: str, stand_in: bool) -> str:
        parts = urlsplit(url)
        if parts.hostname not in LOOPBACK or (stand_in and not parts.path.startswith(STAND_IN)):
            return url
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return urlunsplit(parts._replace(netloc=f"{host}:{port}"))

    explicit = set(explicit)
    wechat, notifications = config.wechat, config.notifications
    if "wechat.api_base_url" not in explicit:
        wechat = wechat.model_copy(update={"api_base_url": moved(wechat.api_base_url, True)})
    if "notifications.base_url" not in explicit:
        notifications = notifications.model_copy(
            update={"base_url": moved(notifications.base_url, False)})
    return config.model_copy(update={"wechat": wechat, "notifications": notifications})
