"""The `fangfan` command attacked as an operator outside dev mode would meet it: `case decide`
never fills in a cadre or the demo's findings, and only a cadre who holds the task decides."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from approvals.record.definitions import Stage
from approvals.record.models import Task, TaskStatus
from fangfan.settings import ROOT
from tests.support.cli import fangfan
from tests.support.world import World

pytestmark = pytest.mark.slow


def production_config(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """config.yaml with dev_mode off and an https base URL, and secrets of this deployment
    in the environment (none of config.yaml's demo values)."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert "\ndev_mode: true\n" in text
    text = text.replace("\ndev_mode: true\n", "\ndev_mode: false\n").replace(
        "base_url: http://127.0.0.1:8000", "base_url: https://fangfan.example.gov.cn")
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    env = {"FANGFAN_SECRET_KEY": secrets.token_hex(32),
           "FANGFAN_WECHAT_MP_TOKEN": secrets.token_hex(8),
           "FANGFAN_WECHAT_MP_APP_SECRET": secrets.token_hex(16),
           "FANGFAN_WECHAT_MP_ENCODING_AES_KEY": secrets.token_urlsafe(32)[:43],
           "FANGFAN_DEV_MODE": "false",
           "FANGFAN_AUDIT_ANCHORS": str(tmp_path / "audit-anchors.log")}
    return path, env


def test_case_decide_outside_dev_mode_needs_the_cadre_and_the_findings(
        world: World, database_url: str, tmp_path: Path) -> None:
    config, env = production_config(tmp_path)
    case_id = world.apply(world.household("东沟村"))
    task = world.open_task(case_id)
    assert task.stage == Stage.HOME_VERIFICATION
    holder = world.approver(case_id)
    stranger = world.cadre(task.role, "南滩村")  # the same role, another village
    findings = world.form(case_id, Stage.HOME_VERIFICATION) | {
        "visitors": ["东沟村书记", "县农业农村局帮扶员"], "visited_on": "2026-11-02",
        "risk_confirmed": True, "wage": "4800", "findings": "命令行录入：住院属实，已核对病历。"}
    form = tmp_path / "findings.json"
    form.write_text(json.dumps(findings, ensure_ascii=False), encoding="utf-8")

    def decide(*args: str):
        return fangfan("case", "decide", str(case_id), *args, database_url=database_url,
                       config=config, env=env)

    bare = decide()
    assert bare.returncode != 0 and "--as" in bare.stderr and "开发模式" in bare.stderr
    no_form = decide("--as", str(holder.id))
    assert no_form.returncode != 0 and "--form" in no_form.stderr
    assert "演示数据" in no_form.stderr
    other_village = decide("--as", str(stranger.id), "--form", str(form))
    assert other_village.returncode != 0
    assert "不在您的管辖范围内" in other_village.stderr, other_village.stderr
    nobody = decide("--as", "999999", "--form", str(form))
    assert nobody.returncode != 0 and "没有找到这位工作人员" in nobody.stderr
    (tmp_path / "bad.json").write_text("{oops", encoding="utf-8")
    bad = decide("--as", str(holder.id), "--form", str(tmp_path / "bad.json"))
    assert bad.returncode != 0 and "JSON" in bad.stderr
    assert world.open_task(case_id).id == task.id  # nothing was decided so far

    done = decide("--as", str(holder.id), "--form", str(form))
    assert done.returncode == 0, done.stderr
    assert f"已办理（{holder.name}）" in done.stdout and "「入户核实」通过" in done.stdout
    from tests.db import session_scope

    with session_scope() as s:
        decided = s.get_one(Task, task.id)
        assert decided.status == TaskStatus.DECIDED and decided.decided_by == holder.id
        assert decided.data["findings"] == findings["findings"]
        assert decided.data != world.form(case_id, Stage.HOME_VERIFICATION)


def test_case_decide_in_dev_mode_still_fills_in_the_demo(
        world: World, database_url: str) -> None:
    case_id = world.apply(world.household("东沟村"))
    done = fangfan("case", "decide", str(case_id), database_url=database_url)
    assert done.returncode == 0, done.stderr
    from tests.db import session_scope

    with session_scope() as s:
        task = s.get_one(Task, world_task_id(case_id))
        assert task.data["findings"] == world.form(case_id, Stage.HOME_VERIFICATION)["findings"]


def world_task_id(case_id: int) -> int:
    from sqlalchemy import select

    from tests.db import session_scope

    with session_scope() as s:
        return s.scalars(select(Task.id).where(Task.case_id == case_id,
                                               Task.stage == Stage.HOME_VERIFICATION)).one()
