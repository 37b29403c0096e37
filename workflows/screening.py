"""部门筛查预警 as a Prefect flow: the six feeds of a folder against the roster, the hits recorded.

One flow run per screening run: take the roster, read and validate the files, apply the rules
(approvals.screening.engine, columnar), keep the frames (store), record the hits (outcomes, in
one transaction of the runtime's database), then the report. Each step is a task; the run's
row (`ScreeningRun`) says its status, step and progress for the county desk, and the Prefect
UI shows a progress artifact while it runs, a table and a markdown summary at the end.

Nothing personal reaches Prefect: the parameters are the run's id, the folder, the as-of date,
the scope and the round's name; the artifacts and logs carry counts, rule names, townships and
bad rows by file, row and column (never a cell). The IDs not in the roster are kept beside the
run's frames for the county's download.

What a run needs besides its parameters (the database, clock, rules, where files are kept) is
a `Setup`. The caller in this process gives it (`given`: the command line, the desk's thread,
tests); a run started by a deployment, in the worker's child process, builds it from the
environment the worker was started with (`fangfan.services`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from uuid import UUID

from prefect import flow, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.runtime import flow_run
from sqlalchemy import select

from approvals.record.calendar import local_date
from approvals.record.definitions import Definition
from approvals.record.models import Place
from approvals.record.models.screening import RunStatus, ScreeningRun
from approvals.screening import engine, outcomes, runs, store
from approvals.screening.engine import Feeds, Scope, Screened
from approvals.screening.feeds import FEEDS
from approvals.screening.outcomes import Applied
from approvals.screening.rules import Rule
from notifications import announcements
from workflows.runtime import Runtime

log = logging.getLogger(__name__)

DEPLOYMENT = "screening/部门筛查"  # flow name / deployment name, for run_deployment
BAD_ROWS_KEPT = 5000  # bad rows listed in a report (the count is always whole)


class Refused(Exception):
    """A run that cannot go on, said in Chinese for the run's row and the desk."""


@dataclass(frozen=True)
class Setup:
    """What a screening run needs from the process around it."""

    runtime: Runtime
    root: Path  # the screening folder: inbox/, uploads/, runs/
    rules: Mapping[str, Rule]
    columns: Mapping[str, Mapping[str, str]]  # config.yaml screening.columns
    max_rows: int
    max_bytes: int
    definition: Definition  # the identification procedure's, as config.yaml gives it today


_given: ContextVar[Setup | None] = ContextVar("screening_setup", default=None)


@contextmanager
def given(setup: Setup) -> Iterator[Setup]:
    """Runs of the flow in this context (this thread) use `setup`."""
    token = _given.set(setup)
    try:
        yield setup
    finally:
        _given.reset(token)


def _setup() -> Setup:
    setup = _given.get()
    if setup is None:  # a deployment's run in the worker's child process: its own wiring
        from fangfan.services import build  # the edge that builds everything, once here

        setup = build().screening_setup()
    return setup


def _run_name() -> str:
    """部门筛查 2026-12-01 全面排查 (or the round's name): what the Prefect UI lists."""
    p = flow_run.parameters
    day = str(p.get("as_of") or local_date(dt.datetime.now(dt.UTC)))
    title = p.get("round_name") or "部门筛查"
    return f"{title} {day} {runs.SCOPES.get(p.get('scope', 'all'), '')}".strip()


class _Progress:
    """The run's step and percent: on its row for the desk, and as Prefect's progress
    artifact when there is a flow run to attach it to."""

    def __init__(self, setup: Setup, run_id: int) -> None:
        self.setup, self.run_id = setup, run_id
        self.artifact: UUID | None = None
        if FlowRunContext.get() is not None:
            # sync here (async_dispatch types it as either)
            self.artifact = cast(UUID, create_progress_artifact(
                0.0, key=f"screening-{run_id}-progress", description="部门筛查进度"))

    def __call__(self, step: str, percent: int) -> None:
        runs.mark(self.setup.runtime.database, self.run_id, step=step, progress=percent)
        if self.artifact is not None:
            update_progress_artifact(self.artifact, float(percent), description=step)


