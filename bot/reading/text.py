"""The text as typed, made comparable: full-width to half-width, one kind of middle dot.

A phone keyboard gives full-width digits and punctuation (１２３, ，, ？) as often as
half-width ones; NFKC folds them, so every reader below sees `123`, `,`, `?`.
"""

from __future__ import annotations

import re
import unicodedata

# the dots people type inside a minority name (阿依古丽·买买提): one of them, not a full stop
_DOTS = str.maketrans({"•": "·", "・": "·", "‧": "·", "∙": "·", "●": "·", "﹒": "·"})
_SPACES = re.compile(r"\s+")
HAN = r"\u4e00-\u9fff"


def normalize(text: str) -> str:
    """Width folded, dots unified, runs of white space one space, ends trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", text).translate(_DOTS)).strip()


# What ends a clause: 「家里五口人，老伴住院花了八万多」 is two. Spaces end one too: farmers type
# one answer after another separated by a space.
CLAUSE_END = re.compile(r"[,.;!?。；！？、\n]|\s")


def clauses(text: str) -> list[str]:
    """The clauses of a (normalized) text, empty ones dropped."""
    return [c for c in CLAUSE_END.split(text) if c]
