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


def fangfan_peak(*args: str, database_url: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """`fangfan` as above, and the peak memory of that process alone in bytes (its own
    rusage, read as it is reaped: RUSAGE_CHILDREN would be the largest child of the whole
    test run so far)."""
    env = dict(os.environ, FANGFAN_DATABASE_URL=database_url,
               FANGFAN_CONFIG=str(ROOT / "config.yaml"))
    proc = subprocess.Popen([sys.executable, "-m", "fangfan", *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    stderr = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    done = subprocess.CompletedProcess(proc.args, os.waitstatus_to_exitcode(status), "", stderr)
    return done, usage.ru_maxrss * 1024
