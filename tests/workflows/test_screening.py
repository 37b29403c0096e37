"""部门筛查预警 end to end: the example feeds (docs/examples/feeds) over the demo roster, run as
a Prefect flow (the suite's Prefect API), by `fangfan screen`, again on the same files, and
failing; what Prefect holds of a run (its name, parameters, artifacts) and the deployment's
rounds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from approvals.record.models import (
    Cadre,
    Case,
    CaseStatus,
    Household,
    Member,
    MonitoringStatus,
    ScreeningHit,
    ScreeningRun,
    Source,
)
from approvals.screening import runs
from fangfan.services import Services
from fangfan.settings import ROOT
from notifications.models import OutboxMessage
from notifications.wording import render
from tests.db import session_scope
from tests.support.cli import fangfan
from tests.support.world import World
from workflows import screening as flow

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect")]

FEEDS = ROOT / "docs" / "examples" / "feeds"
AS_OF = "2026-11-30"  # the example feeds' day (docs/screening.md)
OPEN_CASE_HEAD = "522631196502040757"  # 李国强 of 东沟村: his household has a case at 入户核实
MONITORED_HEAD = "522631196510163132"  # 朱德福 of 南滩村: monitored already
NOT_IN_ROSTER = "522631198806150022"
ID_NUMBER = re.compile(r"\d{17}[\dX]")


def _household(id_number: str) -> int:
    with session_scope() as s:
        return s.scalars(select(Member.household_id).where(Member.id_number == id_number)).one()


@pytest.fixture
def county(world: World, services: Services, tmp_path: Path) -> World:
    """The demo roster, one household with a case open, one monitored; the screening folder
    this test's own."""
    services.settings = dataclasses.replace(services.settings,
                                            screening_dir=tmp_path / "screening")
    world.apply(_household(OPEN_CASE_HEAD))
    with session_scope() as s:  # 东沟村's cadre reads WeChat: told what is added to the case
        s.execute(update(Cadre).where(Cadre.id == world.cadre("village_cadre", "东沟村").id)
                  .values(openid="o_cadre_dg"))
    with session_scope() as s:
        s.execute(update(Household).where(Household.id == _household(MONITORED_HEAD))
                  .values(monitoring=MonitoringStatus.MONITORED))
    return world


def _queued(services: Services) -> int:
    with session_scope() as s:
        return runs.queue(s, as_of=dt.date.fromisoformat(AS_OF),
                          scope="all", trigger="测试", started_by="test", feeds_dir=FEEDS,
                          now=services.clock.now())


def _run(services: Services, run_id: int | None = None) -> dict[str, Any]:
    with flow.given(services.screening_setup()):
        return flow.screening(folder=str(FEEDS), as_of=AS_OF, scope="all", run_id=run_id)


# Prefect's sync client throughout: an earlier test (Playwright's sync API) may leave an
# event loop on this thread, where asyncio.run refuses to start another
def _artifacts(flow_run_id: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))


