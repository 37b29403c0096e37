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


# Runs a command and prints its peak memory: a small process of its own, since Linux hands a
# forked child the parent's high-water mark (the test process's, hundreds of MB after a while)
_MEASURED = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def fangfan_peak(*args: str, database_url: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """`fangfan` as above, and the peak memory of that process alone, in bytes."""
    env = dict(os.environ, FANGFAN_DATABASE_URL=database_url,
               FANGFAN_CONFIG=str(ROOT / "config.yaml"))
    measured = subprocess.run([sys.executable, "-c", _MEASURED, sys.executable, "-m", "fangfan",
                               *args], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=300)
    code, peak_kb = map(int, measured.stdout.split())
    return subprocess.CompletedProcess(args, code, "", measured.stderr), peak_kb * 1024
