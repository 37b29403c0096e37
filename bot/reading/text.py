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


# a phone or ID number said digit by digit (a voice message: 幺八七幺六六三七七九零)
# (in the groups a number is read out in: 一三八 一二三四 五六七八)
_SPOKEN_DIGITS = re.compile("[零〇幺一二三四五六七八九](?: ?[零〇幺一二三四五六七八九]){6,}")
_DIGIT_OF = str.maketrans("零〇幺一二三四五六七八九", "001123456789")


def normalize(text: str) -> str:
    """Width folded, dots unified, digits said one by one as digits, runs of white space one
    space, ends trimmed."""
    text = unicodedata.normalize("NFKC", text).translate(_DOTS)
    text = _SPOKEN_DIGITS.sub(lambda m: m.group().translate(_DIGIT_OF), text)
    return _SPACES.sub(" ", text).strip()


# What ends a clause: 「家里五口人，老伴住院花了八万多」 is two. Spaces end one too: farmers type
# one answer after another separated by a space.
CLAUSE_END = re.compile(r"[,.;!?。；！？、\n]|\s")


def clauses(text: str) -> list[str]:
    """The clauses of a (normalized) text, empty ones dropped."""
    return [c for c in CLAUSE_END.split(text) if c]