def _flow_run(flow_run_id: str) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def test_the_example_feeds_open_cases_add_evidence_list_visits_and_prefect_shows_counts(
        county: World, services: Services) -> None:
    run_id = _queued(services)
    report = _run(services, run_id)

    # the report: every rule hit at least once, the near misses not
    assert {x["rule"]: x["hits"] for x in report["by_rule"]} == {
        "medical_out_of_pocket": 2, "school_dropout": 1, "severe_disability": 1,
        "new_assistance": 1, "disaster_loss": 2, "job_loss": 1}
    assert (report["opened"], report["added"], report["listed"], report["repeated"]) == \
        (4, 1, 3, 0)
    assert report["by_level"] == {"红": 4, "橙": 2, "黄": 2}
    assert {x["township"]: x["hits"] for x in report["by_township"]} == {"河湾乡": 7, "青山镇": 1}
    assert report["unmatched"] == 1 and report["bad_total"] == 2
    assert {(b["file"], b["row"], b["column"]) for b in report["bad_rows"]} == {
        ("医保.csv", 9, "身份证号"), ("人社.csv", 7, "就业状态")}
    assert {f["file"] for f in report["feeds"]} == {
        "医保.csv", "教育.csv", "残联.xlsx", "民政.csv", "应急.csv", "人社.csv"}

    with session_scope() as s:
        run = s.get_one(ScreeningRun, run_id)
        assert (run.status, run.progress, run.error) == ("done", 100, None)
        assert run.started_at and run.finished_at and run.flow_run_id
        assert run.report["opened"] == 4
        opened = s.scalars(select(Case).where(Case.id.in_(report["cases"]))).all()
        assert {c.source for c in opened} == {Source.SCREENING}
        assert {c.status for c in opened} == {CaseStatus.OPEN}
        outcomes = dict(s.execute(select(ScreeningHit.outcome, func.count()).where(
            ScreeningHit.run_id == run_id).group_by(ScreeningHit.outcome)).tuples().all())
        assert outcomes == {"opened": 4, "added": 1, "listed": 3}
        monitored = s.scalars(select(ScreeningHit.outcome).where(
            ScreeningHit.household_id == _household(MONITORED_HEAD))).one()
        assert monitored == "listed"
    # the cadre holding the case that was given evidence is told, with a link to the task
    with session_scope() as s:
        told = s.scalars(select(OutboxMessage).where(OutboxMessage.event == "task_evidence")
                         ).all()
    assert [(m.recipient, m.params["item"]["stage"]) for m in told] == [
        (f"cadre:{county.cadre('village_cadre', '东沟村').id}", "入户核实")]
    text = render("task_evidence", told[0].params, "http://127.0.0.1:8000").text
    assert "部门数据比对发现新情况" in text and "/t/" in text
    # the IDs not in the roster kept for the county, not in the report
    kept = runs.unmatched(services.settings.screening_dir, run_id)
    assert kept is not None and kept["id_number"].to_list() == [NOT_IN_ROSTER]
    assert NOT_IN_ROSTER not in json.dumps(report)

    # Prefect: a readable name, the parameters only, the artifacts, nothing personal
    assert run.flow_run_id
    flow_run = _flow_run(run.flow_run_id)
    assert flow_run.name == f"部门筛查 {AS_OF} 全面排查"
    assert set(flow_run.parameters) == {"folder", "as_of", "scope", "round_name", "run_id"}
    artifacts = _artifacts(run.flow_run_id)
    kinds = {a.type: a for a in artifacts}
    assert set(kinds) == {"progress", "table", "markdown"}
    assert kinds["progress"].data == 100
    assert "新立案 4 件" in kinds["markdown"].data
    table = json.loads(kinds["table"].data) if isinstance(kinds["table"].data, str) \
        else kinds["table"].data
    assert {"规则": "大额医疗自付", "等级": "红", "条数": 2} in table
    with session_scope() as s:
        names = set(s.scalars(select(Member.name)))
    shown = json.dumps([a.data for a in artifacts] + [flow_run.parameters, flow_run.name],
                       ensure_ascii=False)
    assert not ID_NUMBER.search(shown)
    assert not [n for n in names if n in shown]


def test_running_the_same_files_again_opens_nothing_and_adds_nothing(
        county: World, services: Services) -> None:
    first = _run(services)
    with session_scope() as s:
        cases, hits = s.scalar(select(func.count(Case.id))), s.scalar(
            select(func.count(ScreeningHit.id)))
    again = _run(services)
    assert (first["opened"], again["opened"], again["added"], again["listed"],
            again["repeated"]) == (4, 0, 0, 0, 8)
    assert again["repeated_in"] == [first["run_id"]]  # where the desk sends the county
    with session_scope() as s:
        assert s.scalar(select(func.count(Case.id))) == cases
        assert s.scalar(select(func.count(ScreeningHit.id))) == hits
        assert s.scalar(select(func.count(ScreeningRun.id))) == 2  # each made its own row


def test_a_run_that_cannot_read_any_feed_fails_with_a_chinese_error(
        county: World, services: Services, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "说明.txt").write_text("没有数据", encoding="utf-8")
    with flow.given(services.screening_setup()), pytest.raises(flow.Refused) as err:
        flow.screening(folder=str(empty), as_of=AS_OF)
    with session_scope() as s:
        run = s.scalars(select(ScreeningRun)).one()
    assert run.status == "failed" and run.finished_at
    assert run.error == str(err.value) and run.error.startswith("没有可读取的部门数据文件")
    assert run.trigger == "Prefect 界面"  # started without a row of its own: as from the UI


