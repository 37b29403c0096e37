"""A stage is one module: adding one takes its module (with its partial) and a config entry,
nothing else; a stage without a module is refused at start-up; each task is labelled by its
own case's procedure."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from flask import Flask

from approvals.procedure import elimination, stages
from approvals.record.calendar import local_date
from approvals.record.definitions import Stage
from approvals.record.models import (
    Case,
    CaseKind,
    CaseStatus,
    Household,
    IncomeRecord,
    Measure,
    MonitoringStatus,
    Revisit,
    Task,
)
from fangfan import config as config_module
from fangfan.config import Config, ConfigError
from fangfan.settings import ROOT
from fangfan.worker import check_flows
from tests.approvals.stages import document_check
from tests.db import session_scope
from tests.support.cli import fangfan
from tests.support.web import Desk, cadre_id
from tests.support.world import World

TOWNSHIP_AUDIT = ("      township_audit:    {label: 乡镇审核, role: township_auditor, "
                  "deadline: {days: 1, unit: working}}\n")
DOCUMENT_CHECK = ("      document_check:    {label: 材料复核, role: township_auditor, "
                  "deadline: {days: 2, unit: working}}\n")


def with_stage(tmp_path: Path, entry: str = DOCUMENT_CHECK, after: str = TOWNSHIP_AUDIT) -> Path:
    """config.yaml with one more stage in identification, listed after `after`, and the
    total clock longer by its allowance (the stages must fit in the total)."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert text.count(after) == 1  # identification's 乡镇审核
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(after, after + entry).replace(
        "total: {days: 15, unit: calendar}", "total: {days: 18, unit: calendar}"),
        encoding="utf-8")
    return path


@pytest.fixture
def added(world: World, tmp_path: Path) -> Iterator[Config]:
    """The tests' own stage, registered, and in identification after 乡镇审核."""
    with stages.registered(document_check.STAGE):
        config = config_module.load(with_stage(tmp_path))
        world.services.config = config
        yield config


def test_a_stage_added_with_its_module_and_a_config_entry_runs_end_to_end(
        app: Flask, world: World, added: Config) -> None:
    case_id = world.apply(world.household("东沟村"))
    with session_scope() as s:  # the order is config.yaml's, kept with the case
        order = s.get_one(Case, case_id).definition.parsed().order
    assert order == ("home_verification", "village_review", "public_notice", "township_audit",
                     "document_check", "county_approval")
    world.approve_through(case_id, until="document_check")  # the pass opened it
    task = world.open_task(case_id)
    assert (task.stage, task.role, task.round) == ("document_check", "township_auditor", 1)

    auditor = Desk(app.test_client()).signs_in(cadre_id("王审核"))
    page = auditor.get(f"/c/{case_id}").text  # its label, guidance and partial
    assert "当前环节：<strong>材料复核</strong>" in page
    assert document_check.STAGE.guidance in page
    assert 'name="checked_by" type="text" value="王审核"' in page and 'name="complete"' in page
    returnable = re.findall(r'name="return_to" value="(\w+)"', page)
    assert returnable == ["home_verification", "village_review", "public_notice",
                          "township_audit"]  # earlier ones of its procedure, in its order

    refused = auditor.post(f"/t/{task.id}/decide", verdict="approved", complete="yes",
                           checked_by="王")  # its own form's rule, in Chinese
    assert refused.status_code == 400 and "「复核人」至少填写2个字" in refused.text
    assert world.open_task(case_id).id == task.id
    done = auditor.post(f"/t/{task.id}/decide", verdict="approved", complete="yes",
                        checked_by="王审核", note="补齐了户口簿复印件。")
    assert done.status_code == 302
    with session_scope() as s:
        assert s.get_one(Task, task.id).data == {
            "complete": True, "checked_by": "王审核", "note": "补齐了户口簿复印件。", "photos": []}
    assert "材料复核通过。" in auditor.get("/inbox").text  # told in its own label
    world.advance(case_id)
    assert world.stage(case_id) == Stage.COUNTY_APPROVAL

    county = Desk(app.test_client()).signs_in(cadre_id("赵审定"))
    page = county.get(f"/c/{case_id}").text  # the timeline tells its approval in its words
    assert ('「材料复核」通过<br><span class="sub">王审核复核，材料齐全。补齐了户口簿复印件。'
            in page)
    assert re.findall(r'name="return_to" value="(\w+)"', page)[-1] == "document_check"
    sent_back = county.post(f"/t/{world.open_task(case_id).id}/decide", verdict="returned",
                            return_to="document_check", reason_typed="请补充村委会盖章")
    assert sent_back.status_code == 302
    world.advance(case_id)
    again = world.open_task(case_id)
    assert (again.stage, again.round) == ("document_check", 2)
    world.approve_through(case_id, until=None)
    assert world.case(case_id).status == CaseStatus.ENROLLED


