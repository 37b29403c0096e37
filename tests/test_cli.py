"""The `fangfan` command as an operator uses it: config check, demo, case list/show, audit."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import update

from approvals.record.models import AuditEntry
from fangfan.settings import ROOT
from tests.db import session_scope
from tests.support.cli import fangfan

pytestmark = pytest.mark.slow


def test_a_bad_config_exits_non_zero_with_one_line_naming_the_key(tmp_path, database_url):
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "config.yaml"
    bad.write_text(text.replace("total: {days: 15, unit: calendar}",
                                "total: {days: -3, unit: calendar}"), encoding="utf-8")
    result = fangfan("config", "check", database_url=database_url, config=bad)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "procedures.identification.total.days" in lines[0]
    good = fangfan("config", "check", database_url=database_url)
    assert good.returncode == 0 and "配置有效" in good.stdout


def test_demo_list_show_and_audit(services, database_url):
    first = fangfan("demo", database_url=database_url)
    assert first.returncode == 0, first.stderr
    again = fangfan("demo", database_url=database_url)
    assert "未重复载入" in again.stdout
    listed = json.loads(fangfan("case", "list", "--json", database_url=database_url).stdout)
    statuses = {c["status"] for c in listed}
    assert {"open", "enrolled", "rejected", "eliminated"} <= statuses
    assert {c["stage"] for c in listed if c["status"] == "open"} >= {
        "home_verification", "village_review", "public_notice", "township_audit",
        "county_approval"}
    plain = fangfan("case", "list", database_url=database_url).stdout  # no raw keys
    assert "不予纳入" in plain and "纳入监测" in plain and not re.search(r"[a-z]{3,}", plain)
    reconciled = fangfan("reconcile", database_url=database_url)
    assert reconciled.stdout.startswith("已推进：") and not re.search(r"[a-z]{3,}",
                                                                    reconciled.stdout)
    unknown = fangfan("case", "list", "--stage", "nowhere", database_url=database_url)
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("错误：--stage nowhere：没有这个环节")
    overdue = json.loads(fangfan("case", "list", "--overdue", "--json",
                                 database_url=database_url).stdout)
    assert overdue and all(c["overdue"] for c in overdue)
    shown = json.loads(fangfan("case", "show", str(listed[0]["id"]), "--json",
                               database_url=database_url).stdout)
    assert shown["tasks"] and "********" in shown["household"]["members"][0]["id_number"]
    ok = fangfan("audit", "verify", database_url=database_url)
    assert ok.returncode == 0 and "校验通过" in ok.stdout
    with session_scope() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 5).values(action="tampered"))
    broken = fangfan("audit", "verify", database_url=database_url)
    assert broken.returncode == 1
    assert "第5条记录内容被修改" in broken.stderr


def test_case_decide_until_the_phone_pages_exist(services, database_url, tmp_path):
    assert fangfan("demo", database_url=database_url).returncode == 0
    listed = json.loads(fangfan("case", "list", "--stage", "home_verification", "--json",
                                database_url=database_url).stdout)
    case_id = str(listed[0]["id"])
    done = fangfan("case", "decide", case_id, database_url=database_url)
    assert done.returncode == 0 and "「入户核实」通过" in done.stdout, done.stderr
    early = fangfan("case", "decide", case_id, database_url=database_url)  # no worker ran
    assert early.returncode != 0 and "等待推进" in early.stderr
    other = str(listed[1]["id"])
    unreasoned = fangfan("case", "decide", other, "--verdict", "rejected",
                         database_url=database_url)
    assert unreasoned.returncode != 0 and "理由" in unreasoned.stderr
    (tmp_path / "bad.json").write_text("{oops", encoding="utf-8")
    bad = fangfan("case", "decide", other, "--form", str(tmp_path / "bad.json"),
                  database_url=database_url)
    assert bad.returncode != 0 and "JSON" in bad.stderr
    shown = json.loads(fangfan("case", "show", case_id, "--json", database_url=database_url).stdout)
    assert shown["tasks"][0]["verdict"] == "approved"


def test_wechat_menu_against_the_api_base_url_from_the_environment(services, database_url):
    from tests.bot.fake_api import FakeWeChatApi, serve

    api = FakeWeChatApi("wx_from_env", "secret_from_env")
    server, url = serve(api)
    try:
        env = {"FANGFAN_WECHAT_API_BASE_URL": url, "FANGFAN_WECHAT_MP_APP_ID": "wx_from_env",
               "FANGFAN_WECHAT_MP_APP_SECRET": "secret_from_env"}
        result = fangfan("wechat", "menu", database_url=database_url, env=env)
        assert result.returncode == 0, result.stderr
        assert "我要申请" in result.stdout and api.token_fetches == 1
        assert [b["key"] for b in api.menus[0]["button"]] == ["APPLY", "PROGRESS", "POLICY"]
        api.down = True
        failed = fangfan("wechat", "menu", database_url=database_url, env=env)
        assert failed.returncode != 0 and "创建菜单失败" in failed.stderr
    finally:
        server.shutdown()


def test_outbox_lists_what_failed_and_why(services, database_url):
    from notifications import outbox
    from notifications.models import OutboxMessage, OutboxStatus

    with session_scope() as s:
        outbox.enqueue(s.connection(), [
            {"key": "a", "recipient": "o_farmer_a", "event": "case_rejected", "params": {}},
            {"key": "b", "recipient": "cadre:7", "event": "cadre_digest", "params": {}}],
            services.clock.now())
        s.execute(update(OutboxMessage).where(OutboxMessage.key == "b").values(
            status=OutboxStatus.DEAD, attempts=6, last_error="HTTP 503"))
    failed = fangfan("outbox", "--failed", database_url=database_url)
    assert failed.returncode == 0
    assert "发送失败" in failed.stdout and "HTTP 503" in failed.stdout
    assert "cadre:7" not in failed.stdout and "\t干部" in failed.stdout  # named, not keyed
    assert "每日待办提醒" in failed.stdout and "cadre_digest" not in failed.stdout
    assert "o_farm" not in failed.stdout
    everything = fangfan("outbox", database_url=database_url).stdout
    assert "待发送" in everything and "农户o_farm…" in everything


def test_outbox_shows_beijing_time_and_when_a_held_message_goes(services, database_url):
    """Times as the pages show them (Beijing time, said so); a farmer's message due in the
    quiet hours says it goes after they end, a cadre's due then does not wait."""
    import datetime as dt

    from approvals.record.calendar import LOCAL
    from notifications import outbox
    from notifications.models import Audience, OutboxMessage

    # the command runs on the real clock: the messages are due tomorrow at 23:30
    tomorrow = dt.datetime.now(LOCAL).date() + dt.timedelta(days=1)
    due = dt.datetime.combine(tomorrow, dt.time(23, 30), tzinfo=LOCAL)
    with session_scope() as s:
        outbox.enqueue(s.connection(), [
            {"key": "farmer", "recipient": "o_farmer_a", "event": "case_rejected", "params": {}},
            {"key": "cadre", "recipient": "cadre:7", "event": "cadre_digest", "params": {},
             "audience": Audience.CADRE}], services.clock.now())  # 11-02 09:00 in Beijing
        s.execute(update(OutboxMessage).values(next_attempt_at=due))
    listed = fangfan("outbox", database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    header, cadre, farmer = listed.stdout.splitlines()
    assert "写入时间（北京时间）" in header
    morning = f"{tomorrow + dt.timedelta(days=1):%m-%d} 07:00"
    assert farmer.split("\t")[1:4] == ["2026-11-02 09:00", f"待发送（夜间免打扰，{morning}后发送）",
                                       "-"]
    assert cadre.split("\t")[1:4] == ["2026-11-02 09:00", "待发送", "-"]


def test_the_commands_own_words_are_chinese(database_url):
    """Help, the usage line and a mistyped command line are told in Chinese, not click's
    English: 用法, 选项, 命令 and one 错误 line naming what was wrong (exit status 2)."""
    helped = fangfan("--help", database_url=database_url)
    assert helped.returncode == 0
    assert helped.stdout.startswith("用法：") and "选项：" in helped.stdout
    assert "命令：" in helped.stdout and "显示本帮助并退出" in helped.stdout
    assert not re.search(r"Usage|Options|Commands|Show this", helped.stdout)
    for args, said in ((["nosuch"], "错误：没有这个命令：nosuch"),
                       (["export", "ledger", "--bogus"], "错误：没有这个选项：--bogus"),
                       (["import", "roster"], "错误：缺少 FILE"),
                       (["screen", "--feeds", "/nonexistent"],
                        "错误：--feeds 的值不对（/nonexistent：找不到这个文件夹）"),
                       (["screen", "--feeds", ".", "--as-of", "2026-13-01"],
                        "错误：--as-of 的值不对（2026-13-01：应为日期，如 2026-11-30）"),
                       (["screen", "--feeds", ".", "--scope", "x"],
                        "错误：--scope 的值不对（x：应为以下之一：all、key）")):
        wrong = fangfan(*args, database_url=database_url)
        assert wrong.returncode == 2 and said in wrong.stderr, wrong.stderr
        assert "用法：" in wrong.stderr and "--help」查看用法" in wrong.stderr
        assert not re.search(r"Usage|Error|Try |does not|format", wrong.stderr)
    helped = fangfan("screen", "--help", database_url=database_url).stdout
    assert "[必填]" in helped and "[默认：all]" in helped and "以 JSON 输出报告" in helped
    assert not re.search(r"required|default", helped)


def test_every_command_is_described_in_chinese(database_url):
    """`fangfan --help` and each group's list, as an operator reads them: no English line."""
    groups = [()] + [(name,) for name in ("audit", "cadre", "case", "config", "db", "dev",
                                          "export", "wechat")]
    for group in groups:
        listed = fangfan(*group, "--help", database_url=database_url).stdout
        commands = listed.split("命令：", 1)[1].strip().splitlines()
        assert commands, group
        for line in commands:
            assert re.search(r"[\u4e00-\u9fff]", line), (group, line)
