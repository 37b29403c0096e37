"""The database is the state: flows re-run without harm, and a process killed between the
commit of a decision and its flow run is healed by `reconcile`. Runs real Prefect flows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import func, select, update

from approvals.record.definitions import Stage
from approvals.record.models import AuditEntry, Case, CaseKind, Task, TaskStatus
from fangfan.settings import ROOT
from tests.db import session_scope
from workflows.advance import advance_case, advance_pending, pending_cases, reconcile
from workflows.passes import Outcome

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect")]

KILL_AFTER_COMMIT = """
import datetime as dt, os, signal, sys
from approvals.procedure import decisions, stages
from approvals.procedure.permissions import Actor
from approvals.record.definitions import Stage
from approvals.record.models import Task
from fangfan.services import build

services = build()
task_id, actor_id, now = int(sys.argv[1]), int(sys.argv[2]), dt.datetime.fromisoformat(sys.argv[3])
with services.database.session_scope() as s:
    form = stages.of(Stage.HOME_VERIFICATION).demo_form(s, s.get_one(Task, task_id).case,
                                                        now.date())
    decisions.decide(s, task_id, Actor.load(s, actor_id), "approved", now=now, data=form)
os.kill(os.getpid(), signal.SIGKILL)  # dies after the commit, before any flow runs
"""


def _counts(case_id: int) -> tuple[int, int]:
    with session_scope() as s:
        return (s.scalar(select(func.count()).select_from(Task).where(Task.case_id == case_id)),
                s.scalar(select(func.count()).select_from(AuditEntry)))


def test_the_flow_runs_as_a_prefect_flow_and_rerunning_it_changes_nothing(world):
    case_id = world.apply(world.household())
    world.decides(case_id, world.approver(case_id), advance=False)
    assert advance_case(case_id, CaseKind.IDENTIFICATION, world.runtime) == Outcome.WAITING
    assert world.stage(case_id) == Stage.VILLAGE_REVIEW
    before = _counts(case_id)
    for _ in range(3):
        assert advance_case(case_id, CaseKind.IDENTIFICATION, world.runtime) == Outcome.WAITING
    assert _counts(case_id) == before


def test_one_flow_run_advances_a_batch_of_pending_cases(world):
    case_ids = [world.apply(world.household("南滩村", i)) for i in range(6)]
    for case_id in case_ids:
        world.decides(case_id, world.approver(case_id), advance=False)
    result = advance_pending(world.runtime)
    assert result == {Outcome.WAITING: 6}
    assert {world.stage(c) for c in case_ids} == {Stage.VILLAGE_REVIEW}
    assert pending_cases(world.services.database, 10) == []


def test_a_kill_between_commit_and_flow_is_healed_by_reconcile(world, database_url):
    case_id = world.apply(world.household())
    task = world.open_task(case_id)
    actor = world.approver(case_id)
    env = dict(os.environ, FANGFAN_DATABASE_URL=database_url,
               FANGFAN_CONFIG=str(ROOT / "config.yaml"))
    proc = subprocess.run([sys.executable, "-c", KILL_AFTER_COMMIT, str(task.id), str(actor.id),
                           world.clock.now().isoformat()], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    with session_scope() as s:  # the decision survived; the next step did not happen
        assert s.get_one(Task, task.id).status == TaskStatus.DECIDED
        assert s.get_one(Case, case_id).stage == Stage.HOME_VERIFICATION
        assert not s.scalars(select(Task).where(Task.case_id == case_id,
                                                Task.status == TaskStatus.OPEN)).all()
    result = reconcile(world.runtime)
    assert result[Outcome.WAITING] == 1
    assert world.stage(case_id) == Stage.VILLAGE_REVIEW
    assert world.open_task(case_id).stage == Stage.VILLAGE_REVIEW


def test_reconcile_finds_a_case_whose_mark_was_lost(world):
    case_id = world.apply(world.household())
    world.decides(case_id, world.approver(case_id), advance=False)
    with session_scope() as s:  # as if the mark had never been written
        s.execute(update(Task).where(Task.case_id == case_id).values(awaits_pass=False))
    assert reconcile(world.runtime)["marked"] == 1
    assert world.stage(case_id) == Stage.VILLAGE_REVIEW
    assert reconcile(world.runtime) == {"marked": 0}
