"""The system of record: one aggregate per module, all exported here for Alembic and callers."""

from approvals.record.definitions import CaseKind  # the kind of procedure a case follows
from approvals.record.models.audit import AuditEntry
from approvals.record.models.callbacks import CallbackRequest, CallbackStatus
from approvals.record.models.cases import (
    Case,
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
from approvals.record.models.households import (
    Household,
    IncomeRecord,
    Labour,
    Measure,
    Member,
    MonitoringStatus,
    Revisit,
)
from approvals.record.models.media import MediaFile, MediaStatus
from approvals.record.models.people import BindThrottle, Cadre, Pairing, StandIn
from approvals.record.models.places import Place
from approvals.record.models.reexaminations import (
    Reexamination,
    ReexaminationResult,
    ReexaminationStatus,
)
from approvals.record.models.screening import HitOutcome, RunStatus, ScreeningHit, ScreeningRun

__all__ = [
    "AuditEntry",
    "BindThrottle",
    "Cadre",
    "CallbackRequest",
    "CallbackStatus",
    "Case",
    "CaseKind",
    "CaseRisk",
    "CaseStatus",
    "Definition",
    "HitOutcome",
    "Household",
    "IncomeRecord",
    "Labour",
    "Measure",
    "MediaFile",
    "MediaStatus",
    "Member",
    "MonitoringStatus",
    "Objection",
    "ObjectionStatus",
    "Pairing",
    "Place",
    "Reexamination",
    "ReexaminationResult",
    "ReexaminationStatus",
    "Revisit",
    "RunStatus",
    "ScreeningHit",
    "ScreeningRun",
    "Source",
    "StandIn",
    "Task",
    "TaskStatus",
    "Verdict",
]
