"""Synthetic department feeds and the roster they are screened against (bench/screening.py).

    .venv/bin/python bench/gen_feeds.py                        # 1,000,000 households
    .venv/bin/python bench/gen_feeds.py --households 100000    # a quick look

Seeded: the same size, seed and as-of date give the same files, so an output folder
(var/bench/screening/h<households>-s<seed>/, or --out) is reused when its manifest.json is
there. It holds:

- roster.sqlite: fangfan's schema (the migrations at head) with one county, 15 townships and
  300 villages, their cadres (a village cadre per village, township auditors and township
  cadres paired with the monitored households), the households (about 10% monitored, 28%
  脱贫户) and about 3.5 members each with valid 18-digit ID numbers (GB 11643), birth dates
  spread so that families have school-age children; 0.5% of members have left.
- feeds/<feed>.csv: the six feeds with the default Chinese headers (approvals/screening/feeds.py),
  sized per household as a county's departments export them (medical 2 rows a household,
  education 0.7, employment 0.5, civil 0.15, disability 0.1, disaster 0.05), with values drawn
  so that a few percent of households hit some rule of config.yaml, about 1% of the ID numbers
  not in the roster (0.7% people from elsewhere, valid numbers never a member's, and the
  members who left, whom the roster no longer screens), and a few hundred
  bad rows (a wrong checksum, a missing cell, an amount or date that cannot be read, a value
  outside the field's choices). Dates are YYYY-MM-DD, one in twenty YYYY/M/D; one amount in
  fifty has a thousands separator.

Everything is drawn with numpy and built with Polars over whole columns; the roster goes into
SQLite with executemany in one transaction, the secondary indexes built after the rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from approvals.screening.feeds import FEEDS, Kind  # noqa: E402
from fangfan.database import make_engine, upgrade  # noqa: E402

CACHE = ROOT / "var" / "bench" / "screening"
AS_OF = dt.date(2026, 11, 30)
TOWNSHIPS, VILLAGES_PER_TOWNSHIP = 15, 20
TOWNSHIP_CADRES = 20  # per township, paired with its monitored households
# feed → data rows per household
ROWS_PER_HOUSEHOLD = {"medical": 2.0, "education": 0.7, "employment": 0.5, "civil": 0.15,
                      "disability": 0.1, "disaster": 0.05}
HOUSEHOLD_SIZES = (np.arange(1, 8), [0.12, 0.18, 0.21, 0.22, 0.15, 0.08, 0.04])  # mean 3.5
HOME, ELSEWHERE = 522632, (522601, 522622, 522627, 520103, 530102, 450102)
OUTSIDER_SEQ = 900  # sequence codes from here on are never a member's: outsiders' numbers
WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK = np.array(list("10X98765432"))
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
                "蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江"
                "尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红建文辉力林云峰国"
             "成荣新春海燕宇浩凤琴波飞鹏志东莉梅德金亮斌永安俊晓雪慧佳龙思光福贵彬顺才"
             "家欣怡梓涵子轩博宁晨阳婷雨欢")


def folder_for(households: int, seed: int) -> Path:
    return CACHE / f"h{households}-s{seed}"


def id_numbers(region: np.ndarray, born: np.ndarray, seq: np.ndarray) -> pl.Series:
    """18-digit resident ID numbers (GB 11643: the check digit over the first 17)."""
    ymd = (born.astype("datetime64[Y]").astype(np.int64) + 1970) * 10_000 \
        + (born.astype("datetime64[M]").astype(np.int64) % 12 + 1) * 100 \
        + (born - born.astype("datetime64[M]")).astype(np.int64) + 1
    body = region.astype(np.int64) * 10**11 + ymd * 1000 + seq.astype(np.int64)
    total = np.zeros(len(body), dtype=np.int64)
    for i, w in enumerate(WEIGHTS):
        total += (body // 10 ** (16 - i)) % 10 * w
    return pl.Series(body).cast(pl.String) + pl.Series(CHECK[total % 11])


def names(rng: np.random.Generator, surname: np.ndarray) -> pl.Series:
    """Two- and three-character names (a surname index given)."""
    n = len(surname)
    first = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    second = np.where(rng.random(n) < 0.7, np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], "")
    return pl.Series(np.array(SURNAMES)[surname]) + pl.Series(first) + pl.Series(second)


def top_k(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct indices drawn with probability proportional to `weights` (Gumbel top-k)."""
    keys = np.log(np.maximum(weights, 1e-12)) + rng.gumbel(size=len(weights))
    k = min(k, len(weights))
    return np.argpartition(-keys, k - 1)[:k]


