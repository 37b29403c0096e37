"""A household: its members, monitoring status, assistance measures and income records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ColumnElement, ForeignKey, Index, Numeric, String, Text, false
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from approvals.record.db import Base
from approvals.record.identity import normalize_id_number
from approvals.record.models.places import Place


class Labour(StrEnum):
    """劳动能力 of a member, as the verification records it."""

    FULL = "full"  # 有劳动能力
    PARTIAL = "partial"  # 部分丧失劳动能力
    NONE = "none"  # 无劳动能力


LABOUR_LABELS = {Labour.FULL: "有劳动能力", Labour.PARTIAL: "部分丧失劳动能力",
                 Labour.NONE: "无劳动能力"}


class MonitoringStatus(StrEnum):
    NONE = "none"  # not a monitoring target
    MONITORED = "monitored"  # 监测对象
    ELIMINATED = "eliminated"  # 风险消除


def size_of(members: int, declared: int | None) -> int:
    """家庭人口 of a household with `members` recorded and `declared` by its application."""
    return members if members > 1 or not declared else declared


class Household(Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("places.id"), index=True)
    group_name: Mapped[str | None] = mapped_column(String(32))  # 村民小组
    monitoring: Mapped[MonitoringStatus] = mapped_column(String(16), default=MonitoringStatus.NONE)
    category: Mapped[str | None] = mapped_column(String(16))
    monitored_since: Mapped[dt.date | None]
    eliminated_on: Mapped[dt.date | None]
    # 脱贫户: the household left poverty in the campaign (the roster's 脱贫户 column); only
    # such a household can be a 脱贫不稳定户
    formerly_poor: Mapped[bool] = mapped_column(default=False, server_default=false())
    # 家庭人口 as the applicant gave it (the chat asks it of a household not in the roster):
    # it stands until the household's members are recorded (入户核实)
    declared_size: Mapped[int | None]

    village: Mapped[Place] = relationship()
    members: Mapped[list[Member]] = relationship(
        back_populates="household", order_by="Member.id", cascade="all, delete-orphan")
    measures: Mapped[list[Measure]] = relationship(order_by="Measure.id")

    @property
    def head(self) -> Member:
        return next(m for m in self.members if m.is_head)

    @property
    def present(self) -> list[Member]:
        """The members still in the household (a verification marks who has left)."""
        return [m for m in self.members if m.left_on is None]

    @property
    def size(self) -> int:
        """家庭人口: the members recorded, or the applicant's figure while only the head is."""
        return size_of(len(self.present), self.declared_size)

    @property
    def anyone_able_to_work(self) -> bool:
        """Whether a present member can work at all (fully or partly)."""
        return any(m.able_to_work for m in self.present)

    @property
    def labour(self) -> Labour:
        """The household's capacity: its most able present member's."""
        found = {m.labour for m in self.present}
        return next((x for x in Labour if x in found), Labour.NONE)


class Member(Base):
    __tablename__ = "members"
    # the inbox finds a household by the start of its head's name (LIKE '王%')
    __table_args__ = (Index("ix_members_name", "name",
                            postgresql_ops={"name": "text_pattern_ops"}),)

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(32))
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    relation: Mapped[str] = mapped_column(String(16))  # 与户主关系
    is_head: Mapped[bool] = mapped_column(default=False)
    labour: Mapped[Labour] = mapped_column(String(8), default=Labour.FULL,  # 劳动能力
                                           server_default=Labour.FULL.value)
    left_on: Mapped[dt.date | None]  # 已迁出/去世, as a verification found; the row stays
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)  # WeChat identity

    household: Mapped[Household] = relationship(back_populates="members")

    @hybrid_property
    def able_to_work(self) -> bool:
        """有劳动能力 or 部分丧失: can work at all (what most rules ask)."""
        return self.labour != Labour.NONE

    @able_to_work.inplace.setter
    def _able_to_work_set(self, value: bool) -> None:
        self.labour = Labour.FULL if value else Labour.NONE

    @able_to_work.inplace.expression
    @classmethod
    def _able_to_work_expression(cls) -> ColumnElement[bool]:
        return cls.labour != Labour.NONE

    @able_to_work.inplace.update_expression
    @classmethod
    def _able_to_work_update(cls, value: Any) -> list[tuple[Any, Any]]:
        return [(cls.labour, Labour.FULL if value else Labour.NONE)]

    @validates("id_number")
    def _valid_id(self, _key: str, value: str) -> str:
        return normalize_id_number(value)


class Measure(Base):
    """An assistance measure (帮扶措施): planned, then carried out."""

    __tablename__ = "measures"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(16))
    subtype: Mapped[str | None] = mapped_column(String(32))  # local sub-type: 低保, 公益性岗位
    description: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str | None] = mapped_column(String(64))  # the responsible unit (责任单位)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # 元, where it applies
    planned_on: Mapped[dt.date]
    done_on: Mapped[dt.date | None]
    result: Mapped[str | None] = mapped_column(Text)  # what it achieved


class IncomeRecord(Base):
    """Per-capita net income as a revisit measured it (家庭人均纯收入, 元/人·年)."""

    __tablename__ = "income_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    recorded_on: Mapped[dt.date]
    per_capita_net: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    revisit_id: Mapped[int | None] = mapped_column(ForeignKey("revisits.id"))


class Revisit(Base):
    """定期回访: what the paired cadre found (《东胜区衔接规划》专栏2, docs/domain.md).
    Quarterly: members, income by kind minus production costs (→ per-capita net income),
    compliant out-of-pocket costs; once a year also the annual content (`annual`)."""

    __tablename__ = "revisits"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    cadre_id: Mapped[int] = mapped_column(ForeignKey("cadres.id"))
    visited_on: Mapped[dt.date]
    members: Mapped[int]
    wage: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 工资性收入, last 12 months
    business: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 生产经营性收入
    property: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 财产性收入
    transfer: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 转移性收入
    production_costs: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 生产经营费用支出
    out_of_pocket: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 合规性自付支出
    per_capita_net: Mapped[Decimal] = mapped_column(Numeric(12, 2))  # 家庭人均纯收入
    risk_remains: Mapped[bool]  # 风险是否仍存在
    weak_motivation: Mapped[bool] = mapped_column(default=False)  # 内生动力不足
    annual: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # 年度监测内容
    # 两不愁三保障、饮水安全 and rigid expenditure as the cadre found them, each secure or not
    # (approvals.assistance.revisits.SECURITY; the elimination criteria read the latest)
    secure: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict,
                                                    server_default="{}")
    notes: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    recorded_at: Mapped[dt.datetime]