@task(name="读取和校验", cache_policy=NO_CACHE)
def load_task(folder: Path, setup: Setup) -> Feeds:
    found = engine.read(folder, setup.columns, max_rows=setup.max_rows,
                        max_bytes=setup.max_bytes)
    if not found.loaded:
        raise Refused("没有可读取的部门数据文件：" + "；".join(found.problems or [
            f"{folder} 中没有找到{'、'.join(f.label for f in FEEDS.values())}的文件"]))
    return found


@task(name="读取户籍", cache_policy=NO_CACHE)
def roster_task(scope: Scope, setup: Setup) -> Any:
    return engine.roster(setup.runtime.database.engine.url, scope)


@task(name="比对规则", cache_policy=NO_CACHE)
def compare_task(found: Feeds, roster: Any, as_of: dt.date, setup: Setup) -> Screened:
    return engine.screen(found.loaded, roster, setup.rules, as_of)


@task(name="保存比对数据", cache_policy=NO_CACHE)
def keep_task(run_id: int, screened: Screened, setup: Setup) -> None:
    store.save(setup.root, run_id, screened.matched)
    runs.keep_unmatched(setup.root, run_id, screened.unmatched)


@task(name="登记结果", cache_policy=NO_CACHE)
def record_task(run_id: int, screened: Screened, as_of: dt.date, setup: Setup) -> Applied:
    """Every hit in one transaction: a run's cases, evidence and visits all, or none; the
    holders of the cases that were given evidence told in it."""
    rt, now = setup.runtime, setup.runtime.clock.now()
    with rt.database.session_scope() as s:
        applied = outcomes.apply(s, screened.hits, run_id=run_id, rules=setup.rules,
                                 as_of=as_of, now=now, definition=setup.definition,
                                 calendar=rt.calendar)
        # the cases opened are told to their cadres by the pass that opens 入户核实
        announcements.evidence_added(s.connection(), applied.added_to, now, run_id)
        return applied


@task(name="生成报告", cache_policy=NO_CACHE)
def report_task(found: Feeds, screened: Screened, applied: Applied, as_of: dt.date, scope: Scope,
           setup: Setup) -> dict[str, Any]:
    return build_report(found, screened, applied, as_of, scope, setup)


def build_report(found: Feeds, screened: Screened, applied: Applied, as_of: dt.date,
                 scope: Scope, setup: Setup) -> dict[str, Any]:
    """The run's report, JSON for its row: counts, never a name or an ID number."""
    with setup.runtime.database.session_scope() as s:
        names = dict(s.execute(select(Place.id, Place.name).where(
            Place.id.in_(set(screened.township_of.values())))).tuples().all())
    unmatched_by_feed = Counter(screened.unmatched["feed"].to_list()) \
        if screened.unmatched.height else Counter[str]()
    by_rule = Counter(h.rule for h in screened.hits)
    by_township = Counter(names.get(screened.township_of.get(h.household_id, 0), "（未知）")
                          for h in screened.hits)
    by_level = Counter(setup.rules[h.rule].level.value for h in screened.hits
                       if h.rule in setup.rules)
    bad = [b for loaded in found.loaded.values() for b in loaded.bad]
    return {
        "as_of": as_of.isoformat(), "scope": scope,
        "households": screened.households, "people": screened.people,
        "feeds": [{"feed": key, "label": FEEDS[key].label, "file": loaded.file,
                   "rows": loaded.rows, "bad": len(loaded.bad),
                   "unmatched": unmatched_by_feed.get(key, 0)}
                  for key, loaded in found.loaded.items()],
        "problems": list(found.problems),
        "bad_rows": [{"feed": b.feed, "file": b.file, "row": b.row, "column": b.column,
                      "problem": b.problem} for b in bad[:BAD_ROWS_KEPT]],
        "bad_total": len(bad),
        "unmatched": screened.unmatched.height,
        "hits": len(screened.hits),
        "households_hit": len({h.household_id for h in screened.hits}),
        # a rule whose department's file was not read this time was not applied: never a 0
        "by_rule": [{"rule": key, "name": rule.name, "level": rule.level.value,
                     "action": rule.action.value, "hits": by_rule.get(key, 0),
                     "applied": rule.feed in found.loaded}
                    for key, rule in setup.rules.items()],
        "by_township": [{"township": name, "hits": n} for name, n in sorted(
            by_township.items(), key=lambda kv: (-kv[1], kv[0]))],
        "by_level": {level: by_level.get(level, 0) for level in ("红", "橙", "黄")},
        "opened": len(applied.opened), "cases": list(applied.opened),
        "added": applied.added, "listed": applied.listed, "repeated": applied.repeated,
        "repeated_in": sorted(applied.repeated_in),
    }


