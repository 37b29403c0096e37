"""What a screening hit does to the record.

For each household hit: no open case and not monitored, a rule whose action is `open_case`:
an identification case opens (source 部门筛查预警) with the evidence, marked for the worker's
pass, which opens 入户核实 for the village cadre like any case; an open case already: the
evidence is added to it, no second case; monitored already, or a `visit` rule: the household
is listed for its paired (else village) cadre's next visit, with the evidence. A hit whose
fingerprint the household already has changes nothing, so a rerun on the same files adds
nothing.

Decisions beyond that:
- One case per household and run, however many `open_case` rules hit it: its risk types are
  those rules' risks, and every hit of the household in the run is attached to it (the
  opening ones OPENED, a `visit` rule's ADDED: the case is where a cadre now looks).
- The household never applied, so its 承诺授权书 (《监测对象申请及承诺授权查询书》) is not
  there: the case waits for it as a case a cadre files does (`consent_pending`, the signed
  form photographed on the case page, approvals.procedure.applications.consent_by_photo),
  collected at the 入户核实 visit. Until then the verification cannot be approved (only a
  rejection, e.g. when the household declines); it is never asked in the chat, since the
  household hears nothing of the case before a cadre has visited
  (approvals.procedure.cases.heard_of).
- Opening is the rules of approvals.procedure.cases._open (the stored definition version,
  the total clock from the calendar, a CaseRisk row per risk, an audit row per case), done in
  bulk: Core executemany for the cases, their risks, the hits and the audit rows, so that
  10,000 cases open in seconds rather than one ORM flush each.
- The households hit are locked first (FOR UPDATE; on SQLite that begins the write
  transaction), so two runs applied at once serialize and the second finds the first's
  fingerprints and cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BindParameter, bindparam, insert, select
from sqlalchemy.orm import Session

from approvals.procedure.cases import current_definition
from approvals.record import audit
from approvals.record.calendar import WorkCalendar
from approvals.record.definitions import Definition
from approvals.record.models import (
    Case,
    CaseKind,
    CaseRisk,
    CaseStatus,
    HitOutcome,
    Household,
    MonitoringStatus,
    ScreeningHit,
    Source,
)
from approvals.screening.engine import Hit
from approvals.screening.rules import Action, Rule, describe

FILED_BY = "部门筛查预警"  # who opened the case, as the case page and the audit say it
CHUNK = 5000  # ids per IN (...): well inside SQLite's and psycopg's limits on parameters

HOUSEHOLDS, CASES, HITS = Household.__table__, Case.__table__, ScreeningHit.__table__
_IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
_LOCK = (select(HOUSEHOLDS.c.id, HOUSEHOLDS.c.monitoring, HOUSEHOLDS.c.village_id)
         .where(HOUSEHOLDS.c.id.in_(_IDS)).order_by(HOUSEHOLDS.c.id)
         .with_for_update(of=HOUSEHOLDS))
_KNOWN = select(HITS.c.household_id, HITS.c.fingerprint, HITS.c.run_id).where(
    HITS.c.household_id.in_(_IDS))
_OPEN = select(CASES.c.household_id, CASES.c.id).where(
    CASES.c.household_id.in_(_IDS), CASES.c.status == CaseStatus.OPEN)
# New rows are written by plain executemany and their ids read back after: with RETURNING,
# psycopg took four times as long (a statement of a thousand rows' parameters each), and
# RETURNING in the parameters' order makes SQLite insert one row per statement. The locks
# make the reads exact: the households' open cases are the ones just opened, and a hit is
# unique by household and fingerprint.
_NEW_CASES, _NEW_HITS = insert(CASES), insert(HITS)
_HIT_IDS = select(HITS.c.id, HITS.c.household_id, HITS.c.fingerprint).where(
    HITS.c.run_id == bindparam("run"), HITS.c.household_id.in_(_IDS))


@dataclass
class Applied:
    opened: list[int] = field(default_factory=list)  # case ids
    added: int = 0  # hits added to an open case
    # a case open before the run → the names of the rules whose evidence it was given (its
    # holders are told: notifications.announcements.evidence_added)
    added_to: dict[int, list[str]] = field(default_factory=dict)
    listed: int = 0  # hits listed for a visit
    repeated: int = 0  # hits the household already had (a rerun)
    repeated_in: list[int] = field(default_factory=list)  # the runs that recorded them


def apply(s: Session, hits: Sequence[Hit], *, run_id: int, rules: Mapping[str, Rule],
          as_of: dt.date, now: dt.datetime, definition: Definition,
          calendar: WorkCalendar) -> Applied:
    """Record the run's hits (see the module's docstring); `definition` is the
    identification procedure's, as config.yaml gives it today."""
    done = Applied()
    fresh: dict[tuple[int, str], Hit] = {}
    for hit in hits:  # the same hit twice in one call is a rerun too
        if (hit.household_id, hit.fingerprint) in fresh:
            done.repeated += 1
        else:
            fresh[hit.household_id, hit.fingerprint] = hit
    if not fresh:
        return done
    conn = s.connection()
    households = sorted({household for household, _ in fresh})  # locked in one order
    found = {r.id: r for chunk in _chunks(households) for r in conn.execute(_LOCK, {"ids": chunk})}
    known = {(r.household_id, r.fingerprint): r.run_id
             for chunk in _chunks(households) for r in conn.execute(_KNOWN, {"ids": chunk})}
    open_case: dict[int, int] = {r.household_id: r.id for chunk in _chunks(households)
                                 for r in conn.execute(_OPEN, {"ids": chunk})}

    by_household: dict[int, list[Hit]] = {}
    for key, hit in fresh.items():
        if key in known:
            done.repeated += 1
            if known[key] not in done.repeated_in:
                done.repeated_in.append(known[key])
        elif hit.household_id in found:  # else gone from the roster since it was read
            by_household.setdefault(hit.household_id, []).append(hit)

    opening = [household for household, its in by_household.items()
               if household not in open_case
               and found[household].monitoring != MonitoringStatus.MONITORED
               and any(rules[h.rule].action == Action.OPEN_CASE for h in its)]
    opened = _open_cases(s, opening, by_household, found, rules, run_id=run_id, now=now,
                         definition=definition, calendar=calendar)
    done.opened = list(opened.values())

    rows: list[dict[str, Any]] = []
    for household, its in by_household.items():
        for hit in its:
            rule = rules[hit.rule]
            case_id = opened.get(household) or open_case.get(household)
            if household in opened and rule.action == Action.OPEN_CASE:
                outcome = HitOutcome.OPENED
            elif case_id is not None:
                outcome = HitOutcome.ADDED
                done.added += 1
                if household not in opened:
                    done.added_to.setdefault(case_id, []).append(rule.name)
            else:
                outcome = HitOutcome.LISTED
                done.listed += 1
            rows.append({"run_id": run_id, "household_id": household, "case_id": case_id,
                         "rule": hit.rule, "rule_name": rule.name, "level": rule.level.value,
                         "risk": rule.risk, "action": rule.action.value, "as_of": as_of,
                         "figures": hit.figures, "evidence": hit.evidence,
                         "fingerprint": hit.fingerprint, "outcome": outcome.value,
                         "created_at": now, "visited_at": None})
    if not rows:
        return done
    conn.execute(_NEW_HITS, rows)
    ids = {(r.household_id, r.fingerprint): r.id for chunk in _chunks(list(by_household))
           for r in conn.execute(_HIT_IDS, {"run": run_id, "ids": chunk})}
    audit.append_many(s, [
        audit.Entry(FILED_BY, f"screening.{row['outcome']}", row["case_id"],
                    {"run": run_id, "hit": ids[row["household_id"], row["fingerprint"]],
                     "household": row["household_id"], "rule": row["rule"]})
        for row in rows], now)
    return done


