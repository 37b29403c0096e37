"""Batches of passes: a broken case does not hold up the others; two advancers never
open a stage twice; a batch that ran its passes without the lock writes nothing if a row
changed meanwhile."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from approvals.record.definitions import Stage
from approvals.record.models import CaseKind, Task, TaskStatus
from tests.db import dialect, session_scope
from workflows import batches
from workflows.advance import advance_chunk, pending_cases
from workflows.batches import Stale, batch
from workflows.identification import identification
from workflows.passes import Outcome


def test_a_broken_case_stays_marked_and_the_rest_of_its_chunk_advances(world):
    case_ids = [world.apply(world.household("西坡村", i)) for i in range(4)]
    for case_id in case_ids:
        world.approve_through(case_id, until=Stage.COUNTY_APPROVAL)
    for case_id in case_ids:
        world.decides(case_id, world.approver(case_id), advance=False)
    broken = case_ids[1]
    with session_scope() as s:  # a county form without its category cannot enrol anybody
        s.execute(update(Task).where(Task.case_id == broken, Task.stage == Stage.COUNTY_APPROVAL)
                  .values(data={"comparison": "比对一致"}))
    result = advance_chunk.fn([(c, CaseKind.IDENTIFICATION) for c in case_ids], world.runtime)
    assert result == {Outcome.ENROLLED: 3, "failed": 1}
    assert [world.case(c).status for c in case_ids] == ["enrolled", "open", "enrolled", "enrolled"]
    assert pending_cases(world.services.database, 10) == [(broken, CaseKind.IDENTIFICATION)]


def test_two_advancers_at_once_open_each_next_stage_once(world):
    case_ids = [world.apply(world.household("南滩村", i)) for i in range(8)]
    for case_id in case_ids:
        world.decides(case_id, world.approver(case_id), advance=False)
    work = [(c, CaseKind.IDENTIFICATION) for c in case_ids]
    barrier = threading.Barrier(2)

    def advance() -> None:
        barrier.wait()
        advance_chunk.fn(work, world.runtime)

    threads = [threading.Thread(target=advance) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with session_scope() as s:
        opened = s.execute(select(Task.case_id, func.count()).where(
            Task.stage == Stage.VILLAGE_REVIEW, Task.status == TaskStatus.OPEN)
            .group_by(Task.case_id)).all()
        assert sorted(opened) == sorted((c, 1) for c in case_ids)
    assert pending_cases(world.services.database, 10) == []


def notice_over(world) -> int:
    case_id = world.apply(world.household("北岭村"))
    world.approve_through(case_id, until=Stage.PUBLIC_NOTICE)
    world.clock.advance(days=10)
    return case_id


def test_an_objection_raised_while_an_optimistic_pass_runs_leaves_it_unwritten(world):
    case_id = notice_over(world)
    with pytest.raises(Stale), batch([case_id], world.runtime, optimistic=True) as work:
        assert work.advance(case_id, identification) == Outcome.WAITING  # 公示 passed: 乡镇审核
        world.object(case_id)  # a villager objects before the pass takes the lock
    assert world.stage(case_id) == Stage.PUBLIC_NOTICE
    with session_scope() as s:
        assert s.scalar(select(func.count()).where(
            Task.case_id == case_id, Task.stage == Stage.TOWNSHIP_AUDIT)) == 0
    advance_chunk.fn([(case_id, CaseKind.IDENTIFICATION)], world.runtime)
    assert world.stage(case_id) == Stage.PUBLIC_NOTICE  # the objection holds the notice


def test_the_worker_runs_a_stale_chunk_again_under_the_lock(world, monkeypatch):
    if dialect() != "sqlite":
        pytest.skip("optimistic chunks are SQLite's: PostgreSQL locks only the chunk's rows")
    held, quiet = notice_over(world), world.apply(world.household("北岭村", 2))
    world.decides(quiet, world.approver(quiet), advance=False)
    flush, attempts = batches.Batch.flush, []

    def objection_first(self) -> None:
        attempts.append(self.optimistic)
        if self.optimistic:
            world.object(held)
        flush(self)

    monkeypatch.setattr(batches.Batch, "flush", objection_first)
    result = advance_chunk.fn([(held, CaseKind.IDENTIFICATION), (quiet, CaseKind.IDENTIFICATION)],
                              world.runtime)
    assert attempts == [True, False]
    assert result == {Outcome.WAITING: 2}
    assert world.stage(held) == Stage.PUBLIC_NOTICE
    assert world.stage(quiet) == Stage.VILLAGE_REVIEW
