"""Desk benchmark: importing a roster of 100k rows and exporting a ledger of 100k households.

    .venv/bin/python bench/desk.py                    # SQLite (a fresh file), 100k rows
    .venv/bin/python bench/desk.py --db postgresql    # PostgreSQL database `bench`

The roster is a CSV in the ledger's layout, one household head per row (valid ID numbers)
in the demo county's villages. The import reads, checks every row and applies it in one
transaction, as `fangfan import roster` does; then the households are marked monitored and
the ledger of the county is written as .xlsx, as `fangfan export ledger` does. The baseline
in the same run is reading the same CSV with the csv module and writing the same number of
rows with XlsxWriter and nothing else. Targets (issue: supervisors): import under 60 s,
export under 30 s.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import xlsxwriter  # noqa: E402
from sqlalchemy import text, update  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from approvals.desk import imports, ledger  # noqa: E402
from approvals.procedure.permissions import Actor  # noqa: E402
from approvals.record.calendar import SystemClock  # noqa: E402
from approvals.record.models import Household, Place  # noqa: E402
from bench.pg import ensure_database  # noqa: E402
from fangfan import config as config_module  # noqa: E402
from fangfan.database import make_engine, upgrade  # noqa: E402
from fangfan.demo import roster  # noqa: E402
from fangfan.services import Services  # noqa: E402
from fangfan.settings import Settings  # noqa: E402


def roster_csv(path: Path, n: int, villages: list[tuple[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(imports.ROSTER)
        for i in range(n):
            born = dt.date(1950, 1, 1) + dt.timedelta(days=i % 18000)
            body = f"522632{born:%Y%m%d}{i // 18000 % 1000:03d}"
            number = body + ric.calc_check_digit(body + "0")
            township, village = villages[i % len(villages)]
            out.writerow([township, village, f"{i % 9 + 1}组", number, f"户主{i}", number, "户主",
                          "", "有"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="fangfan-desk-"))
    url = ensure_database() if args.db == "postgresql" else f"sqlite:///{work / 'bench.db'}"
    engine = make_engine(url)
    if args.db == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    config = config_module.load(ROOT / "config.yaml")
    services = Services(Settings.from_env(), config, engine, SystemClock(),
                        config.work_calendar())
    with services.database.session_scope() as s:
        roster(s, services)
        county = s.scalar(text("SELECT path FROM places WHERE level = 'county'"))
        villages = [(t.name, v.name) for t in s.query(Place).filter_by(level="township")
                    for v in s.query(Place).filter_by(parent_id=t.id)]
    actor = Actor(0, "bench", "supervisor", True, county, "county")
    source = work / "roster.csv"
    roster_csv(source, args.rows, villages)

    t0 = time.perf_counter()
    with source.open(encoding="utf-8") as f:
        raw = list(csv.reader(f))
    read_floor = time.perf_counter() - t0

    t0 = time.perf_counter()
    table = imports.read_file(source, imports.ROSTER, imports.Limits())
    with services.database.session_scope() as s:
        result = imports.import_roster(s, table, actor, now=dt.datetime.now(dt.UTC))
    imported = time.perf_counter() - t0
    assert result.ok and result.added == args.rows, result.problems[:3]
    t0 = time.perf_counter()
    with services.database.session_scope() as s:
        again = imports.import_roster(
            s, imports.read_file(source, imports.ROSTER, imports.Limits()), actor,
            now=dt.datetime.now(dt.UTC))
    reimported = time.perf_counter() - t0
    assert again.unchanged == args.rows and not again.added

    with services.database.session_scope() as s:
        s.execute(update(Household).values(monitoring="monitored", category="marginal",
                                           monitored_since=dt.date(2026, 1, 1)))
        place_id = s.scalar(text("SELECT id FROM places WHERE level = 'county'"))
    labels = ledger.Labels(config.categories, config.risk_types, {})
    t0 = time.perf_counter()
    with services.database.session_scope() as s:
        count = ledger.write(work / "ledger.xlsx", "台账", ledger.rows(
            s, actor, ledger.Scope(place_id), labels, dt.datetime.now(dt.UTC), full_ids=False))
    exported = time.perf_counter() - t0

    t0 = time.perf_counter()
    book = xlsxwriter.Workbook(str(work / "floor.xlsx"), {"constant_memory": True})
    sheet = book.add_worksheet()
    for i, row in enumerate(raw[: count + 1]):
        sheet.write_row(i, 0, row + row[:13])  # as many cells as a ledger row
    book.close()
    write_floor = time.perf_counter() - t0

    print(f"database: {args.db}; {args.rows:,} roster rows; {count:,} ledger rows")
    print(f"{'':<34}{'seconds':>9}{'× baseline':>12}{'target':>10}")
    print(f"{'import (read, check, apply)':<34}{imported:>9.1f}{imported / read_floor:>12.0f}"
          f"{'< 60 s':>10}")
    print(f"{'import again (nothing changes)':<34}{reimported:>9.1f}"
          f"{reimported / read_floor:>12.0f}")
    print(f"{'export ledger (.xlsx)':<34}{exported:>9.1f}{exported / write_floor:>12.1f}"
          f"{'< 30 s':>10}")
    print(f"baseline: csv read {read_floor:.2f} s; bare XlsxWriter of the same cells "
          f"{write_floor:.1f} s")
    print(f"targets: import {'met' if imported < 60 else 'NOT met'}, "
          f"export {'met' if exported < 30 else 'NOT met'}")
    engine.dispose()


if __name__ == "__main__":
    main()
