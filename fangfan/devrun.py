"""`make run`: migrate, load the demo, start a local Prefect server, the worker and the web app.

Every child gets the same PREFECT_API_URL (ephemeral Prefect in several processes locks its
SQLite). Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from fangfan.settings import ROOT, Settings

PREFECT_PORT = 4200
# Prefect's server in its own environment (the Makefile says why); this one's if it is absent
PREFECT_SERVER_PYTHON = ROOT / ".venv-prefect" / "bin" / "python"


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            command = proc.args if isinstance(proc.args, list) else [proc.args]
            raise SystemExit(f"进程意外退出：{' '.join(map(str, command))}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"等待 {url} 超时")


def _stop(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def run_all(settings: Settings) -> None:
    # Explicit handlers: a shell that starts us in the background may have SIGINT ignored.
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", str(ROOT / "var" / "prefect"))
    # Prefect makes its home without parents: on a fresh checkout var/ is not there yet, and
    # it would warn (in English) on the first `make run`.
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    env["PREFECT_API_URL"] = f"http://127.0.0.1:{PREFECT_PORT}/api"
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    env.setdefault("PREFECT_UI_ENABLED", "true")
    fangfan = [sys.executable, "-m", "fangfan"]
    for step in (["db", "upgrade"], ["demo"]):
        subprocess.run(fangfan + step, env=env, check=True)
    children: list[subprocess.Popen] = []
    try:
        server = PREFECT_SERVER_PYTHON if PREFECT_SERVER_PYTHON.exists() else sys.executable
        prefect = subprocess.Popen([str(server), "-m", "prefect", "server", "start",
                                    "--host", "127.0.0.1", "--port", str(PREFECT_PORT)], env=env)
        children.append(prefect)
        _wait_healthy(f"http://127.0.0.1:{PREFECT_PORT}/api/health", prefect, 120)
        children.append(subprocess.Popen([*fangfan, "worker"], env=env))
        web = subprocess.Popen([*fangfan, "serve"], env=env)
        children.append(web)
        _wait_healthy(f"http://127.0.0.1:{settings.port}/healthz", web, 60)
        print(f"\nfangfan 已启动：\n"
              f"  干部手机工作台：  http://127.0.0.1:{settings.port}/ （选择演示干部登录）\n"
              f"  公众号模拟器：    http://127.0.0.1:{settings.port}/dev/wechat\n"
              f"  Prefect 界面：    http://127.0.0.1:{PREFECT_PORT}/\n按 Ctrl-C 全部停止。\n",
              flush=True)
        while all(c.poll() is None for c in children):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for c in children:
            if c.poll() is None:
                c.terminate()
        for c in children:
            try:
                c.wait(timeout=15)
            except subprocess.TimeoutExpired:
                c.kill()
