"""`make run` on ports of its own, beside another; and every process it starts stops on Ctrl-C
(SIGINT) or SIGTERM with one Chinese line, never a traceback."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from approvals.web.fonts import MISSING
from fangfan.services import Services
from fangfan.settings import ROOT
from tests.support.production import free_port

pytestmark = pytest.mark.slow

NEVER = ("Traceback", "KeyboardInterrupt", "Error", "Exception")


def _env(**settings: str) -> dict[str, str]:
    """The test's environment without its fangfan and Prefect settings (a test harness's
    PREFECT_API_URL would be used, not started), plus `settings`."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("FANGFAN_", "PREFECT_"))}
    return {**base, "FANGFAN_CONFIG": str(ROOT / "config.yaml"), **settings}


def _start(command: list[str], env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    with open(out.with_suffix(".out"), "wb") as stdout, open(out.with_suffix(".err"), "wb") as err:
        # a group of its own, as a terminal's Ctrl-C reaches the foreground group only
        return subprocess.Popen(command, env=env, cwd=ROOT, stdout=stdout, stderr=err,
                                process_group=0)


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as res:
        return res.status, res.read().decode()


def _wait(url: str, proc: subprocess.Popen[bytes], out: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, _said(out)
        try:
            _get(url)
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} never answered: {_said(out)}")


def _said(out: Path) -> str:
    return (out.with_suffix(".out").read_text(errors="replace")
            + out.with_suffix(".err").read_text(errors="replace"))


def _stopped_cleanly(proc: subprocess.Popen[bytes], signum: int, out: Path, seconds: float
                     ) -> str:
    os.killpg(proc.pid, signum) if signum == signal.SIGINT else proc.send_signal(signum)
    try:
        code = proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(f"still running {seconds}s after the signal: {_said(out)}"
                             ) from None
    said = _said(out)
    assert code == 0, said
    for word in NEVER:
        assert word not in said, said
    return said


def _sent(var: Path) -> dict[str, int]:
    with sqlite3.connect(var / "fangfan.db") as db:
        return dict(db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())


def test_a_second_dev_run_on_other_ports_works_beside_the_first(tmp_path: Path) -> None:
    # the second on a machine without a Chinese font (fontconfig knows none): it says what
    # to install and runs all the same
    nofonts = tmp_path / "fonts.conf"
    nofonts.write_text(f'<?xml version="1.0"?><fontconfig><dir>{tmp_path / "none"}</dir>'
                       f'<cachedir>{tmp_path / "fc-cache"}</cachedir></fontconfig>')
    runs = []
    for name, fonts in (("first", {}), ("second", {"FONTCONFIG_FILE": str(nofonts)})):
        var, web, prefect = tmp_path / name, free_port(), free_port()
        env = _env(FANGFAN_VAR_DIR=str(var), FANGFAN_PORT=str(web),
                   FANGFAN_PREFECT_PORT=str(prefect), **fonts)
        out = tmp_path / f"{name}-run"
        runs.append((var, web, prefect, out,
                     _start([sys.executable, "-m", "fangfan", "run"], env, out)))
    try:
        for var, web, prefect, out, proc in runs:
            _wait(f"http://127.0.0.1:{web}/healthz", proc, out, 240)
            deadline = time.monotonic() + 60
            while "fangfan 已启动" not in _said(out) and time.monotonic() < deadline:
                time.sleep(0.5)
            said = _said(out)
            assert f"http://127.0.0.1:{web}/dev/wechat" in said
            assert f"Prefect 界面：    http://127.0.0.1:{prefect}/" in said
            assert "公众号模拟器" in _get(f"http://127.0.0.1:{web}/dev/wechat")[1]
            # its own Prefect: its server answers on its port, with its home in its var dir
            assert _get(f"http://127.0.0.1:{prefect}/api/health")[0] == 200
            assert (var / "prefect" / "prefect.db").exists()
            assert (var / "fangfan.db").exists()
        first, second = (_said(out) for *_, out, _proc in runs)
        assert MISSING in second and MISSING not in first
        # the demo's pushes reach each run's own simulator, on its own port (config.yaml
        # says 8000): every message sent, none waiting for a retry
        for var, *_ in runs:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                sent = _sent(var)
                if sent.get("sent") and set(sent) <= {"sent"}:
                    break
                time.sleep(1)
            assert sent.get("sent") and set(sent) <= {"sent"}, sent
        # a third on the first's web port is refused in one line, before it starts anything
        taken = subprocess.run(
            [sys.executable, "-m", "fangfan", "run"], cwd=ROOT, capture_output=True, text=True,
            timeout=60, env=_env(FANGFAN_VAR_DIR=str(tmp_path / "third"),
                                 FANGFAN_PORT=str(runs[0][1]),
                                 FANGFAN_PREFECT_PORT=str(free_port())))
        assert taken.returncode == 1
        assert taken.stderr.strip() == (f"端口 {runs[0][1]} 已被占用（也许另一个 make run "
                                        f"正在运行），请用 FANGFAN_PORT 换一个端口。")
        # Ctrl-C: each stops everything it started, each process saying so in Chinese
        for _var, web, prefect, out, proc in runs:
            said = _stopped_cleanly(proc, signal.SIGINT, out, 45)
            for line in ("网页服务已停止。", "后台已停止。", "fangfan 已全部停止。"):
                assert line in said, said
            for port in (web, prefect):
                with pytest.raises(OSError):
                    _get(f"http://127.0.0.1:{port}/")
    finally:
        for *_, proc in runs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.usefixtures("prefect")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_the_web_app_and_the_worker_alone_stop_in_one_chinese_line(
        signum: int, services: Services, database_url: str, tmp_path: Path) -> None:
    """As `make run` starts them: the worker with a Prefect API (here the tests' server), so
    it serves the screening deployment too, and Prefect's runner stops with it."""
    from prefect.settings import PREFECT_API_URL

    port = free_port()
    env = _env(FANGFAN_DATABASE_URL=database_url, FANGFAN_VAR_DIR=str(tmp_path),
               FANGFAN_PORT=str(port), PREFECT_API_URL=str(PREFECT_API_URL.value()))
    web = _start([sys.executable, "-m", "fangfan", "serve"], env, tmp_path / "web")
    work = _start([sys.executable, "-m", "fangfan", "worker"], env, tmp_path / "worker")
    try:
        _wait(f"http://127.0.0.1:{port}/healthz", web, tmp_path / "web", 60)
        time.sleep(3)  # the worker's scheduler has started and run its first jobs
        assert work.poll() is None, _said(tmp_path / "worker")
        said = _stopped_cleanly(web, signum, tmp_path / "web", 10)
        assert said.rstrip().endswith("网页服务已停止。"), said
        said = _stopped_cleanly(work, signum, tmp_path / "worker", 15)
        assert said.rstrip().endswith("后台已停止。"), said
    finally:
        for proc in (web, work):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
