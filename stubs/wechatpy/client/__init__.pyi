from typing import Any

import requests
from wechatpy.session import SessionStorage

class BaseWeChatClient:
    API_BASE_URL: str
    _http: requests.Session
    appid: str
    session: SessionStorage
    timeout: float | None
    auto_retry: bool
    expires_at: int | None
    def __init__(self, appid: str, access_token: str | None = None,
                 session: SessionStorage | None = None, timeout: float | None = None,
                 auto_retry: bool = True) -> None: ...
    @property
    def access_token_key(self) -> str: ...
    @property
    def access_token(self) -> str: ...
    def fetch_access_token(self) -> dict[str, Any]: ...

class _Message:
    def send_text(self, user_id: str, content: str, account: str | None = None
                  ) -> dict[str, Any]: ...
    def send_template(self, user_id: str, template_id: str, data: dict[str, Any],
                      url: str | None = None, mini_program: dict[str, Any] | None = None
                      ) -> dict[str, Any]: ...
    def send_subscribe_message(self, openid: str, template_id: str, data: dict[str, Any],
                               miniprogram: dict[str, Any] | None = None,
                               page: str | None = None) -> dict[str, Any]: ...

class _Menu:
    def create(self, menu_data: dict[str, Any]) -> dict[str, Any]: ...

class WeChatClient(BaseWeChatClient):
    message: _Message
    menu: _Menu
    secret: str
    def __init__(self, appid: str, secret: str, access_token: str | None = None,
                 session: SessionStorage | None = None, timeout: float | None = None,
                 auto_retry: bool = True) -> None: ...