# -- the roster ---------------------------------------------------------------------------

def make_people(rng: np.random.Generator, n: int, as_of: dt.date) -> tuple[pl.DataFrame,
                                                                          pl.DataFrame]:
    """The households and their members as frames (ids from 1, members grouped by household)."""
    villages = TOWNSHIPS * VILLAGES_PER_TOWNSHIP
    village = 2 + TOWNSHIPS + rng.integers(0, villages, n)  # places: county 1, townships 2..16
    sizes = rng.choice(HOUSEHOLD_SIZES[0], n, p=HOUSEHOLD_SIZES[1])
    m = int(sizes.sum())
    hh = np.repeat(np.arange(n), sizes)
    pos = np.arange(m) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    head_year = rng.integers(1942, 1999, n)[hh]
    year = np.select(
        [pos == 0, pos == 1, pos <= 4],
        [head_year, head_year + rng.integers(-5, 6, m), head_year + rng.integers(20, 40, m)],
        np.maximum(head_year - rng.integers(20, 32, m), 1926))
    year = np.minimum(year, as_of.year - 1)
    born = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]") \
        + rng.integers(0, 365, m).astype("timedelta64[D]")
    born = np.minimum(born, np.datetime64(as_of) - np.timedelta64(60, "D"))
    region = np.where(rng.random(m) < 0.9, HOME, np.array(ELSEWHERE)[rng.integers(0, 6, m)])
    people = pl.DataFrame({"region": region, "born": born}).with_columns(
        seq=pl.int_range(pl.len()).over("region", "born"))
    rank = people["seq"].to_numpy()
    assert rank.max() * 2 + 1 < OUTSIDER_SEQ, "too many people born on one day in one region"
    # the sequence code's last digit's parity is the sex (odd: male)
    numbers = id_numbers(region, born, rank * 2 + rng.integers(0, 2, m))
    family = rng.integers(0, len(SURNAMES), n)[hh]
    surname = np.where(pos == 1, rng.integers(0, len(SURNAMES), m), family)
    relation = np.select([pos == 0, pos == 1, pos <= 4], ["户主", "配偶", "子女"], "父母")
    age = as_of.year - year
    labour = np.where(age >= 70, "none", np.where(rng.random(m) < 0.1, "partial", "full"))
    left = (pos > 0) & (rng.random(m) < 0.005)
    left_on = np.where(left, np.datetime64(as_of) - rng.integers(30, 900, m).astype(
        "timedelta64[D]"), np.datetime64("NaT"))
    members = pl.DataFrame({
        "id": np.arange(1, m + 1), "household_id": hh + 1, "name": names(rng, surname),
        "id_number": numbers, "relation": relation, "is_head": pos == 0, "labour": labour,
        "left_on": left_on.astype("datetime64[D]"), "born": born})

    roll = rng.random(n)
    monitored = roll < 0.10
    eliminated = (roll >= 0.10) & (roll < 0.13)
    category = np.array(["unstable", "marginal", "sudden"])[
        np.searchsorted([0.45, 0.85], rng.random(n))]
    formerly_poor = np.where(monitored, category == "unstable", rng.random(n) < 0.26)
    since = np.datetime64(as_of) - rng.integers(60, 2000, n).astype("timedelta64[D]")
    households = pl.DataFrame({
        "id": np.arange(1, n + 1), "village_id": village,
        "group_name": pl.Series(rng.integers(1, 10, n)).cast(pl.String) + "组",
        "monitoring": np.where(monitored, "monitored",
                               np.where(eliminated, "eliminated", "none")),
        "category": np.where(monitored | eliminated, category, None),
        "monitored_since": np.where(monitored | eliminated, since, np.datetime64("NaT")),
        "eliminated_on": np.where(eliminated, since + np.timedelta64(300, "D"),
                                  np.datetime64("NaT")),
        "formerly_poor": formerly_poor, "size": sizes})
    return households, members


