"""Notifications benchmark: the reminder sweep over 1M open tasks, and the dispatcher's rate.

    .venv/bin/python bench/notify.py                   # PostgreSQL (database `bench`), 1M tasks
    .venv/bin/python bench/notify.py --tasks 100000

Seeds N open cases at 入户核实 (households, heads, cases, tasks, one village cadre per
village reachable on WeChat) with generate_series; 1% of the tasks are late or due soon,
the rest due later. Then times `reminders.sweep` (median of 3; each run rolled back) and
prints the plan of its task query, which must be an index range on (status, due_at). Then
the dispatcher delivers 2,000 cadre messages to the fake WeChat API of the tests over real
HTTP on 127.0.0.1. Targets (issue: notifications): the sweep under 1 s at 1M open tasks;
the dispatcher at least 200 messages/s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from approvals.record.calendar import LOCAL, SystemClock  # noqa: E402
from bench import pg  # noqa: E402
from fangfan.services import Services  # noqa: E402
from fangfan.settings import Settings  # noqa: E402
from notifications import outbox, reminders  # noqa: E402
from notifications.dispatch import dispatch  # noqa: E402
from notifications.models import Audience  # noqa: E402

VILLAGES = 100
SEED = """
INSERT INTO places (id, name, level, parent_id, path) VALUES (1, '基准县', 'county', NULL, '/1/');
INSERT INTO places (id, name, level, parent_id, path)
  SELECT 1 + t, '镇' || t, 'township', 1, '/1/' || (1 + t) || '/' FROM generate_series(1, 10) t;
INSERT INTO places (id, name, level, parent_id, path)
  SELECT 100 + v, '村' || v, 'village', 2 + v % 10, '/1/' || (2 + v % 10) || '/' || (100 + v) || '/'
  FROM generate_series(1, {villages}) v;
INSERT INTO cadres (id, name, role, place_id, openid, active, channel)
  SELECT v, '书记' || v, 'village_cadre', 100 + v, 'o_bench_cadre_' || v, true, 'wechat'
  FROM generate_series(1, {villages}) v;
INSERT INTO households (id, village_id, monitoring)
  SELECT g, 101 + g % {villages}, 'none' FROM generate_series(1, {n}) g;
INSERT INTO members (id, household_id, name, id_number, relation, is_head, labour)
  SELECT g, g, '户主' || g, lpad(g::text, 18, '0'), '户主', true, 'full'
  FROM generate_series(1, {n}) g;
INSERT INTO cases (id, kind, household_id, village_id, definition_id, source, risk_types,
                   answers, attachments, filed_by, fast_tracked, status, stage, opened_at, due_at)
  SELECT g, 'identification', g, 101 + g % {villages}, {definition}, 'wechat', '["illness"]',
         '{{}}', '[]', 'bench', false, 'open', 'home_verification', :now, :now + interval '15 days'
  FROM generate_series(1, {n}) g;
INSERT INTO tasks (id, case_id, stage, round, status, role, place_id, opened_at, due_at, data,
                   awaits_pass)
  SELECT g, g, 'home_verification', 1, 'open', 'village_cadre', 101 + g % {villages}, :now,
         CASE WHEN g % 97 = 0 THEN :now - (g % 7) * interval '1 day'  -- 1%: late or due soon
              ELSE :now + (10 + g % 50) * interval '1 day' END, '{{}}', false
  FROM generate_series(1, {n}) g;
"""


def seed(engine, config, n: int) -> None:
    pg.seed(engine, config, lambda definition: SEED.format(villages=VILLAGES, n=n,
                                                           definition=definition))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    engine, config, calendar = pg.connect(ROOT / "config.yaml")
    t0 = time.perf_counter()
    seed(engine, config, args.tasks)
    print(f"seeded {args.tasks:,} open tasks in {time.perf_counter() - t0:.1f} s", flush=True)

    rules = reminders.Rules(config.notifications.due_soon_working_days,
                            config.notifications.escalate_after_working_days)
    # a working day at the reminder time
    day = dt.datetime.now(LOCAL).date()
    while not calendar.is_workday(day):
        day += dt.timedelta(days=1)
    now = dt.datetime.combine(day, config.notifications.reminder_time, LOCAL)
    timings, digests = [], 0
    for _ in range(3):
        with engine.connect() as conn:
            trans = conn.begin()
            from sqlalchemy.orm import Session

            s = Session(bind=conn)
            t0 = time.perf_counter()
            digests = reminders.sweep(s, now, calendar, rules)
            timings.append(time.perf_counter() - t0)
            s.close()
            trans.rollback()
    sweep_s = statistics.median(timings)
    with engine.connect() as conn:
        plan = conn.execute(text(
            "EXPLAIN SELECT id FROM tasks WHERE status = 'open' AND due_at <= :h"),
            {"h": now + dt.timedelta(days=2)}).scalars().all()
    print(f"sweep over {args.tasks:,} open tasks: {sweep_s * 1e3:.0f} ms (median of 3), "
          f"{digests} digests")
    print("plan of its task query:\n  " + "\n  ".join(plan))

    # the fake API in a process of its own, as WeChat's is: it must not share our GIL
    api = subprocess.Popen([sys.executable, "-m", "tests.bot.fake_api", config.wechat.mp.app_id,
                            config.wechat.mp.app_secret], cwd=ROOT, text=True,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    api_url = api.stdout.readline().strip()
    wechat = config.wechat.model_copy(update={"api_base_url": api_url})
    services = Services(Settings.from_env(), config.model_copy(update={"wechat": wechat}),
                        engine, SystemClock(), calendar)
    with services.database.session_scope() as s:
        outbox.enqueue(s.connection(), [
            {"key": f"bench:{i}", "recipient": f"cadre:{1 + i % VILLAGES}",
             "event": "cadre_digest", "audience": Audience.CADRE,
             "params": {"name": "书记", "items": []}} for i in range(args.messages)],
            dt.datetime.now(dt.UTC))
    t0 = time.perf_counter()
    result = dispatch(services.channels(), services.clock, limit=args.messages)
    rate = result.sent / (time.perf_counter() - t0)
    received, _ = api.communicate("")
    print(f"dispatcher: {result.sent} messages in {result.sent / rate:.1f} s = {rate:.0f}/s "
          f"(fake WeChat API over HTTP in its own process; {received.strip()} received)")
    engine.dispose()


if __name__ == "__main__":
    main()
