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
- with a Prefect API (PREFECT_API_URL): the screening deployment (workflows/screening.py),
  served by this process, with one schedule per round of config.yaml (集中排查), so the
  rounds show as schedules in the Prefect UI and the county desk's runs go through it.
All are safe to run twice; with several workers, each run takes a lease first so one
worker runs a job at a time (fangfan.scheduling). The schedule is kept in the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler

from approvals.record import audit
from approvals.record.calendar import LOCAL
from bot import media
from fangfan.config import Config, ConfigError
from fangfan.scheduling import JOBS_TABLE, lease
from fangfan.services import Services
from notifications import reexaminations, reminders
from notifications.dispatch import Dispatched, dispatch
from workflows.advance import FlowMismatch, advance_pending, check, pending_cases, reconcile
from workflows.passes import Outcome

log = logging.getLogger(__name__)


# What the operator's log calls each outcome of a pass (workflows.passes.Outcome), in the
# order its sentences list them; "failed" is advance's own count of cases left marked
OUTCOMES = {Outcome.ENROLLED: "纳入监测", Outcome.ELIMINATED: "风险消除",
            Outcome.REJECTED: "未通过", Outcome.RETURNED: "退回", Outcome.CLOSED: "办结",
            Outcome.WAITING: "进入下一环节待办理", "failed": "出错待重试"}


def counts(outcomes: dict[str, int]) -> str:
    """"纳入监测1件，退回2件": the outcomes of an advancement, in words, none of them zero."""
    named = [f"{OUTCOMES.get(key, key)}{n}件" for key, n in
             sorted(outcomes.items(), key=lambda kv: list(OUTCOMES).index(kv[0])
                    if kv[0] in OUTCOMES else len(OUTCOMES)) if n]
    return "，".join(named) or "无"


def advanced(outcomes: dict[str, int]) -> str:
    return f"推进案件{sum(outcomes.values())}件：{counts(outcomes)}。"


def reconciled(result: dict[str, int]) -> str:
    outcomes = {k: n for k, n in result.items() if k != "marked"}
    found = f"对账：发现到期或中断的案件{result.get('marked', 0)}件"
    return f"{found}；{advanced(outcomes)}" if outcomes else f"{found}，无需推进。"


def delivered(result: Dispatched) -> str:
    return (f"发送消息：成功{result.sent}条，稍后重试{result.retried}条，"
            f"多次失败不再发送{result.dead}条。")


def advance_if_pending(svc: Services) -> None:
    if pending_cases(svc.database, 1):
        log.info(advanced(advance_pending(svc.runtime)))
    with svc.database.session_scope() as s:  # rows appended without a pass (objections, 回退)
        audit.seal(s)
    anchor(svc)


def run_reconcile(svc: Services) -> None:
    log.info(reconciled(reconcile(svc.runtime)))
    anchor(svc)


def anchor(svc: Services) -> None:
    """Publish the audit chain's head, once the seals before it have committed."""
    with svc.database.session_scope() as s:
        audit.anchor(s, svc.settings.anchor_path, svc.clock.now())


def deliver(svc: Services) -> None:
    with svc.database.session_scope() as s:  # 复核 results are decided outside any pass
        reexaminations.announce(s.connection(), svc.clock.now())
    result = dispatch(svc.database, svc.channels(), svc.clock, quiet=svc.quiet_hours(),
                      base_url=svc.config.notifications.base_url, local=svc.local())
    if result.sent or result.retried or result.dead:
        log.info(delivered(result))


def remind(svc: Services) -> None:
    """The cadres' daily digest, once the reminder time has come (idempotent per day)."""
    conf, now = svc.config.notifications, svc.clock.now()
    if now.astimezone(LOCAL).time() < conf.reminder_time:
        return
    with svc.database.session_scope() as s:
        sent = reminders.sweep(s, now, svc.calendar, reminders.Rules(
            conf.due_soon_working_days, conf.escalate_after_working_days,
            conf.revisit_key_days, conf.revisit_all_days, tuple(conf.revisit_key_categories),
            no_measure_alert_days=svc.config.assistance.no_measure_alert_days))
    if sent:
        log.info("发送干部每日提醒%s份。", sent)


def fetch_photos(svc: Services) -> None:
    media.save_pending(svc)


def run(svc: Services, job: str) -> None:
    """Run one job if no other worker is running it (see fangfan.scheduling)."""
    with lease(svc.database, job, svc.clock.now(), LEASE) as mine:
        if mine:
            JOBS[job][0](svc)


LEASE = dt.timedelta(minutes=10)  # longer than any job takes; a dead worker's lease runs out
# id: (what, how often in seconds, run at start)
JOBS: dict[str, tuple[Callable[[Services], None], int, bool]] = {
    "advance": (advance_if_pending, 2, False),
    "outbox": (deliver, 3, False),
    "reminders": (remind, 600, True),
    "media": (fetch_photos, 60, False),
    "reconcile": (run_reconcile, 300, True),
}


def scheduled(job: str) -> None:
    """A job as the schedule stores it: APScheduler keeps a job by the importable name of a
    function and its pickled arguments (here the job's id), which cannot hold the process's
    Services. Never called: `_Schedule` hands every job it reads back to `run` with them."""
    raise RuntimeError(f"job {job!r} runs through build_scheduler's job store")