def _hits(rule: Mapping[str, Any]) -> int | str:
    """A rule's hits, or 未比对 when its department's file was not read in the run."""
    return rule["hits"] if rule.get("applied", True) else "未比对"


def summary(run_id: int, r: Mapping[str, Any]) -> str:
    """The report as Markdown for Prefect's UI (and `fangfan screen`): counts only."""
    lines = [f"## 部门筛查 #{run_id}（截至 {r['as_of']}，{runs.SCOPES.get(r['scope'], '')}）", "",
             f"- 比对 {r['households']} 户 {r['people']} 人，预警 {r['hits']} 条，涉及 "
             f"{r['households_hit']} 户",
             f"- 新立案 {r['opened']} 件，补充到在办案件 {r['added']} 条，列入走访 "
             f"{r['listed']} 条，以前已登记 {r['repeated']} 条",
             f"- 有问题的行 {r['bad_total']} 行（已跳过），身份证号不在户籍名单中 "
             f"{r['unmatched']} 条（名单请在县级筛查页面下载）", ""]
    if r["problems"]:
        lines += ["**未能读取的文件**", "", *[f"- {p}" for p in r["problems"]], ""]
    lines += ["| 预警规则 | 等级 | 条数 |", "|---|---|---|",
              *[f"| {x['name']} | {x['level']} | {_hits(x)} |" for x in r["by_rule"]], ""]
    if r["by_township"]:
        lines += ["| 乡镇 | 条数 |", "|---|---|",
                  *[f"| {x['township']} | {x['hits']} |" for x in r["by_township"]], ""]
    if r["bad_rows"]:
        lines += ["| 文件 | 行 | 列 | 问题 |", "|---|---|---|---|",
                  *[f"| {b['file']} | {b['row']} | {b['column']} | {b['problem']} |"
                    for b in r["bad_rows"][:50]]]
        if r["bad_total"] > 50:
            lines.append(f"\n（另有 {r['bad_total'] - 50} 行，见县级筛查页面的下载）")
    return "\n".join(lines)


def _artifacts(run_id: int, r: Mapping[str, Any]) -> None:
    if FlowRunContext.get() is None:
        return
    create_table_artifact([{"规则": x["name"], "等级": x["level"], "条数": _hits(x)}
                           for x in r["by_rule"]],
                          key=f"screening-{run_id}-rules", description="各规则预警条数")
    create_markdown_artifact(summary(run_id, r), key=f"screening-{run_id}-summary",
                             description="部门筛查报告")


def _start(setup: Setup, run_id: int | None, folder: str, as_of: dt.date, scope: Scope,
           round_name: str | None) -> int:
    """The run's row: the caller's (queued by the desk or the command line), or a new one for
    a scheduled round or a run started by hand in the Prefect UI."""
    now = setup.runtime.clock.now()
    ctx = FlowRunContext.get()
    flow_run_id = str(ctx.flow_run.id) if ctx and ctx.flow_run else None
    if run_id is not None:
        with setup.runtime.database.session_scope() as s:
            status = s.scalar(select(ScreeningRun.status).where(ScreeningRun.id == run_id))
        if status != RunStatus.QUEUED:  # a run id typed in the Prefect UI
            raise Refused(f"第{run_id}次筛查{'不存在' if status is None else '已经运行过'}；"
                          "手动运行时 run_id 请留空。")
    else:
        with setup.runtime.database.session_scope() as s:
            run_id = runs.queue(s, as_of=as_of, scope=scope, trigger=round_name or "Prefect 界面",
                                started_by="schedule" if round_name else "prefect",
                                feeds_dir=Path(folder), now=now)
    runs.mark(setup.runtime.database, run_id, status=RunStatus.RUNNING, started_at=now,
              as_of=as_of, scope=scope, flow_run_id=flow_run_id, error=None,
              step="已开始", progress=1)
    return run_id


