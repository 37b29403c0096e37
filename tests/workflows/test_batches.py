"""Batches of passes: a broken case does not hold up the others; two advancers never
open a stage twice."""

from __future__ import annotations

import threading

from sqlalchemy import func, select, update

from approvals.db import session_scope
from approvals.definitions import Stage
from approvals.models import CaseKind, Task, TaskStatus
from workflows.advance import advance_chunk, pending_cases
from workflows.steps import Outcome


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
    result = advance_chunk.fn([(c, CaseKind.IDENTIFICATION) for c in case_ids])
    assert result == {Outcome.ENROLLED: 3, "failed": 1}
    assert [world.case(c).status for c in case_ids] == ["enrolled", "open", "enrolled", "enrolled"]
    assert pending_cases(10) == [(broken, CaseKind.IDENTIFICATION)]


def test_two_advancers_at_once_open_each_next_stage_once(world):
    case_ids = [world.apply(world.household("南滩村", i)) for i in range(8)]
    for case_id in case_ids:
        world.decides(case_id, world.approver(case_id), advance=False)
    work = [(c, CaseKind.IDENTIFICATION) for c in case_ids]
    barrier = threading.Barrier(2)

    def advance() -> None:
        barrier.wait()
        advance_chunk.fn(work)

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
    assert pending_cases(10) == []