def test_a_run_id_typed_in_prefect_never_runs_a_run_again(county: World,
                                                         services: Services) -> None:
    first = _run(services)
    with flow.given(services.screening_setup()), pytest.raises(flow.Refused) as err:
        flow.screening(folder=str(FEEDS), as_of=AS_OF, run_id=first["run_id"])
    assert str(err.value) == f"第{first['run_id']}次筛查已经运行过；手动运行时 run_id 请留空。"
    with session_scope() as s:
        assert s.get_one(ScreeningRun, first["run_id"]).status == "done"


def test_rules_of_a_department_not_provided_are_not_applied_not_zero(
        county: World, services: Services, tmp_path: Path) -> None:
    some = tmp_path / "some"
    some.mkdir()
    (some / "教育.csv").write_bytes((FEEDS / "教育.csv").read_bytes())
    with flow.given(services.screening_setup()):
        report = flow.screening(folder=str(some), as_of=AS_OF)
    rules = {x["rule"]: x for x in report["by_rule"]}
    assert rules["school_dropout"]["applied"] and rules["school_dropout"]["hits"] == 1
    assert not rules["medical_out_of_pocket"]["applied"]
    text = flow.summary(report["run_id"], report)
    assert "| 大额医疗自付 | 红 | 未比对 |" in text and "| 义务教育阶段辍学 | 橙 | 1 |" in text


def test_fangfan_screen_prints_the_report_as_json_and_again_opens_nothing(
        county: World, services: Services, database_url: str, tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    env = {"FANGFAN_SCREENING_DIR": str(services.settings.screening_dir),
           "PREFECT_API_URL": PREFECT_API_URL.value() or "",
           "FANGFAN_AUDIT_ANCHORS": str(tmp_path / "anchors")}
    done = fangfan("screen", "--feeds", str(FEEDS), "--as-of", AS_OF, "--json",
                   database_url=database_url, env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["opened"], report["added"], report["listed"]) == (4, 1, 3)
    with session_scope() as s:
        run = s.get_one(ScreeningRun, report["run_id"])
        assert (run.trigger, run.started_by, run.status) == ("命令行", "cli", "done")
        assert run.flow_run_id  # a Prefect flow run: the API was configured
    again = fangfan("screen", "--feeds", str(FEEDS), "--as-of", AS_OF,
                    database_url=database_url, env=env)
    assert again.returncode == 0, again.stderr
    assert "新立案 0 件" in again.stdout and "以前已登记 8 条" in again.stdout
    assert "身份证号不在户籍名单中 1 条" in again.stdout
    assert NOT_IN_ROSTER not in again.stdout + again.stderr
    wrong = fangfan("screen", "--feeds", str(FEEDS), "--as-of", "2026-13-01",
                    database_url=database_url, env=env)
    assert wrong.returncode == 2 and "2026-13-01" in wrong.stderr


def test_the_worker_deployment_has_a_schedule_per_round(services: Services,
                                                        tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client

    from fangfan.worker import screening_deployment

    services.settings = dataclasses.replace(services.settings,
                                            screening_dir=tmp_path / "screening")
    deployment = screening_deployment(services)
    deployment_id = deployment.apply(_sync=True)
    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment_id)
    rounds = services.config.screening.rounds
    assert stored.name == "部门筛查" and len(stored.schedules) == len(rounds) >= 2
    by_name = {schedule.slug: schedule for schedule in stored.schedules}
    for round_ in rounds:  # each named as config.yaml names it, as the Prefect UI shows it
        schedule = by_name[round_.name]
        assert schedule.schedule.cron == round_.cron
        assert schedule.schedule.timezone == "Asia/Shanghai"
        assert schedule.parameters == {"folder": str(tmp_path / "screening" / "inbox"),
                                       "scope": round_.scope, "round_name": round_.name}
    assert stored.parameters == {"folder": str(tmp_path / "screening" / "inbox")}
    assert (tmp_path / "screening" / "inbox").is_dir()


def test_the_prefect_server_of_make_run_turns_the_rounds_into_scheduled_runs(
        services: Services, tmp_path: Path) -> None:
    """The server `make run` starts (its own environment: the Makefile says why) schedules the
    rounds: the year-end round has a run waiting for its day."""
    import os
    import socket
    import subprocess
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterDeploymentId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from fangfan.devrun import PREFECT_SERVER_PYTHON
    from fangfan.worker import screening_deployment

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    api = f"http://127.0.0.1:{port}/api"
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_API_URL=api,
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")
    server = subprocess.Popen([str(PREFECT_SERVER_PYTHON), "-m", "prefect", "server", "start",
                               "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    services.settings = dataclasses.replace(services.settings,
                                            screening_dir=tmp_path / "screening")
    try:
        with temporary_settings(updates={PREFECT_API_URL: api}):
            deadline = time.monotonic() + 120
            while True:
                try:
                    deployment_id = screening_deployment(services).apply(_sync=True)
                    break
                except Exception:  # the server still starting
                    assert time.monotonic() < deadline, "the Prefect server did not start"
                    time.sleep(1)
            scheduled: list[Any] = []
            while not scheduled and time.monotonic() < deadline:
                time.sleep(2)
                with get_client(sync_client=True) as client:
                    scheduled = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                        deployment_id=FlowRunFilterDeploymentId(any_=[deployment_id])))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert scheduled, "no round was scheduled"
    rounds = {r.name for r in services.config.screening.rounds}
    assert {run.parameters["round_name"] for run in scheduled} <= rounds
    assert all(run.state_type == "SCHEDULED" for run in scheduled)


