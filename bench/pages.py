"""Phone pages benchmark: server time of the inbox and the case page with 1M cases, and the
weight of each page, against a bare page of the same app in the same run.

    .venv/bin/python bench/pages.py                   # PostgreSQL (database `bench`), 1M cases
    .venv/bin/python bench/pages.py --cases 100000

Seeds N open cases spread over the five stages of 100 villages in 10 townships of one
county (households, heads, cases, one open task each, one cadre per post) with
generate_series, then requests each page through the WSGI app (no network: server time
only) as a village cadre, a township auditor and the county approver, 50 times each, and
prints p50 / p95 and the bytes a phone downloads (the HTML gzipped, plus the stylesheets on
a first visit). The floor is /healthz, the same app answering without the database.
Targets (issue: phone workbench): inbox and case page under 200 ms server time at 1M cases;
every page under 100 KB.
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from approvals.record.calendar import SystemClock  # noqa: E402
from bench import pg  # noqa: E402
from fangfan.app import create_app  # noqa: E402
from fangfan.services import Services  # noqa: E402
from fangfan.settings import Settings  # noqa: E402

VILLAGES = 100
STAGES = [("home_verification", "village_cadre", "v"), ("village_review", "village_cadre", "v"),
          ("public_notice", "village_cadre", "v"), ("township_audit", "township_auditor", "t"),
          ("county_approval", "county_approver", "c")]
SEED = """
INSERT INTO places (id, name, level, parent_id, path) VALUES (1, '基准县', 'county', NULL, '/1/');
INSERT INTO places (id, name, level, parent_id, path)
  SELECT 1 + t, '镇' || t, 'township', 1, '/1/' || (1 + t) || '/' FROM generate_series(1, 10) t;
INSERT INTO places (id, name, level, parent_id, path)
  SELECT 100 + v, '村' || v, 'village', 2 + v % 10,
         '/1/' || (2 + v % 10) || '/' || (100 + v) || '/'
  FROM generate_series(1, {villages}) v;
INSERT INTO cadres (id, name, role, place_id, active, channel)
  SELECT v, '书记' || v, 'village_cadre', 100 + v, true, 'wechat'
  FROM generate_series(1, {villages}) v;
INSERT INTO cadres (id, name, role, place_id, active, channel)
  SELECT 1000 + t, '审核' || t, 'township_auditor', 1 + t, true, 'wechat'
  FROM generate_series(1, 10) t;
INSERT INTO cadres (id, name, role, place_id, active, channel)
  VALUES (2000, '审定', 'county_approver', 1, true, 'wechat'),
         (2001, '督导', 'supervisor', 1, true, 'wechat');
INSERT INTO households (id, village_id, monitoring)
  SELECT g, 101 + g % {villages}, 'none' FROM generate_series(1, {n}) g;
INSERT INTO members (id, household_id, name, id_number, relation, is_head, labour, phone)
  SELECT g, g, '户主' || g, lpad(g::text, 18, '0'), '户主', true, 'full',
         '138' || lpad(g::text, 8, '0')
  FROM generate_series(1, {n}) g;
INSERT INTO cases (id, kind, household_id, village_id, definition_id, source, risk_types,
                   answers, attachments, filed_by, fast_tracked, status, stage, opened_at, due_at)
  SELECT g, 'identification', g, 101 + g % {villages}, {definition}, 'wechat', '["illness"]',
         '{{"description": "家人住院"}}', '[]', 'bench', false, 'open',
         (ARRAY{stages})[1 + (g / 100) % 5],
         :now - (g % 20) * interval '1 day', :now + (15 - g % 20) * interval '1 day'
  FROM generate_series(1, {n}) g;
INSERT INTO case_risks (case_id, risk)
  SELECT g, 'illness' FROM generate_series(1, {n}) g;
INSERT INTO tasks (id, case_id, stage, round, status, role, place_id, opened_at, due_at, data,
                   awaits_pass)
  SELECT g, g, (ARRAY{stages})[1 + (g / 100) % 5], 1, 'open', (ARRAY{roles})[1 + (g / 100) % 5],
         CASE (ARRAY{levels})[1 + (g / 100) % 5] WHEN 'v' THEN 101 + g % {villages}
              WHEN 't' THEN 2 + (1 + g % {villages}) % 10 ELSE 1 END,
         :now - (g % 20) * interval '1 day', :now + (3 - g % 9) * interval '1 day', '{{}}', false
  FROM generate_series(1, {n}) g;
