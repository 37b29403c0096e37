"""Engine benchmark: decisions through the real domain service, side by side with SpiffWorkflow.

    python bench/engine.py                      # SQLite (WAL, synchronous=NORMAL) and PostgreSQL
    python bench/engine.py --sizes 1000 --db sqlite --cases 2000 --no-peer   # a quick look

For each size N it seeds N other open cases, then drives --cases cases through every stage:
each decision is `approvals.procedure.decisions.decide` (the signed-in cadre and the task read
as the phone page reads them, in one statement; role and jurisdiction checked, once-only guarded
UPDATE, case marked for advancement, audit row appended) in its own committed transaction.
A second process runs the advancement (the procedure passes the worker's `advance-pending`
flow runs, called per case without Prefect's per-batch overhead) at the same time, so the
figures include the write contention of both. The 公示 stage passes by time, not by a
decision: the benchmark moves its end to now and lets the advancer pass it.

It prints decisions/s, p50/p99 per decision, the burst drain time of each unpaced round
(first decision of a round until every case of it is advanced), advancement lag p50/p95
(decision committed → next task opened) while decisions arrive at a steady --rate per second,
peak memory, a bare insert-and-commit of one decision row (the floor), and the peer's rate
from bench/spiffworkflow/bench.py (SpiffWorkflow driving the same five stages) in the same
run, with the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import random
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text, update
from stdnum.cn import ric

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from approvals.procedure import decisions, stages  # noqa: E402
from approvals.procedure.cases import current_definition  # noqa: E402
from approvals.record.calendar import SystemClock, local_date  # noqa: E402
from approvals.record.db import Database  # noqa: E402
from approvals.record.definitions import Level, Stage  # noqa: E402
from approvals.record.models import (  # noqa: E402
    Cadre,
    Case,
    CaseKind,
    Household,
    Member,
    Place,
    Task,
    TaskStatus,
    Verdict,
)
from bench.pg import PG_URL, ensure_database  # noqa: E402
from fangfan import config as config_module  # noqa: E402
from fangfan.database import make_engine, upgrade  # noqa: E402
from workflows.advance import CHUNK, advance_chunk, pending_cases  # noqa: E402
from workflows.runtime import Runtime  # noqa: E402

PEER = ROOT / "bench" / "spiffworkflow" / "bench.py"
VILLAGES, TOWNSHIPS = 100, 10
POLL_S = 0.25  # the advancer's interval (the worker's default is 2 s)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else 0.0


def setup(url: str):
    engine = make_engine(url)
    if url.startswith("postgresql"):
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    return engine, _install(engine)


def seed(engine, config, n_cases: int) -> None:
    """Places, cadres, and n_cases households each with an open 入户核实 task (bulk inserts)."""
    now = dt.datetime.now(dt.UTC)
    with DB.session_scope() as s:
        county = Place(name="基准县", level=Level.COUNTY, path="")
        s.add(county)
        s.flush()
        county.path = f"/{county.id}/"
        s.add(Cadre(name="县审定", role="county_approver", place=county))
        for t in range(TOWNSHIPS):
            township = Place(name=f"镇{t}", level=Level.TOWNSHIP, parent=county)
            s.add(township)
            s.flush()
            township.path = f"{county.path}{township.id}/"
            s.add(Cadre(name=f"镇审核{t}", role="township_auditor", place=township))
            for v in range(VILLAGES // TOWNSHIPS):
                village = Place(name=f"村{t}-{v}", level=Level.VILLAGE, parent=township)
                s.add(village)
                s.flush()
                village.path = f"{township.path}{village.id}/"
                s.add(Cadre(name=f"村干部{t}-{v}", role="village_cadre", place=village))
        definition = current_definition(s, config.definition(CaseKind.IDENTIFICATION), now)
        villages = s.scalars(select(Place.id).where(Place.level == Level.VILLAGE)
                             .order_by(Place.id)).all()
        definition_id = definition.id
    due = now + dt.timedelta(days=30)
    batch = 20_000
    for start in range(0, n_cases, batch):
        ids = range(start + 1, min(n_cases, start + batch) + 1)
        with engine.begin() as conn:
            conn.execute(insert(Household), [
                {"id": i, "village_id": villages[i % len(villages)], "monitoring": "none"}
                for i in ids])
            conn.execute(insert(Member), [{
                "household_id": i, "name": f"户主{i}", "relation": "户主", "is_head": True,
                "labour": "full", "id_number": _id_number(i)} for i in ids])
            conn.execute(insert(Case), [{
                "id": i, "kind": "identification", "household_id": i,
                "village_id": villages[i % len(villages)], "definition_id": definition_id,
                "source": "wechat", "category": "sudden", "risk_types": ["illness"],
                "answers": {}, "attachments": [], "filed_by": "bench", "fast_tracked": False,
                "status": "open", "stage": "home_verification", "opened_at": now,
                "due_at": due} for i in ids])
            conn.execute(insert(Task), [{
                "case_id": i, "stage": "home_verification", "round": 1, "status": "open",
                "role": "village_cadre", "place_id": villages[i % len(villages)],
                "opened_at": now, "due_at": due, "data": {}} for i in ids])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("households", "members", "cases", "tasks"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
            conn.execute(text("ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def _id_number(i: int) -> str:
    region, month, day = 110000 + i // 100_000, 1 + (i // 10_000) % 12, 1 + (i // 1000) % 28
    body = f"{region:06d}1980{month:02d}{day:02d}{i % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def advancer(url: str, stop) -> None:
    """The worker's part: what each `advance-pending` flow run does, over and over."""
    engine, config = setup_existing(url)
    runtime = Runtime(SystemClock(), config.work_calendar(), DB)
    while not stop.wait(POLL_S):
        pending = pending_cases(DB, 5000)
        for start in range(0, len(pending), CHUNK):
            advance_chunk.fn(pending[start:start + CHUNK], runtime)
    engine.dispose()