def _open_cases(s: Session, households: list[int], hits: Mapping[int, list[Hit]],
                found: Mapping[int, Any], rules: Mapping[str, Rule], *, run_id: int,
                now: dt.datetime, definition: Definition, calendar: WorkCalendar
                ) -> dict[int, int]:
    """An identification case for each household (cases._open's rules, in bulk): household
    → case id."""
    if not households:
        return {}
    stored = current_definition(s, definition, now)
    due_at = calendar.due(now, definition.procedure.total)
    consent = {"how": "photo", "status": "pending", "asked_at": now.isoformat(),
               "at_visit": True}  # collected at 入户核实 (the module's docstring)
    rows = []
    for household in households:
        opening = [h for h in hits[household] if rules[h.rule].action == Action.OPEN_CASE]
        risks = list(dict.fromkeys(rules[h.rule].risk for h in opening))
        rows.append({
            "kind": CaseKind.IDENTIFICATION.value, "household_id": household,
            "village_id": found[household].village_id, "definition_id": stored.id,
            "source": Source.SCREENING.value, "category": None, "risk_types": risks,
            "income_12m": None, "attachments": [], "filed_by": FILED_BY,
            "fast_tracked": False, "consent_pending": True,
            "answers": {"description": "部门数据比对发现：" + "".join(
                describe(h.figures) for h in opening), "screening_run": run_id,
                "consent": consent},
            "status": CaseStatus.OPEN.value, "stage": None, "opened_at": now, "due_at": due_at,
            "closed_at": None, "outcome_reason": None, "pending_since": now})
    conn = s.connection()
    conn.execute(_NEW_CASES, rows)
    ids = {r.household_id: r.id for chunk in _chunks(households)
           for r in conn.execute(_OPEN, {"ids": chunk})}
    conn.execute(insert(CaseRisk.__table__), [
        {"case_id": ids[row["household_id"]], "risk": risk}
        for row in rows for risk in row["risk_types"]])
    audit.append_many(s, [
        audit.Entry(FILED_BY, f"case.open.{CaseKind.IDENTIFICATION}", ids[household],
                    {"source": Source.SCREENING.value, "definition": stored.version,
                     "run": run_id})
        for household in households], now)
    return {household: ids[household] for household in households}


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]
