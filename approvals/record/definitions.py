"""The procedure definitions: stages, roles, deadlines and labels, as read from config.yaml.

A case stores the version of its definition it started with (`definitions` table), so a
change of config.yaml never changes the rules of a case already in flight: not its labels or
deadlines, and not the order of its stages, which is the order config.yaml lists them in.
A stage is a key (an open string); what the software does at it is its module in
approvals/procedure/stages/.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from enum import StrEnum
from fractions import Fraction
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class CaseKind(StrEnum):
    """The procedures: each has its definition in config.yaml and its flow in workflows/."""

    IDENTIFICATION = "identification"  # 识别纳入
    RISK_ELIMINATION = "risk_elimination"  # 风险消除


class Stage(StrEnum):
    """The stages both procedures are built around, by name. Not an order: each procedure
    has its own (`ProcedureDef.order`), and may name stages of its own."""

    HOME_VERIFICATION = "home_verification"
    VILLAGE_REVIEW = "village_review"
    PUBLIC_NOTICE = "public_notice"
    TOWNSHIP_AUDIT = "township_audit"
    COUNTY_APPROVAL = "county_approval"


STAGE_KEY_MAX = 32  # tasks.stage, cases.stage


class Level(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Deadline(Frozen):
    days: int = Field(gt=0, le=365)
    unit: Literal["calendar", "working"] = "calendar"


# A working week: five working days to seven calendar days, the rate at which a working-day
# allowance is compared with a calendar one (config check: the stages within the total).
WORKING_WEEK = Fraction(7, 5)


def calendar_days(deadline: Deadline) -> Fraction:
    """A deadline's length in calendar days, a working day counted as 7/5 of one. Holidays
    make a real span longer; the comparison is of what config.yaml promises, not of a date."""
    return Fraction(deadline.days) * (WORKING_WEEK if deadline.unit == "working" else 1)


class RoleDef(Frozen):
    label: str
    level: Level
    # whether a household may be paired with a cadre of this role (帮扶联系人) at the county's
    # approval; unsaid: the village-level roles, who visit the household
    pairable: bool | None = None

    @property
    def may_be_paired(self) -> bool:
        return self.level == Level.VILLAGE if self.pairable is None else self.pairable


class StageDef(Frozen):
    label: str
    role: str
    deadline: Deadline
    # 入户核实: how many people must visit the household (the county sets one or two for an
    # identification; unsaid: two). Kept with the definition, so a case keeps its rule.
    visitors: int | None = Field(None, ge=1, le=5)


class ProcedureDef(Frozen):
    """One procedure as config.yaml states it, its stages in the order they run."""

    label: str
    total: Deadline
    stages: dict[str, StageDef] = Field(min_length=1)
    # The stages' keys in order, as config.yaml lists them; written out because neither the
    # digest (sorted keys) nor every JSON store keeps a mapping's order. Unsaid in config.
    order: tuple[str, ...] = ()
    with_public_notice: bool = True

    @model_validator(mode="before")
    @classmethod
    def _order_as_listed(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("order") and isinstance(
                data.get("stages"), dict):
            data = {**data, "order": list(data["stages"])}
        return data

    @model_validator(mode="after")
    def _order_of_its_stages(self) -> ProcedureDef:
        if sorted(self.order) != sorted(self.stages):
            raise ValueError("order：须把每个环节各列一次")
        long = [k for k in self.order if not 0 < len(k) <= STAGE_KEY_MAX]
        if long:  # a task row keeps its stage's key
            raise ValueError(f"stages：环节的键应为1到{STAGE_KEY_MAX}个字符：{long[0]}")
        return self


@cache  # a decision of 村民主评议 asks twice; the config has two
def _share(value: str) -> Fraction:
    try:
        share = Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"a share is a fraction such as 2/3, not {value!r}") from None
    if not 0 < share <= 1:
        raise ValueError(f"a share is more than 0 and at most 1, not {value!r}")
    return share


class VoteRules(Frozen):
    """村民主评议: when the representatives' meeting counts and when its vote passes
    (config.yaml `village_review`). Fractions written as text ("2/3"), so that 24 of 36 is a
    quorum exactly, as no decimal can say."""

    # of the representatives (应到人数, typed on the form), at least this share present
    quorum: str = "2/3"
    # of those present, more than this share voting for (过半数)
    pass_share: str = "1/2"

    @field_validator("quorum", "pass_share")
    @classmethod
    def _a_share(cls, v: str) -> str:
        _share(v)
        return v

    def quorate(self, expected: int, present: int) -> bool:
        return present >= expected * _share(self.quorum)

    def passed(self, present: int, votes_for: int) -> bool:
        return votes_for > present * _share(self.pass_share)


class Definition(Frozen):
    """What a case is bound to: its procedure plus the roles that procedure names."""

    kind: str
    procedure: ProcedureDef
    roles: dict[str, RoleDef]
    categories: dict[str, str]
    measure_types: list[str]
    # the village review's quorum and passing share; a definition stored before they were
    # configurable reads the defaults, which are what the law says (村民委员会组织法 §26)
    village_review: VoteRules = VoteRules()
    # the risk types a verification may find (a definition stored before it carried them
    # checks none: its verification keeps the case's own)
    risk_types: dict[str, str] = {}

    def stage(self, stage: str) -> StageDef:
        return self.procedure.stages[stage]

    def level_of(self, stage: str) -> Level:
        return self.roles[self.stage(stage).role].level

    @property
    def order(self) -> tuple[str, ...]:
        """The stages in the order a case of this definition runs them."""
        return self.procedure.order

    def earlier(self, stage: str, than: str) -> bool:
        """Whether `stage` comes before `than` in this procedure (a case is returned only to
        an earlier stage of its own procedure)."""
        order = self.procedure.order
        return stage in order and than in order and order.index(stage) < order.index(than)

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def digest(self) -> str:
        canonical = json.dumps(self.body(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


def stage_labels(definitions: Iterable[Definition]) -> dict[str, str]:
    """Every stage the definitions name, in procedure order, with its label: for a list or a
    filter over the tasks of several procedures. Where procedures label a stage differently,
    each label says whose it is: 县级比对审定（识别纳入）、县级审定（风险消除）."""
    order: list[str] = []
    named: dict[str, dict[str, list[str]]] = {}  # stage → its label → the procedures'
    for definition in definitions:
        previous: str | None = None
        for key in definition.order:
            if key not in named:  # after the stage it follows in this procedure
                order.insert(order.index(previous) + 1 if previous else 0, key)
                named[key] = {}
            named[key].setdefault(definition.stage(key).label, []).append(
                definition.procedure.label)
            previous = key
    return {key: next(iter(named[key])) if len(named[key]) == 1 else "、".join(
        f"{label}（{'、'.join(whose)}）" for label, whose in named[key].items())
        for key in order}
