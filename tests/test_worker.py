"""The worker's schedule survives restarts and, with several workers, one runs each job."""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import text

from fangfan import worker
from fangfan.scheduling import lease
from fangfan.services import Services
from tests.db import session_scope

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
