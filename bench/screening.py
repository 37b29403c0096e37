"""Screening benchmark: the six feeds against a million households, beside a pandas peer.

    make bench-screening                                     # 1,000,000 households
    .venv/bin/python bench/screening.py --households 100000  # a quick look

The feeds and the roster come from bench/gen_feeds.py (seeded, cached under
var/bench/screening/). Each measurement runs in its own process, so its peak memory (the
child's ru_maxrss, or its own child's on top of what it held meanwhile: engine.roster reads
SQLite in one) is its own;
the seconds are the work's, after the imports:

- floor: Polars reading the six files and nothing else, every column as text; and beside
  it the same with the members table read whole through ADBC (what any screening reads);
- fangfan: engine.read + engine.roster + engine.screen and the report's counts (per rule,
  township and level; bad rows; IDs not in the roster), as the flow computes them before it
  opens any case;
- peer: the same six rules as a county analyst writes them in pandas (read_csv, the ID
  numbers checked with vectorised string operations, pandas.read_sql for the roster, merge,
  groupby, filters) and the same counts;
- opening cases: outcomes.apply on 10,000 of fangfan's hits (rules that open a case,
  households not monitored) on a copy of the roster database, timed apart;
- DuckDB beside Polars reading the medical file (every column as text), once: the figure the
  engine was chosen by.

The hits per rule of fangfan and of the peer are compared: a benchmark of two programs that
disagree would measure nothing. Targets (issue 21): the fangfan run under 30 s and 2 GB,
at least 3x faster than the peer and within 2x of the floor; 10,000 cases opened under 30 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HELD: dict[str, float] = {}  # what the measuring process held when its child started
FEED_KEYS = ("medical", "education", "disability", "civil", "disaster", "employment")
OPEN_CASES = 10_000


def peak_mb(held_meanwhile: float = 0.0) -> float:
    """What the measurement held at once: its process's peak, or its children's peak (the
    roster's reader, engine.roster on SQLite) on top of what the process held while the
    child ran (`held_meanwhile`), whichever is more."""
    own, children = (resource.getrusage(who).ru_maxrss / 1024
                     for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return max(own, held_meanwhile + children) if children else own


def rss_mb() -> float:
    """The process's resident memory now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() / 2**20


# -- the measurements, each run in a child process ----------------------------------------

def measure_floor(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    import polars as pl

    started = time.perf_counter()
    rows = {key: pl.read_csv(folder / "feeds" / f"{key}.csv", infer_schema=False).height
            for key in FEED_KEYS}
    return {"seconds": time.perf_counter() - started, "rows": rows}


def measure_floor_roster(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The floor plus the members table read whole through ADBC (no join): what any
    screening must at least read."""
    import polars as pl

    started = time.perf_counter()
    for key in FEED_KEYS:
        pl.read_csv(folder / "feeds" / f"{key}.csv", infer_schema=False)
    members = pl.read_database_uri(
        "SELECT id_number, id, household_id, name FROM members WHERE left_on IS NULL",
        f"sqlite:///{folder / manifest['roster']}", engine="adbc")
    return {"seconds": time.perf_counter() - started, "members": members.height}


def measure_read_engines(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    import duckdb
    import polars as pl

    path = folder / "feeds" / "medical.csv"
    started = time.perf_counter()
    polars_rows = pl.read_csv(path, infer_schema=False).height
    polars_s = time.perf_counter() - started
    started = time.perf_counter()
    duck_rows = duckdb.read_csv(str(path), all_varchar=True).to_arrow_table().num_rows
    duck_s = time.perf_counter() - started
    assert polars_rows == duck_rows, (polars_rows, duck_rows)
    return {"seconds": polars_s, "polars_s": polars_s, "duckdb_s": duck_s, "rows": polars_rows}


def _config() -> Any:
    from fangfan import config as config_module

    return config_module.load(ROOT / "config.yaml")


def _fangfan(folder: Path, manifest: dict[str, Any], config: Any
             ) -> tuple[Any, Any, dict[str, Any]]:
    """engine.read, roster, screen and the report's counts: (feeds, screened, counts)."""
    from collections import Counter

    from sqlalchemy.engine import make_url

    from approvals.screening import engine

    rules = config.screening.rules
    as_of = dt.date.fromisoformat(manifest["as_of"])
    url = make_url(f"sqlite:///{folder / manifest['roster']}")
    steps, clock = {}, time.perf_counter()
    # the roster first, as the flow reads it: its reader's peak is not on top of the feeds
    HELD["before_roster"] = rss_mb()
    people = engine.roster(url, "all")
    steps["roster"], clock = time.perf_counter() - clock, time.perf_counter()
    feeds = engine.read(folder / "feeds", config.screening.columns,
                        max_rows=config.screening.max_rows,
                        max_bytes=config.screening.max_file_mb * 2**20)
    steps["read"], clock = time.perf_counter() - clock, time.perf_counter()
    screened = engine.screen(feeds.loaded, people, rules, as_of)
    steps["screen"], clock = time.perf_counter() - clock, time.perf_counter()
    per_rule = Counter(h.rule for h in screened.hits)
    per_level = Counter(rules[h.rule].level.value for h in screened.hits)
    per_township = Counter(screened.township_of.get(h.household_id) for h in screened.hits)
    counts = {
        "hits": dict(sorted(per_rule.items())), "levels": dict(per_level),
        "townships": len(per_township),
        "households_hit": len({h.household_id for h in screened.hits}),
        "bad": {k: len(f.bad) for k, f in feeds.loaded.items()},
        "not_in_roster": {k: int(v) for k, v in screened.unmatched.group_by("feed").len()
                          .iter_rows()},
        "problems": feeds.problems,
    }
    steps["counts"] = time.perf_counter() - clock
    counts["steps"] = {k: round(v, 2) for k, v in steps.items()}
    return feeds, screened, counts


def measure_fangfan(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    # config.yaml read and the modules imported before the clock (the flow has them loaded)
    config = _config()
    started = time.perf_counter()
    _, _, counts = _fangfan(folder, manifest, config)
    return {"seconds": time.perf_counter() - started, **counts}


def measure_opening(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """outcomes.apply on 10,000 hits, on a copy of the roster (so the cached one stays clean)."""
    from sqlalchemy import select

    from approvals.procedure.cases import current_definition  # noqa: F401
    from approvals.record.db import Database
    from approvals.record.models import CaseKind, Household, MonitoringStatus
    from approvals.record.models.screening import RunStatus, ScreeningRun
    from approvals.screening import outcomes
    from fangfan.database import make_engine, upgrade

    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        copy = Path(tmp) / "roster.sqlite"
        shutil.copy(folder / manifest["roster"], copy)
        config = _config()
        _, screened, _ = _fangfan(folder, {**manifest, "roster": str(copy)}, config)
        engine = make_engine(f"sqlite:///{copy}")
        upgrade(engine)
        db = Database(engine)
        rules = config.screening.rules
        as_of = dt.date.fromisoformat(manifest["as_of"])
        now = dt.datetime.now(dt.UTC)
        with db.session_scope() as s:
            monitored = set(s.scalars(select(Household.id).where(
                Household.monitoring == MonitoringStatus.MONITORED)))
            run = ScreeningRun(as_of=as_of, scope="all", trigger="基准测试", started_by="cli",
                               feeds_dir=str(folder / "feeds"), status=RunStatus.RUNNING,
                               created_at=now, started_at=now)
            s.add(run)
            s.flush()
            run_id = run.id
        chosen, seen = [], set()
        for hit in screened.hits:
            if (rules[hit.rule].action.value == "open_case" and hit.household_id not in monitored
                    and hit.household_id not in seen):
                chosen.append(hit)
                seen.add(hit.household_id)
            if len(chosen) == OPEN_CASES:
                break
        definition = config.definition(CaseKind.IDENTIFICATION)
        calendar = config.work_calendar()
        started = time.perf_counter()
        with db.session_scope() as s:
            applied = outcomes.apply(s, chosen, run_id=run_id, rules=rules, as_of=as_of, now=now,
                                     definition=definition, calendar=calendar)
        seconds = time.perf_counter() - started
        engine.dispose()
    return {"seconds": seconds, "hits": len(chosen), "opened": len(applied.opened),
            "added": applied.added, "listed": applied.listed}


def measure_peer(folder: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    import pandas  # noqa: F401  (imported before the clock)

    started = time.perf_counter()
    counts = peer(folder / "feeds", folder / manifest["roster"],
                  dt.date.fromisoformat(manifest["as_of"]))
    return {"seconds": time.perf_counter() - started, **counts}


# -- the peer: what a county analyst writes in pandas -------------------------------------

def peer(feeds: Path, roster_db: Path, as_of: dt.date) -> dict[str, Any]:
    """The six rules of config.yaml, the way a county analyst writes them in pandas."""
    import sqlite3

    import pandas as pd

    today = pd.Timestamp(as_of)

    def since(days: int) -> pd.Timestamp:
        return today - pd.Timedelta(days=days - 1)

    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

    def valid_id(s: pd.Series) -> pd.Series:
        shaped = s.str.fullmatch(r"\d{17}[\dX]").fillna(False).astype(bool)
        digits = s.where(shaped, "0" * 18)
        total = sum(digits.str[i].astype(int) * w for i, w in enumerate(weights))
        born = pd.to_datetime(digits.str[6:14], format="%Y%m%d", errors="coerce")
        return shaped & born.notna() & (
            digits.str[17] == (total % 11).map(dict(enumerate("10X98765432"))))

    def load(name: str, dates: list[str], amounts: list[str] = (),  # type: ignore[assignment]
             choices: dict[str, list[str]] | None = None,
             text: list[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[assignment]
        df = pd.read_csv(feeds / f"{name}.csv", dtype=str, keep_default_na=False)
        df["row"] = df.index + 2  # as Excel numbers it, under the header
        problems = []
        idcol = "身份证号"
        df[idcol] = df[idcol].str.strip().str.upper()
        for col in df.columns.drop("row"):
            if col not in text:
                problems.append(df.loc[df[col].str.strip() == "", ["row"]].assign(column=col))
        problems.append(df.loc[(df[idcol] != "") & ~valid_id(df[idcol]), ["row"]]
                        .assign(column=idcol))
        for col in dates:
            parsed = pd.to_datetime(df[col].str.replace("/", "-"), format="%Y-%m-%d",
                                    errors="coerce")
            problems.append(df.loc[(df[col] != "") & parsed.isna(), ["row"]].assign(column=col))
            df[col] = parsed
        for col in amounts:
            parsed = pd.to_numeric(df[col].str.replace(",", ""), errors="coerce")
            problems.append(df.loc[(df[col] != "") & parsed.isna(), ["row"]].assign(column=col))
            df[col] = parsed
        for col, ok in (choices or {}).items():
            problems.append(df.loc[(df[col] != "") & ~df[col].isin(ok), ["row"]]
                            .assign(column=col))
        bad = pd.concat(problems).drop_duplicates("row").assign(file=f"{name}.csv")
        return df[~df["row"].isin(bad["row"])], bad

    steps, clock = {}, time.perf_counter()
    roster = pd.read_sql(
        "SELECT m.id AS member_id, m.id_number, m.household_id, p.parent_id AS township_id "
        "FROM members m JOIN households h ON h.id = m.household_id "
        "JOIN places p ON p.id = h.village_id WHERE m.left_on IS NULL",
        sqlite3.connect(roster_db))
    steps["roster"], clock = time.perf_counter() - clock, time.perf_counter()

    frames = {
        "medical": load("medical", ["结算日期"], ["医疗总费用", "医保报销", "个人自付"]),
        "education": load("education", ["变化日期"], choices={"在校状态": ["在读", "休学", "辍学"]},
                          text=["学段"]),
        "disability": load("disability", ["发证日期"],
                           choices={"残疾等级": ["一级", "二级", "三级", "四级"]},
                           text=["残疾类别"]),
        "civil": load("civil", ["变化日期"], choices={"救助类型": ["低保", "特困", "临时救助"],
                                                   "变化": ["新增", "停止"]}),
        "disaster": load("disaster", ["发生日期"], ["损失金额"], text=["灾害类型"]),
        "employment": load("employment", ["变化日期"], choices={"就业状态": ["就业", "失业"]}),
    }
    steps["read"], clock = time.perf_counter() - clock, time.perf_counter()
    matched, unmatched = {}, {}
    for name, (df, _) in frames.items():
        both = df.merge(roster, left_on="身份证号", right_on="id_number", how="left",
                        indicator=True)
        unmatched[name] = int((both["_merge"] == "left_only").sum())
        matched[name] = both[both["_merge"] == "both"]
    steps["match"], clock = time.perf_counter() - clock, time.perf_counter()

    hits = []

    def total(name: str, col: str, date: str, days: int, at_least: float, rule: str) -> None:
        df = matched[name]
        df = df[(df[date] >= since(days)) & (df[date] <= today)]
        sums = df.groupby("household_id")[col].agg(["sum", "count"])
        hits.append(sums[sums["sum"] >= at_least].reset_index()[["household_id"]]
                    .assign(rule=rule))

    def latest(name: str, col: str, values: list[str], date: str, rule: str,
               days: int | None = None, ages: tuple[int, int] | None = None) -> None:
        df = matched[name]
        df = df[df[date] <= today].sort_values(["member_id", date, "row"])
        last = df.drop_duplicates("member_id", keep="last")
        last = last[last[col].isin(values)]
        if days is not None:
            last = last[last[date] >= since(days)]
        if ages is not None:
            born = pd.to_datetime(last["身份证号"].str[6:14], format="%Y%m%d")
            age = today.year - born.dt.year - (
                (born.dt.month * 100 + born.dt.day) > (today.month * 100 + today.day))
            last = last[(age >= ages[0]) & (age <= ages[1])]
        hits.append(last[["household_id"]].drop_duplicates().assign(rule=rule))

    def any_(name: str, where: dict[str, list[str]], date: str, days: int, rule: str) -> None:
        df = matched[name]
        keep = (df[date] >= since(days)) & (df[date] <= today)
        for col, ok in where.items():
            keep &= df[col].isin(ok)
        hits.append(df.loc[keep, ["household_id"]].drop_duplicates().assign(rule=rule))

    total("medical", "个人自付", "结算日期", 365, 20_000, "medical_out_of_pocket")
    latest("education", "在校状态", ["辍学"], "变化日期", "school_dropout", ages=(6, 15))
    any_("disability", {"残疾等级": ["一级", "二级"]}, "发证日期", 365, "severe_disability")
    any_("civil", {"救助类型": ["低保", "特困", "临时救助"], "变化": ["新增"]}, "变化日期", 180,
         "new_assistance")
    total("disaster", "损失金额", "发生日期", 365, 10_000, "disaster_loss")
    latest("employment", "就业状态", ["失业"], "变化日期", "job_loss", days=180)

    levels = {"medical_out_of_pocket": "红", "school_dropout": "橙", "severe_disability": "橙",
              "new_assistance": "黄", "disaster_loss": "红", "job_loss": "黄"}
    found = pd.concat(hits).merge(roster[["household_id", "township_id"]].drop_duplicates(),
                                  on="household_id")
    found["level"] = found["rule"].map(levels)
    by_township = found.groupby(["township_id", "rule"]).size()
    steps["rules"] = time.perf_counter() - clock
    return {
        "steps": {k: round(v, 2) for k, v in steps.items()},
        "hits": {k: int(v) for k, v in found.groupby("rule").size().sort_index().items()},
        "levels": {k: int(v) for k, v in found.groupby("level").size().items()},
        "townships": int(by_township.index.get_level_values(0).nunique()),
        "households_hit": int(found["household_id"].nunique()),
        "bad": {name: len(bad) for name, (_, bad) in frames.items()},
        "not_in_roster": unmatched,
    }


MEASURES = {"floor": measure_floor, "floor_roster": measure_floor_roster,
            "fangfan": measure_fangfan, "peer": measure_peer, "opening": measure_opening,
            "read_engines": measure_read_engines}


def child(name: str, folder: Path) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    result = MEASURES[name](folder, manifest)
    result["peak_mb"] = peak_mb(HELD.get("before_roster", 0.0))
    result["peak_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result, ensure_ascii=False))


def run(name: str, folder: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, __file__, "--measure", name, "--folder", str(folder)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        tail = "\n".join(out.stderr.strip().splitlines()[-6:])
        return {"error": tail or f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the table ----------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--only", nargs="+", choices=list(MEASURES), help="run only these")
    parser.add_argument("--measure", choices=list(MEASURES), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        child(args.measure, args.folder)
        return

    from bench import gen_feeds

    started = time.perf_counter()
    folder = gen_feeds.generate(args.households, args.seed)
    manifest = json.loads((folder / "manifest.json").read_text())
    print(f"feeds and roster: {folder.relative_to(ROOT)} ({manifest['households']:,} households, "
          f"{manifest['members']:,} members; ready in {time.perf_counter() - started:.1f} s, "
          f"generated in {sum(manifest['seconds'].values()):.1f} s)")
    print("rows: " + ", ".join(f"{k} {v['rows']:,}" for k, v in manifest["feeds"].items()))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    results: dict[str, dict[str, Any]] = {}
    for name in args.only or ["floor", "floor_roster", "fangfan", "peer", "opening",
                              "read_engines"]:
        results[name] = r = run(name, folder)
        if "error" in r:
            print(f"{name}: failed\n{r['error']}")
        else:
            print(f"{name}: {r['seconds']:.2f} s, peak {r['peak_mb']:.0f} MB")
    report(results, manifest)


def report(results: dict[str, dict[str, Any]], manifest: dict[str, Any]) -> None:
    ok = {k: v for k, v in results.items() if "error" not in v}
    print()
    print(f"| {manifest['households']:,} households | seconds | peak MB | target |")
    print("|---|---|---|---|")
    if "floor" in ok:
        print(f"| floor: Polars reads the six files | {ok['floor']['seconds']:.2f} | "
              f"{ok['floor']['peak_mb']:.0f} | |")
    if "floor_roster" in ok:
        print(f"| the floor and the members table (ADBC, no join) | "
              f"{ok['floor_roster']['seconds']:.2f} | {ok['floor_roster']['peak_mb']:.0f} | |")
    if "fangfan" in ok:
        f = ok["fangfan"]
        met = f["seconds"] < 30 and f["peak_mb"] < 2048
        steps = ", ".join(f"{k} {v:.2f}" for k, v in f["steps"].items())
        print(f"| fangfan: read, roster, screen, counts ({steps}) | {f['seconds']:.2f} | "
              f"{f['peak_mb']:.0f} (the process's own peak {f['peak_self_mb']:.0f}) | "
              f"< 30 s, < 2,048 MB: "
              f"{'met' if met else 'MISSED'} |")
    if "peer" in ok:
        steps = ", ".join(f"{k} {v:.2f}" for k, v in ok["peer"]["steps"].items())
        print(f"| peer: pandas, the same rules ({steps}) | {ok['peer']['seconds']:.2f} | "
              f"{ok['peer']['peak_mb']:.0f} | |")
    if "opening" in ok:
        o = ok["opening"]
        print(f"| opening {o['hits']:,} cases from hits (outcomes.apply; {o['opened']:,} "
              f"opened; the peak is the screening's before it) | {o['seconds']:.2f} | "
              f"{o['peak_mb']:.0f} | < 30 s: "
              f"{'met' if o['seconds'] < 30 else 'MISSED'} |")
    if "fangfan" in ok and "peer" in ok:
        ratio = ok["peer"]["seconds"] / ok["fangfan"]["seconds"]
        print(f"| the peer's time / fangfan's | {ratio:.1f}x | "
              f"{ok['peer']['peak_mb'] / ok['fangfan']['peak_mb']:.1f}x | ≥ 3x: "
              f"{'met' if ratio >= 3 else 'MISSED'} |")
    if "fangfan" in ok and "floor" in ok:
        ratio = ok["fangfan"]["seconds"] / ok["floor"]["seconds"]
        print(f"| fangfan's time / the floor's | {ratio:.1f}x | "
              f"{ok['fangfan']['peak_mb'] / ok['floor']['peak_mb']:.1f}x | ≤ 2x: "
              f"{'met' if ratio <= 2 else 'MISSED'} |")
    if "read_engines" in ok:
        r = ok["read_engines"]
        print(f"\nmedical.csv ({r['rows']:,} rows, every column as text): Polars "
              f"{r['polars_s']:.2f} s, DuckDB {r['duckdb_s']:.2f} s")
    if "fangfan" in ok and "peer" in ok:
        f, p = ok["fangfan"], ok["peer"]
        print(f"\nhits per rule  fangfan {f['hits']}\n               peer    {p['hits']}")
        print(f"households hit fangfan {f['households_hit']:,}, peer {p['households_hit']:,}")
        print(f"bad rows       fangfan {f['bad']}\n               peer    {p['bad']}")
        print(f"not in roster  fangfan {f['not_in_roster']}\n               peer    "
              f"{p['not_in_roster']}")
        same = all(f[k] == p[k] for k in ("hits", "bad", "not_in_roster"))
        print("fangfan and the peer agree" if same else "fangfan and the peer DISAGREE")
    elif "peer" in ok:
        p = ok["peer"]
        print(f"\npeer: hits {p['hits']}, households hit {p['households_hit']:,} "
              f"({p['households_hit'] / manifest['households']:.1%}), bad {p['bad']}, "
              f"not in roster {p['not_in_roster']}")


if __name__ == "__main__":
    main()