@flow(name="screening", flow_run_name=_run_name, log_prints=False, persist_result=False,
      description="部门筛查预警：六个部门的数据与户籍名单比对，按规则预警并登记。")
def screening(folder: str, as_of: dt.date | str | None = None, scope: Scope = "all",
              round_name: str | None = None, run_id: int | None = None) -> dict[str, Any]:
    """One screening run over the feeds in `folder`. Returns the report; a run that cannot
    finish records why (Chinese) and raises. (The Args below are what Prefect's form shows.)

    Args:
        folder: 部门数据文件所在的文件夹（默认：收件文件夹 inbox）
        as_of: 比对截止日期，规则的时间窗从这天往回数（留空：今天）
        scope: all 全面排查；key 重点人群排查（监测户和脱贫户）
        round_name: 集中排查的名称（由排程填写，手动运行可留空）
        run_id: 县级页面或命令行登记的筛查编号（手动运行请留空）
    """
    setup = _setup()
    # outside a flow run (`screening.fn`: no Prefect API configured) the steps run as plain
    # functions; a task called outside a flow would start a temporary Prefect server
    in_flow = FlowRunContext.get() is not None
    load = load_task if in_flow else load_task.fn
    take_roster = roster_task if in_flow else roster_task.fn
    compare = compare_task if in_flow else compare_task.fn
    keep = keep_task if in_flow else keep_task.fn
    record = record_task if in_flow else record_task.fn
    report = report_task if in_flow else report_task.fn
    # a date from Prefect (its form validates it), text when called without it (.fn)
    day = (as_of if isinstance(as_of, dt.date) else
           dt.date.fromisoformat(as_of) if as_of else local_date(setup.runtime.clock.now()))
    run_id = _start(setup, run_id, folder, day, scope, round_name)
    try:
        progress = _Progress(setup, run_id)
        # the roster first: on SQLite its reader is a child process, whose peak then does
        # not come on top of the feeds' (docs/benchmarks.md)
        progress("读取户籍名单", 5)
        roster = take_roster(scope, setup)
        progress("读取和校验部门数据", 25)
        found = load(Path(folder), setup)
        progress("按规则比对", 45)
        screened = compare(found, roster, day, setup)
        progress("保存比对数据", 60)
        keep(run_id, screened, setup)
        progress("登记预警结果", 70)
        applied = record(run_id, screened, day, setup)
        progress("生成报告", 90)
        result = report(found, screened, applied, day, scope, setup)
        _artifacts(run_id, result)
    except Exception as err:
        said = str(err) if isinstance(err, Refused) else \
            f"系统出错（{type(err).__name__}），本次筛查未完成，请联系系统管理员。"
        if not isinstance(err, Refused):  # a refusal is the files', said on the run's row
            # the type only: a library's message may quote a cell (an ID number, a name)
            log.error("部门筛查第%s次运行出错（%s），未完成。", run_id, type(err).__name__)
        runs.mark(setup.runtime.database, run_id, status=RunStatus.FAILED, error=said,
                  finished_at=setup.runtime.clock.now())
        raise Refused(said) from None
    runs.mark(setup.runtime.database, run_id, status=RunStatus.DONE, step="已完成",
              progress=100, report=result, finished_at=setup.runtime.clock.now())
    if progress.artifact is not None:
        update_progress_artifact(progress.artifact, 100.0, description="已完成")
    return {"run_id": run_id, **result}