def setup_existing(url: str):
    engine = make_engine(url)
    return engine, _install(engine)


DB: Database  # this process's (the bench and its advancer process each set it up)


def _install(engine):
    global DB
    DB = Database(engine)
    config = config_module.load(ROOT / "config.yaml")
    return config


def actors() -> dict[tuple[str, int], int]:
    with DB.session_scope() as s:
        return {(c.role, c.place_id): c.id for c in s.scalars(select(Cadre))}


def open_tasks(case_ids: list[int], stage: Stage) -> dict[int, tuple[int, str, int, int]]:
    """Each case's open task at `stage`: its id, role and place, and the case's village."""
    with DB.session_scope() as s:
        rows = s.execute(select(Task.case_id, Task.id, Task.role, Task.place_id,
                                Case.village_id).join(Case, Case.id == Task.case_id).where(
            Task.stage == stage, Task.status == TaskStatus.OPEN)).all()
    wanted = set(case_ids)
    return {r.case_id: (r.id, r.role, r.place_id, r.village_id) for r in rows
            if r.case_id in wanted}


def county_form(cadre_id: int) -> dict:
    return {"comparison": "与部门数据比对一致", "category": "sudden", "paired_cadre_id": cadre_id,
            "measures": [{"kind": "健康", "planned_on": "2026-12-01"}]}


