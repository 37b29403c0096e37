"""A screening run's computation: feeds read, matched to households, rules applied, columnar.

`read` loads the six files of a folder (feeds.py validates them); `screen` joins them to the
roster by ID number and applies every rule as Polars expressions over whole columns, giving one
`Hit` per household and rule with its figures and the feed rows behind it. Nothing here writes
to the record: outcomes.py does, from the hits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from sqlalchemy import Connection

from approvals.screening.feeds import BadRow
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
      any: records, matched ({"残疾等级": ["一级"]}).
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
    raise NotImplementedError


Scope = Literal["all", "key"]


def roster(conn: Connection, scope: Scope) -> pl.DataFrame:
    """The people screened: id_number, member_id, household_id, name, village_id,
    township_id, one row per member still in a household (`left_on` empty). `key`: only
    households monitored or 脱贫户 (the quarterly rounds' 重点人群)."""
    raise NotImplementedError


def screen(loaded: Mapping[str, Loaded], roster: pl.DataFrame, rules: Mapping[str, Rule],
           as_of: dt.date) -> Screened:
    """Apply `rules` to the feeds as matched to `roster` (roster.py's frame)."""
    raise NotImplementedError
