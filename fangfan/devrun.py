"""`make run`: migrate, load the demo, start a local Prefect server, the worker and the web app.

Ports and places are settings (fangfan.settings): the web app on FANGFAN_PORT, the Prefect
server on FANGFAN_PREFECT_PORT (or the one of a given PREFECT_API_URL), everything written
under FANGFAN_VAR_DIR, the Prefect server's own SQLite included (PREFECT_HOME). So a second
`make run` with other values runs beside the first, with a Prefect of its own. A port
already taken is refused with one line, never silently shared with another run.

Every child gets the same PREFECT_API_URL (ephemeral Prefect in several processes locks its
SQLite). Each child runs in a process group of its own: Ctrl-C reaches this process only,
which stops the worker, then the web app (whose stand-in for WeChat's API the worker's
deliveries use in dev mode), then the Prefect server (the worker still talks to it while it
stops), each with SIGTERM, and says so in one line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from approvals.web import fonts
from fangfan.config import LOOPBACK
from fangfan.settings import ROOT, Settings

# Prefect's server in its own environment (the Makefile says why); this one's if it is absent
PREFECT_SERVER_PYTHON = ROOT / ".venv-prefect" / "bin" / "python"


class Stopped(Exception):
    """SIGINT or SIGTERM reached `make run`."""


def _stop(signum: int, _frame: object) -> None:
    raise Stopped


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float, log: Path | None = None
                  ) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            command = proc.args if isinstance(proc.args, list) else [proc.args]
            where = f"（日志：{log}）" if log else ""
            raise SystemExit(f"进程意外退出：{' '.join(map(str, command))}{where}")
        if _answers(url):
            return
        time.sleep(0.5)
    raise SystemExit(f"等待 {url} 超时")


def port_free(port: int) -> bool:
    """Nothing listens on 127.0.0.1:port (a bind, not a connect: a port in TIME_WAIT is free)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def prefect_plan(settings: Settings) -> tuple[str, int | None]:
    """The API URL every process gets, and the port to start a Prefect server on (None: one
    is already there, the given PREFECT_API_URL's)."""
    if not settings.prefect_api_url:
        port = settings.prefect_port
        if not port_free(port):
            raise SystemExit(f"端口 {port} 已被占用（也许另一个 make run 正在运行），"
                             f"请用 FANGFAN_PREFECT_PORT 换一个端口。")
        return f"http://127.0.0.1:{port}/api", port
    url = settings.prefect_api_url.rstrip("/")
    if _answers(f"{url}/health"):
        return url, None  # a Prefect server of the operator's: used, not started
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK or parts.port is None:
        raise SystemExit(f"PREFECT_API_URL 指向的 Prefect 服务无法访问：{url}")
    return url, parts.port


def _spawn(command: list[str], env: dict[str, str], log: Path | None = None
           ) -> subprocess.Popen[bytes]:
    out = open(log, "ab") if log else None  # the child holds it
    try:
        return subprocess.Popen(command, env=env, process_group=0, stdout=out,
                                stderr=subprocess.STDOUT if out else None)
    finally:
        if out:
            out.close()


def _end(children: list[subprocess.Popen[bytes]]) -> None:
    """Stop the children, the last started first, each (its process group) with SIGTERM and
    at most 15 seconds before SIGKILL."""
    for child in reversed(children):
        if child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            except ProcessLookupError:
                pass


def run_all(settings: Settings) -> None:
    # Explicit handlers: a shell that starts us in the background may have SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    if not port_free(settings.port):
        raise SystemExit(f"端口 {settings.port} 已被占用（也许另一个 make run 正在运行），"
                         f"请用 FANGFAN_PORT 换一个端口。")
    api_url, prefect_port = prefect_plan(settings)
    if problem := fonts.problem():  # the rest works without; the notice PDF is refused
        print(problem, file=sys.stderr, flush=True)
    var = settings.var_dir
    env = dict(os.environ)
    env["FANGFAN_VAR_DIR"] = str(var)
    env["FANGFAN_PORT"] = str(settings.port)
    env["PREFECT_API_URL"] = api_url
    env.setdefault("PREFECT_HOME", str(var / "prefect"))
    # Prefect makes its home without parents: on a fresh checkout var/ is not there yet, and
    # it would warn (in English) on the first `make run`.
    home = Path(env["PREFECT_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_UI_ENABLED", "true")
    fangfan = [sys.executable, "-m", "fangfan"]
    children: list[subprocess.Popen[bytes]] = []
    try:
        for step in (["db", "upgrade"], ["demo"]):
            subprocess.run(fangfan + step, env=env, check=True)
        ui = f"{api_url.removesuffix('/api')}/"
        if prefect_port is not None:
            server = PREFECT_SERVER_PYTHON if PREFECT_SERVER_PYTHON.exists() else sys.executable
            # its banner and request lines are the operator's to read in the log, not here
            log = home / "server.log"
            children.append(_spawn([str(server), "-m", "prefect", "server", "start",
                                    "--host", "127.0.0.1", "--port", str(prefect_port)],
                                   env, log))
            _wait_healthy(f"{api_url}/health", children[-1], 120, log)
            ui = f"http://127.0.0.1:{prefect_port}/"
        # the web app before the worker and stopped after it: the worker's deliveries go to
        # the web app's stand-in for WeChat's API in dev mode, and must find it up
        children.append(_spawn([*fangfan, "serve"], env))
        _wait_healthy(f"http://127.0.0.1:{settings.port}/healthz", children[-1], 60)
        children.append(_spawn([*fangfan, "worker"], env))
        print(f"\nfangfan 已启动：\n"
              f"  干部手机工作台：  http://127.0.0.1:{settings.port}/ （选择演示干部登录）\n"
              f"  公众号模拟器：    http://127.0.0.1:{settings.port}/dev/wechat\n"
              f"  Prefect 界面：    {ui}\n按 Ctrl-C 全部停止。\n", flush=True)
        while all(c.poll() is None for c in children):
            time.sleep(1)
        failed = "有进程意外退出，其余进程已停止。"
    except Stopped:
        failed = ""
    except subprocess.CalledProcessError:  # db upgrade or demo: it said why
        failed = "未能启动。"
    finally:
        # a second Ctrl-C while stopping would leave children behind
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _end(children)
    if failed:
        raise SystemExit(f"fangfan {failed}")
    print("fangfan 已全部停止。", flush=True)
