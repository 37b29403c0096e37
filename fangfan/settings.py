"""The process environment, read in one place (nothing else reads os.environ)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path.cwd()


@dataclass(frozen=True)
class Settings:
    database_url: str
    config_path: Path
    port: int
    prefect_api_url: str | None

    @classmethod
    def from_env(cls) -> Settings:
        var = ROOT / "var"
        return cls(
            database_url=os.environ.get("FANGFAN_DATABASE_URL")
            or f"sqlite:///{var / 'fangfan.db'}",
            config_path=Path(os.environ.get("FANGFAN_CONFIG", ROOT / "config.yaml")),
            port=int(os.environ.get("FANGFAN_PORT", "8000")),
            prefect_api_url=os.environ.get("PREFECT_API_URL"),
        )
