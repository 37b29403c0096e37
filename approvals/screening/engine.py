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
from typing import Any

import polars as pl

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

    `figures`: what the rule measured against its threshold, JSON-ready, e.g. for `total`
    {"total": 23450.0, "at_least": 20000.0, "since": "2025-12-02", "as_of": "2026-12-01",
    "records": 3}; for `latest` {"value": "辍学", "changed_on": ..., "age": 12, "name": ...};
    for `any` {"records": 1, "values": {"grade": ["一级"]}}.
    `evidence`: the feed rows behind it, each {"feed", "file", "row", "member_id", "name",
    "date", "values": {field: value}}. `fingerprint`: the rule and those rows (feed, file
    content's row values, not the run), so the same data never counts twice.
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


def screen(loaded: Mapping[str, Loaded], roster: pl.DataFrame, rules: Mapping[str, Rule],
           as_of: dt.date) -> Screened:
    """Apply `rules` to the feeds as matched to `roster` (roster.py's frame)."""
    raise NotImplementedError
