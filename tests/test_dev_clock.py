"""The demo's clock (dev_mode only): moved forward from the command line and from the
simulator's button, seen by every process, refused outside dev mode."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from approvals.record.calendar import SystemClock
from fangfan.app import create_app
from fangfan.dev_clock import ShiftedClock
from fangfan.services import Services
from tests.support.cli import fangfan
from tests.support.web import serve_app
from tests.support.world import World
from tests.test_cli_security import production_config

pytestmark = pytest.mark.slow


def test_the_command_moves_the_clock_for_every_process_and_resets_it(
        world: World, database_url: str, tmp_path: Path) -> None:
    shared = tmp_path / "dev-clock"
    env = {"FANGFAN_DEV_CLOCK": str(shared)}
    other_process = ShiftedClock(SystemClock(), shared)  # the web app's or the worker's

    moved = fangfan("dev", "clock", "+5d", database_url=database_url, env=env)
    assert moved.returncode == 0, moved.stderr
    assert "比实际时间快5天" in moved.stdout
    assert other_process.offset() == dt.timedelta(days=5)
    later = fangfan("dev", "clock", "+2h", database_url=database_url, env=env)
    assert "比实际时间快5天2小时" in later.stdout
    assert abs(other_process.now() - SystemClock().now() - dt.timedelta(days=5, hours=2)
               ) < dt.timedelta(minutes=1)

    wrong = fangfan("dev", "clock", "5天", database_url=database_url, env=env)
    assert wrong.returncode != 0 and "+5d" in wrong.stderr  # told the form it takes
    back = fangfan("dev", "clock", "reset", database_url=database_url, env=env)
    assert "实际时间" in back.stdout and other_process.offset() == dt.timedelta()


def test_the_command_refuses_to_move_the_clock_outside_dev_mode(
        world: World, database_url: str, tmp_path: Path) -> None:
    config, env = production_config(tmp_path)
    shared = tmp_path / "dev-clock"
    refused = fangfan("dev", "clock", "+5d", database_url=database_url, config=config,
                      env={**env, "FANGFAN_DEV_CLOCK": str(shared)})
    assert refused.returncode != 0 and "只有开发模式" in refused.stderr
    assert not shared.exists()


def test_production_services_keep_the_system_clock(services: Services) -> None:
    production = dataclasses.replace(
        services, config=services.config.model_copy(update={"dev_mode": False}))
    with pytest.raises(ValueError, match="只有开发模式"):
        production.move_clock("+5d")


@pytest.fixture
def demo_site(services: Services, tmp_path: Path) -> Iterator[tuple[Services, str]]:
    """The app of `make run`: its clock the test's, moved by the shared offset."""
    demo = dataclasses.replace(services, clock=ShiftedClock(services.clock,
                                                            tmp_path / "dev-clock"))
    for url in serve_app(create_app(demo)):
        yield demo, url


def test_the_simulators_button_moves_the_clock(
        world: World, demo_site: tuple[Services, str], browser: Any) -> None:
    demo, site = demo_site
    start = demo.clock.now()

    page = browser.new_page(base_url=site, locale="zh-CN", timezone_id="Asia/Shanghai")
    page.goto("/dev/wechat")
    expect(page.get_by_text("演示时间：2026-11")).to_be_visible()
    page.get_by_role("button", name="快进6天").click()
    expect(page.locator("#now")).to_have_text("演示时间：2026-11-08 09:00")
    expect(page.get_by_text("到期的环节几秒后自动推进")).to_be_visible()
    assert demo.clock.now() - start == dt.timedelta(days=6)
    page.get_by_role("button", name="恢复实际时间").click()
    expect(page.locator("#now")).to_have_text("演示时间：2026-11-02 09:00")
    page.close()


@pytest.mark.usefixtures("prefect")
def test_the_workers_flow_runs_at_the_moved_time(world: World, tmp_path: Path) -> None:
    """What the worker does with the demo's clock: a Prefect flow run given it (its Runtime)
    stamps what it opens at the moved time."""
    from workflows.advance import advance_pending
    from workflows.runtime import Runtime

    case_id = world.apply(world.household("东沟村"))
    world.decides(case_id, world.approver(case_id), advance=False)
    shifted = ShiftedClock(world.clock, tmp_path / "dev-clock")
    demo = dataclasses.replace(world.services, clock=shifted)
    demo.move_clock("+5d")
    advance_pending(Runtime(shifted, demo.calendar, demo.database))  # as the worker runs it
    opened = world.open_task(case_id)
    assert opened.opened_at == world.clock.now() + dt.timedelta(days=5)
