"""Every stage a procedure may name: one module each, registered here by its key.

To add a stage: its module in this package (`base.StageModule`: form, checks, POST parsing,
timeline line, guidance, demo form), its partial `approvals/web/templates/stages/<key>.html`,
and the stage in config.yaml's procedure, where it stands in order. Nothing else. The order
of stages is never a module's: it is the procedure's (config.yaml, stored with each
definition). A stage config names without a module, or a module without its partial, is
refused at start-up (`check`, from fangfan.config).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from approvals.procedure.stages import (
    county_approval,
    home_verification,
    public_notice,
    township_audit,
    village_review,
)
from approvals.procedure.stages.base import Posted, StageModule
from approvals.record.definitions import CaseKind, ProcedureDef

__all__ = ["MissingStage", "Posted", "StageModule", "check", "of", "registered"]
ROOT = Path(__file__).resolve().parents[3]  # the repository, for shorter paths in messages

_REGISTRY: dict[str, StageModule] = {m.STAGE.key: m.STAGE for m in (
    home_verification, village_review, public_notice, township_audit, county_approval)}


class MissingStage(Exception):
    """A stage config names that cannot run: one line naming its key."""


def of(key: str) -> StageModule:
    """The module of the stage with this key (the start-up check made sure it exists)."""
    return _REGISTRY[key]


@contextmanager
def registered(stage: StageModule) -> Iterator[StageModule]:
    """A stage whose module lives outside this package (a test's), for as long as the block
    runs."""
    if stage.key in _REGISTRY:
        raise ValueError(f"stage {stage.key!r} is registered already")
    _REGISTRY[stage.key] = stage
    try:
        yield stage
    finally:
        del _REGISTRY[stage.key]


def check(procedures: Mapping[CaseKind, ProcedureDef]) -> None:
    """Every stage the procedures name has its module, and every such module its partial."""
    for kind, procedure in procedures.items():
        for key in procedure.order:
            where = f"procedures.{kind}.stages.{key}"
            stage = _REGISTRY.get(key)
            if stage is None:
                raise MissingStage(f"{where}：这个环节没有程序模块（approvals/procedure/stages/"
                                   f"{key}.py）")
            partial = stage.partial
            if not partial.is_file():
                shown = partial.relative_to(ROOT) if partial.is_relative_to(ROOT) else partial
                raise MissingStage(f"{where}：环节模块缺少页面模板（{shown}）")
