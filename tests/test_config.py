"""config.yaml's checks as an operator meets them: one Chinese line naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fangfan import config as config_module
from fangfan.config import ConfigError
from fangfan.settings import ROOT
from tests.support.cli import fangfan

HOME_VERIFICATION = ("      home_verification: {label: 入户核实, role: village_cadre, "
                     "deadline: {days: 3, unit: working}, visitors: 2}\n")


def changed(tmp_path: Path, old: str, new: str) -> Path:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "config.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_stage_allowances_of_the_defaults_fit_in_their_total_clocks() -> None:
    config = config_module.load(ROOT / "config.yaml")
    assert config.procedures["identification"].total.days == 15  # the policy's 15 days


def test_stage_allowances_over_the_total_clock_are_refused(tmp_path: Path) -> None:
    # 入户核实 7 working days instead of 3: 7+2+1+1 working (15.4) + 5 calendar > 15
    path = changed(tmp_path, HOME_VERIFICATION, HOME_VERIFICATION.replace("days: 3", "days: 7"))
    with pytest.raises(ConfigError) as refused:
        config_module.load(path)
    assert str(refused.value) == (
        f"{path}：procedures.identification：「识别纳入」各环节期限合计约20.4天，超过总期限15天"
        "（工作日按每7天5个工作日折算）")


def test_a_total_in_working_days_is_compared_at_the_same_rate(tmp_path: Path) -> None:
    # risk elimination: 14 working days (19.6) + 7 calendar = 26.6 against 20 working (28)
    path = changed(tmp_path, "total: {days: 20, unit: working}",
                   "total: {days: 18, unit: working}")
    with pytest.raises(ConfigError,
                       match=r"「风险消除」各环节期限合计约26\.6天，超过总期限25\.2天"):
        config_module.load(path)


@pytest.mark.parametrize(("old", "new", "said"), [
    ("total: {days: 15, unit: calendar}", "total: {days: -3, unit: calendar}",
     "procedures.identification.total.days：应大于 0"),
    ("dev_mode: true", "dev_mode: true\nlanguage: en", "language：不认识的配置项"),
    ("role: township_auditor, deadline: {days: 1", "role: nobody, deadline: {days: 1",
     "procedures.identification.stages.township_audit.role：没有这个岗位 nobody"),
    ("bind_rate_limit: 20 per minute", "bind_rate_limit: often",
     "workbench.bind_rate_limit：应为频率"),
    ("reminder_time: \"08:30\"", "reminder_time: morning", "notifications.reminder_time：应为时刻"),
])
def test_config_errors_are_chinese_and_name_the_key(tmp_path: Path, old: str, new: str,
                                                    said: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config_module.load(changed(tmp_path, old, new))
    message = str(refused.value)
    assert said in message
    # no English words left besides the key and the value it names
    assert not re.search(r"[A-Za-z]{3,}", message.replace(str(tmp_path), "")
                         .split("：", 2)[-1].replace("nobody", "").replace("per minute", ""))


@pytest.mark.slow
def test_config_check_refuses_allowances_over_the_total_in_one_chinese_line(
        tmp_path: Path, database_url: str) -> None:
    path = changed(tmp_path, HOME_VERIFICATION, HOME_VERIFICATION.replace("days: 3", "days: 7"))
    result = fangfan("config", "check", database_url=database_url, config=path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"错误：{path}：procedures.identification：「识别纳入」各环节期限合计约20.4天，"
        "超过总期限15天（工作日按每7天5个工作日折算）"]


def test_in_dev_mode_the_urls_back_to_this_web_app_follow_its_port() -> None:
    demo = config_module.load(ROOT / "config.yaml")
    assert demo.dev_mode and demo.wechat.api_base_url == "http://127.0.0.1:8000/dev/wechat/api"
    moved = config_module.follow_port(demo, 18123)
    assert moved.wechat.api_base_url == "http://127.0.0.1:18123/dev/wechat/api"
    assert moved.notifications.base_url == "http://127.0.0.1:18123"
    # set in the environment: kept as given
    kept = config_module.follow_port(demo, 18123, ["wechat.api_base_url"])
    assert kept.wechat.api_base_url == "http://127.0.0.1:8000/dev/wechat/api"
    # WeChat itself, or any address not this machine's, never moves
    real = demo.model_copy(update={"wechat": demo.wechat.model_copy(
        update={"api_base_url": "https://api.weixin.qq.com"})})
    assert config_module.follow_port(real, 18123).wechat.api_base_url == \
        "https://api.weixin.qq.com"
    production = demo.model_copy(update={"dev_mode": False})
    assert config_module.follow_port(production, 18123) is production


def test_a_bad_port_setting_is_refused_in_one_chinese_line(database_url: str) -> None:
    result = fangfan("config", "check", database_url=database_url,
                     env={"FANGFAN_PREFECT_PORT": "42OO"})
    assert result.returncode == 1
    assert result.stderr.strip() == \
        "错误：环境变量 FANGFAN_PREFECT_PORT 必须是 1 到 65535 之间的端口号，现在是“42OO”"


def test_make_run_takes_its_prefect_from_the_settings_and_never_shares_a_taken_port(
        tmp_path: Path) -> None:
    import dataclasses
    import http.server
    import socket
    import threading

    from fangfan.devrun import prefect_plan
    from fangfan.settings import Settings
    from tests.support.production import free_port

    base = Settings(database_url="sqlite://", config_path=ROOT / "config.yaml", port=0,
                    prefect_api_url=None, config_overrides={}, var_dir=tmp_path)
    port = free_port()
    own = dataclasses.replace(base, prefect_port=port)
    assert prefect_plan(own) == (f"http://127.0.0.1:{port}/api", port)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        with pytest.raises(SystemExit, match=f"端口 {port} 已被占用.*FANGFAN_PREFECT_PORT"):
            prefect_plan(own)
    # a given PREFECT_API_URL: started on its port when it is this machine's and silent...
    given = dataclasses.replace(base, prefect_api_url=f"http://localhost:{port}/api")
    assert prefect_plan(given) == (f"http://localhost:{port}/api", port)
    # ...used as it is when it answers (a server of the operator's)...
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "health").write_text("true")
    server.RequestHandlerClass = lambda *a: http.server.SimpleHTTPRequestHandler(
        *a, directory=str(tmp_path))  # type: ignore[assignment,misc]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        running = f"http://127.0.0.1:{server.server_address[1]}/api"
        assert prefect_plan(dataclasses.replace(base, prefect_api_url=running)) == (running, None)
    finally:
        server.shutdown()
    # ...and refused in one line when it is another machine's and does not answer
    remote = dataclasses.replace(base, prefect_api_url="http://192.0.2.1:4200/api")
    with pytest.raises(SystemExit, match="PREFECT_API_URL 指向的 Prefect 服务无法访问"):
        prefect_plan(remote)
