"""The screening rules: what in the departments' data is a sign of risk, and what a hit does.

Each rule is config.yaml's (`screening.rules`), with a key, a Chinese name and explanation, the
risk type it indicates, a warning level (红 / 橙 / 黄) and what a hit does: `open_case` (an
identification case, source 部门筛查预警) or `visit` (listed for the paired or village cadre to
look at on the next visit). Windows count back from the run's as-of date. A rule is one of
three shapes, applied per household (members aggregated through the roster):

- `total`: the household's sum of `field` over the window is at least `at_least`
  (个人自付 over 365 days ≥ 20,000 yuan);
- `latest`: a member whose latest record (by the feed's date, up to the as-of date) has
  `field` in `values`, changed within the window if one is given, aged within `ages` if given
  (age from the ID number at the as-of date);
- `any`: a record within the window whose fields match `where` (一级 or 二级; 新增 低保).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from approvals.screening.feeds import FEEDS, Kind


class Action(StrEnum):
    """What a hit does: opens an identification case, or lists the household for a visit."""

    OPEN_CASE = "open_case"
    VISIT = "visit"


class WarningLevel(StrEnum):
    """预警等级, shown wherever a hit is shown."""

    RED = "红"
    ORANGE = "橙"
    YELLOW = "黄"


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=2, max_length=40)  # 大额医疗自付
    explanation: str = Field(min_length=4, max_length=200)
    feed: str
    shape: Literal["total", "latest", "any"]
    field: str | None = None  # total: the amount summed; latest: the status read
    at_least: float | None = Field(None, ge=0)  # total
    values: list[str] = []  # latest
    where: dict[str, list[str]] = {}  # any: field → accepted values
    within_days: int | None = Field(None, ge=1, le=3660)
    ages: tuple[int, int] | None = None  # latest: the member's age, both ends included
    risk: str  # a key of config.yaml's risk_types
    action: Action
    level: WarningLevel

    @model_validator(mode="after")
    def _fits_its_feed(self) -> Rule:
        feed = FEEDS.get(self.feed)
        if feed is None:
            raise ValueError(f"feed 应为以下之一：{'、'.join(FEEDS)}")
        fields = {f.key: f for f in feed.fields}
        named = [*([self.field] if self.field else []), *self.where]
        unknown = [k for k in named if k not in fields]
        if unknown:
            raise ValueError(f"{feed.label}没有这些字段：{'、'.join(unknown)}"
                             f"（可用：{'、'.join(fields)}）")
        if self.shape == "total":
            if not self.field or fields[self.field].kind != Kind.AMOUNT or self.at_least is None:
                raise ValueError("total 规则须有金额字段 field 和门槛 at_least")
            if self.within_days is None:
                raise ValueError("total 规则须有时间窗 within_days")
        if self.shape == "latest" and (not self.field or not self.values):
            raise ValueError("latest 规则须有字段 field 和取值 values")
        if self.shape == "any" and not self.where:
            raise ValueError("any 规则须有条件 where")
        for key, accepted in ([(self.field, self.values)] if self.shape == "latest" else []) + \
                list(self.where.items()):
            choices = fields[key or ""].choices
            wrong = [v for v in accepted if choices and v not in choices]
            if wrong:
                raise ValueError(f"{fields[key or ''].header}的取值应为：{'、'.join(choices)}")
        return self

    def since(self, as_of: dt.date) -> dt.date | None:
        """The first day of the rule's window (None: no window)."""
        return as_of - dt.timedelta(days=self.within_days - 1) if self.within_days else None


def yuan(amount: float) -> str:
    """An amount as the county reads it: 20,000元, 9,999.99元."""
    return f"{amount:,.0f}元" if float(amount).is_integer() else f"{amount:,.2f}元"


def describe(figures: dict[str, Any]) -> str:
    """A hit in plain Chinese, from its figures alone (engine.Hit: they carry the labels and
    thresholds as they were on the day, so a later change of config.yaml never rewrites what
    a run found): which department, what figure, against which threshold."""
    where = figures["feed_label"]
    window = (f"{figures['since']}至{figures['as_of']}" if figures.get("since")
              else f"截至{figures['as_of']}")
    match figures["shape"]:
        case "total":
            return (f"{where}数据：{window}家庭成员{figures['field_label']}合计"
                    f"{yuan(figures['total'])}（{figures['records']}条记录），"
                    f"达到{yuan(figures['at_least'])}的预警线。")
        case "latest":
            age = f"（{figures['age']}岁）" if figures.get("age") is not None else ""
            return (f"{where}数据：{figures['name']}{age}最新{figures['field_label']}为"
                    f"「{figures['value']}」，{figures['changed_on']}变化。")
        case _:
            matched = "，".join(f"{label}为{'、'.join(values)}"
                               for label, values in figures["matched"].items())
            who = "、".join(figures.get("names") or [])  # runs before names were kept: none
            return f"{where}数据：{window}{who}有{figures['records']}条记录{matched}。"
