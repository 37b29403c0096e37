"""`fangfan worker`: the scheduler that drives flows. Jobs are named, with stable ids.

- advance: every few seconds, when some case is marked pending, one `advance-pending` run,
  then the audit rows still unsealed are chained and the chain's head is anchored (written
  to the anchor file outside the database; approvals.record.audit);
- reconcile: every few minutes, marks what is due or lost (notice periods over, a process
  killed between a commit and its flow) and drives it;
- outbox: every few seconds, delivers the messages due (farmers told of decisions, cadres
  of new tasks and reminders; farmers not in the quiet hours);
- reminders: the cadres' daily digest of tasks due soon, overdue and escalated;
- media: every minute, fetches photos whose download after the answer failed.
All are safe to run twice; with several workers, each run takes a lease first so one
worker runs a job at a time (fangfan.scheduling). The schedule is kept in the database.
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler

from approvals.record import audit
from approvals.record.calendar import LOCAL
from approvals.record.db import session_scope
from bot import media
from fangfan.scheduling import JOBS_TABLE, lease
from fangfan.services import Services
from notifications import reminders
from notifications.dispatch import dispatch
from workflows.advance import advance_pending, pending_cases, reconcile
from workflows.runtime import Runtime

log = logging.getLogger(__name__)


_services: Services | None = None  # the worker's, set by build_scheduler


def services() -> Services:
    assert _services is not None, "build_scheduler() first"
    return _services


def runtime() -> Runtime:
    """The flows' clock and calendar: the worker's."""
    return Runtime(services().clock, services().calendar)


def advance_if_pending() -> None:
    if pending_cases(1):
        log.info("advanced: %s", advance_pending(runtime()))
    with session_scope() as s:  # rows appended without a pass after them (objections, 回退)
        audit.seal(s)
    anchor()


def run_reconcile() -> None:
    log.info("reconciled: %s", reconcile(runtime()))
    anchor()


def anchor() -> None:
    """Publish the audit chain's head, once the seals before it have committed."""
    svc = services()
    with session_scope() as s:
        audit.anchor(s, svc.settings.anchor_path, svc.clock.now())


def deliver() -> None:
    svc = services()
    result = dispatch(svc.channels(), svc.clock, quiet=svc.quiet_hours(),
                      base_url=svc.config.notifications.base_url)
    if result.sent or result.retried or result.dead:
        log.info("outbox: %s", result)


def remind() -> None:
    """The cadres' daily digest, once the reminder time has come (idempotent per day)."""
    svc = services()
    conf, now = svc.config.notifications, svc.clock.now()
    if now.astimezone(LOCAL).time() < conf.reminder_time:
        return
    with session_scope() as s:
        sent = reminders.sweep(s, now, svc.calendar, reminders.Rules(
            conf.due_soon_working_days, conf.escalate_after_working_days,
            conf.revisit_key_days, conf.revisit_all_days, tuple(conf.revisit_key_categories),
            no_measure_alert_days=svc.config.assistance.no_measure_alert_days))
    if sent:
        log.info("reminders: %s digests", sent)


def fetch_photos() -> None:
    media.save_pending(services())


def run(job: str) -> None:
    """Run one job if no other worker is running it (see fangfan.scheduling)."""
    with lease(job, services().clock.now(), LEASE) as mine:
        if mine:
            JOBS[job][0]()


LEASE = dt.timedelta(minutes=10)  # longer than any job takes; a dead worker's lease runs out
# id: (what, how often in seconds, run at start)
JOBS = {
    "advance": (advance_if_pending, 2, False),
    "outbox": (deliver, 3, False),
    "reminders": (remind, 600, True),
    "media": (fetch_photos, 60, False),
    "reconcile": (run_reconcile, 300, True),
}


def build_scheduler(svc: Services) -> BlockingScheduler:
    """The worker's scheduler: jobs kept in the database, coalesced, one runner at a time."""
    global _services
    _services = svc
    store = SQLAlchemyJobStore(engine=svc.engine, tablename=JOBS_TABLE)
    scheduler = BlockingScheduler(jobstores={"default": store},
                                  job_defaults={"coalesce": True, "max_instances": 1,
                                                "misfire_grace_time": 60})
    now = dt.datetime.now(dt.UTC)
    for job, (_, seconds, at_start) in JOBS.items():
        first = {"next_run_time": now} if at_start else {}  # None would add it paused
        scheduler.add_job(run, "interval", seconds=seconds, id=job, args=[job],
                          replace_existing=True, **first)
    return scheduler
