"""Screening hits made by hand, shaped as the engine gives them (approvals.screening.engine.Hit:
the rows' `values` hold neither the name nor the ID number), and what applying them wrote: the
tests of what a hit does need no feeds and no engine."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlalchemy import select

from approvals.record.models import CaseKind, Member, RunStatus, ScreeningHit, ScreeningRun
from approvals.screening import outcomes
from approvals.screening.engine import Hit
from tests.db import session_scope
from tests.support.world import World

AS_OF = dt.date(2026, 10, 31)


def head(household_id: int) -> tuple[int, str]:
    with session_scope() as s:
        m = s.scalars(select(Member).where(Member.household_id == household_id,
                                           Member.is_head)).one()
        return m.id, m.name


def _hit(household_id: int, rule: str, figures: dict[str, Any], row: dict[str, Any],
         salt: str) -> Hit:
    fingerprint = hashlib.sha256(f"{rule}:{household_id}:{salt}".encode()).hexdigest()
    return Hit(household_id, rule, figures, [row], fingerprint)


def medical(household_id: int, total: float = 23_500.0, salt: str = "1") -> Hit:
    """大额医疗自付 (total, 红, open_case)."""
    member_id, name = head(household_id)
    figures = {"shape": "total", "rule_name": "大额医疗自付", "feed": "medical",
               "feed_label": "医保", "as_of": AS_OF.isoformat(), "since": "2025-11-01",
               "within_days": 365, "field_label": "个人自付", "total": total,
               "at_least": 20_000.0, "records": 1}
    row = {"feed": "medical", "feed_label": "医保", "file": "medical.csv", "row": 2,
           "member_id": member_id, "name": name, "date": "2026-05-03",
           "values": {"结算日期": "2026-05-03", "医疗总费用": total * 2, "医保报销": total,
                      "个人自付": total}}
    return _hit(household_id, "medical_out_of_pocket", figures, row, salt)


def disability(household_id: int, salt: str = "1") -> Hit:
    """新增重度残疾 (any, 橙, open_case)."""
    member_id, name = head(household_id)
    figures = {"shape": "any", "rule_name": "新增重度残疾", "feed": "disability",
               "feed_label": "残联", "as_of": AS_OF.isoformat(), "since": "2025-11-01",
               "within_days": 365, "records": 1, "matched": {"残疾等级": ["二级"]}}
    row = {"feed": "disability", "feed_label": "残联", "file": "残联.xlsx", "row": 7,
           "member_id": member_id, "name": name, "date": "2026-03-12",
           "values": {"残疾类别": "肢体", "残疾等级": "二级", "发证日期": "2026-03-12"}}
    return _hit(household_id, "severe_disability", figures, row, salt)


def assistance(household_id: int, salt: str = "1") -> Hit:
    """新纳入社会救助 (any, 黄, visit)."""
    member_id, name = head(household_id)
    figures = {"shape": "any", "rule_name": "新纳入社会救助", "feed": "civil",
               "feed_label": "民政", "as_of": AS_OF.isoformat(), "since": "2026-05-05",
               "within_days": 180, "records": 1,
               "matched": {"救助类型": ["临时救助"], "变化": ["新增"]}}
    row = {"feed": "civil", "feed_label": "民政", "file": "civil.csv", "row": 3,
           "member_id": member_id, "name": name, "date": "2026-08-20",
           "values": {"救助类型": "临时救助", "变化": "新增", "变化日期": "2026-08-20"}}
    return _hit(household_id, "new_assistance", figures, row, salt)


def apply(world: World, hits: list[Hit], run_id: int | None = None) -> outcomes.Applied:
    """The hits applied as the flow applies them, in a run of their own (or `run_id`)."""
    now = world.clock.now()
    with session_scope() as s:
        if run_id is None:
            run = ScreeningRun(as_of=AS_OF, scope="all", trigger="测试", started_by="cli",
                               feeds_dir="/tmp", status=RunStatus.RUNNING, created_at=now)
            s.add(run)
            s.flush()
            run_id = run.id
        return outcomes.apply(s, hits, run_id=run_id, rules=world.config.screening.rules,
                              as_of=AS_OF, now=now,
                              definition=world.config.definition(CaseKind.IDENTIFICATION),
                              calendar=world.services.calendar)


def hits_of(household_id: int) -> list[ScreeningHit]:
    with session_scope() as s:
        return list(s.scalars(select(ScreeningHit).where(
            ScreeningHit.household_id == household_id).order_by(ScreeningHit.id)))
