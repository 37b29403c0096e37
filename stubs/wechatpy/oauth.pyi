from typing import Any

class WeChatOAuth:
    API_BASE_URL: str
    OAUTH_BASE_URL: str
    def __init__(self, app_id: str, secret: str, redirect_uri: str,
                 scope: str = "snsapi_base", state: str = "") -> None: ...
    @property
    def authorize_url(self) -> str: ...
    def _get(self, url: str, **kwargs: Any) -> dict[str, Any]: ...