def test_a_desk_run_with_prefect_but_no_worker_serving_it_fails_in_chinese(
        county: World, services: Services) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound
    from prefect.settings import PREFECT_API_URL

    with get_client(sync_client=True) as client:  # another test may have applied it
        try:
            client.delete_deployment(client.read_deployment_by_name(flow.DEPLOYMENT).id)
        except ObjectNotFound:
            pass
    services.settings = dataclasses.replace(services.settings,
                                            prefect_api_url=PREFECT_API_URL.value())
    run_id = _queued(services)
    services.start_screening(run_id, FEEDS, dt.date.fromisoformat(AS_OF), "all")
    with session_scope() as s:
        run = s.get_one(ScreeningRun, run_id)
    assert run.status == "failed" and run.finished_at
    assert run.error == ("部门筛查服务（fangfan worker 和 Prefect）没有运行，本次未开始；"
                         "请稍后重新上传，或联系系统管理员。")


def test_the_worker_serves_the_deployment_the_desk_starts_runs_through(
        county: World, services: Services, database_url: str, tmp_path: Path) -> None:
    """`fangfan worker` with a Prefect API: the desk's run goes through the deployment, runs
    in the worker's child process (its Setup built from the environment) and finishes."""
    import os
    import subprocess
    import sys
    import time

    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    env = dict(os.environ, FANGFAN_DATABASE_URL=database_url, PREFECT_API_URL=api,
               FANGFAN_CONFIG=str(ROOT / "config.yaml"),
               FANGFAN_SCREENING_DIR=str(services.settings.screening_dir),
               FANGFAN_AUDIT_ANCHORS=str(tmp_path / "anchors"),
               FANGFAN_MEDIA_DIR=str(tmp_path / "media"))
    worker = subprocess.Popen([sys.executable, "-m", "fangfan", "worker"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        services.settings = dataclasses.replace(services.settings, prefect_api_url=api)
        run_id = _queued(services)
        deadline = time.monotonic() + 120
        while True:  # the worker registers the deployment as it starts
            services.start_screening(run_id, FEEDS, dt.date.fromisoformat(AS_OF), "all")
            with session_scope() as s:
                run = s.get_one(ScreeningRun, run_id)
            if run.status != "failed" or time.monotonic() > deadline:
                break
            with session_scope() as s:
                s.execute(update(ScreeningRun).where(ScreeningRun.id == run_id).values(
                    status="queued", error=None, finished_at=None))
            time.sleep(2)
        while run.status in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(1)
            with session_scope() as s:
                run = s.get_one(ScreeningRun, run_id)
        assert (run.status, run.error) == ("done", None)
        assert run.report["opened"] == 4 and run.flow_run_id
        assert _flow_run(run.flow_run_id).deployment_id is not None
    finally:
        worker.terminate()
        worker.wait(timeout=30)