"""


def seed(engine, config, n: int) -> None:
    def array(items: list[str]) -> str:
        return "[" + ", ".join(f"'{i}'" for i in items) + "]"

    pg.seed(engine, config, lambda definition: SEED.format(
        villages=VILLAGES, n=n, definition=definition,
        stages=array([s for s, _, _ in STAGES]), roles=array([r for _, r, _ in STAGES]),
        levels=array([lv for _, _, lv in STAGES])))


def timed(client, url: str, runs: int) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, gzipped bytes) of one page."""
    times, size = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        res = client.get(url)
        times.append((time.perf_counter() - t0) * 1e3)
        assert res.status_code == 200, (url, res.status_code)
        size = len(gzip.compress(res.data))
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--reuse", action="store_true",
                        help="keep the data of the last run if it has as many cases")
    args = parser.parse_args()
    engine, config, calendar = pg.connect(ROOT / "config.yaml")
    t0 = time.perf_counter()
    with engine.connect() as conn:
        have = conn.scalar(text("SELECT count(*) FROM information_schema.tables "
                                "WHERE table_name = 'cases'")) and conn.scalar(
                                    text("SELECT count(*) FROM cases"))
    if not (args.reuse and have == args.cases):
        seed(engine, config, args.cases)
        print(f"seeded {args.cases:,} open cases in {time.perf_counter() - t0:.0f} s", flush=True)

    settings = Settings.from_env()
    app = create_app(Services(settings, config, engine, SystemClock(), calendar))
    css = sum(len(app.test_client().get(f"/assets/{name}", headers={
        "Accept-Encoding": "gzip"}).data) for name in ("weui-2.6.26.min.css", "fangfan.css"))
    floor = timed(app.test_client(), "/healthz", args.runs)
    print(f"{'page':<40}{'p50 ms':>8}{'p95 ms':>8}{'× floor':>9}{'KB (first visit)':>18}")
    print(f"{'/healthz (floor)':<40}{floor[0]:>8.1f}{floor[1]:>8.1f}{1:>9.1f}")
    worst, lists = 0.0, 0.0
    for who, cadre in (("village cadre", 1), ("township auditor", 1001),
                       ("county approver", 2000)):
        client = app.test_client()
        with client.session_transaction() as session:
            session["cadre_id"] = cadre
        inbox = client.get("/inbox").text
        case_url = re.search(r'href="(/c/\d+)#task"', inbox).group(1)
        for label, page in ((f"inbox, {who}", "/inbox"), (f"case page, {who}", case_url),
                            (f"search a full name, {who}", "/inbox?q=户主777777"),
                            (f"search a name's start, {who}", "/inbox?q=户主77")):
            p50, p95, size = timed(client, page, args.runs)
            worst = max(worst, p95)
            print(f"{label:<40}{p50:>8.1f}{p95:>8.1f}{p50 / floor[0]:>9.0f}"
                  f"{(size + css) / 1024:>18.1f}")
    supervisor = app.test_client()
    with supervisor.session_transaction() as session:
        session["cadre_id"] = 2001
    for label, page in (("dashboard, county supervisor", "/dashboard"),
                        ("case list, county", "/dashboard/cases"),
                        ("case list, overdue, by age", "/dashboard/cases?overdue=1&sort=age"),
                        ("case list, by application date", "/dashboard/cases?sort=opened"),
                        ("case list, one stage, page 50", "/dashboard/cases?stage=public_notice"
                                                          "&page=50"),
                        ("case list, risk type", "/dashboard/cases?risk=illness"),
                        ("case list, a village", "/dashboard/cases?place=150")):
        p50, p95, size = timed(supervisor, page, args.runs)
        lists = max(lists, p95) if label.startswith("case list") else lists
        print(f"{label:<40}{p50:>8.1f}{p95:>8.1f}{p50 / floor[0]:>9.0f}{size / 1024:>18.1f}")
    print(f"stylesheets (gzipped, cached after the first visit): {css / 1024:.1f} KB")
    print(f"target: supervisors' case list p95 under 300 ms -> worst {lists:.0f} ms: "
          f"{'met' if lists < 300 else 'NOT met'}")
    print(f"target: p95 under 200 ms -> worst {worst:.0f} ms: "
          f"{'met' if worst < 200 else 'NOT met'}")
    engine.dispose()


if __name__ == "__main__":
    main()
