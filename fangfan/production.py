"""What a production process (dev_mode off) demands before it starts: secrets of its own, not
config.yaml's public demo values, and an https base_url (so the session cookie is always
Secure). Every entry point reaches this through fangfan.services.build; a refusal is one line
naming the environment variable or key, and the process exits non-zero."""

from __future__ import annotations

from fangfan.config import Config, ConfigError
from fangfan.settings import CONFIG_FROM_ENV, Settings

# config.yaml's demo secrets: they are public, so anyone could sign a county approver's session
# cookie or a WeChat callback with them (tests/security/test_web_production.py keeps them in step
# with config.yaml)
DEMO_VALUES = {
    "workbench.secret_key": "fangfan-demo-only-change-me-in-production",
    "wechat.mp.token": "fangfandemo",
    "wechat.mp.app_secret": "fangfan-demo-secret",
    "wechat.mp.encoding_aes_key": "mTG7au+pV/8YNVq4nXpWWKec9EdBQfgCbkiTM5qGF4Q",
}
ENV_NAME = {key: name for name, key in CONFIG_FROM_ENV.items()}


class NotForProduction(ConfigError):
    """A setting production must not run with; the message names it."""


def _value(config: Config, dotted: str) -> object:
    node: object = config
    for part in dotted.split("."):
        node = getattr(node, part)
    return node


def check(settings: Settings, config: Config) -> None:
    """Refuse to run with dev_mode off on demo secrets, or without https."""
    if config.dev_mode:
        return
    if "workbench.secret_key" not in settings.config_overrides:
        raise NotForProduction("生产环境（dev_mode 关闭）必须设置环境变量 FANGFAN_SECRET_KEY"
                               "（签名登录凭证的密钥，各进程相同）。")
    for dotted, demo in DEMO_VALUES.items():
        if _value(config, dotted) == demo:
            raise NotForProduction(f"{ENV_NAME[dotted]}（{dotted}）仍是 config.yaml 中公开的"
                                   "演示值，生产环境必须设置自己的值。")
    if not config.notifications.base_url.startswith("https://"):
        raise NotForProduction("生产环境（dev_mode 关闭）的 notifications.base_url 必须是 https "
                               "地址（登录凭证只经 https 传送）。")
