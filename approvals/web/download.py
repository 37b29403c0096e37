"""How a file leaves the pages: under a Chinese name (RFC 5987 `filename*`, which every
current browser reads), with an ASCII `filename` for the few clients that do not."""

from __future__ import annotations

from urllib.parse import quote

# The example files of the imports (approvals/desk/examples), by the name a cadre saves them as
EXAMPLE_NAMES = {"roster.csv": "户籍名单导入样例.csv", "cadres.csv": "干部名单导入样例.csv",
                 "pairings.csv": "结对帮扶导入样例.csv"}


def disposition(name: str, fallback: str, *, inline: bool = False) -> str:
    """The Content-Disposition header for a file named `name` (Chinese); `fallback` is the
    ASCII name for clients without RFC 5987."""
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