class _Schedule(SQLAlchemyJobStore):
    """The schedule, kept in the database (table scheduler_jobs); every job read back from it
    runs on this worker's Services."""

    def __init__(self, svc: Services) -> None:
        super().__init__(engine=svc.engine, tablename=JOBS_TABLE)
        self.svc = svc

    def _reconstitute_job(self, job_state: bytes) -> Any:
        job = super()._reconstitute_job(job_state)
        job.func = functools.partial(run, self.svc)  # stored as `scheduled`, the id its arg
        return job


def check_flows(config: Config, path: Path) -> None:
    """The procedures' stages in config.yaml are ones their flows can run; else one line."""
    try:
        check(config.definition(kind) for kind in config.procedures)
    except FlowMismatch as err:
        raise ConfigError(f"{path}：{err}") from None


def build_scheduler(svc: Services) -> BlockingScheduler:
    """The worker's scheduler: jobs kept in the database, coalesced, one runner at a time.
    Refused (ConfigError) if config.yaml's procedures are not what the flows run."""
    check_flows(svc.config, svc.settings.config_path)
    scheduler = BlockingScheduler(jobstores={"default": _Schedule(svc)},
                                  job_defaults={"coalesce": True, "max_instances": 1,
                                                "misfire_grace_time": 60})
    now = dt.datetime.now(dt.UTC)
    for job, (_, seconds, at_start) in JOBS.items():
        first = {"next_run_time": now} if at_start else {}  # None would add it paused
        scheduler.add_job(scheduled, "interval", seconds=seconds, id=job, args=[job],
                          replace_existing=True, **first)
    return scheduler


def screening_deployment(svc: Services) -> Any:
    """The screening flow as a deployment: one Prefect schedule per config.yaml round (cron in
    Beijing time, reading the inbox folder), and runnable by hand from the UI with parameters."""
    from prefect.schedules import Cron

    from workflows.screening import screening

    inbox = svc.settings.screening_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    schedules = [Cron(r.cron, timezone="Asia/Shanghai", slug=r.name,  # the UI shows it
                      parameters={"folder": str(inbox), "scope": r.scope, "round_name": r.name})
                 for r in svc.config.screening.rounds]
    return screening.to_deployment(
        name="部门筛查", schedules=schedules, parameters={"folder": str(inbox)},
        description="部门筛查预警：读取文件夹中的六个部门数据文件，与户籍名单比对。"
                    "手动运行时可改文件夹、截止日期（as_of，如 2026-11-30）和范围"
                    "（scope：all 全面排查，key 重点人群排查：监测户和脱贫户）。",
        tags=["部门筛查"], _sync=True)  # type: ignore[call-arg]  # never a coroutine


async def run_until_stopped(svc: Services, scheduler: BlockingScheduler) -> bool:
    """The worker's life: the scheduler on a thread of its own and, with a Prefect API, the
    screening deployment served on this loop, until SIGINT or SIGTERM. Then the scheduler
    finishes the jobs it is running, the runner stops (pausing the rounds' schedules, so the
    server keeps no runs for a worker that is gone) and this returns; no traceback, whichever
    signal came. False if a job was still running after STOP_GRACE_SECONDS: its thread cannot
    be stopped, so the caller leaves at once (os._exit). Prefect's own `serve` would exit
    from its SIGTERM handler mid-loop instead (prefect.runner.Runner.handle_sigterm:
    sys.exit), so the runner is driven here."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner, served = None, None
    if svc.settings.prefect_api_url:
        from prefect.runner import Runner

        runner = Runner(pause_on_shutdown=True)
        # Runner.start puts its own SIGTERM handler in (log, stop, sys.exit); this one only
        # asks the loop to stop, as SIGINT does
        def on_sigterm(*_: object) -> None:
            loop.call_soon_threadsafe(stop.set)

        runner.handle_sigterm = on_sigterm  # type: ignore[method-assign]
        await runner.aadd_deployment(screening_deployment(svc))
        served = asyncio.create_task(runner.start())
    threading.Thread(target=scheduler.start, name="scheduler", daemon=True).start()
    waits = [asyncio.create_task(stop.wait())] + ([served] if served else [])
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finished = True
    try:  # the jobs running now may finish, for a while
        await asyncio.wait_for(asyncio.to_thread(scheduler.shutdown), STOP_GRACE_SECONDS)
    except TimeoutError:
        finished = False
        log.warning("有任务在%s秒内没有结束，强制停止；下次对账会接着处理。", STOP_GRACE_SECONDS)
    if runner is not None and served is not None and not served.done():
        await runner.astop()
        with contextlib.suppress(asyncio.CancelledError):
            await served
    if served is not None and served.done() and not stop.is_set():
        served.result()  # the runner ended by itself: its error is the worker's
    return finished


# How long a stopping worker lets its running jobs finish. Every job is safe to cut short
# (its transaction rolls back; reconcile finds what a killed run left), and `make run`
# gives each process 15 seconds before it kills it.
STOP_GRACE_SECONDS = 10