def drive_round(case_ids: list[int], stage: Stage, who: dict, rate: float | None,
                rnd: random.Random, clients: int = 1) -> tuple[list[float], float]:
    """Decide every case's open task at `stage`; `clients` threads act as web processes."""
    tasks = open_tasks(case_ids, stage)
    assert len(tasks) == len(case_ids), f"{stage}: {len(tasks)} of {len(case_ids)} open"
    order = list(case_ids)
    rnd.shuffle(order)
    with DB.session_scope() as s:  # the demo's form; the county's pairs each village's cadre
        form = (None if stage == Stage.COUNTY_APPROVAL else stages.of(stage).demo_form(
            s, s.get_one(Case, case_ids[0]), dt.date.today()))
        # the verification names each household's own members: one form per case, made
        # before the clock starts
        own = ({c: stages.of(stage).demo_form(s, s.get_one(Case, c), dt.date.today())
                for c in case_ids} if stage == Stage.HOME_VERIFICATION else {})
    start = time.perf_counter()

    def client(share: list[int], pace: float | None) -> list[float]:
        latencies = []
        for n, case_id in enumerate(share):
            if pace:
                wait = start + n / pace - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            task_id, role, place_id, village_id = tasks[case_id]
            t0 = time.perf_counter()
            now = dt.datetime.now(dt.UTC)
            # as the phone page's POST runs it (approvals/web/casefile.py, decide_task): the
            # signed-in cadre and the task in one statement, the decision on that connection
            with DB.connection_scope() as conn:
                actor, task = decisions.signed_in_at(conn, who[(role, place_id)],
                                                     local_date(now), task_id)
                # the household is paired with its village cadre (decide checks who may be)
                data = own.get(case_id) or (
                    form if form is not None else county_form(who[("village_cadre", village_id)]))
                decisions.decide(conn, task, actor, Verdict.APPROVED, now=now, data=data)
            latencies.append(time.perf_counter() - t0)
        return latencies

    shares = [order[i::clients] for i in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        results = pool.map(client, shares, [rate / clients if rate else None] * clients)
        latencies = [x for part in results for x in part]
    return latencies, time.perf_counter() - start


def wait_drained(timeout: float = 300) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if not pending_cases(DB, 1):
            return time.perf_counter() - t0
        time.sleep(0.05)
    raise TimeoutError("advancement did not drain")


def lags(case_ids: list[int], stage: str, order: tuple[str, ...]) -> list[float]:
    """Decision committed (decided_at of `stage`) → next task opened, from the record itself."""
    with DB.session_scope() as s:
        decided = dict(s.execute(select(Task.case_id, Task.decided_at).where(
            Task.stage == stage, Task.status == TaskStatus.DECIDED)).all())
        nxt = order[order.index(stage) + 1]
        opened = dict(s.execute(select(Task.case_id, Task.opened_at).where(Task.stage == nxt))
                      .all())
    return [(opened[c] - decided[c]).total_seconds() for c in case_ids if c in opened]


def floor(engine, n: int = 3000) -> dict:
    """A bare SQLAlchemy insert of one decision row and a commit: the cost of durability."""
    table = Table("bench_floor", MetaData(), Column("id", Integer, primary_key=True),
                  Column("case_id", Integer), Column("verdict", String(16)),
                  Column("reason", String(200)))
    table.drop(engine, checkfirst=True)
    table.create(engine)
    lat = []
    for i in range(n):
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(insert(table).values(case_id=i, verdict="approved", reason="同意"))
        lat.append(time.perf_counter() - t0)
    table.drop(engine)
    return {"per_s": round(n / sum(lat)), "p50_ms": round(pct(lat, 50) * 1e3, 3),
            "p99_ms": round(pct(lat, 99) * 1e3, 3)}


def pass_notices(engine) -> None:
    """公示 ends by time once posted: record every open notice's posting, as the village does
    on the phone (approvals/procedure/notices.py), and move its end to now; the advancer
    passes them."""
    now = dt.datetime.now(dt.UTC)
    today = dt.date.today().isoformat()
    posting = {"posted_on": today, "starts_on": today, "where": "村民委员会公示栏",
               "posted_by": "bench", "photos": [], "posted_late": False}
    with engine.begin() as conn:
        conn.execute(update(Task).where(Task.stage == Stage.PUBLIC_NOTICE,
                                        Task.status == TaskStatus.OPEN)
                     .values(due_at=now, data=posting))
        conn.execute(update(Case).where(Case.stage == Stage.PUBLIC_NOTICE)
                     .values(pending_since=now))
    wait_drained()


def run_one(url: str, size: int, n_bench: int, rate: float, clients: int) -> dict:
    engine, config = setup(url)
    t0 = time.perf_counter()
    seed(engine, config, size + n_bench)
    seeded = time.perf_counter() - t0
    rnd = random.Random(7)
    # only the bench cases move; the others stay open at 入户核实 as the background load
    bench_ids = rnd.sample(range(1, size + n_bench + 1), n_bench)
    who = actors()
    ctx = mp.get_context("spawn")
    stop = ctx.Event()
    proc = ctx.Process(target=advancer, args=(url, stop))
    proc.start()
    lat: list[float] = []
    wall, drains, lag_values = 0.0, [], []
    try:
        for stage, paced in ((Stage.HOME_VERIFICATION, False), (Stage.VILLAGE_REVIEW, True),
                             (Stage.TOWNSHIP_AUDIT, False), (Stage.COUNTY_APPROVAL, False)):
            if stage == Stage.TOWNSHIP_AUDIT:
                pass_notices(engine)
            round_lat, round_wall = drive_round(bench_ids, stage, who, rate if paced else None,
                                                rnd, clients)
            drain = wait_drained()
            if paced:
                lag_values = lags(bench_ids, stage,
                                  config.definition(CaseKind.IDENTIFICATION).order)
            else:
                lat += round_lat
                wall += round_wall
                drains.append(round_wall + drain)
            print(f"  [{size}] {stage}: {len(round_lat)} decisions in {round_wall:.1f}s"
                  f"{f' (paced at {rate:g}/s)' if paced else ''}, advanced {drain:.1f}s after",
                  flush=True)
    finally:
        stop.set()
        proc.join(30)
    with DB.session_scope() as s:
        enrolled = s.scalar(select(func.count()).select_from(Case).where(Case.status == "enrolled"))
    assert enrolled == n_bench, f"only {enrolled} of {n_bench} enrolled"
    result = {
        "db": engine.dialect.name, "clients": clients, "open_cases": size,
        "bench_cases": n_bench,
        "seed_s": round(seeded, 1), "decisions": len(lat),
        "decisions_per_s": round(len(lat) / wall),
        "p50_ms": round(pct(lat, 50) * 1e3, 2), "p99_ms": round(pct(lat, 99) * 1e3, 2),
        "burst_drain_s": round(max(drains), 1),
        "lag_at_rate": rate, "lag_p50_s": round(pct(lag_values, 50), 3),
        "lag_p95_s": round(pct(lag_values, 95), 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "floor": floor(engine),
    }
    engine.dispose()
    return result


def peer(n_bench: int, sizes: list[int]) -> dict[int, dict]:
    out = Path(tempfile.mkdtemp()) / "peer.jsonl"
    cmd = [sys.executable, str(PEER), "persisted", "--cases", str(n_bench), "--sqlite-mode",
           "wal", "--out", str(out), "--preload", *map(str, sizes)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    runs = json.loads(out.read_text().splitlines()[-1])["persisted"]
    return {r["preloaded_open_cases"]: r["decide"] for r in runs.values()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    ap.add_argument("--million", action="store_true", help="add 1,000,000 open cases (PostgreSQL)")
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--rate", type=float, default=200, help="decisions/s in the paced round")
    ap.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 4],
                    help="concurrent deciders (web processes); SQLite runs with 1 only")
    ap.add_argument("--pg-commit", choices=["on", "off"], nargs="+", default=["on", "off"],
                    help="PostgreSQL synchronous_commit: 'off' is the durability of SQLite WAL "
                         "with synchronous=NORMAL (a crash of the process loses nothing, a "
                         "power cut may lose the last commits)")
    args = ap.parse_args()
    dbs = {"sqlite": [("WAL, synchronous=NORMAL", f"sqlite:///{tempfile.mkdtemp()}/bench.db")],
           "postgresql": [(f"synchronous_commit={c}",
                           PG_URL + ("?options=-csynchronous_commit%3Doff" if c == "off" else ""))
                          for c in args.pg_commit]}
    chosen = list(dbs) if args.db == "both" else [args.db]
    if "postgresql" in chosen:
        ensure_database()
    peer_rates = {} if args.no_peer else peer(args.cases, args.sizes)
    print("peer (SpiffWorkflow 3.2, SQLite WAL synchronous=NORMAL):",
          {k: v.get("per_s") for k, v in peer_rates.items()}, flush=True)
    results = []
    for name in chosen:
        sizes = args.sizes + ([1_000_000] if args.million and name == "postgresql" else [])
        clients = [1] if name == "sqlite" else args.clients  # SQLite has one writer
        for (durability, url), size, n_clients in (
                (d, s, c) for d in dbs[name] for s in sizes for c in clients):
            if name == "sqlite":  # a fresh file each time
                url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
            r = run_one(url, size, args.cases, args.rate, n_clients)
            r["durability"] = durability
            # the peer runs on SQLite WAL + NORMAL; PostgreSQL compares at the same durability
            same = name == "sqlite" or durability.endswith("off")
            mine = peer_rates.get(size, {}) if same else {}
            if mine.get("per_s"):
                r["peer_decisions_per_s"] = mine["per_s"]
                r["peer_p99_ms"] = mine.get("p99_ms")  # the machine's tail, in the same run
                r["ratio_to_peer"] = round(r["decisions_per_s"] / mine["per_s"], 2)
            results.append(r)
            print(json.dumps(r, ensure_ascii=False), flush=True)
    print("\n| db | durability | clients | open cases | decisions/s | p50 ms | p99 ms | peer/s |"
          " peer p99 ms | ratio | burst drain s | lag p50 s | lag p95 s | peak MB | floor/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['db']} | {r['durability']} | {r['clients']} | {r['open_cases']:,} | "
              f"{r['decisions_per_s']} | "
              f"{r['p50_ms']} | "
              f"{r['p99_ms']} | {r.get('peer_decisions_per_s', '-')} | "
              f"{r.get('peer_p99_ms', '-')} | {r.get('ratio_to_peer', '-')} | "
              f"{r['burst_drain_s']} | {r['lag_p50_s']} | "
              f"{r['lag_p95_s']} | {r['peak_rss_mb']} | {r['floor']['per_s']} |")


if __name__ == "__main__":
    main()