def write_roster(path: Path, households: pl.DataFrame, members: pl.DataFrame,
                 rng: np.random.Generator) -> None:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")  # a generated file: nothing to recover
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    # the secondary indexes are built once after the rows, not kept up row by row
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                           "tbl_name IN ('members', 'households', 'pairings') AND sql IS NOT NULL"
                           ).fetchall()
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")

    places = [(1, "基准县", "county", None, "/1/")]
    for t in range(TOWNSHIPS):
        places.append((2 + t, f"{t + 1}镇", "township", 1, f"/1/{2 + t}/"))
    for v in range(TOWNSHIPS * VILLAGES_PER_TOWNSHIP):
        t = v // VILLAGES_PER_TOWNSHIP
        vid = 2 + TOWNSHIPS + v
        places.append((vid, f"{t + 1}镇{v % VILLAGES_PER_TOWNSHIP + 1}村", "village", 2 + t,
                       f"/1/{2 + t}/{vid}/"))
    conn.executemany("INSERT INTO places (id, name, level, parent_id, path) VALUES (?,?,?,?,?)",
                     places)
    cadres = [("县审定员", "county_approver", 1)]
    for t in range(TOWNSHIPS):
        cadres.append((f"{t + 1}镇审核员", "township_auditor", 2 + t))
        cadres += [(f"{t + 1}镇帮扶干部{c + 1}", "township_cadre", 2 + t)
                   for c in range(TOWNSHIP_CADRES)]
    cadres += [(f"{p[1]}干部", "village_cadre", p[0]) for p in places if p[2] == "village"]
    conn.executemany("INSERT INTO cadres (name, role, place_id, active, channel, "
                     "bind_code_failures, session_epoch) VALUES (?, ?, ?, 1, 'wechat', 0, 0)",
                     cadres)

    def dates(col: str) -> pl.Expr:
        return pl.col(col).dt.strftime("%Y-%m-%d")

    conn.executemany(
        "INSERT INTO households (id, village_id, group_name, monitoring, category, "
        "monitored_since, eliminated_on, formerly_poor) VALUES (?,?,?,?,?,?,?,?)",
        households.select("id", "village_id", "group_name", "monitoring", "category",
                          dates("monitored_since"), dates("eliminated_on"),
                          pl.col("formerly_poor").cast(pl.Int8)).iter_rows())
    conn.executemany(
        "INSERT INTO members (id, household_id, name, id_number, relation, is_head, labour, "
        "left_on) VALUES (?,?,?,?,?,?,?,?)",
        members.select("id", "household_id", "name", "id_number", "relation",
                       pl.col("is_head").cast(pl.Int8), "labour", dates("left_on")).iter_rows())
    # 帮扶责任: each monitored household paired with a township cadre of its township
    monitored = households.filter(pl.col("monitoring") == "monitored")
    first_township_cadre = 3  # cadre ids: 1 the county's, then per township 1 + 20
    township = (monitored["village_id"].to_numpy() - 2 - TOWNSHIPS) // VILLAGES_PER_TOWNSHIP
    cadre = first_township_cadre + township * (1 + TOWNSHIP_CADRES) \
        + rng.integers(0, TOWNSHIP_CADRES, len(monitored))
    conn.executemany(
        "INSERT INTO pairings (household_id, cadre_id, started_on) VALUES (?, ?, ?)",
        zip(monitored["id"].to_list(), cadre.tolist(),
            monitored["monitored_since"].dt.strftime("%Y-%m-%d").to_list(), strict=True))
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")  # as fangfan's engine opens it
    conn.close()


