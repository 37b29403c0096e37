"""The worker's schedule survives restarts and, with several workers, one runs each job."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import text

from fangfan import worker
from fangfan.scheduling import lease
from fangfan.services import Services
from tests.db import session_scope
from tests.support.world import World

MINUTE = dt.timedelta(minutes=1)


def test_one_worker_holds_a_job_at_a_time_and_a_dead_ones_lease_runs_out(
        services: Services) -> None:
    now = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
    with lease(services.database, "outbox", now, MINUTE, holder="worker-a") as a:
        with lease(services.database, "outbox", now, MINUTE, holder="worker-b") as b:
            assert a and not b
        with lease(services.database, "reminders", now, MINUTE, holder="worker-b") as other_job:
            assert other_job
    with lease(services.database, "outbox", now, MINUTE, holder="worker-b") as b:
        assert b  # released when a's run ended
    crashed = lease(services.database, "outbox", now, MINUTE, holder="worker-c")
    assert crashed.__enter__()  # ...and never leaves: killed mid-run
    with lease(services.database, "outbox", now + 30 * dt.timedelta(seconds=1), MINUTE,
               holder="worker-d") as d:
        assert not d
    with lease(services.database, "outbox", now + 2 * MINUTE, MINUTE, holder="worker-d") as d:
        assert d


def test_the_schedule_is_kept_in_the_database_once(services: Services) -> None:
    for _restart in range(2):
        scheduler = worker.build_scheduler(services)
        thread = threading.Thread(target=scheduler.start, kwargs={"paused": True}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not scheduler.running and time.monotonic() < deadline:
            time.sleep(0.05)
        scheduler.shutdown(wait=False)
        thread.join(10)
    with session_scope() as s:
        ids = sorted(s.execute(text("SELECT id FROM scheduler_jobs")).scalars())
        s.execute(text("DELETE FROM scheduler_jobs"))
    assert ids == sorted(worker.JOBS)


def test_the_worker_tells_outcomes_in_chinese_sentences_without_enum_names() -> None:
    from notifications.dispatch import Dispatched
    from workflows.passes import Outcome

    assert worker.advanced({Outcome.RETURNED: 2, Outcome.ENROLLED: 1, Outcome.WAITING: 0}) \
        == "推进案件3件：纳入监测1件，退回2件。"
    assert worker.reconciled({"marked": 2, Outcome.ELIMINATED: 1, "failed": 1}) \
        == "对账：发现到期或中断的案件2件；推进案件2件：风险消除1件，出错待重试1件。"
    assert worker.reconciled({"marked": 0}) == "对账：发现到期或中断的案件0件，无需推进。"
    assert worker.delivered(Dispatched(sent=3, retried=1)) \
        == "发送消息：成功3条，稍后重试1条，多次失败不再发送0条。"


@pytest.mark.slow
@pytest.mark.usefixtures("prefect")
def test_an_advancement_is_logged_as_a_sentence_with_counts(
        services: Services, world: World, caplog: pytest.LogCaptureFixture) -> None:
    from approvals.record.models import Verdict

    rejected = world.apply(world.household("东沟村", 0))
    world.decides(rejected, world.approver(rejected), Verdict.REJECTED, advance=False,
                  reason=world.services.config.workbench.reject_reasons[0])
    waiting = world.apply(world.household("东沟村", 1))
    world.decides(waiting, world.approver(waiting), advance=False)
    with caplog.at_level("INFO", logger="fangfan.worker"):
        worker.advance_if_pending(services)
    lines = [r.getMessage() for r in caplog.records if r.name == "fangfan.worker"]
    assert lines and lines[0].startswith("推进案件2件："), lines
    assert "Outcome" not in lines[0] and "{" not in lines[0]
