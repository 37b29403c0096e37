"""What a pass over a case does: the procedure's semantics, with no SQL.

A procedure (workflows/identification.py, workflows/risk_elimination.py) is a function of one
`CaseRun`: it asks `run.verdict_or_open(S)` for every stage in order and ends the pass with
wait / send_back / reject / enroll / eliminate. Every step is idempotent: what is done is
found done, what is missing is done now, so a pass may run again for any case at any time,
after a crash or twice at once, and converge.

A run reads the rows its unit of work read for it (workflows/batches.py) and only records
what it decided, as `Writes`: the unit of work writes them with the rest of its batch, or
drops them if the procedure raised. What the household hears is decided here (`_tell`: a
stage passed, a case filed for them, returned, enrolled, rejected); who hears it, and who
hears of a task opened, notifications.announcements decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from sqlalchemy import Row

from approvals.procedure import notices
from approvals.procedure.cases import heard_of
from approvals.record import audit
from approvals.record.calendar import WorkCalendar, local_date
from approvals.record.definitions import Definition, Level, Stage
from approvals.record.models import (
    CaseKind,
    CaseStatus,
    MonitoringStatus,
    Source,
    TaskStatus,
    Verdict,
)
from approvals.record.models.cases import case_number
from notifications.announcements import News

SYSTEM = "系统"
# A risk elimination is told in its own procedure's words (已列入风险消除名单, 暂不标注风险消除,
# notifications.wording), never an application's.
ELIMINATION_NEWS = {"case_received": "elimination_listed", "stage_passed": "elimination_passed",
                    "case_returned": "elimination_returned",
                    "case_rejected": "elimination_rejected"}
LEVELS = [Level.COUNTY, Level.TOWNSHIP, Level.VILLAGE]  # the order of ids in a place's path


class Outcome(StrEnum):
    WAITING = "waiting"  # a person must act; the next pass runs after they have
    RETURNED = "returned"
    REJECTED = "rejected"
    ENROLLED = "enrolled"
    ELIMINATED = "eliminated"
    CLOSED = "closed"  # nothing left to do


@dataclass
class Writes:
    """What passes decided, written when their batch ends. Rows are plain dicts of column
    values; `tasks` get their ids when they are written."""

    notices_ended: list[int] = field(default_factory=list)  # 公示 tasks passed by time
    superseded: list[tuple[int, Sequence[str]]] = field(default_factory=list)  # (case, stages)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    audit: list[tuple[audit.Entry, dict[str, Any] | None]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    households: list[dict[str, Any]] = field(default_factory=list)
    pairings_ended: list[dict[str, Any]] = field(default_factory=list)
    pairings: list[dict[str, Any]] = field(default_factory=list)
    measures: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)  # as a verification found
    new_members: list[dict[str, Any]] = field(default_factory=list)
    risks: list[tuple[int, list[str]]] = field(default_factory=list)  # (case, risk types)
    passed: list[int] = field(default_factory=list)  # tasks whose decision had its pass
    news: list[News] = field(default_factory=list)  # for the household (announcements)

    def extend(self, other: Writes) -> None:
        for buffer in fields(self):
            getattr(self, buffer.name).extend(getattr(other, buffer.name))


class CaseRun:
    """One pass over one case, against the rows its unit of work read: the case (with its
    definition's digest and its village's path), its tasks, the household's paired cadre and
    the 公示 tasks with an objection open. `now` and the calendar its deadlines are counted in
    travel together."""

    def __init__(self, case: Row[Any], tasks: list[Row[Any]], paired: int | None,
                 objected: set[int], definition: Definition, now: dt.datetime,
                 calendar: WorkCalendar) -> None:
        self.case, self.tasks, self.paired, self.objected = case, tasks, paired, objected
        self.definition, self.now, self.calendar = definition, now, calendar
        self.writes = Writes()
        self.changes: dict[str, Any] = {}  # for the case row
        self._last: Row[Any] | None = None
        self._passed: Row[Any] | None = None  # a stage approved since the last pass

    @property
    def closed(self) -> bool:
        return bool(self.case.status != CaseStatus.OPEN)

    @property
    def with_public_notice(self) -> bool:
        return self.definition.procedure.with_public_notice

    @property
    def stages(self) -> tuple[str, ...]:
        """The case's stages in the order its definition gives them (config.yaml's)."""
        return self.definition.order

    def verdict_or_open(self, stage: str) -> Verdict | None:
        """The verdict of this stage's live task; None while it waits for one, and when the
        stage had no task yet: then it is opened now."""
        live = [t for t in self.tasks if t.stage == stage and t.status != TaskStatus.SUPERSEDED]
        if not live:
            self._open(stage)
            return None
        task = self._last = live[-1]
        if task.status == TaskStatus.OPEN and stage == Stage.PUBLIC_NOTICE:
            verdict = self._end_notice_if_due(task)
            self._passed = task if verdict else None
            return verdict
        if task.awaits_pass and task.verdict == Verdict.APPROVED:
            self._passed = task
            if stage == Stage.HOME_VERIFICATION:
                self._members_found(task.data)
                self._risks_found(task.data)
        return Verdict(task.verdict) if task.verdict else None

    def _open(self, stage: str, data: dict[str, Any] | None = None) -> None:
        spec = self.definition.stage(stage)
        if self._passed is not None:  # the household hears of each step in plain words
            passed = self._passed
            self._tell(f"passed:{passed.stage}:{passed.round}", "stage_passed",
                       passed=self.definition.stage(passed.stage).label, next=spec.label,
                       notice_ended=passed.stage == Stage.PUBLIC_NOTICE)
        elif not self.tasks and self.case.source != Source.WECHAT:  # filed for them
            if self.case.consent_pending:  # and their consent is asked on their WeChat
                self._tell("consent", "consent_requested", next=spec.label)
            else:
                self._tell("received", "case_received", next=spec.label)
        rounds = max((t.round for t in self.tasks if t.stage == stage), default=0)
        # the place whose cadres hold this stage: the village, or its township or county
        path = self.case.path.strip("/").split("/")
        task = {"case_id": self.case.id, "stage": stage, "round": rounds + 1,
                "status": TaskStatus.OPEN, "role": spec.role, "opened_at": self.now,
                "place_id": int(path[LEVELS.index(self.definition.level_of(stage))]),
                "due_at": self.calendar.due(self.now, spec.deadline), "data": data or {},
                "assignee_id": self.paired if stage == Stage.HOME_VERIFICATION else None}
        self.writes.tasks.append(task)
        self.changes["stage"] = stage
        self._record("task.open", {"stage": stage, "round": rounds + 1}, task)

    def _risks_found(self, form: dict[str, Any]) -> None:
        """The risk types as an approved verification found them replace the applicant's
        first guess: the notice's reason, the county's measures and the ledger read them."""
        found = form.get("risk_types") or []
        if found:
            self.changes["risk_types"] = found
            self.writes.risks.append((self.case.id, found))

    def _members_found(self, form: dict[str, Any]) -> None:
        """The household's members as an approved verification found them (corrected,
        added, marked as left on the day of the visit): applied once, by the pass that
        follows its approval (approvals/procedure/stages/home_verification.py)."""
        hh, visited = self.case.household_id, form.get("visited_on")
        for m in form.get("members", []):
            row = {"name": m["name"], "relation": m["relation"], "labour": m["labour"],
                   "left_on": dt.date.fromisoformat(visited) if m["left"] and visited else None}
            if m.get("id") is None:
                self.writes.new_members.append({**row, "household_id": hh, "is_head": False,
                                                "id_number": m["id_number"]})
            else:
                self.writes.members.append({**row, "member_id": m["id"], "member_household": hh})

    def tell_fast_track(self) -> None:
        """先帮扶后认定: the household and the township hear of it, once (the outbox's keys
        make a later pass add nothing)."""
        if self.case.fast_tracked and not self.closed:
            self._tell("fast_track", "case_fast_tracked", case_id=self.case.id)

    def _record(self, action: str, payload: dict[str, Any],
                task: dict[str, Any] | None = None) -> None:
        self.writes.audit.append((audit.Entry(SYSTEM, action, self.case.id, payload), task))

    def _end_notice_if_due(self, task: Row[Any]) -> Verdict | None:
        """The notice passes by itself once its period is over with no objection open (the
        unit of work read them; recording an objection locks the case row, so none slips in).
        An unposted notice has no period: its due date is only the deadline to post it, and
        it never passes (approvals/procedure/notices.py)."""
        if not notices.posted(task.data) or self.now < task.due_at or task.id in self.objected:
            return None
        self.writes.notices_ended.append(task.id)
        self._record("decide.approved", {"task": task.id, "stage": Stage.PUBLIC_NOTICE})
        return Verdict.APPROVED

    # -- how a pass ends ---------------------------------------------------------------

    def wait(self) -> Outcome:
        return Outcome.WAITING

    def send_back(self) -> Outcome:
        """Supersede the stages from the named earlier one on; open it again. History stays."""
        returned = self._last
        assert returned is not None and returned.return_to is not None
        order = self.definition.order  # decide() let it return only to an earlier stage
        again = order[order.index(returned.return_to):order.index(returned.stage) + 1]
        self.writes.superseded.append((self.case.id, again))
        # the reopened task says why, for the top of its case page and its line in the inbox
        self._open(returned.return_to, data={"returned": {
            "from": returned.stage, "by": returned.decided_by_name, "reason": returned.reason,
            "at": returned.decided_at.isoformat() if returned.decided_at else None}})
        stage = self.definition.stage(returned.return_to).label
        if returned.stage == Stage.PUBLIC_NOTICE:  # an objection upheld: its handling can
            # name whoever objected, so the household hears the outcome in the system's words
            self._tell(f"returned:{returned.id}", "objection_upheld", stage=stage)
        else:
            self._tell(f"returned:{returned.id}", "case_returned", reason=returned.reason,
                       stage=stage)
        return Outcome.RETURNED

    def reject(self) -> Outcome:
        assert self._last is not None
        self._close(CaseStatus.REJECTED, self._last.reason)
        self._tell("rejected", "case_rejected", reason=self._last.reason)
        return Outcome.REJECTED

    def enroll(self) -> Outcome:
        """纳入监测: category, the paired cadre and the planned measures from the county's form."""
        assert self._last is not None
        form, case, today, w = self._last.data, self.case, local_date(self.now), self.writes
        hh = case.household_id
        w.households.append({
            "household_id": hh, "monitoring": MonitoringStatus.MONITORED,
            "category": form["category"], "monitored_since": today, "eliminated_on": None})
        if self.paired != form["paired_cadre_id"]:  # one pairing at a time (帮扶责任不脱钩)
            w.pairings_ended.append({"paired_household": hh, "ended_on": today})
            w.pairings.append({"household_id": hh, "cadre_id": form["paired_cadre_id"],
                               "started_on": today, "ended_on": None})
        w.measures += [{"household_id": hh, "case_id": case.id, "kind": m["kind"],
                        "description": m.get("description", ""), "done_on": None,
                        "planned_on": dt.date.fromisoformat(m["planned_on"])}
                       for m in form["measures"]]
        self.changes["category"] = form["category"]
        self._close(CaseStatus.ENROLLED, None)
        self._tell("enrolled", "case_enrolled", cadre_id=form["paired_cadre_id"],
                   measures=list(dict.fromkeys(m["kind"] for m in form["measures"])))
        return Outcome.ENROLLED

    def eliminate(self) -> Outcome:
        self.writes.households.append({
            "household_id": self.case.household_id, "monitoring": MonitoringStatus.ELIMINATED,
            "eliminated_on": local_date(self.now)})
        self._close(CaseStatus.ELIMINATED, None)
        self._tell("eliminated", "elimination_approved", cadre_id=self.paired)
        return Outcome.ELIMINATED

    def _tell(self, what: str, event: str, cadre_id: int | None = None, **params: Any) -> None:
        if self.definition.kind == CaseKind.RISK_ELIMINATION:
            event = ELIMINATION_NEWS.get(event, event)
        number = case_number(self.case.id, self.case.opened_at)
        # a screening case is not told to the household before its 入户核实 is decided
        # (cases.heard_of): what would have been said then is dropped, except what a later
        # pass says again (先帮扶后认定, told on every pass and keyed once)
        self.writes.news.append(News(f"case:{self.case.id}:{what}", self.case.household_id,
                                     event, {"number": number, **params}, cadre_id,
                                     household=heard_of(self.case.source, self.tasks)))

    def _close(self, status: CaseStatus, reason: str | None) -> None:
        self.changes.update(status=status, stage=None, closed_at=self.now, outcome_reason=reason)
        self._record(f"case.{status}", {"reason": reason})

    def finished(self) -> Writes:
        """The pass is over: its writes, with the case row's changes and its marks cleared."""
        if self.case.pending_since is not None:
            self.changes["pending_since"] = None
        self.writes.passed += [t.id for t in self.tasks if t.awaits_pass]
        if self.changes:
            self.writes.cases.append({"case_id": self.case.id, **self.changes})
        return self.writes


Procedure = Callable[[CaseRun], Outcome]
