"""The `fangfan` command as an operator runs it: a real process against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fangfan.settings import ROOT


def fangfan(*args: str, database_url: str, config: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, FANGFAN_DATABASE_URL=database_url,
               FANGFAN_CONFIG=str(config or ROOT / "config.yaml"), **(env or {}))
    return subprocess.run([sys.executable, "-m", "fangfan", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
