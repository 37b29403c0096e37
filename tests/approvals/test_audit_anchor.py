"""The audit chain's tail is anchored outside the table: deleting the newest sealed rows, or
rewriting the chain from some row on, is found by `fangfan audit verify` (the real CLI)."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from sqlalchemy import delete, func, select, update

from approvals.record import audit
from approvals.record.definitions import Stage
from approvals.record.models import AuditEntry, Place
from fangfan import worker
from fangfan.app import create_app
from fangfan.services import Services
from tests.db import session_scope
from tests.support.cli import fangfan
from tests.support.web import Desk, cadre_id
from tests.support.world import World

pytestmark = pytest.mark.slow


def sealed_and_anchored(world: World, services: Services) -> audit.Head:
    """Cases decided through to the end, then the worker's advance job: it seals what is left
    and publishes the head."""
    for i in range(2):
        world.approve_through(world.apply(world.household("东沟村", i)), until=None)
    with session_scope() as s:  # a row the passes did not seal: the worker's job seals it
        audit.append(s, actor="cadre:1", action="test.note", now=world.clock.now())
    worker.run(services, "advance")
    with session_scope() as s:
        head = audit.head(s)
        assert head is not None and audit.unsealed(s) == 0
    return head


def lines(services: Services) -> list[dict]:
    text = services.settings.anchor_path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_the_worker_publishes_the_head_once_per_move(world: World, services: Services,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="approvals.record.audit"):
        head = sealed_and_anchored(world, services)
    assert lines(services)[-1] == {"at": lines(services)[-1]["at"], "seq": head.seq,
                                   "hash": head.hash}
    assert f"审计链已发布到第{head.seq}条（哈希 {head.hash}）。" in caplog.text
    worker.run(services, "advance")  # nothing new sealed: no new line
    assert len(lines(services)) == 1


def test_verify_finds_the_newest_sealed_rows_deleted(world: World, services: Services,
                                                     database_url: str) -> None:
    head = sealed_and_anchored(world, services)
    ok = fangfan("audit", "verify", database_url=database_url)
    assert ok.returncode == 0, ok.stderr
    assert f"共 {head.seq} 条记录" in ok.stdout and "与锚点一致" in ok.stdout

    with session_scope() as s:  # the attack: the newest two rows go, the rest is whole
        s.execute(delete(AuditEntry).where(AuditEntry.seq > head.seq - 2))
    with session_scope() as s:
        assert audit.verify(s, None)[1] == []  # the chain alone cannot tell
    broken = fangfan("audit", "verify", database_url=database_url)
    assert broken.returncode == 1
    assert f"审计链断裂：第{head.seq - 1}至{head.seq}条记录缺失（被删除）" in broken.stderr
    assert f"现在只到第{head.seq - 2}条" in broken.stderr


def test_verify_finds_a_chain_rewritten_from_a_row_on(world: World, services: Services,
                                                      database_url: str) -> None:
    head = sealed_and_anchored(world, services)
    with session_scope() as s:  # change row 3 and chain again from there, as an insider could
        s.execute(update(AuditEntry).where(AuditEntry.seq >= 3)
                  .values(seq=None, prev_hash=None, hash=None))
        s.execute(update(AuditEntry).where(AuditEntry.id == s.scalar(
            select(func.min(AuditEntry.id)).where(AuditEntry.seq.is_(None))))
            .values(actor="cadre:999"))
        audit.seal(s)
    with session_scope() as s:
        assert audit.verify(s, None)[1] == [] and audit.head(s).seq == head.seq
    broken = fangfan("audit", "verify", database_url=database_url)
    assert broken.returncode == 1
    assert f"第{head.seq}条记录的哈希与公布的锚点不符" in broken.stderr


def test_sealed_rows_without_an_anchor_file_are_reported(world: World, services: Services,
                                                         database_url: str) -> None:
    sealed_and_anchored(world, services)
    services.settings.anchor_path.unlink()
    missing = fangfan("audit", "verify", database_url=database_url)
    assert missing.returncode == 1
    assert "找不到锚点文件" in missing.stderr and "无法确认最新的记录没有被删除" in missing.stderr
    services.settings.anchor_path.write_text("garbage\n", encoding="utf-8")
    unreadable = fangfan("audit", "verify", database_url=database_url)
    assert unreadable.returncode == 1 and "没有可读的锚点" in unreadable.stderr


def test_the_printed_ledger_and_notice_carry_the_head_and_verify_checks_it(
        world: World, services: Services, database_url: str, tmp_path) -> None:
    case_id = world.apply(world.household("东沟村", 3))
    world.approve_through(case_id, Stage.PUBLIC_NOTICE)
    head = sealed_and_anchored(world, services)
    printed = f"审计链：第{head.seq}条 哈希 {head.hash[:16]}"
    out = tmp_path / "ledger.xlsx"
    exported = fangfan("export", "ledger", "-o", str(out), database_url=database_url)
    assert exported.returncode == 0, exported.stderr
    sheet = openpyxl.load_workbook(out).active
    assert f"{printed}（导出时）" in [c.value for c in sheet["A"]]
    assert printed in sheet.oddFooter.left.text
    county = Desk(create_app(services).test_client()).signs_in(cadre_id("钱督导"))
    with session_scope() as s:
        village = s.scalar(select(Place.id).where(Place.name == "东沟村"))
        whole = s.scalar(select(Place.id).where(Place.level == "county"))
    web = openpyxl.load_workbook(io.BytesIO(county.get(f"/ledger.xlsx?place={whole}").data))
    assert f"{printed}（导出时）" in [c.value for c in web.active["A"]]
    assert printed in county.get(f"/notices/{village}").text
    # what was read off the paper is checked too
    paper = fangfan("audit", "verify", "--head", f"{head.seq}:{head.hash[:16]}",
                    database_url=database_url)
    assert paper.returncode == 0, paper.stderr
    forged = fangfan("audit", "verify", "--head", f"{head.seq}:{'0' * 16}",
                     database_url=database_url)
    assert forged.returncode == 1 and "与公布的锚点不符" in forged.stderr
    beyond = fangfan("audit", "verify", "--head", f"{head.seq + 5}:{head.hash[:16]}",
                     database_url=database_url)
    assert beyond.returncode == 1 and f"第{head.seq + 1}至{head.seq + 5}条记录缺失" in beyond.stderr