def test_a_stage_without_a_module_is_refused_at_start_up(tmp_path: Path, database_url: str
                                                        ) -> None:
    config = with_stage(tmp_path)  # document_check is not registered here
    with pytest.raises(ConfigError) as refused:
        config_module.load(config)
    assert str(refused.value) == (
        f"{config}：procedures.identification.stages.document_check：这个环节没有程序模块"
        "（approvals/procedure/stages/document_check.py）")
    result = fangfan("config", "check", database_url=database_url, config=config)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "stages.document_check：这个环节没有程序模块" in lines[0]


def test_a_stage_module_without_its_partial_is_refused_at_start_up(tmp_path: Path) -> None:
    class NoPartial(document_check.DocumentCheckStage):
        @property
        def partial(self) -> Path:
            return tmp_path / "document_check.html"

    with stages.registered(NoPartial()), pytest.raises(ConfigError) as refused:
        config_module.load(with_stage(tmp_path))
    assert str(refused.value).endswith(
        f"procedures.identification.stages.document_check：环节模块缺少页面模板"
        f"（{tmp_path / 'document_check.html'}）")


def test_stages_the_flow_is_written_around_must_keep_their_order(tmp_path: Path) -> None:
    county = ("      county_approval:   {label: 县级比对审定, role: county_approver, "
              "deadline: {days: 1, unit: working}}\n")
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert text.count(county) == 1
    path = tmp_path / "config.yaml"  # identification's county approval before its audit
    path.write_text(text.replace(county, "").replace(TOWNSHIP_AUDIT, county + TOWNSHIP_AUDIT,
                                                     1), encoding="utf-8")
    config = config_module.load(path)  # each stage has its module
    with pytest.raises(ConfigError, match=r"procedures\.identification\.stages：流程须依次办理 "
                       r"home_verification、.*county_approval 最后；config\.yaml 列的是 "):
        check_flows(config, path)
    check_flows(config_module.load(ROOT / "config.yaml"), ROOT / "config.yaml")


def _elimination_at_county(world: World) -> int:
    """A risk elimination of 北岭村, waiting for the county."""
    hh, today = world.household("北岭村", 1), local_date(world.clock.now())
    with session_scope() as s:
        household = s.get_one(Household, hh)
        household.monitoring, household.category = MonitoringStatus.MONITORED, "marginal"
        household.monitored_since = today - relativedelta(months=7)
        s.add(Measure(household_id=hh, kind="就业", planned_on=today, done_on=today))
        s.add_all([IncomeRecord(household_id=hh, per_capita_net=Decimal(amount),
                                recorded_on=today - dt.timedelta(days=days))
                   for amount, days in (("9500", 200), ("9800", 100), ("9900", 5))])
        s.add(Revisit(household_id=hh, cadre_id=world.cadre("helper", "北岭村").id,
                      visited_on=today - dt.timedelta(days=5), members=3, wage=29700,
                      business=0, property=0, transfer=0, production_costs=0,
                      out_of_pocket=0, per_capita_net=9900, risk_remains=False,
                      secure=dict.fromkeys(elimination.SECURITY, True),
                      recorded_at=world.clock.now()))
    with session_scope() as s:
        case_id = elimination.propose(
            s, s.get_one(Household, hh), world.cadre("village_cadre", "北岭村"),
            rules=world.config.elimination_rules(),
            definition=world.config.definition(CaseKind.RISK_ELIMINATION),
            calendar=world.services.calendar, now=world.clock.now()).id
    world.advance(case_id)
    world.approve_through(case_id, until=Stage.COUNTY_APPROVAL)
    return case_id


@pytest.mark.slow
def test_a_risk_elimination_task_is_labelled_by_its_own_procedure(
        app: Flask, world: World, database_url: str) -> None:
    labels = {kind: world.config.definition(kind).stage(Stage.COUNTY_APPROVAL).label
              for kind in CaseKind}
    assert labels == {CaseKind.IDENTIFICATION: "县级比对审定",
                      CaseKind.RISK_ELIMINATION: "县级审定"}
    eliminating = _elimination_at_county(world)
    identifying = world.apply(world.household("东沟村"))
    world.approve_through(identifying, until=Stage.COUNTY_APPROVAL)

    inbox = Desk(app.test_client()).signs_in(cadre_id("赵审定")).get("/inbox").text
    items = dict(re.findall(r'<p>[^<]+<span class="sub">[^<]+ · (\d{10})</span></p>\s*'
                            r'<p class="sub">([^<]+)</p>', inbox))
    assert items == {world.case(eliminating).number: "县级审定",
                     world.case(identifying).number: "县级比对审定"}
    assert "县级比对审定（识别纳入）、县级审定（风险消除） 2</a>" in inbox  # the tab: both

    listed = fangfan("case", "list", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line.split()[4] for line in listed.stdout.splitlines()}
    assert lines[world.case(eliminating).number] == "县级审定"
    assert lines[world.case(identifying).number] == "县级比对审定"
    shown = fangfan("case", "show", str(eliminating), "--json", database_url=database_url)
    assert '"stage_label": "县级审定"' in shown.stdout
