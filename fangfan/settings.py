"""The process environment, read in one place (nothing else reads os.environ)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path.cwd()
# Secrets and per-deployment switches may come from the environment instead of config.yaml.
CONFIG_FROM_ENV = {
    "FANGFAN_WECHAT_MP_TOKEN": "wechat.mp.token",
    "FANGFAN_WECHAT_MP_APP_ID": "wechat.mp.app_id",
    "FANGFAN_WECHAT_MP_APP_SECRET": "wechat.mp.app_secret",
    "FANGFAN_WECHAT_MP_ENCODING_AES_KEY": "wechat.mp.encoding_aes_key",
    "FANGFAN_WECHAT_API_BASE_URL": "wechat.api_base_url",
    "FANGFAN_BASE_URL": "notifications.base_url",
    "FANGFAN_DEV_MODE": "dev_mode",
    "FANGFAN_SECRET_KEY": "workbench.secret_key",
}


@dataclass(frozen=True)
class Settings:
    database_url: str
    config_path: Path
    port: int  # the web app's (FANGFAN_PORT)
    prefect_api_url: str | None
    config_overrides: dict[str, str]
    # the Prefect server `make run` starts, when no PREFECT_API_URL is given
    prefect_port: int = 4200
    # what a process writes besides the database: the default SQLite file, photos, anchors,
    # the dev clock, screening's folders and `make run`'s Prefect home (its server's SQLite);
    # a second `make run` beside the first takes a var dir of its own
    var_dir: Path = ROOT / "var"
    media_dir: Path = ROOT / "var" / "media"  # photos farmers send
    # the audit chain's published heads (approvals.record.audit.anchor), outside the database
    anchor_path: Path = ROOT / "var" / "audit-anchors.log"
    # dev_mode only: how far the demo's clock was moved (fangfan.dev_clock), shared by the
    # processes of `make run`
    dev_clock_path: Path = ROOT / "var" / "dev-clock"
    # 部门筛查预警: inbox/ (where departments drop the feeds for the scheduled rounds),
    # uploads/ (the county desk's), runs/ (what each run read, for the county's comparison)
    screening_dir: Path = ROOT / "var" / "screening"

    @classmethod
    def from_env(cls) -> Settings:
        var = Path(os.environ.get("FANGFAN_VAR_DIR") or ROOT / "var").absolute()
        return cls(
            database_url=os.environ.get("FANGFAN_DATABASE_URL")
            or f"sqlite:///{var / 'fangfan.db'}",
            config_path=Path(os.environ.get("FANGFAN_CONFIG", ROOT / "config.yaml")),
            port=_port("FANGFAN_PORT", 8000),
            prefect_api_url=os.environ.get("PREFECT_API_URL") or None,
            prefect_port=_port("FANGFAN_PREFECT_PORT", 4200),
            var_dir=var,
            media_dir=Path(os.environ.get("FANGFAN_MEDIA_DIR", var / "media")),
            anchor_path=Path(os.environ.get("FANGFAN_AUDIT_ANCHORS",
                                            var / "audit-anchors.log")),
            dev_clock_path=Path(os.environ.get("FANGFAN_DEV_CLOCK", var / "dev-clock")),
            screening_dir=Path(os.environ.get("FANGFAN_SCREENING_DIR", var / "screening")),
            config_overrides={key: os.environ[name] for name, key in CONFIG_FROM_ENV.items()
                              if os.environ.get(name)},
        )


class SettingError(ValueError):
    """A variable of the environment that cannot be used; the message names it, in Chinese."""


def _port(name: str, default: int) -> int:
    text = os.environ.get(name) or str(default)
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingError(f"环境变量 {name} 必须是 1 到 65535 之间的端口号，现在是“{text[:20]}”")
    return int(text)
