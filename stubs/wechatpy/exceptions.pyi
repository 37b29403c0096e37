from typing import Any

class WeChatException(Exception):
    errcode: int | None
    errmsg: str | None
    def __init__(self, errcode: int | None, errmsg: str | None) -> None: ...

class WeChatClientException(WeChatException):
    client: Any
    request: Any
    response: Any
    def __init__(self, errcode: int | None, errmsg: str | None, client: Any = None,
                 request: Any = None, response: Any = None) -> None: ...

class WeChatOAuthException(WeChatClientException): ...

class InvalidSignatureException(WeChatException):
    def __init__(self, errcode: int = -40001, errmsg: str = "Invalid signature") -> None: ...
