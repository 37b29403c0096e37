"""The procedure definitions: stages, roles, deadlines and labels, as read from config.yaml.

A case stores the version of its definition it started with (`definitions` table), so a
change of config.yaml never changes the rules of a case already in flight.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CaseKind(StrEnum):
    """The procedures: each has its definition in config.yaml and its flow in workflows/."""

    IDENTIFICATION = "identification"  # 识别纳入
    RISK_ELIMINATION = "risk_elimination"  # 风险消除


class Stage(StrEnum):
    """Every human stage of both procedures, in the order they run."""

    HOME_VERIFICATION = "home_verification"
    VILLAGE_REVIEW = "village_review"
    PUBLIC_NOTICE = "public_notice"
    TOWNSHIP_AUDIT = "township_audit"
    COUNTY_APPROVAL = "county_approval"


class Level(StrEnum):
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Deadline(Frozen):
    days: int = Field(gt=0, le=365)
    unit: Literal["calendar", "working"] = "calendar"


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


class ProcedureDef(Frozen):
    """One procedure as config.yaml states it; the stage order itself is in workflows/."""

    label: str
    total: Deadline
    stages: dict[Stage, StageDef]
    with_public_notice: bool = True

    @model_validator(mode="after")
    def _all_stages(self) -> ProcedureDef:
        missing = [s.value for s in Stage if s not in self.stages]
        if missing:
            raise ValueError(f"missing stages: {', '.join(missing)}")
        return self


class Definition(Frozen):
    """What a case is bound to: its procedure plus the roles that procedure names."""

    kind: str
    procedure: ProcedureDef
    roles: dict[str, RoleDef]
    categories: dict[str, str]
    measure_types: list[str]

    def stage(self, stage: Stage) -> StageDef:
        return self.procedure.stages[stage]

    def level_of(self, stage: Stage) -> Level:
        return self.roles[self.stage(stage).role].level

    def body(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def digest(self) -> str:
        canonical = json.dumps(self.body(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()
