"""The village, by name (forgiving: 东沟 for 东沟村, a typo) or by its number in the list shown.

Names come from `Vocabulary.villages`; the village returned is always one of them, exactly
as there. A typo is matched with rapidfuzz's edit-distance ratio: 东钩村 scores 67 against
东沟村, an unrelated three-character name at most 33.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from bot.reading.text import HAN

# what a village's name ends with; 东沟 is said for 东沟村
_SUFFIX = re.compile(r"(村民委员会|村委会|社区|嘎查|村)$")
_SAID_PLACE = re.compile(rf"[{HAN}]{{1,6}}(村民委员会|村委会|社区|嘎查|村)")
_INDEX = re.compile(r"^\s*(?:第\s*)?(\d{1,3})\s*(?:个|号)?\s*(?:村)?\s*[.。]?$")
TYPO_SCORE = 60  # one character of three wrong: 67; of two: 50 (too loose for a short name)


def stem(village: str) -> str:
    bare = _SUFFIX.sub("", village)
    return bare if len(bare) >= 2 else village


def village(text: str, villages: tuple[str, ...], *, expecting: str | None,
            prepared: str) -> str | None:
    """The village a (normalized) text names; by number (`prepared`: numerals as digits)
    when it was asked with the list shown."""
    if not villages:
        return None
    if expecting == "village":
        m = _INDEX.match(prepared)
        if m:
            index = int(m.group(1)) - 1
            return villages[index] if 0 <= index < len(villages) else None
    # the full name, else its stem; the longest wins (东沟口村 over 东沟村)
    hits = [v for v in villages if v in text] or [v for v in villages if stem(v) in text]
    if hits:
        return max(hits, key=len)
    # a typo: a word ending in 村 (or the whole answer, when the village was asked)
    said = [m.group() for m in _SAID_PLACE.finditer(text)]
    if expecting == "village":
        said.append(text.strip(" .。"))
    lengths = {len(v) for v in villages}
    for word in said:
        for candidate in {word[-n:] for n in lengths} | {word}:
            best = process.extractOne(candidate, villages, scorer=fuzz.ratio,
                                      score_cutoff=TYPO_SCORE)
            if best is not None:
                return str(best[0])
    if expecting == "village":
        # 东钩 for 东沟(村): one character of two, only if no other village is as close
        stems = [stem(v) for v in villages]
        scored = process.extract(text.strip(" .。"), stems, scorer=fuzz.ratio,
                                 score_cutoff=50, limit=2)
        if len(scored) == 1 or (len(scored) == 2 and scored[0][1] > scored[1][1]):
            return villages[scored[0][2]]
    return None
