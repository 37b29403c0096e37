"""The system of record: one aggregate per module, all exported here for Alembic and callers."""

from approvals.models.audit import AuditEntry
from approvals.models.cases import (
    Case,
    CaseKind,
    CaseRisk,
    CaseStatus,
    Definition,
    Objection,
    ObjectionStatus,
    Source,
    Task,
    TaskStatus,
    Verdict,
)
from approvals.models.households import (
    Household,
    IncomeRecord,
    Measure,
    Member,
    MonitoringStatus,
    Revisit,
)
from approvals.models.people import BindThrottle, Cadre, Pairing, StandIn
from approvals.models.places import Place

__all__ = [
    "AuditEntry",
    "BindThrottle",
    "Cadre",
    "Case",
    "CaseKind",
    "CaseRisk",
    "CaseStatus",
    "Definition",
    "Household",
    "IncomeRecord",
    "Measure",
    "Member",
    "MonitoringStatus",
    "Objection",
    "ObjectionStatus",
    "Pairing",
    "Place",
    "Revisit",
    "Source",
    "StandIn",
    "Task",
    "TaskStatus",
    "Verdict",
]
