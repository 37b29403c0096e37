"""Production refuses demo secrets: `fangfan serve`, `fangfan worker` and gunicorn's app, run
as real processes with dev_mode off, exit non-zero with one line naming the variable; with
secrets of their own and an https base_url they start and answer."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from fangfan.production import DEMO_VALUES
from fangfan.settings import ROOT
from tests.support.production import GOOD, environment, wait_healthy

pytestmark = pytest.mark.slow

DEMO_ENV = {"FANGFAN_SECRET_KEY": DEMO_VALUES["workbench.secret_key"],
            "FANGFAN_WECHAT_MP_TOKEN": DEMO_VALUES["wechat.mp.token"],
            "FANGFAN_WECHAT_MP_APP_SECRET": DEMO_VALUES["wechat.mp.app_secret"],
            "FANGFAN_WECHAT_MP_ENCODING_AES_KEY": DEMO_VALUES["wechat.mp.encoding_aes_key"]}


@pytest.fixture
def https_config(tmp_path: Path) -> Path:
    """config.yaml as shipped (demo secrets and all), with an https base_url."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    path = tmp_path / "config.yaml"
    path.write_text(text.replace("base_url: http://127.0.0.1:8000",
                                 "base_url: https://fangfan.example.cn"), encoding="utf-8")
    return path


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)


def lines_naming(stderr: str, name: str) -> list[str]:
    return [line for line in stderr.splitlines() if name in line]


def test_the_demo_values_are_config_yamls() -> None:
    raw = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    for dotted, value in DEMO_VALUES.items():
        node = raw
        for key in dotted.split("."):
            node = node[key]
        assert node == value, dotted


REFUSALS = [
    ({}, "FANGFAN_SECRET_KEY"),  # unset: config.yaml's demo key would sign sessions
    ({**GOOD, "FANGFAN_SECRET_KEY": DEMO_ENV["FANGFAN_SECRET_KEY"]}, "FANGFAN_SECRET_KEY"),
    *(({k: v for k, v in GOOD.items() if k != name}, name) for name in GOOD
      if name != "FANGFAN_SECRET_KEY"),  # left at config.yaml's demo value
    ({**GOOD, "FANGFAN_WECHAT_MP_TOKEN": DEMO_ENV["FANGFAN_WECHAT_MP_TOKEN"]},
     "FANGFAN_WECHAT_MP_TOKEN"),
]


@pytest.mark.parametrize(("env", "named"), REFUSALS)
def test_serve_refuses_demo_secrets_with_one_line(env, named, database_url, https_config):
    result = run([sys.executable, "-m", "fangfan", "serve"],
                 environment(database_url, https_config, **env))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert lines_naming(result.stderr, named), result.stderr


def test_production_needs_an_https_base_url(database_url):
    result = run([sys.executable, "-m", "fangfan", "serve"],
                 environment(database_url, ROOT / "config.yaml", **GOOD))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1
    assert "notifications.base_url" in result.stderr and "https" in result.stderr


@pytest.mark.parametrize(("env", "named"), [REFUSALS[0], REFUSALS[2]])
def test_the_worker_refuses_demo_secrets_with_one_line(env, named, database_url, https_config):
    result = run([sys.executable, "-m", "fangfan", "worker"],
                 environment(database_url, https_config, **env))
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert lines_naming(result.stderr, named), result.stderr


def gunicorn(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b",
                             f"127.0.0.1:{env['FANGFAN_PORT']}", "fangfan.wsgi:app"],
                            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.mark.parametrize(("env", "named"), [REFUSALS[0], REFUSALS[1], REFUSALS[3]])
def test_gunicorn_refuses_demo_secrets_and_stops(env, named, database_url, https_config):
    proc = gunicorn(environment(database_url, https_config, **env))
    try:
        _, stderr = proc.communicate(timeout=60)  # it stops by itself, no worker reboots
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert len(lines_naming(stderr, named)) == 1, stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("server", ["serve", "gunicorn"])
def test_with_secrets_of_its_own_production_starts(server, database_url, https_config):
    env = environment(database_url, https_config, **GOOD)
    proc = (gunicorn(env) if server == "gunicorn" else subprocess.Popen(
        [sys.executable, "-m", "fangfan", "serve"], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        headers = wait_healthy(f"http://127.0.0.1:{env['FANGFAN_PORT']}/healthz", proc)
        no_redirects = urllib.request.build_opener(NoRedirect)
        try:  # sign-in starts WeChat's OAuth with the state in the session cookie
            no_redirects.open(f"http://127.0.0.1:{env['FANGFAN_PORT']}/login", timeout=10)
        except urllib.error.HTTPError as answer:
            cookie = answer.headers["Set-Cookie"]
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    # behind the https proxy the browser is told to keep to https
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["Cache-Control"] == "no-store"
    assert "session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def test_config_check_tells_the_operator_before_starting(database_url: str,
                                                         https_config: Path) -> None:
    fangfan = [str(Path(sys.executable).parent / "fangfan"), "config", "check"]
    refused = run(fangfan, environment(database_url, https_config))
    assert refused.returncode != 0
    assert len(lines_naming(refused.stderr, "FANGFAN_SECRET_KEY")) == 1
    ready = run(fangfan, environment(database_url, https_config, **GOOD))
    assert ready.returncode == 0 and "配置有效（生产模式）" in ready.stdout
