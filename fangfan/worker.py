"""`fangfan worker`: the scheduler that drives flows. Jobs are named, with stable ids.

- advance: every few seconds, when some case is marked pending, one `advance-pending` run,
  then the audit rows still unsealed are chained;
- reconcile: every few minutes, marks what is due or lost (notice periods over, a process
  killed between a commit and its flow) and drives it;
- outbox: every few seconds, delivers the messages due (farmers told of decisions, cadres
  of new tasks and reminders; farmers not in the quiet hours);
- reminders: the cadres' daily digest of tasks due soon, overdue and escalated;
- media: every minute, fetches photos whose download after the answer failed.
All are safe to run twice and in several workers at once: each case pass locks its row.
"""

from __future__ import annotations

import datetime as dt
import logging

from apscheduler.schedulers.blocking import BlockingScheduler

from approvals import audit
from approvals.calendar import LOCAL
from approvals.db import session_scope
from bot import media
from fangfan.services import Services
from notifications import reminders
from notifications.dispatch import dispatch
from workflows.advance import advance_pending, pending_cases, reconcile

log = logging.getLogger(__name__)


def advance_if_pending() -> None:
    if pending_cases(1):
        log.info("advanced: %s", advance_pending())
    with session_scope() as s:  # rows appended without a pass after them (objections, 回退)
        audit.seal(s)


def run_reconcile() -> None:
    log.info("reconciled: %s", reconcile())


def deliver(services: Services) -> None:
    result = dispatch(services.channels(), services.clock, quiet=services.quiet_hours(),
                      base_url=services.config.notifications.base_url)
    if result.sent or result.retried or result.dead:
        log.info("outbox: %s", result)


def remind(services: Services) -> None:
    """The cadres' daily digest, once the reminder time has come (idempotent per day)."""
    conf, now = services.config.notifications, services.clock.now()
    if now.astimezone(LOCAL).time() < conf.reminder_time:
        return
    with session_scope() as s:
        sent = reminders.sweep(s, now, services.calendar, reminders.Rules(
            conf.due_soon_working_days, conf.escalate_after_working_days))
    if sent:
        log.info("reminders: %s digests", sent)


def fetch_photos(services: Services) -> None:
    media.save_pending(services)


def build_scheduler(services: Services, advance_seconds: float = 2,
                    reconcile_minutes: float = 5) -> BlockingScheduler:
    scheduler = BlockingScheduler(job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.add_job(deliver, "interval", seconds=3, id="outbox", args=[services],
                      replace_existing=True)
    scheduler.add_job(remind, "interval", minutes=10, id="reminders", args=[services],
                      replace_existing=True, next_run_time=dt.datetime.now(dt.UTC))
    scheduler.add_job(fetch_photos, "interval", minutes=1, id="media", args=[services],
                      replace_existing=True)
    scheduler.add_job(advance_if_pending, "interval", seconds=advance_seconds, id="advance",
                      replace_existing=True)
    scheduler.add_job(run_reconcile, "interval", minutes=reconcile_minutes, id="reconcile",
                      replace_existing=True, next_run_time=dt.datetime.now(dt.UTC))
    return scheduler
