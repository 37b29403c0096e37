"""A screening run's computation: feeds read, matched to households, rules applied, columnar.

`read` loads the six files of a folder (feeds.py validates them); `screen` joins them to the
roster by ID number and applies every rule as Polars expressions over whole columns, giving one
`Hit` per household and rule with its figures and the feed rows behind it. Nothing here writes
to the record: outcomes.py does, from the hits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import tempfile
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from sqlalchemy import URL, or_, select, true

from approvals.record.models import Household, Member, MonitoringStatus, Place
from approvals.screening import arrow
from approvals.screening.feeds import FEEDS, BadRow, FileProblem, Kind, find, read_table, validate
from approvals.screening.rules import Rule


@dataclass(frozen=True)
class Loaded:
    """One feed's file as read: its valid rows (`frame`: `row` and the feed's field keys,
    typed), how many data rows it had and the rows left out."""

    feed: str
    file: str  # the file's name, as the department sent it
    frame: pl.DataFrame
    rows: int
    bad: list[BadRow]


@dataclass(frozen=True)
class Hit:
    """A rule that fired for a household.

    `figures`: what the rule measured against its threshold, JSON-ready and self-contained
    (labels and thresholds as they were on the day; rules.describe says it in Chinese):
      every shape: shape, rule_name, feed, feed_label ("医保"), as_of, since (ISO or None),
        within_days (or None);
      total: field_label ("个人自付"), total, at_least, records;
      latest: field_label ("在校状态"), value ("辍学"), changed_on, member_id, name, age (or
        None when the rule has no ages);
      any: records, names (the members'), matched ({"残疾等级": ["一级"]}).
    `evidence`: the feed rows behind it, each {"feed", "feed_label", "file", "row",
    "member_id", "name", "date", "values": {default Chinese header: value}} (amounts as
    float, dates ISO). `fingerprint`: a hash of the rule and those rows' values (not the run,
    not the file's name), so running the same data again finds the same fingerprint.
    """

    household_id: int
    rule: str
    figures: dict[str, Any]
    evidence: list[dict[str, Any]]
    fingerprint: str


@dataclass
class Screened:
    """What a run computed: the hits, the matched frames (kept for the county's comparison,
    store.py), the feed rows whose ID number is not in the roster, and counts."""

    hits: list[Hit]
    matched: dict[str, pl.DataFrame]  # feed → its valid rows plus household_id, member_id
    unmatched: pl.DataFrame  # feed, file, row, id_number: every one, never dropped
    households: int  # households screened (the roster in scope)
    people: int
    township_of: dict[int, int] = field(default_factory=dict)  # household → township id


@dataclass(frozen=True)
class Feeds:
    """What `read` found in a folder: the feeds read, and the problems that kept a whole file
    out (not there, unreadable, a column missing), one Chinese line each."""

    loaded: dict[str, Loaded]
    problems: list[str]


def read(folder: Path, columns: Mapping[str, Mapping[str, str]], *, max_rows: int,
         max_bytes: int) -> Feeds:
    """The feeds in `folder`, each found by its file's name: the feed's key or its label,
    .csv or .xlsx (medical.csv, 医保.xlsx, 医保数据2026.csv). `columns` renames headers
    (config.yaml screening.columns)."""
    files, problems = find(folder)
    loaded = {}
    for key, path in files.items():
        try:
            raw = read_table(path, max_rows=max_rows, max_bytes=max_bytes)
            frame, bad = validate(FEEDS[key], path.name, raw, columns.get(key, {}))
        except FileProblem as err:
            problems.append(str(err))
            continue
        loaded[key] = Loaded(key, path.name, frame, raw.height, bad)
    absent = [f.label for k, f in FEEDS.items() if k not in files]
    if absent:
        problems.append(f"未提供{'、'.join(absent)}数据，相关规则本次未比对")
    return Feeds(loaded, problems)


Scope = Literal["all", "key"]
ROSTER_SCHEMA: dict[str, type[pl.DataType]] = {
    "id_number": pl.String, "member_id": pl.Int64, "household_id": pl.Int64, "name": pl.String,
    "village_id": pl.Int64, "township_id": pl.Int64, "in_scope": pl.Boolean}


def roster(url: URL, scope: Scope) -> pl.DataFrame:
    """The people screened, from the database at `url`: id_number, member_id,
    household_id, name, village_id, township_id, one row per member still in a household
    (`left_on` empty). `key`: only households monitored or 脱贫户 (the quarterly rounds'
    重点人群) are `in_scope`; the others are in the frame all the same, so that their ID
    numbers count as known.

    Read through ADBC (Arrow's database drivers), straight into columns: a province's
    3.5 million members take about 3 s that way, and 15 s through a Python cursor."""
    village = Place.__table__.alias("village")
    key = or_(Household.formerly_poor, Household.monitoring != MonitoringStatus.NONE)
    # `+ 0`: SQLite would otherwise start from the few places and reach the members through
    # their household index, jumping about the table (5.5 s for 3.5 million); this way it
    # reads members in order and looks each household up by its key (2.4 s)
    query = (select(Member.id_number, Member.id.label("member_id"), Member.household_id,
                    Member.name, Household.village_id, village.c.parent_id.label("township_id"),
                    (key if scope == "key" else true()).label("in_scope"))
             .select_from(Member)
             .join(Household, Household.id == Member.household_id + 0)
             .join(village, village.c.id == Household.village_id)
             .where(Member.left_on.is_(None)))
    sql = str(query.compile(dialect=url.get_dialect()(), compile_kwargs={"literal_binds": True}))
    uri = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=False)
    if url.get_backend_name() != "sqlite":
        return arrow.read(sql, uri, ROSTER_SCHEMA)
    # ADBC links its own copy of SQLite, and two copies in one process break each other's
    # locks: closing its connection deletes the WAL under the process's own connections
    # (sqlite.org/howtocorrupt.html, 2.2.1). In a child process it is one more reader.
    with (tempfile.TemporaryDirectory(prefix="fangfan-roster-") as folder,
          ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as child):
        path = str(Path(folder) / "roster.arrow")
        child.submit(arrow.read_to, sql, uri, ROSTER_SCHEMA, path).result()
        return pl.read_ipc(path)  # whole: the folder goes as the block ends


def screen(loaded: Mapping[str, Loaded], roster: pl.DataFrame, rules: Mapping[str, Rule],
           as_of: dt.date) -> Screened:
    """Apply `rules` to the feeds as matched to `roster` (`roster`'s frame)."""
    people = roster.select(_number_key(), "member_id", "household_id",
                           pl.col("name").alias("member_name"), "in_scope")
    matched, unmatched = {}, []
    for key, feed in loaded.items():
        joined = (feed.frame.with_columns(pl.lit(feed.file, pl.Categorical).alias("file"),
                                          _number_key())
                  .join(people, on="number_key", how="left").drop("number_key"))
        known = pl.col("household_id").is_not_null()
        matched[key] = joined.filter(known)
        unmatched.append(joined.filter(~known).select(
            pl.lit(key).alias("feed"), pl.col("file").cast(pl.String), "row", "id_number"))
    hits = []
    for key, rule in rules.items():
        if rule.feed in matched:
            hits.extend(_apply(key, rule, matched[rule.feed].filter("in_scope"), as_of))
    in_scope = roster.filter("in_scope")
    hit = {h.household_id for h in hits}
    township_of = dict(in_scope.filter(pl.col("household_id").is_in(hit))
                       .select("household_id", "township_id").unique().iter_rows())
    return Screened(
        hits, matched,
        pl.concat(unmatched) if unmatched else pl.DataFrame(schema=UNMATCHED_SCHEMA),
        households=in_scope.get_column("household_id").n_unique(), people=in_scope.height,
        township_of=township_of)


def _number_key() -> pl.Expr:
    """An ID number as one integer (its 17 digits, then the check character, X as 10):
    joining 3.5 million people on it is several times faster than on the text."""
    check = pl.col("id_number").str.slice(17, 1).replace("X", "10").cast(pl.Int64, strict=False)
    return (pl.col("id_number").str.slice(0, 17).cast(pl.Int64, strict=False) * 11
            + check).alias("number_key")


UNMATCHED_SCHEMA = {"feed": pl.String, "file": pl.String, "row": pl.Int64,
                    "id_number": pl.String}


def _apply(key: str, rule: Rule, rows: pl.DataFrame, as_of: dt.date) -> list[Hit]:
    """One rule over a feed's matched rows: the hits, one per household."""
    feed = FEEDS[rule.feed]
    date, since = pl.col(feed.date_field), rule.since(as_of)
    upto = rows.filter(date <= as_of)
    window = upto.filter(date >= since) if since else upto
    labels = {f.key: f.header for f in feed.fields}
    common = {"shape": rule.shape, "rule_name": rule.name, "feed": rule.feed,
              "feed_label": feed.label, "as_of": as_of.isoformat(),
              "since": since.isoformat() if since else None, "within_days": rule.within_days}
    figures: dict[int, dict[str, Any]] = {}
    match rule.shape:
        case "total":
            field = rule.field or ""
            totals = (window.group_by("household_id")
                      .agg(pl.col(field).sum().alias("total"), pl.len().alias("records"))
                      .filter(pl.col("total") >= rule.at_least))
            for household, total, records in totals.iter_rows():
                figures[household] = common | {
                    "field_label": labels[field], "total": round(total, 2),
                    "at_least": rule.at_least, "records": records}
            evidence = window.join(totals.select("household_id"), on="household_id")
        case "latest":
            field = rule.field or ""
            latest = upto.sort(feed.date_field, "row").group_by("member_id").last()
            found = latest.filter(pl.col(field).is_in(rule.values))
            if since:
                found = found.filter(date >= since)
            if rule.ages:
                age = _age(as_of)
                found = found.with_columns(age.alias("age")).filter(
                    age.is_between(*rule.ages))
            else:
                found = found.with_columns(pl.lit(None, pl.Int64).alias("age"))
            found = found.sort(feed.date_field, "row", descending=True)
            for row in found.group_by("household_id", maintain_order=True).agg(
                    pl.first(field), pl.first(feed.date_field), pl.first("member_id"),
                    pl.first("member_name"), pl.first("age"), pl.len().alias("people")
                    ).iter_rows(named=True):
                figures[row["household_id"]] = common | {
                    "field_label": labels[field], "value": row[field],
                    "changed_on": row[feed.date_field].isoformat(),
                    "member_id": row["member_id"], "name": row["member_name"],
                    "age": row["age"], "people": row["people"]}
            evidence = found
        case "any":
            found = window.filter(pl.all_horizontal(
                pl.col(f).is_in(values) for f, values in rule.where.items()))
            for household, records, names, *values in found.group_by("household_id").agg(
                    pl.len().alias("records"), pl.col("member_name").unique().sort(),
                    *(pl.col(f).unique().sort() for f in rule.where)).iter_rows():
                figures[household] = common | {
                    "records": records, "names": names,
                    "matched": {labels[f]: v for f, v in zip(rule.where, values, strict=True)}}
            evidence = found
    return [Hit(household, key, figures[household], rows_, _fingerprint(key, rows_))
            for household, rows_ in _evidence(evidence, rule.feed).items()]


def _age(as_of: dt.date) -> pl.Expr:
    """Whole years at `as_of`, from the birth date in the ID number."""
    born = pl.col("id_number").str.slice(6, 8).str.to_date("%Y%m%d", strict=False)
    before_birthday = (born.dt.month().cast(pl.Int32) * 100 + born.dt.day()
                       > as_of.month * 100 + as_of.day)
    return as_of.year - born.dt.year() - before_birthday.cast(pl.Int32)


def _evidence(rows: pl.DataFrame, feed_key: str) -> dict[int, list[dict[str, Any]]]:
    """The feed rows behind each household's hit, oldest first, as JSON-ready dicts."""
    feed = FEEDS[feed_key]
    shown = [f for f in feed.fields if f.kind not in (Kind.ID, Kind.NAME)]
    record = pl.struct(
        pl.lit(feed.key).alias("feed"), pl.lit(feed.label).alias("feed_label"),
        pl.col("file").cast(pl.String), "row",
        "member_id", pl.col("member_name").alias("name"),
        pl.col(feed.date_field).cast(pl.String).alias("date"),
        pl.struct((pl.col(f.key).cast(pl.String) if f.kind == Kind.DATE else pl.col(f.key))
                  .alias(f.header) for f in shown).alias("values"))
    grouped = (rows.sort(feed.date_field, "row").group_by("household_id", maintain_order=True)
               .agg(record.alias("evidence")))
    return dict(grouped.iter_rows())


def _fingerprint(rule: str, evidence: list[dict[str, Any]]) -> str:
    """The rule and the newest record that made it fire, by content (never the file's name
    or the row's number): a rerun finds the same, a later window over the same data too,
    and a new record is new evidence."""
    last = max((e["date"], e["member_id"]) for e in evidence)
    newest = max((e for e in evidence if (e["date"], e["member_id"]) == last),
                 key=lambda e: json.dumps(e["values"], sort_keys=True))  # mostly one
    key = [rule, newest["feed"], newest["member_id"], newest["date"], newest["values"]]
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()
