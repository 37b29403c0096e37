"""fangfan's processes as production runs them: secrets of their own, dev_mode off, a free
port; and waiting until a started server answers its health check."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

# secrets of their own, in place of config.yaml's demo values
GOOD = {
    "FANGFAN_SECRET_KEY": secrets.token_urlsafe(32),
    "FANGFAN_WECHAT_MP_TOKEN": secrets.token_hex(8),
    "FANGFAN_WECHAT_MP_APP_SECRET": secrets.token_hex(16),
    "FANGFAN_WECHAT_MP_ENCODING_AES_KEY": base64.b64encode(secrets.token_bytes(32)).decode()[:43],
}

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(database_url: str, config: Path, **env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FANGFAN_")}
    return {**base, "FANGFAN_DATABASE_URL": database_url, "FANGFAN_CONFIG": str(config),
            "FANGFAN_DEV_MODE": "false", "FANGFAN_PORT": str(free_port()), **env}


def wait_healthy(url: str, proc: subprocess.Popen[str]) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            behind_tls = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
            with urllib.request.urlopen(behind_tls, timeout=2) as res:
                return dict(res.headers)
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} never answered")