# -- the feeds ----------------------------------------------------------------------------

def fmt_date(col: pl.Expr, slash: pl.Expr) -> pl.Expr:
    """ISO, or YYYY/M/D where `slash`."""
    return pl.when(slash).then(pl.concat_str(
        col.dt.year().cast(pl.String), pl.lit("/"), col.dt.month().cast(pl.String), pl.lit("/"),
        col.dt.day().cast(pl.String))).otherwise(col.dt.strftime("%Y-%m-%d"))


def fmt_amount(cents: pl.Expr, thousands: pl.Expr) -> pl.Expr:
    """Yuan with two decimals; 12,345.60 where `thousands` (below a million)."""
    yuan, frac = cents // 100, (cents % 100).cast(pl.String).str.zfill(2)
    grouped = pl.concat_str((yuan // 1000).cast(pl.String), pl.lit(","),
                            (yuan % 1000).cast(pl.String).str.zfill(3))
    whole = pl.when(thousands & (yuan >= 1000) & (yuan < 1_000_000)).then(grouped) \
        .otherwise(yuan.cast(pl.String))
    return pl.concat_str(whole, pl.lit("."), frac)


def days_back(rng: np.random.Generator, as_of: dt.date, n: int, low: int,
              high: int) -> np.ndarray:
    return np.datetime64(as_of) - rng.integers(low, high, n).astype("timedelta64[D]")


def feed_frames(rng: np.random.Generator, n: int, households: pl.DataFrame,
                members: pl.DataFrame, as_of: dt.date) -> dict[str, pl.DataFrame]:
    """Each feed's rows with typed values (`id_number`, `name`, the feed's fields)."""
    m = len(members)
    age = (np.datetime64(as_of) - members["born"].to_numpy()).astype(np.int64) / 365.25
    hh = members["household_id"].to_numpy() - 1
    status = households["monitoring"].to_numpy()[hh]
    poor = households["formerly_poor"].to_numpy()[hh] | (status == "monitored")
    frail = rng.lognormal(0, 1, m) * (1 + age / 30) ** 2
    serious = rng.random(m) < 0.008  # a serious illness: many and costly stays
    frail = np.where(serious, frail * 30, frail)
    out: dict[str, pl.DataFrame] = {}

    # 医保: settlements over two years; most are small outpatient bills
    k = int(n * ROWS_PER_HOUSEHOLD["medical"])
    who = rng.choice(m, k, p=frail / frail.sum())
    stay = rng.random(k) < np.where(serious[who], 0.45, 0.05)
    total = np.where(stay, rng.lognormal(np.log(np.where(serious[who], 20_000, 6_000)), 0.7),
                     rng.lognormal(np.log(150), 0.9, k))
    share = np.where(stay, rng.uniform(0.55, 0.85, k), rng.uniform(0.3, 0.6, k))
    total_c = np.maximum(np.round(total * 100), 500).astype(np.int64)
    paid_c = np.round(total_c * share).astype(np.int64)
    out["medical"] = pl.DataFrame({
        "who": who, "settled_on": days_back(rng, as_of, k, 0, 730),
        "total_cost": total_c, "reimbursed": paid_c, "out_of_pocket": total_c - paid_c,
    }).sort("settled_on")

    # 教育: every pupil aged 6-17 enrolled at the start of the school year; those who dropped
    # out (older pupils more often) since the start of last year, some of them back at school
    start = np.datetime64(dt.date(as_of.year if as_of.month >= 9 else as_of.year - 1, 9, 1))
    last = start - np.timedelta64(365, "D")
    pupils = np.flatnonzero((age >= 6) & (age < 18))
    a = age[pupils]
    drop = rng.random(len(pupils)) < np.select([a < 12, a < 15], [0.002, 0.008], 0.03)
    dropped, staying = pupils[drop], pupils[~drop]
    span = (np.datetime64(as_of) - last).astype(np.int64)
    dropped_on = last + rng.integers(30, span - 10, len(dropped)).astype("timedelta64[D]")
    back = rng.random(len(dropped)) < 0.3
    back_on = dropped_on + np.maximum(1, rng.random(len(dropped)) * (
        np.datetime64(as_of) - dropped_on).astype(np.int64)).astype("timedelta64[D]")
    paused = staying[rng.random(len(staying)) < 0.01]
    term = max(2, (np.datetime64(as_of) - start).astype(np.int64))
    paused_on = start + rng.integers(1, term, len(paused)).astype("timedelta64[D]")
    k = int(n * ROWS_PER_HOUSEHOLD["education"])
    rest = k - len(pupils) - len(dropped) - int(back.sum()) - len(paused)
    # last year's and the year before's enrolments fill the feed up to its size
    older = staying[age[staying] >= 7]
    earlier = rng.choice(older, min(max(rest, 0), len(older)), replace=False)
    oldest = staying[age[staying] >= 8]
    before = rng.choice(oldest, min(max(rest - len(earlier), 0), len(oldest)), replace=False)
    parts = [(staying, start, "在读"), (earlier, last, "在读"),
             (before, last - np.timedelta64(365, "D"), "在读"), (dropped, last, "在读"),
             (dropped, dropped_on, "辍学"), (dropped[back], back_on[back], "在读"),
             (paused, paused_on, "休学")]
    who = np.concatenate([p[0] for p in parts])
    when = np.concatenate([np.broadcast_to(p[1], len(p[0])) for p in parts])
    state = np.concatenate([np.full(len(p[0]), p[2]) for p in parts])
    a = age[who]
    stage = np.select([a < 12, a < 15], ["小学", "初中"],
                      np.where(rng.random(len(who)) < 0.7, "高中", "中职"))
    out["education"] = pl.DataFrame({"who": who, "stage": stage, "status": state,
                                     "changed_on": when}).sample(
        fraction=1.0, shuffle=True, seed=int(rng.integers(1 << 31)))

    # 残联: certificates over ten years, the elderly more often
    k = int(n * ROWS_PER_HOUSEHOLD["disability"])
    who = top_k(rng, 1 + age / 20, k)
    out["disability"] = pl.DataFrame({
        "who": who,
        "disability": np.array(["视力残疾", "听力残疾", "言语残疾", "肢体残疾", "智力残疾",
                                "精神残疾", "多重残疾"])[rng.integers(0, 7, k)],
        "grade": np.array(["一级", "二级", "三级", "四级"])[
            np.searchsorted([0.08, 0.25, 0.6], rng.random(k))],
        "issued_on": days_back(rng, as_of, k, 0, 3650)})

    # 民政: assistance granted and stopped over five years, mostly to poorer households
    k = int(n * ROWS_PER_HOUSEHOLD["civil"])
    who = rng.choice(m, k, p=(w := np.where(poor, 5.0, 1.0) * (1 + age / 40)) / w.sum())
    out["civil"] = pl.DataFrame({
        "who": who,
        "assistance": np.array(["低保", "特困", "临时救助"])[
            np.searchsorted([0.6, 0.7], rng.random(k))],
        "change": np.where(rng.random(k) < 0.75, "新增", "停止"),
        "changed_on": days_back(rng, as_of, k, 0, 1826)})

    # 应急: losses of the heads of households in villages that a disaster struck
    k = int(n * ROWS_PER_HOUSEHOLD["disaster"])
    heads = np.flatnonzero(members["is_head"].to_numpy())
    village = households["village_id"].to_numpy()[hh[heads]]
    order = np.argsort(village, kind="stable")
    heads, village = heads[order], village[order]
    first = np.searchsorted(village, np.arange(village.min(), village.max() + 2))
    events = 60
    ev_village = rng.integers(village.min(), village.max() + 1, (events, 6))
    ev_date = days_back(rng, as_of, events, 0, 1095)
    ev_kind = np.array(["洪涝", "干旱", "风雹", "山体滑坡", "低温冷冻", "地震"])[
        rng.integers(0, 6, events)]
    event = rng.integers(0, events, k)
    v = ev_village[event, rng.integers(0, 6, k)] - village.min()
    count = first[v + 1] - first[v]
    who = heads[first[v] + (rng.random(k) * count).astype(np.int64)]
    loss = np.round(rng.lognormal(np.log(3_500), 0.9, k) * 100).astype(np.int64)
    out["disaster"] = pl.DataFrame({
        "who": who, "disaster": ev_kind[event], "loss": np.maximum(loss, 10_000),
        "occurred_on": ev_date[event] + rng.integers(0, 4, k).astype("timedelta64[D]")})

    # 人社: the working-age people's changes of status over three years
    k = int(n * ROWS_PER_HOUSEHOLD["employment"])
    working = (age >= 18) & (age < 60)
    who = rng.choice(np.flatnonzero(working), k)
    out["employment"] = pl.DataFrame({
        "who": who, "status": np.where(rng.random(k) < 0.86, "就业", "失业"),
        "changed_on": days_back(rng, as_of, k, 0, 1095)})
    for key, frame in out.items():
        out[key] = frame.with_columns(pl.col(c).clip(upper_bound=as_of) for c in frame.columns
                                      if frame.schema[c] == pl.Date)
    return out


def outsiders(rng: np.random.Generator, born: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """Valid ID numbers and names of people not in the roster (sequence codes ≥ 900), born
    on the days given (those of the rows they stand in, so a pupil's stays a child)."""
    k = len(born)
    region = np.array((HOME, *ELSEWHERE))[rng.integers(0, 1 + len(ELSEWHERE), k)]
    numbers = id_numbers(region, born, rng.integers(OUTSIDER_SEQ, 1000, k))
    return numbers, names(rng, rng.integers(0, len(SURNAMES), k))


BAD_VALUES = {"amount": ["约300", "12.3.4", "—", "壹仟"],
              "date": ["2026-02-30", "2026.13.01", "待补录", "20261301"],
              "choice": {"status": ["毕业", "待业", "转学"], "grade": ["五级", "重度"],
                         "assistance": ["低收入", "医疗救助"], "change": ["变更", "续保"]}}


def write_feed(rng: np.random.Generator, key: str, frame: pl.DataFrame,
               members: pl.DataFrame, folder: Path) -> dict[str, int]:
    """The feed as its department exports it: headers, formats, outsiders and bad rows."""
    feed = FEEDS[key]
    k = len(frame)
    who = frame["who"].to_numpy()
    number = members["id_number"].gather(who)
    name = members["name"].gather(who)
    away = rng.random(k) < 0.007
    at = np.flatnonzero(away)
    other_number, other_name = outsiders(rng, members["born"].to_numpy()[who[at]])
    number = number.scatter(at, other_number)
    name = name.scatter(at, other_name)
    lower = number.str.ends_with("X") & pl.Series(rng.random(k) < 0.1)
    number = pl.select(pl.when(lower).then(number.str.to_lowercase())
                       .otherwise(number)).to_series()
    slash = pl.Series(rng.random(k) < 0.05)
    thousands = pl.Series(rng.random(k) < 0.02)
    columns: dict[str, pl.Series] = {}
    for f in feed.fields:
        if f.kind == Kind.NAME:
            columns[f.header] = name
        elif f.kind == Kind.ID:
            columns[f.header] = number
        elif f.kind == Kind.DATE:
            columns[f.header] = frame.select(fmt_date(pl.col(f.key), pl.lit(slash))).to_series()
        elif f.kind == Kind.AMOUNT:
            columns[f.header] = frame.select(
                fmt_amount(pl.col(f.key), pl.lit(thousands))).to_series()
        else:
            columns[f.header] = frame[f.key].cast(pl.String)
    out = pl.DataFrame(columns)

    # bad rows: about one in ten thousand, at least 20 a feed
    bad = rng.choice(k, max(20, k // 10_000), replace=False)
    kinds = {"checksum": 0, "missing": 0, "amount": 0, "date": 0, "choice": 0}
    fields_of = {kind: [f for f in feed.fields if f.kind == kind] for kind in Kind}
    for row in bad.tolist():
        options = ["checksum", "missing", "date"] + (["amount"] if fields_of[Kind.AMOUNT] else []) \
            + (["choice"] if fields_of[Kind.CHOICE] else [])
        kind = options[int(rng.integers(0, len(options)))]
        kinds[kind] += 1
        if kind == "checksum":
            header = fields_of[Kind.ID][0].header
            good = out[header][row].upper()
            wrong = next(c for c in "0123456789X" if c != good[-1])
            value = good[:-1] + wrong
        elif kind == "missing":
            required = [f for f in feed.fields if f.kind != Kind.TEXT]
            header = required[int(rng.integers(0, len(required)))].header
            value = None
        elif kind in ("amount", "date"):
            field = fields_of[Kind.AMOUNT if kind == "amount" else Kind.DATE]
            header = field[int(rng.integers(0, len(field)))].header
            value = BAD_VALUES[kind][int(rng.integers(0, 4))]
        else:
            f = fields_of[Kind.CHOICE][int(rng.integers(0, len(fields_of[Kind.CHOICE])))]
            header = f.header
            values = BAD_VALUES["choice"][f.key]
            value = values[int(rng.integers(0, len(values)))]
        out = out.with_columns(out[header].scatter(row, value))
    out.write_csv(folder / f"{key}.csv")
    return {"rows": k, "not_in_roster": int(away.sum()), "bad": len(bad), **kinds}


def generate(households: int, seed: int, out: Path | None = None,
             as_of: dt.date = AS_OF) -> Path:
    """The roster and the feeds in a folder (reused when its manifest.json is there)."""
    folder = out or folder_for(households, seed)
    manifest = folder / "manifest.json"
    if manifest.exists():
        return folder
    (folder / "feeds").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    hh, members = make_people(rng, households, as_of)
    roster = folder / "roster.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{roster}{suffix}").unlink(missing_ok=True)
    drawn = time.perf_counter()
    write_roster(roster, hh, members, rng)
    written = time.perf_counter()
    frames = feed_frames(rng, households, hh, members, as_of)
    feeds = {key: write_feed(rng, key, frames[key], members, folder / "feeds")
             for key in FEEDS}
    done = time.perf_counter()
    manifest.write_text(json.dumps({
        "households": households, "members": len(members), "seed": seed,
        "as_of": as_of.isoformat(), "roster": "roster.sqlite", "feeds": feeds,
        "seconds": {"people": round(drawn - started, 1), "roster": round(written - drawn, 1),
                    "feeds": round(done - written, 1)},
    }, ensure_ascii=False, indent=2))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--out", type=Path, help="the folder (default: var/bench/screening/"
                        "h<households>-s<seed>)")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=AS_OF)
    args = parser.parse_args()
    started = time.perf_counter()
    folder = generate(args.households, args.seed, args.out, args.as_of)
    manifest = json.loads((folder / "manifest.json").read_text())
    print(f"{folder}: {manifest['households']:,} households, {manifest['members']:,} members "
          f"({time.perf_counter() - started:.1f} s; generated in {manifest['seconds']})")
    for key, f in manifest["feeds"].items():
        print(f"  {key:<11} {f['rows']:>10,} rows, {f['not_in_roster']:>6,} not in the roster, "
              f"{f['bad']:>4} bad")


if __name__ == "__main__":
    main()
