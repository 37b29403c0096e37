from typing import Any

from wechatpy.client import BaseWeChatClient
from wechatpy.session import SessionStorage

class _Message:
    def send_text_card(self, agent_id: int, user_ids: str | list[str], title: str,
                       description: str, url: str, btntxt: str = "详情", party_ids: str = "",
                       tag_ids: str = "") -> dict[str, Any]: ...

class WeChatClient(BaseWeChatClient):
    message: _Message
    corp_id: str
    secret: str
    def __init__(self, corp_id: str, secret: str, access_token: str | None = None,
                 session: SessionStorage | None = None, timeout: float | None = None,
                 auto_retry: bool = True) -> None: ...
