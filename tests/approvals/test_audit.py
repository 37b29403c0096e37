"""The hash-chained audit log finds a changed, a deleted and an inserted row."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from approvals.record import audit
from approvals.record.models import AuditEntry
from tests.db import session_scope


def _decided_case(world) -> None:
    case_id = world.apply(world.household())
    world.approve_through(case_id, until=None)


def test_an_untouched_chain_verifies(world):
    _decided_case(world)
    with session_scope() as s:
        count, breaks = audit.verify(s, None, batch=7)
    assert count > 10
    assert breaks == []


def test_a_changed_row_is_found(world):
    _decided_case(world)
    with session_scope() as s:
        seq = s.scalar(select(AuditEntry.seq).where(AuditEntry.action == "decide.approved")
                       .order_by(AuditEntry.seq).limit(1))
        s.execute(update(AuditEntry).where(AuditEntry.seq == seq)
                  .values(actor="cadre:999"))
    with session_scope() as s:
        _, breaks = audit.verify(s, None)
    assert [b.seq for b in breaks] == [seq]
    assert "被修改" in breaks[0].problem


def test_a_deleted_row_is_found(world):
    _decided_case(world)
    with session_scope() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    with session_scope() as s:
        _, breaks = audit.verify(s, None)
    assert breaks and breaks[0].seq == 4
    assert any("缺失" in b.problem for b in breaks)


def test_an_inserted_row_is_found(world):
    """An insider makes room at seq 5 (every later row moves up one) and puts a decision there
    whose own hash is right: the row after it does not chain to it."""
    _decided_case(world)
    with session_scope() as s:
        rows = s.scalar(select(func.count()).select_from(AuditEntry))
        before = s.scalars(select(AuditEntry).where(AuditEntry.seq == 4)).one()
        # in two steps, so that no two rows share a seq at any moment (PostgreSQL checks the
        # unique seq row by row)
        s.execute(update(AuditEntry).where(AuditEntry.seq >= 5)
                  .values(seq=-AuditEntry.seq - 1))
        s.execute(update(AuditEntry).where(AuditEntry.seq < 0).values(seq=-AuditEntry.seq))
        forged = {"at": before.at, "actor": "cadre:1", "action": "decide.approved",
                  "case_id": before.case_id, "payload": {"stage": "county_approval"}}
        s.add(AuditEntry(seq=5, prev_hash=before.hash,
                         hash=audit._digest(5, before.hash, **forged), **forged))
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == rows + 1
        _, breaks = audit.verify(s, None)
    assert breaks and breaks[0].seq == 6
    assert "第6条记录的前序哈希与上一条不符" in breaks[0].problem
    assert all(b.seq >= 6 for b in breaks)  # the rows up to the inserted one chain as they did


def test_a_decision_is_appended_at_once_and_sealed_by_the_next_pass(world):
    case_id = world.apply(world.household())
    world.decides(case_id, world.approver(case_id), advance=False)
    with session_scope() as s:
        assert audit.unsealed(s) == 1  # the decision's row, appended without waiting
        sealed, breaks = audit.verify(s, None)
    world.advance(case_id)
    with session_scope() as s:
        assert audit.unsealed(s) == 0
        count, breaks = audit.verify(s, None)
    assert breaks == []
    assert count == sealed + 2  # the decision and the opening of the next task
